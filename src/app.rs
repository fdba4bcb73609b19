//! The CLI layer: parse (clap, in `cli.rs`), resolve the arguments once, call the
//! engine, hand its report to `results.rs`, return the exit code. It decides nothing and
//! prints nothing itself; it owns the process concerns: the runtime, tracing, signals
//! (`interruptible`), the terminal's raw mode.

use std::io::IsTerminal;
use std::sync::Arc;

use crate::cli::{
    BuildArgs, CleanArgs, Cli, Command, LauncherArgs, LintFormat, NamesArgs, StatusArgs, TestArgs,
    UpArgs,
};
use crate::engine::{Engine, RunOptions};
use crate::error::{Error, Result};
use crate::promote::RollbackTarget;
use crate::report::{Json, Live, Plain, Recording, Reporter};
use crate::results;
use crate::workspace::{self, LoadOptions};

/// Run the CLI; returns the process exit code.
pub fn main(cli: Cli) -> i32 {
    init_tracing(cli.verbose);
    if let Some(host) = &cli.host
        && let Err(e) = crate::engine::use_host(cli.workspace.as_deref(), host)
    {
        eprintln!("error: {}", e.render());
        return e.exit_code();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.render());
            e.exit_code()
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 | 1 => "warn",
        2 => "dk=debug",
        _ => "dk=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn reporter(json: bool, verbose: u8) -> Arc<dyn Reporter> {
    if json {
        Arc::new(Json)
    } else if std::io::stderr().is_terminal() {
        Arc::new(Live::new())
    } else {
        Arc::new(Plain::new(verbose > 0))
    }
}

fn load(cli: &Cli, json: bool) -> Result<Engine> {
    load_with(cli, reporter(json, cli.verbose))
}

fn load_with(cli: &Cli, reporter: Arc<dyn Reporter>) -> Result<Engine> {
    let root = workspace::find_root(cli.workspace.as_deref())?;
    let opts = LoadOptions {
        namespace: std::env::var("DK_NAMESPACE").ok().filter(|s| !s.is_empty()),
    };
    let engine = Engine::load(&root, &opts, reporter)?;
    results::warnings(&engine);
    Ok(engine)
}

/// Load for a verb that keeps a run report: its events are recorded as they are shown.
fn load_recorded(cli: &Cli, json: bool) -> Result<(Engine, Arc<Recording>)> {
    let recording = Arc::new(Recording::new(reporter(json, cli.verbose)));
    let engine = load_with(cli, recording.clone())?;
    Ok((engine, recording))
}

/// Keep the run's report when the run did something (a no-op run writes nothing). A
/// report that cannot be written is a warning, never the run's failure.
async fn keep_report(
    engine: &Engine,
    recording: &Recording,
    verb: &str,
    ok: bool,
    summary: Vec<String>,
    tests: Option<&crate::testrun::TestSummary>,
) -> Option<std::path::PathBuf> {
    if !recording.did_something() {
        return None;
    }
    let events = recording.events();
    let touched: std::collections::HashSet<&str> = events
        .iter()
        .filter_map(|s| match &s.event {
            crate::report::Event::Start { node, .. }
            | crate::report::Event::Finish { node, .. } => Some(node.as_str()),
            _ => None,
        })
        .collect();
    let involved: Vec<usize> = (0..engine.ws.nodes.len())
        .filter(|i| touched.contains(engine.ws.nodes[*i].shown().as_str()))
        .collect();
    let facts = engine.report_facts(&involved).await;
    let began = crate::units::since_epoch()
        .as_secs()
        .saturating_sub(events.last().map_or(0, |s| s.at_ms / 1000));
    let run = crate::runreport::Run {
        verb,
        command: std::env::args()
            .enumerate()
            .map(|(k, a)| if k == 0 { "dk".to_string() } else { a })
            .collect::<Vec<_>>()
            .join(" "),
        began_unix: began,
        ok,
        summary,
        events: &events,
        tests,
        facts: &facts,
    };
    match engine.keep_report(verb, &crate::runreport::html(engine, &run)) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("warning: the run report was not kept: {}", e.render());
            None
        }
    }
}

/// `dk report`: the last report's path; `--output` copies it, `--open` opens it.
fn report(cli: &Cli, output: Option<&std::path::Path>, open: bool) -> Result<i32> {
    let engine = load(cli, false)?;
    let reports = engine.reports()?;
    let Some(last) = reports.last() else {
        return Ok(results::report(None));
    };
    let shown = match output {
        Some(to) => {
            std::fs::copy(last, to).map_err(|e| Error::io("write", to, e))?;
            to
        }
        None => last.as_path(),
    };
    if open {
        open_in_browser(shown)?;
    }
    Ok(results::report(Some(shown)))
}

/// `$BROWSER`, else `xdg-open`, else `open` (macOS), on a file.
fn open_in_browser(path: &std::path::Path) -> Result<()> {
    let candidates: Vec<String> = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.is_empty())
        .into_iter()
        .chain(["xdg-open".to_string(), "open".to_string()])
        .collect();
    for c in &candidates {
        match std::process::Command::new(c).arg(path).spawn() {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("run", std::path::Path::new(c), e)),
        }
    }
    Err(Error::usage_help(
        format!("cannot open {}: no browser found", path.display()),
        format!(
            "set $BROWSER, install xdg-utils, or open the file yourself: {}",
            path.display()
        ),
    ))
}

/// Resolve a future unless SIGINT/SIGTERM arrives first (then the future is dropped,
/// which cancels its daemon requests).
async fn interruptible<T>(fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| Error::io("install signal handler", "SIGINT", e))?;
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Error::io("install signal handler", "SIGTERM", e))?;
    tokio::select! {
        r = fut => r,
        _ = int.recv() => Err(Error::Interrupted { signal: libc::SIGINT }),
        _ = term.recv() => Err(Error::Interrupted { signal: libc::SIGTERM }),
    }
}

/// Run `fut`; on SIGINT/SIGTERM, remove this workspace's test containers before exiting.
async fn with_test_cleanup<T>(
    engine: &Engine,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match interruptible(fut).await {
        Err(Error::Interrupted { signal }) => {
            match engine.remove_test_leftovers().await {
                Ok(n) if n > 0 => eprintln!("removed {n} test container(s)"),
                Ok(_) => {}
                Err(e) => eprintln!("cleanup after the interrupt failed: {}", e.render()),
            }
            Err(Error::Interrupted { signal })
        }
        other => other,
    }
}

/// `-j`, `--fail-fast` and `--force` resolved once. `--force` rebuilds (without the layer
/// cache) the named nodes; where the command tests, it also tests them again.
fn run_options(engine: &Engine, args: &BuildArgs, tests: bool) -> Result<RunOptions> {
    Ok(RunOptions {
        jobs: engine.jobs(args.jobs)?,
        fail_fast: args.fail_fast,
        rebuild: args.force,
        retest: tests && args.force,
        retry: false,
        keep_failed: false,
    })
}

async fn run(cli: Cli) -> Result<i32> {
    match &cli.command {
        Command::Ls { json, names } => Ok(results::ls(&load(&cli, *json)?, *names, *json)),
        Command::Graph { format, json } => {
            let engine = load(&cli, *json)?;
            if *format == crate::cli::GraphFormat::Svg && !*json {
                let looks = interruptible(engine.looks()).await?;
                return Ok(results::graph_svg(&engine, &looks));
            }
            Ok(results::graph(&engine, *format, *json))
        }
        Command::Report { output, open } => report(&cli, output.as_deref(), *open),
        Command::Outdated { names, json, check } => {
            let engine = load(&cli, *json)?;
            let report = interruptible(engine.outdated(names)).await?;
            Ok(results::outdated(&report, *json, *check))
        }
        Command::Update {
            names,
            dry_run,
            no_deploy,
            commit,
            jobs,
            json,
        } => {
            update(
                &cli,
                names,
                UpdateFlags {
                    dry_run: *dry_run,
                    no_deploy: *no_deploy,
                    commit: *commit,
                    jobs: *jobs,
                    json: *json,
                },
            )
            .await
        }
        Command::Plan(args) => {
            let engine = load(&cli, args.json)?;
            let plan = interruptible(engine.plan(&args.names)).await?;
            Ok(results::plan(&plan, args.json))
        }
        Command::Build(args) => build(&cli, args).await,
        Command::Clean(args) => clean(&cli, args).await,
        Command::Test(args) => test(&cli, args).await,
        Command::Promote(args) => promote(&cli, args).await,
        Command::Rollback { name, to } => rollback(&cli, name, to.as_deref()).await,
        Command::History { name, json } => {
            let engine = load(&cli, *json)?;
            let i = engine.resolve_one(name)?;
            let releases = engine.history(i).await?;
            Ok(results::history(
                engine.name(i),
                &releases,
                engine.keep_releases(i),
                *json,
            ))
        }
        Command::Config { names, json } => {
            let engine = load(&cli, *json)?;
            Ok(results::config(
                &engine.config(names)?,
                engine.ws.has_local,
                *json,
            ))
        }
        Command::Up(args) => up(&cli, args).await,
        Command::Push { names, registry } => push(&cli, names, registry).await,
        Command::Start(args) => launcher(&cli, "start", args).await,
        Command::Stop(args) => launcher(&cli, "stop", args).await,
        Command::Restart(args) => launcher(&cli, "restart", args).await,
        Command::Down(args) => launcher(&cli, "down", args).await,
        Command::Status(args) => status(&cli, args).await,
        Command::Logs {
            name,
            follow,
            since,
            timestamps,
            tail,
        } => {
            let opts = crate::live::LogOptions {
                follow: *follow,
                since: since.as_deref().map(parse_since).transpose()?,
                timestamps: *timestamps,
                tail: tail.clone(),
            };
            logs(&cli, name, opts).await
        }
        Command::Shell {
            name,
            root,
            image,
            cmd,
        } => shell(&cli, name, *root, image.as_deref(), cmd).await,
        Command::Run {
            target,
            latest,
            args,
        } => run_job(&cli, target, *latest, args).await,
        Command::Exec { name, root, cmd } => {
            let engine = load(&cli, false)?;
            let i = engine.resolve_one(name)?;
            let tty = interactive();
            let _raw = if tty { RawMode::enable() } else { None };
            Ok(engine.exec_live(i, cmd, *root, tty).await? as i32)
        }
        Command::Prune { dry_run } => {
            let engine = load(&cli, false)?;
            let lock = engine.lock("dk prune", !cli.no_wait)?;
            let report = interruptible(engine.prune(&lock, *dry_run)).await?;
            Ok(results::prune(&report))
        }
        Command::Systemd {
            install,
            unit_dir,
            timer: Some(crate::cli::TimerKind::Update),
            on_calendar,
        } => update_timer(&cli, *install, unit_dir, on_calendar),
        Command::Systemd {
            install, unit_dir, ..
        } => systemd(&cli, *install, unit_dir),
        Command::Import {
            from:
                crate::cli::ImportFrom::Compose {
                    files,
                    into,
                    env_file,
                    profile,
                    config,
                },
        } => {
            // Into: --into, else the workspace here (-C or upward), else the current directory.
            let into = match into.as_deref().or(cli.workspace.as_deref()) {
                Some(d) => d.to_path_buf(),
                None => workspace::find_root(None).unwrap_or_else(|_| ".".into()),
            };
            let opts = crate::import::ImportOptions {
                files: files.clone(),
                into,
                env_file: env_file.clone(),
                profiles: profile.clone(),
                env: std::env::vars().collect(),
            };
            if *config {
                let model = crate::import::resolved(&opts)?;
                println!("{}", serde_json::to_string_pretty(&model).expect("JSON"));
                return Ok(0);
            }
            let done = crate::import::run(&opts).await?;
            Ok(results::import(&done))
        }
        Command::Completions { shell } => {
            print!("{}", crate::completions::script(*shell));
            Ok(0)
        }
        Command::Prep { names, fix } => {
            let engine = load(&cli, false)?;
            let lock = engine.lock("dk prep", !cli.no_wait)?;
            let mut changes = Vec::new();
            for i in engine.prep_selection(names)? {
                changes.push((i, engine.prep(&lock, i, *fix).await?));
            }
            Ok(results::prep(&engine, &changes))
        }
        Command::Lint {
            names,
            fix: true,
            dry_run,
            ..
        } => {
            let engine = load(&cli, false)?;
            let lock = engine.lock("dk lint --fix", !cli.no_wait)?;
            let plan = engine.lint_fixes(names)?;
            if plan.refused.is_empty() && !*dry_run {
                plan.write(&lock)?;
            }
            Ok(results::lint_fixes(&plan, *dry_run))
        }
        Command::Lint { names, format, .. } => {
            let engine = load(&cli, *format != LintFormat::Text)?;
            let run = engine.lint(names).await?;
            Ok(results::lint(&run, *format))
        }
    }
}

async fn build(cli: &Cli, args: &BuildArgs) -> Result<i32> {
    let (engine, recording) = load_recorded(cli, args.json)?;
    let opts = run_options(&engine, args, false)?;
    let lock = engine.lock("dk build", !cli.no_wait)?;
    let summary = interruptible(engine.build(&lock, &args.names, &opts)).await?;
    engine.reporter.settle();
    let code = results::build(&summary, args.json);
    keep_report(
        &engine,
        &recording,
        "build",
        code == 0,
        vec![summary.line()],
        None,
    )
    .await;
    Ok(code)
}

async fn clean(cli: &Cli, clean: &CleanArgs) -> Result<i32> {
    let args = &clean.names;
    let engine = load(cli, args.json)?;
    let lock = engine.lock("dk clean", !cli.no_wait)?;
    let selected = engine.select(&args.names)?.selected;
    let report = interruptible(engine.clean(&lock, &selected, clean.build_cache)).await?;
    Ok(results::clean(&report, args.json))
}

async fn test(cli: &Cli, args: &TestArgs) -> Result<i32> {
    let (engine, recording) = load_recorded(cli, args.build.json)?;
    let opts = RunOptions {
        keep_failed: args.keep,
        ..run_options(&engine, &args.build, true)?
    };
    let lock = engine.lock("dk test", !cli.no_wait)?;
    let summary = with_test_cleanup(&engine, engine.test(&lock, &args.build.names, &opts)).await?;
    engine.reporter.settle();
    if let Some(path) = &args.junit {
        std::fs::write(path, crate::junit::render(&summary.nodes))
            .map_err(|e| Error::io("write", path, e))?;
    }
    let code = results::test(&summary, args.build.json);
    keep_report(
        &engine,
        &recording,
        "test",
        code == 0,
        vec![summary.line()],
        Some(&summary),
    )
    .await;
    Ok(code)
}

async fn promote(cli: &Cli, args: &NamesArgs) -> Result<i32> {
    // `--json` prints one document: the steps are in it, not streamed before it.
    let engine = if args.json {
        load_with(cli, Arc::new(crate::report::Silent::default()))?
    } else {
        load(cli, false)?
    };
    let lock = engine.lock("dk promote", !cli.no_wait)?;
    let reports = interruptible(engine.promote(&lock, &args.names)).await?;
    engine.reporter.settle();
    Ok(results::promotions(&reports, args.json))
}

async fn rollback(cli: &Cli, name: &str, to: Option<&str>) -> Result<i32> {
    let engine = load(cli, false)?;
    let lock = engine.lock("dk rollback", !cli.no_wait)?;
    // Every platform of a directory rolls back together, as its own node.
    let i = engine.ws.platform_group(engine.resolve_one(name)?)[0];
    let outcome = interruptible(engine.rollback(&lock, i, &RollbackTarget::parse(to))).await?;
    Ok(results::rollback(engine.name(i), &outcome))
}

async fn up(cli: &Cli, args: &UpArgs) -> Result<i32> {
    let build = &args.build;
    let (engine, recording) = load_recorded(cli, build.json)?;
    let mut opts = run_options(&engine, build, true)?;
    opts.retry = args.retry;
    let lock = engine.lock("dk up", !cli.no_wait)?;
    let report = with_test_cleanup(&engine, engine.up(&lock, &build.names, &opts)).await?;
    let pushed = interruptible(engine.push_promoted(&lock, &report.promotions)).await?;
    engine.reporter.settle();
    let code = results::up(&engine, &report, &pushed, build.json);
    let mut summary = vec![report.line()];
    summary.extend(report.stopped_at.iter().map(|s| format!("stopped: {s}")));
    keep_report(
        &engine,
        &recording,
        "up",
        code == 0,
        summary,
        Some(&report.tests),
    )
    .await;
    Ok(code)
}

async fn push(cli: &Cli, names: &[String], only: &[String]) -> Result<i32> {
    let engine = load(cli, false)?;
    let registries = engine.push_targets(only)?;
    let lock = engine.lock("dk push", !cli.no_wait)?;
    let nodes = engine.push_nodes(names).await?;
    let outcomes = interruptible(engine.push(&lock, &nodes, &registries)).await?;
    Ok(if results::pushes(&engine, &outcomes) {
        0
    } else {
        1
    })
}

async fn launcher(cli: &Cli, verb: &str, args: &LauncherArgs) -> Result<i32> {
    let engine = load(cli, false)?;
    let jobs = engine.jobs(args.jobs)?;
    let lock = engine.lock(&format!("dk {verb}"), !cli.no_wait)?;
    let selected = engine
        .launcher_selection(verb, &args.names, args.all)
        .await?;
    let mut code = 0;
    if verb != "start" {
        let remove = verb == "down";
        let stopped = engine.stop_many(&lock, &selected, jobs, remove).await;
        code = results::stopped(&engine, &stopped, remove);
    }
    if verb == "start" || verb == "restart" {
        let runs = interruptible(engine.start_live(&lock, &selected)).await?;
        engine.reporter.settle();
        results::runs(&runs);
        code = code.max(results::runs_code(&runs));
    }
    Ok(code)
}

async fn status(cli: &Cli, args: &StatusArgs) -> Result<i32> {
    let (names, json) = (&args.names.names, args.names.json);
    let engine = load(cli, json)?;
    if args.check {
        let report = engine.status_check(names).await?;
        return Ok(results::status_check(&report, json));
    }
    let rows = engine.status(names).await?;
    Ok(results::status(&rows, json))
}

/// `--since`: a duration ago (`10m`) or a Unix time.
fn parse_since(s: &str) -> Result<i64> {
    if let Ok(t) = s.parse::<i64>() {
        return Ok(t);
    }
    let ago = crate::units::parse_duration(s).map_err(|e| {
        Error::usage_help(
            format!("--since {s}: {e}"),
            "give a duration (`10m`, `2h`, `1d`) or a Unix time (`1700000000`)",
        )
    })?;
    Ok(crate::units::since_epoch().saturating_sub(ago).as_secs() as i64)
}

async fn logs(cli: &Cli, name: &str, opts: crate::live::LogOptions) -> Result<i32> {
    let engine = load(cli, false)?;
    let i = engine.resolve_one(name)?;
    use std::io::Write;
    let result = interruptible(engine.follow_logs(i, &opts, |chunk| {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(chunk);
        let _ = out.flush();
    }))
    .await;
    match result {
        // Ctrl-C is the normal way to stop following.
        Err(Error::Interrupted { .. }) if opts.follow => Ok(0),
        Err(e) => Err(e),
        Ok(()) => Ok(0),
    }
}

/// Are stdin and stdout both terminals (then a one-off gets a TTY and raw mode)?
fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

async fn run_job(cli: &Cli, target: &str, latest: bool, args: &[String]) -> Result<i32> {
    let engine = load(cli, false)?;
    let (node, job) = engine.resolve_job(target)?;
    let tty = interactive();
    let one = engine
        .job_spec(&crate::jobs::JobRequest {
            node,
            job,
            args: args.to_vec(),
            latest,
            tty,
        })
        .await?;
    run_one_off(&engine, &one, tty).await
}

/// Run a one-off container to its end (raw terminal when `tty`); on a signal, remove it.
async fn run_one_off(engine: &Engine, one: &crate::jobs::OneOff, tty: bool) -> Result<i32> {
    let _raw = if tty { RawMode::enable() } else { None };
    match interruptible(engine.run_one_off(one)).await {
        Ok(code) => Ok(code as i32),
        Err(Error::Interrupted { signal }) => {
            if let Err(e) = engine.remove_one_off(one).await {
                eprintln!(
                    "removing {} after the interrupt failed: {}",
                    one.name(),
                    e.render()
                );
            }
            Err(Error::Interrupted { signal })
        }
        Err(e) => Err(e),
    }
}

async fn shell(
    cli: &Cli,
    name: &str,
    root: bool,
    image: Option<&str>,
    cmd: &[String],
) -> Result<i32> {
    let engine = load(cli, false)?;
    let i = engine.resolve_one(name)?;
    let tty = interactive();
    match image {
        Some(image) => {
            let choice = crate::jobs::ImageChoice::parse(image);
            let one = engine.shell_spec(i, &choice, root, cmd, tty).await?;
            run_one_off(&engine, &one, tty).await
        }
        None => {
            let cmd = if cmd.is_empty() {
                vec!["/bin/sh".to_string()]
            } else {
                cmd.to_vec()
            };
            let _raw = if tty { RawMode::enable() } else { None };
            Ok(engine.exec_live(i, &cmd, root, tty).await? as i32)
        }
    }
}

fn this_dk() -> Result<std::path::PathBuf> {
    std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::io("find", "the dk executable", e))
}

fn update_timer(
    cli: &Cli,
    install: bool,
    unit_dir: &std::path::Path,
    on_calendar: &str,
) -> Result<i32> {
    let engine = load(cli, false)?;
    let dk = this_dk()?;
    let name = crate::boot::timer_name(&engine.ws);
    if !install {
        let (service, timer) = crate::boot::update_timer(&engine.ws, &dk, on_calendar);
        return Ok(results::systemd_timer(&service, &timer, &name));
    }
    let (sp, tp) = crate::boot::install_timer(&engine.ws, &dk, on_calendar, unit_dir)?;
    Ok(results::systemd_timer_installed(&[&sp, &tp], &name))
}

struct UpdateFlags {
    dry_run: bool,
    no_deploy: bool,
    commit: bool,
    jobs: Option<usize>,
    json: bool,
}

async fn update(cli: &Cli, names: &[String], flags: UpdateFlags) -> Result<i32> {
    let (engine, recording) = load_recorded(cli, flags.json)?;
    if flags.commit {
        engine.can_commit_repins()?;
    }
    let opts = crate::outdated::UpdateOptions {
        run: RunOptions::new(engine.jobs(flags.jobs)?),
        dry_run: flags.dry_run,
        no_deploy: flags.no_deploy,
    };
    let lock = engine.lock("dk update", !cli.no_wait)?;
    let report = with_test_cleanup(&engine, engine.update(&lock, names, &opts)).await?;
    engine.reporter.settle();
    let text = report.text();
    let kept = keep_report(
        &engine,
        &recording,
        "update",
        report.ok(),
        text.clone(),
        Some(&report.tests),
    )
    .await;
    let hook = engine
        .update_hook(&report, kept.as_deref(), &text.join("\n"))
        .await;
    let commit = if flags.commit {
        engine.commit_repins(&report)?
    } else {
        None
    };
    Ok(results::update(
        &report,
        hook.as_ref(),
        commit.as_deref(),
        flags.json,
    ))
}

fn systemd(cli: &Cli, install: bool, unit_dir: &std::path::Path) -> Result<i32> {
    let engine = load(cli, false)?;
    let dk = this_dk()?;
    if !install {
        return Ok(results::systemd_unit(&crate::boot::unit(&engine.ws, &dk)));
    }
    let path = crate::boot::install(&engine.ws, &dk, unit_dir)?;
    Ok(results::systemd_installed(
        &path,
        &crate::boot::unit_name(&engine.ws),
    ))
}

/// The terminal in raw mode for an interactive shell, restored on drop.
struct RawMode {
    saved: libc::termios,
}

impl RawMode {
    fn enable() -> Option<RawMode> {
        // SAFETY: termios calls on fd 0 with a zeroed, then filled-in, struct.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return None;
            }
            let saved = t;
            libc::cfmakeraw(&mut t);
            if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                return None;
            }
            Some(RawMode { saved })
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the attributes read in `enable`.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
}
