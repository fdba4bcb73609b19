//! The CLI layer: turn parsed arguments into engine calls and print the results.
//! It decides nothing about builds; the engine does.

use std::io::IsTerminal;
use std::sync::Arc;

use crate::cli::{
    BuildArgs, CleanArgs, Cli, Command, GraphFormat, LauncherArgs, LintFormat, NamesArgs,
    StatusArgs, TestArgs, UpArgs,
};
use crate::converge::{RunAction, RunReport};
use crate::engine::{Engine, RunOptions};
use crate::error::{Error, Result};
use crate::manifest::ReplaceOrder;
use crate::promote::PromoteStatus;
use crate::promote::RollbackTarget;
use crate::render;
use crate::report::{Json, Live, Plain, Reporter};
use crate::testrun::TestStatus;
use crate::workspace::{self, LoadOptions};

/// Run the CLI; returns the process exit code.
pub fn main(cli: Cli) -> i32 {
    init_tracing(cli.verbose);
    if let Some(host) = &cli.host {
        match resolve_host(&cli, host) {
            Ok(e) => crate::docker::use_endpoint(e),
            Err(e) => {
                eprintln!("error: {}", e.render());
                return e.exit_code();
            }
        }
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

/// `-H`: an endpoint as given, or a name from dk.toml's `[hosts]`.
fn resolve_host(cli: &Cli, host: &str) -> Result<crate::docker::Endpoint> {
    if host.contains("://") {
        return Ok(crate::docker::Endpoint {
            url: host.to_string(),
            identity: None,
        });
    }
    let root = workspace::find_root(cli.workspace.as_deref())?;
    let path = root.join(crate::config::WORKSPACE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    #[derive(serde::Deserialize)]
    struct Hosts {
        #[serde(default)]
        hosts: std::collections::BTreeMap<String, crate::config::HostFile>,
    }
    let hosts: Hosts = toml::from_str(&text).map_err(|e| {
        Error::definition(crate::error::Diagnostic::new(
            crate::config::WORKSPACE_FILE,
            format!("hosts: {}", e.message()),
        ))
    })?;
    match hosts.hosts.get(host) {
        Some(h) => Ok(crate::docker::Endpoint {
            url: h.endpoint.clone(),
            identity: h.identity.as_ref().map(|i| {
                let p = std::path::Path::new(i);
                if p.is_absolute() {
                    i.clone()
                } else {
                    root.join(p).display().to_string()
                }
            }),
        }),
        None => {
            let names: Vec<&str> = hosts.hosts.keys().map(String::as_str).collect();
            let help = match crate::tomlfile::suggest(host, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if names.is_empty() => "name one in dk.toml: [hosts.nas] endpoint = \"ssh://me@nas\", or give an endpoint: -H ssh://me@nas".to_string(),
                None => format!("dk.toml names: {}", names.join(", ")),
            };
            Err(Error::usage_help(
                format!("-H {host}: no such host in dk.toml"),
                help,
            ))
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

fn load(cli: &Cli, reporter: Arc<dyn Reporter>) -> Result<Engine> {
    let root = workspace::find_root(cli.workspace.as_deref())?;
    let opts = LoadOptions {
        namespace: std::env::var("DK_NAMESPACE").ok().filter(|s| !s.is_empty()),
    };
    let engine = Engine::load(&root, &opts, reporter)?;
    for w in &engine.graph.warnings {
        eprintln!("{w}");
    }
    Ok(engine)
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

fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).expect("serialize"));
}

/// The last line of a `--json` run: `{"event": "summary", "summary": …}`.
fn print_json_summary(summary: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string(&serde_json::json!({"event": "summary", "summary": summary}))
            .expect("serialize")
    );
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
        Command::Ls { json, names } => {
            let engine = load(&cli, reporter(*json, cli.verbose))?;
            if *names {
                for n in engine.ws.names() {
                    println!("{n}");
                }
            } else if *json {
                print_json(&render::ls_json(&engine.ws, &engine.graph));
            } else {
                print!("{}", render::ls_text(&engine.ws, &engine.graph));
            }
            Ok(0)
        }
        Command::Graph { format, json } => {
            let engine = load(&cli, reporter(*json, cli.verbose))?;
            if *json {
                print_json(&render::graph_json(&engine.ws, &engine.graph));
            } else {
                let text = match format {
                    GraphFormat::Text => render::graph_text(&engine.ws, &engine.graph),
                    GraphFormat::Dot => render::graph_dot(&engine.ws, &engine.graph),
                    GraphFormat::Mermaid => render::graph_mermaid(&engine.ws, &engine.graph),
                };
                print!("{text}");
            }
            Ok(0)
        }
        Command::Plan(args) => {
            let engine = load(&cli, reporter(args.json, cli.verbose))?;
            let plan = interruptible(engine.plan(&args.names)).await?;
            if args.json {
                print_json(&plan);
            } else {
                print!("{}", render::plan_text(&plan));
            }
            Ok(0)
        }
        Command::Build(args) => build(&cli, args).await,
        Command::Clean(args) => clean(&cli, args).await,
        Command::Test(args) => test(&cli, args).await,
        Command::Promote(args) => promote(&cli, args).await,
        Command::Rollback { name, to } => rollback(&cli, name, to.as_deref()).await,
        Command::History { name, json } => history(&cli, name, *json).await,
        Command::Config { names, json } => config(&cli, names, *json),
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
            let opts = crate::docker::LogOptions {
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
        Command::Exec { name, root, cmd } => exec(&cli, name, *root, cmd).await,
        Command::Prune { dry_run } => prune(&cli, *dry_run).await,
        Command::Systemd { install, unit_dir } => systemd(&cli, *install, unit_dir),
        Command::Import {
            from:
                crate::cli::ImportFrom::Compose {
                    files,
                    into,
                    env_file,
                    profile,
                },
        } => import_compose(&cli, files, into.as_deref(), env_file.as_deref(), profile).await,
        Command::Completions { shell } => {
            print!("{}", crate::completions::script(*shell));
            Ok(0)
        }
        Command::Prep { names, fix } => prep(&cli, names, *fix).await,
        Command::Lint {
            names,
            format,
            fix: true,
            dry_run,
        } => {
            let _ = format;
            lint_fix(&cli, names, *dry_run)
        }
        Command::Lint { names, format, .. } => lint(&cli, names, *format).await,
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

async fn test(cli: &Cli, args: &TestArgs) -> Result<i32> {
    let engine = load(cli, reporter(args.build.json, cli.verbose))?;
    let opts = RunOptions {
        keep_failed: args.keep,
        ..run_options(&engine, &args.build, true)?
    };
    let _lock = engine.lock("dk test", !cli.no_wait)?;
    let summary = with_test_cleanup(&engine, engine.test(&args.build.names, &opts)).await?;
    if let Some(path) = &args.junit {
        std::fs::write(path, crate::junit::render(&summary.nodes))
            .map_err(|e| Error::io("write", path, e))?;
    }
    if args.build.json {
        print_json_summary(&summary);
    } else {
        for n in &summary.nodes {
            if matches!(
                n.status,
                TestStatus::BuildFailed { .. } | TestStatus::Blocked { .. }
            ) {
                eprintln!("{}: {}", n.name, n.status.describe());
            }
        }
        eprintln!("{}", summary.line());
    }
    Ok(if summary.ok() { 0 } else { 1 })
}

async fn promote(cli: &Cli, args: &NamesArgs) -> Result<i32> {
    let engine = load(cli, reporter(args.json, cli.verbose))?;
    let _lock = engine.lock("dk promote", !cli.no_wait)?;
    let reports = interruptible(engine.promote(&args.names)).await?;
    if args.json {
        print_json(&reports);
    } else {
        for r in &reports {
            match &r.status {
                PromoteStatus::Promoted { image_id, previous } => println!(
                    "{}: {} is live{}",
                    r.name,
                    image_id.short(),
                    previous
                        .as_ref()
                        .map(|p| format!(" (was {}, kept as :prev)", p.short()))
                        .unwrap_or_default()
                ),
                PromoteStatus::AlreadyLive { image_id } => {
                    println!("{}: {} is already live", r.name, image_id.short())
                }
                PromoteStatus::Refused { reason } => {
                    eprintln!("{}: not promoted: {reason}", r.name)
                }
            }
        }
    }
    Ok(if crate::promote::all_ok(&reports) {
        0
    } else {
        1
    })
}

async fn rollback(cli: &Cli, name: &str, to: Option<&str>) -> Result<i32> {
    let engine = load(cli, reporter(false, cli.verbose))?;
    let _lock = engine.lock("dk rollback", !cli.no_wait)?;
    let i = crate::names::resolve_one(name, &engine.ws.names())?;
    let target = match to {
        None => RollbackTarget::Prev,
        Some(t) => match t.parse::<usize>() {
            Ok(n) if t.len() < 6 => RollbackTarget::Entry(n),
            _ => RollbackTarget::Image(t.to_string()),
        },
    };
    let outcome = interruptible(engine.rollback(i, &target)).await?;
    println!(
        "{}: {} is live again ({} kept as :prev)",
        engine.name(i),
        outcome.live.short(),
        outcome.previous.short()
    );
    print_runs(&outcome.runs);
    if outcome.reverted {
        eprintln!(
            "{}: the release did not become ready; {} is live again",
            engine.name(i),
            outcome.previous.short()
        );
    }
    Ok(if outcome.runs.iter().any(|r| r.action.failed()) {
        1
    } else {
        0
    })
}

fn config(cli: &Cli, names: &[String], json: bool) -> Result<i32> {
    let engine = load(cli, reporter(json, cli.verbose))?;
    let selected: Vec<&str> = engine
        .select(names)?
        .selected
        .iter()
        .map(|&i| engine.name(i))
        .collect();
    let entries: Vec<crate::settings::ConfigEntry> = crate::settings::config_entries(&engine.ws)
        .into_iter()
        .filter(|e| {
            names.is_empty() || selected.iter().any(|n| e.key.starts_with(&format!("{n}.")))
        })
        .collect();
    if json {
        print_json(&entries);
        return Ok(0);
    }
    let rows: Vec<[String; 3]> = entries
        .iter()
        .map(|e| [e.key.clone(), e.value.clone(), e.origin.clone()])
        .collect();
    print!("{}", render::table(&["KEY", "VALUE", "FROM"], &rows));
    if !engine.ws.has_local {
        println!("(no {} here)", crate::local::LOCAL_FILE);
    }
    Ok(0)
}

async fn history(cli: &Cli, name: &str, json: bool) -> Result<i32> {
    let engine = load(cli, reporter(json, cli.verbose))?;
    let i = crate::names::resolve_one(name, &engine.ws.names())?;
    let releases = engine.history(i).await?;
    if json {
        print_json(&releases);
        return Ok(0);
    }
    if releases.is_empty() {
        println!("{}: nothing has gone live yet", engine.name(i));
        return Ok(0);
    }
    let rows: Vec<[String; 6]> = releases
        .iter()
        .map(|r| {
            [
                r.number.to_string(),
                format!(
                    "{}{}",
                    r.record.image_id.short(),
                    if r.live { " (live)" } else { "" }
                ),
                crate::units::human_time(r.record.promoted_at),
                r.record.action.clone(),
                match (&r.record.test_spec, r.current_spec) {
                    (Some(_), true) => "passed (current spec)".to_string(),
                    (Some(spec), false) => format!("passed (spec {spec}, since changed)"),
                    (None, _) => "-".to_string(),
                },
                if r.kept {
                    r.record
                        .revision
                        .as_deref()
                        .map(|v| v[..v.len().min(12)].to_string())
                        .unwrap_or_else(|| "-".into())
                } else {
                    "not kept".to_string()
                },
            ]
        })
        .collect();
    print!(
        "{}",
        render::table(
            &["#", "IMAGE", "WHEN", "ACTION", "TESTED", "REVISION"],
            &rows
        )
    );
    println!(
        "keeps {} release(s); roll back with `dk rollback {} --to N`",
        engine.keep_releases(i),
        engine.name(i)
    );
    Ok(0)
}

fn print_runs(runs: &[RunReport]) {
    for r in runs {
        match &r.action {
            RunAction::Unchanged => println!("{}: running, unchanged", r.name),
            RunAction::Started => println!("{}: started", r.name),
            RunAction::Created => println!("{}: created and started", r.name),
            RunAction::Replaced {
                downtime_ms,
                reason,
                order,
            } => match order {
                ReplaceOrder::StopFirst => println!(
                    "{}: replaced ({reason}); down for {}",
                    r.name,
                    crate::units::human_duration(std::time::Duration::from_millis(*downtime_ms))
                ),
                ReplaceOrder::StartFirst => {
                    println!("{}: replaced ({reason}); start-first, no downtime", r.name)
                }
            },
            RunAction::Failed { message } => eprintln!("{}: not running: {message}", r.name),
            RunAction::NotRetried { message } => eprintln!("{}: {message}", r.name),
            RunAction::RolledBack { message } => eprintln!("{}: {message}", r.name),
        }
        for h in &r.hooks {
            let line = format!(
                "{}: hook {} `{}`: {}",
                r.name,
                h.hook,
                h.command.join(" "),
                if h.ok {
                    "ok".to_string()
                } else {
                    format!("failed ({})", h.status)
                }
            );
            if h.ok {
                println!("{line}");
            } else {
                eprintln!("{line}");
                for l in h.output.lines() {
                    eprintln!("  | {l}");
                }
            }
        }
    }
}

async fn up(cli: &Cli, args: &UpArgs) -> Result<i32> {
    let build = &args.build;
    let engine = load(cli, reporter(build.json, cli.verbose))?;
    let mut opts = run_options(&engine, build, true)?;
    opts.retry = args.retry;
    let _lock = engine.lock("dk up", !cli.no_wait)?;
    let report = with_test_cleanup(&engine, engine.up(&build.names, &opts)).await?;
    if build.json {
        print_json_summary(&report);
    } else {
        eprintln!("{}", report.tests.line());
        for r in &report.promotions {
            match &r.status {
                PromoteStatus::Promoted { image_id, .. } => {
                    println!("{}: {} is live", r.name, image_id.short())
                }
                PromoteStatus::AlreadyLive { .. } => {}
                PromoteStatus::Refused { reason } => {
                    eprintln!("{}: not promoted: {reason}", r.name)
                }
            }
        }
        print_runs(&report.runs);
        if let Some(why) = &report.stopped_at {
            eprintln!("stopped: {why}");
        }
    }
    // `push = "on-promote"`: what went live goes to those registries too.
    let on_promote: Vec<crate::config::RegistryFile> = engine
        .ws
        .registries
        .iter()
        .filter(|r| r.push == crate::config::PushWhen::OnPromote)
        .cloned()
        .collect();
    let promoted: Vec<usize> = report
        .promotions
        .iter()
        .filter(|p| matches!(p.status, PromoteStatus::Promoted { .. }))
        .map(|p| p.node)
        .collect();
    let mut pushed_ok = true;
    if !on_promote.is_empty() && !promoted.is_empty() {
        let outcomes = interruptible(engine.push(&promoted, &on_promote)).await?;
        pushed_ok = print_pushes(&engine, &outcomes);
    }
    Ok(if report.ok() && pushed_ok { 0 } else { 1 })
}

/// Print what `push` did; true when every push went through.
fn print_pushes(engine: &Engine, outcomes: &[crate::push::PushOutcome]) -> bool {
    let mut ok = true;
    for o in outcomes {
        for p in &o.pushed {
            println!(
                "{}: pushed {} (tags {})",
                engine.name(o.node),
                p.reference,
                p.tags.join(", ")
            );
        }
        for (registry, e) in &o.failed {
            ok = false;
            eprintln!(
                "{}: not pushed to {registry}: {}",
                engine.name(o.node),
                e.render()
            );
        }
        if !o.failed.is_empty() && o.failed.iter().all(|(r, _)| r != "-") {
            eprintln!("{}: `live` was moved in no registry", engine.name(o.node));
        }
    }
    ok
}

async fn push(cli: &Cli, names: &[String], only: &[String]) -> Result<i32> {
    let engine = load(cli, reporter(false, cli.verbose))?;
    if engine.ws.registries.is_empty() {
        return Err(Error::usage_help(
            "dk.toml names no registry",
            "add one: [[registry]] url = \"registry.example.com:5000\"",
        ));
    }
    let registries: Vec<crate::config::RegistryFile> = engine
        .ws
        .registries
        .iter()
        .filter(|r| only.is_empty() || only.iter().any(|o| o == &r.url))
        .cloned()
        .collect();
    if registries.is_empty() {
        return Err(Error::usage_help(
            format!("no registry of dk.toml is {}", only.join(", ")),
            format!(
                "dk.toml has: {}",
                engine
                    .ws
                    .registries
                    .iter()
                    .map(|r| r.url.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let _lock = engine.lock("dk push", !cli.no_wait)?;
    let nodes = if names.is_empty() {
        let all: Vec<usize> = (0..engine.ws.nodes.len()).collect();
        let live = engine.tag_ids(&all, "live").await?;
        all.into_iter().filter(|i| live.contains_key(i)).collect()
    } else {
        engine.select(names)?.selected
    };
    let outcomes = interruptible(engine.push(&nodes, &registries)).await?;
    Ok(if print_pushes(&engine, &outcomes) {
        0
    } else {
        1
    })
}

async fn launcher(cli: &Cli, verb: &str, args: &LauncherArgs) -> Result<i32> {
    let (names, all) = (&args.names, args.all);
    let engine = load(cli, reporter(false, cli.verbose))?;
    let jobs = engine.jobs(args.jobs)?;
    let _lock = engine.lock(&format!("dk {verb}"), !cli.no_wait)?;
    let selected = if all {
        if !names.is_empty() {
            return Err(Error::usage("give names or --all, not both"));
        }
        if verb == "start" {
            engine.nodes_to_boot().await?
        } else {
            let mut nodes = engine.nodes_with_live_containers().await?;
            if verb == "down" {
                nodes.extend(engine.nodes_with_services().await?);
            }
            nodes
        }
    } else if names.is_empty() {
        return Err(Error::usage_help(
            format!("`dk {verb}` needs the names of the containers"),
            if verb == "down" {
                "name them, or use --all to remove every live container of this workspace (data is kept)"
            } else {
                "name them; prefixes work (`dk restart f`)"
            },
        ));
    } else {
        engine.select(names)?.selected
    };
    let failed = |runs: &[RunReport]| runs.iter().any(|r| r.action.failed());
    let mut code = 0;
    if verb == "start" {
        let runs = interruptible(engine.start_live(&selected)).await?;
        print_runs(&runs);
        return Ok(if failed(&runs) { 1 } else { 0 });
    }
    // stop, down, restart: `jobs` at a time.
    use futures_util::StreamExt;
    let mut results: Vec<(usize, Result<bool>)> =
        futures_util::stream::iter(selected.iter().map(|&i| {
            let engine = &engine;
            async move {
                let r = if verb == "down" {
                    engine.down_live(i).await
                } else {
                    engine.stop_live(i).await
                };
                (i, r)
            }
        }))
        .buffer_unordered(jobs)
        .collect()
        .await;
    results.sort_by_key(|(i, _)| selected.iter().position(|s| s == i));
    for (i, r) in results {
        match r {
            Ok(true) if verb == "down" => println!("{}: removed (data kept)", engine.name(i)),
            Ok(true) => println!("{}: stopped", engine.name(i)),
            Ok(false) => println!("{}: no live container", engine.name(i)),
            Err(e) => {
                eprintln!("{}: {}", engine.name(i), e.render());
                code = 1;
            }
        }
    }
    if verb == "restart" {
        let runs = interruptible(engine.start_live(&selected)).await?;
        print_runs(&runs);
        if failed(&runs) {
            code = 1;
        }
    }
    Ok(code)
}

async fn status(cli: &Cli, args: &StatusArgs) -> Result<i32> {
    let (names, json) = (&args.names.names, args.names.json);
    let engine = load(cli, reporter(json, cli.verbose))?;
    let rows = engine.status(names).await?;
    if args.check {
        // The autostart containers (or the named ones) must run, healthy where they can say.
        let problems: Vec<(&str, String)> = rows
            .iter()
            .filter(|r| r.autostart || !names.is_empty())
            .filter_map(|r| r.problem().map(|p| (r.name.as_str(), p)))
            .collect();
        let checked = rows
            .iter()
            .filter(|r| r.autostart || !names.is_empty())
            .count();
        if json {
            print_json(&serde_json::json!({
                "ok": problems.is_empty(),
                "checked": checked,
                "problems": problems
                    .iter()
                    .map(|(n, p)| serde_json::json!({"name": n, "problem": p}))
                    .collect::<Vec<_>>(),
            }));
        } else if problems.is_empty() {
            println!("ok: {checked} container(s) up");
        } else {
            for (n, p) in &problems {
                println!("{n}: {p}");
            }
            println!("{} of {checked} container(s) not up", problems.len());
        }
        return Ok(if problems.is_empty() { 0 } else { 1 });
    }
    if json {
        print_json(&rows);
        return Ok(0);
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let state = match (&r.health, r.state.as_str()) {
                (Some(h), s) if !h.is_empty() && h != "none" => format!("{s} ({h})"),
                (_, s) => s.to_string(),
            };
            let uptime = match (r.uptime_s, r.restarts) {
                (Some(u), rs) => format!(
                    "up {}{}",
                    crate::units::human_duration(std::time::Duration::from_secs(u)),
                    rs.filter(|n| *n > 0)
                        .map(|n| format!(", {n} restarts"))
                        .unwrap_or_default()
                ),
                (None, Some(n)) if n > 0 => format!("{n} restarts"),
                _ => String::new(),
            };
            [
                r.name.clone(),
                r.latest.clone().unwrap_or_else(|| "-".into()),
                r.tested.clone(),
                r.live.clone().unwrap_or_else(|| "-".into()),
                state,
                match r.runs_live {
                    Some(true) => "yes".into(),
                    Some(false) => "NO".into(),
                    None => "-".into(),
                },
                uptime,
            ]
        })
        .collect();
    print!(
        "{}",
        render::table(
            &[
                "NODE",
                "LATEST",
                "TESTED",
                "LIVE",
                "CONTAINER",
                "RUNS LIVE",
                "UPTIME"
            ],
            &table
        )
    );
    // What the table has no room for: rollbacks to an older test spec, failed starts,
    // where :live was pushed.
    for r in &rows {
        for p in &r.pushed {
            println!("{}: live image pushed as {p}", r.name);
        }
        if let Some(t) = r
            .live_tested
            .as_deref()
            .filter(|t| !t.contains("current spec"))
        {
            println!("{}: live image {}", r.name, t);
        }
        if let Some(it) = &r.interrupted {
            println!("{}: {it}", r.name);
        }
        if let Some(f) = &r.failed_start {
            println!(
                "{}: failed start {f} (not retried until the image or settings change; `dk up --retry {}`)",
                r.name, r.name
            );
        }
    }
    Ok(0)
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(now.saturating_sub(ago).as_secs() as i64)
}

async fn logs(cli: &Cli, name: &str, opts: crate::docker::LogOptions) -> Result<i32> {
    let follow = opts.follow;
    let engine = load(cli, reporter(false, cli.verbose))?;
    let i = crate::names::resolve_one(name, &engine.ws.names())?;
    let (container, c) = engine.live_container(i).await?;
    if c.is_none() {
        return Err(Error::Container {
            name: container.clone(),
            message: format!("{} has no live container ({container})", engine.name(i)),
            help: Some(format!("start it: `dk up {}`", engine.name(i))),
        });
    }
    use std::io::Write;
    let result = interruptible(engine.reads()?.follow_logs(&container, &opts, |chunk| {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(chunk);
        let _ = out.flush();
    }))
    .await;
    match result {
        // Ctrl-C is the normal way to stop following.
        Err(Error::Interrupted { .. }) if follow => Ok(0),
        Err(e) => Err(e),
        Ok(()) => Ok(0),
    }
}

/// Are stdin and stdout both terminals (then a one-off gets a TTY and raw mode)?
fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

async fn run_job(cli: &Cli, target: &str, latest: bool, args: &[String]) -> Result<i32> {
    let engine = load(cli, reporter(false, cli.verbose))?;
    let (node, job) = engine.resolve_job(target)?;
    let tty = interactive();
    let spec = engine
        .job_spec(&crate::jobs::JobRequest {
            node,
            job,
            args: args.to_vec(),
            latest,
            tty,
        })
        .await?;
    run_one_off(&engine, &spec, Some(node), tty).await
}

/// Run a one-off container to its end (raw terminal when `tty`); on a signal, remove it.
async fn run_one_off(
    engine: &Engine,
    spec: &crate::docker::ContainerSpec,
    job_of: Option<usize>,
    tty: bool,
) -> Result<i32> {
    let _raw = if tty { RawMode::enable() } else { None };
    match interruptible(engine.run_one_off(spec, job_of)).await {
        Ok(code) => Ok(code as i32),
        Err(Error::Interrupted { signal }) => {
            if let Err(e) = engine.remove_one_off(&spec.name).await {
                eprintln!(
                    "removing {} after the interrupt failed: {}",
                    spec.name,
                    e.render()
                );
            }
            Err(Error::Interrupted { signal })
        }
        Err(e) => Err(e),
    }
}

async fn exec(cli: &Cli, name: &str, root: bool, cmd: &[String]) -> Result<i32> {
    let engine = load(cli, reporter(false, cli.verbose))?;
    let i = crate::names::resolve_one(name, &engine.ws.names())?;
    let tty = interactive();
    let _raw = if tty { RawMode::enable() } else { None };
    Ok(engine.exec_live(i, cmd, root, tty).await? as i32)
}

async fn shell(
    cli: &Cli,
    name: &str,
    root: bool,
    image: Option<&str>,
    cmd: &[String],
) -> Result<i32> {
    let engine = load(cli, reporter(false, cli.verbose))?;
    let i = crate::names::resolve_one(name, &engine.ws.names())?;
    let tty = interactive();
    match image {
        Some(image) => {
            let choice = crate::jobs::ImageChoice::parse(image);
            let spec = engine.shell_spec(i, &choice, root, cmd, tty).await?;
            run_one_off(&engine, &spec, None, tty).await
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

async fn prune(cli: &Cli, dry_run: bool) -> Result<i32> {
    let engine = load(cli, reporter(false, cli.verbose))?;
    let _lock = engine.lock("dk prune", !cli.no_wait)?;
    let report = interruptible(engine.prune(dry_run)).await?;
    let verb = if dry_run { "would remove" } else { "removed" };
    for p in &report.images {
        let names = if p.tags.is_empty() {
            "(untagged)".to_string()
        } else {
            p.tags.join(", ")
        };
        match &p.refused {
            Some(why) => println!("kept    {} {names}: {why}", p.id),
            None => println!(
                "{verb} {} {names} ({})",
                p.id,
                crate::units::human_size(p.size)
            ),
        }
    }
    let removed = report.images.iter().filter(|p| p.refused.is_none()).count();
    println!(
        "{verb} {removed} image(s), up to {} (layers shared with the {} image(s) kept stay); kept {} image(s) that a tag (latest, live, prev, a release) or a container needs",
        crate::units::human_size(report.image_bytes()),
        report.kept,
        report.kept
    );
    match report.build_cache {
        Some(b) => println!(
            "removed {} of dangling build cache",
            crate::units::human_size(b)
        ),
        None => println!("would also remove the dangling build cache"),
    }
    Ok(0)
}

fn systemd(cli: &Cli, install: bool, unit_dir: &std::path::Path) -> Result<i32> {
    let engine = load(cli, reporter(false, cli.verbose))?;
    let dk = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::io("find", "the dk executable", e))?;
    if !install {
        print!("{}", crate::boot::unit(&engine.ws, &dk));
        return Ok(0);
    }
    let path = crate::boot::install(&engine.ws, &dk, unit_dir)?;
    let name = crate::boot::unit_name(&engine.ws);
    println!("wrote {}", path.display());
    println!("enable it (starts at every boot, after docker.service):");
    println!("  systemctl daemon-reload && systemctl enable {name}");
    Ok(0)
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

async fn prep(cli: &Cli, names: &[String], fix: bool) -> Result<i32> {
    let engine = load(cli, reporter(false, cli.verbose))?;
    let _lock = engine.lock("dk prep", !cli.no_wait)?;
    let mut pending = false;
    // No names: every node that declares data directories.
    let selected: Vec<usize> = engine
        .select(names)?
        .selected
        .into_iter()
        .filter(|i| !names.is_empty() || !engine.ws.nodes[*i].manifest.mounts.is_empty())
        .collect();
    for i in selected {
        let changes = engine.prep(i, fix).await?;
        if changes.is_empty() {
            println!("{}: data directories are as declared", engine.name(i));
        }
        for c in changes {
            pending |= !c.applied;
            println!("{}: {}: {}", engine.name(i), c.path, c.what);
        }
    }
    Ok(if pending { 1 } else { 0 })
}

async fn lint(cli: &Cli, names: &[String], format: LintFormat) -> Result<i32> {
    let engine = load(cli, reporter(format != LintFormat::Text, cli.verbose))?;
    let selected = engine.select(names)?.selected;
    // Digests of local external images, for the pinning hint; lint works without a daemon.
    let mut digests = std::collections::HashMap::new();
    let externals: Vec<String> = engine
        .graph
        .externals
        .iter()
        .filter(|x| selected.contains(&x.node))
        .map(|x| x.image.clone())
        .collect();
    if !externals.is_empty()
        && let Ok(reads) = engine.reads()
    {
        for image in externals {
            let found = tokio::time::timeout(
                std::time::Duration::from_secs(3),
                reads.inspect_image(&image),
            )
            .await;
            if let Ok(Ok(Some(i))) = found
                && let Some(d) = i.repo_digests.into_iter().next()
            {
                digests.insert(image, d);
            }
        }
    }
    let mut linter = crate::lint::Linter::new(&engine.ws, &engine.graph, digests);
    let tmp = engine
        .ws
        .state
        .tmp()
        .join(format!("shellcheck-{}", std::process::id()));
    if !linter.check_shell(&selected, &tmp)? {
        eprintln!(
            "note: the shell checks of RUN lines were skipped: shellcheck is not installed (apt-get install shellcheck)"
        );
    }
    let mut findings = Vec::new();
    for i in engine
        .graph
        .order
        .iter()
        .copied()
        .filter(|i| selected.contains(i))
    {
        findings.extend(linter.lint(i));
    }
    let open = findings.iter().filter(|f| f.waived.is_none()).count();
    match format {
        LintFormat::Text => {
            print!("{}", crate::lint::render_text(&findings));
            let waived = findings.len() - open;
            eprintln!(
                "{open} finding(s){} in {} node(s)",
                if waived > 0 {
                    format!(", {waived} waived")
                } else {
                    String::new()
                },
                selected.len()
            );
        }
        LintFormat::Json => print_json(&findings),
        LintFormat::Sarif => print_json(&crate::lint::render_sarif(&findings)),
    }
    Ok(if open > 0 { 1 } else { 0 })
}

async fn import_compose(
    cli: &Cli,
    files: &[std::path::PathBuf],
    into: Option<&std::path::Path>,
    env_file: Option<&std::path::Path>,
    profiles: &[String],
) -> Result<i32> {
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    let profiles = if profiles.is_empty() {
        env.get("COMPOSE_PROFILES")
            .map(|p| {
                p.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    } else {
        profiles.to_vec()
    };
    let project = crate::compose::load(&crate::compose::LoadOptions {
        files: files.to_vec(),
        env_file: env_file.map(std::path::Path::to_path_buf),
        profiles,
        env,
    })?;
    // Into: --into, else the workspace here (-C or upward), else the current directory.
    let into = match into.or(cli.workspace.as_deref()) {
        Some(d) => d.to_path_buf(),
        None => workspace::find_root(None).unwrap_or_else(|_| std::path::PathBuf::from(".")),
    };
    // What the daemon has: the images of image-only services (to pin them), and Compose's
    // own volumes (to keep their data). Without a daemon, neither.
    let mut images = crate::import::LocalDigests::new();
    let mut volumes = std::collections::BTreeSet::new();
    if let Ok(reads) = crate::docker::Lookup::connect() {
        for (_, svc) in &project.services {
            if svc.get("build").is_none()
                && let Some(image) = svc.get("image").and_then(crate::compose::Node::text)
                && let Ok(Ok(Some(facts))) = tokio::time::timeout(
                    std::time::Duration::from_secs(3),
                    reads.inspect_image(&image),
                )
                .await
            {
                images.insert(image, facts.repo_digests.into_iter().next());
            }
        }
        for name in crate::import::compose_volume_names(&project) {
            if let Ok(Ok(true)) = tokio::time::timeout(
                std::time::Duration::from_secs(3),
                reads.volume_exists(&name),
            )
            .await
            {
                volumes.insert(name);
            }
        }
    }
    let volume_exists = |n: &str| volumes.contains(n);
    let report = crate::import::write(
        &project,
        &into,
        &crate::import::Here {
            images: &images,
            volume_exists: &volume_exists,
        },
    )?;
    // The result must load; if it does not, nothing of the import stays.
    let root = into.canonicalize().unwrap_or(into.clone());
    if let Err(e) = Engine::load(&root, &LoadOptions::default(), reporter(false, 0)) {
        report.rollback();
        eprintln!("{}", e.render());
        return Err(Error::usage_help(
            "the imported workspace does not load, so nothing was written",
            "fix the Compose file at the places above, or report what dk import got wrong",
        ));
    }
    let imported = report
        .services
        .iter()
        .filter(|s| s.skipped.is_none())
        .count();
    println!(
        "imported {imported} of {} service(s) from {} into {}",
        report.services.len(),
        project.files_shown(),
        root.display()
    );
    for w in &report.written {
        println!("  wrote {w}");
    }
    let mut todos = 0;
    let mut different = 0;
    for s in &report.services {
        match &s.skipped {
            Some(why) => println!("\n{} → skipped: {why}", s.service),
            None => {
                println!("\n{} → containers/{}/", s.service, s.node);
                for w in &s.written {
                    println!("  wrote {w}");
                }
                for d in &s.differences {
                    println!("  runs differently: {d}");
                }
                for t in &s.todos {
                    println!("  TODO(import): {t}");
                }
                todos += s.todos.len();
                different += usize::from(!s.differences.is_empty());
            }
        }
    }
    println!(
        "\n{todos} TODO(import) line(s) in the manifests, {different} service(s) run differently under dk's defaults (above). Next: `dk plan`, `dk lint`, then `dk up`."
    );
    Ok(0)
}

/// `dk lint --fix [--dry-run]`: every fix applies cleanly, or nothing is written.
fn lint_fix(cli: &Cli, names: &[String], dry_run: bool) -> Result<i32> {
    let engine = load(cli, reporter(false, cli.verbose))?;
    let _lock = engine.lock("dk lint --fix", !cli.no_wait)?;
    let selected = engine.select(names)?.selected;
    let mut planned = Vec::new();
    let mut refused = Vec::new();
    for i in selected {
        let node = &engine.ws.nodes[i];
        let fixes = crate::lintfix::fixes(&node.dockerfile);
        let path = node.dockerfile_path();
        for r in &fixes.refused {
            refused.push(format!(
                "{path}:{}: {} cannot be fixed mechanically: {}",
                r.line, r.rule, r.why
            ));
        }
        if !fixes.edits.is_empty() {
            let new = fixes.apply(&node.dockerfile.text);
            let made: Vec<String> = fixes
                .edits
                .iter()
                .map(|e| format!("{path}:{}: {} fixed", e.line, e.rule))
                .collect();
            planned.push((
                path,
                node.dir.join("Dockerfile"),
                node.dockerfile.text.clone(),
                new,
                made,
            ));
        }
    }
    if !refused.is_empty() {
        for r in &refused {
            println!("{r}");
        }
        eprintln!(
            "nothing was written: {} fix(es) cannot be made mechanically (make them by hand, or waive the rule), {} could",
            refused.len(),
            planned.iter().map(|p| p.4.len()).sum::<usize>()
        );
        return Ok(1);
    }
    if planned.is_empty() {
        eprintln!("nothing to fix");
        return Ok(0);
    }
    for (path, file, old, new, made) in &planned {
        if dry_run {
            print!("{}", crate::lintfix::diff(path, old, new));
        } else {
            crate::records::write_atomic(file, new.as_bytes())?;
            for m in made {
                println!("{m}");
            }
        }
    }
    let total: usize = planned.iter().map(|p| p.4.len()).sum();
    if dry_run {
        eprintln!(
            "{total} fix(es) in {} file(s) would be made (--dry-run: nothing written)",
            planned.len()
        );
    } else {
        eprintln!("made {total} fix(es) in {} file(s)", planned.len());
    }
    Ok(0)
}

async fn build(cli: &Cli, args: &BuildArgs) -> Result<i32> {
    let engine = load(cli, reporter(args.json, cli.verbose))?;
    let opts = run_options(&engine, args, false)?;
    let _lock = engine.lock("dk build", !cli.no_wait)?;
    let summary = interruptible(engine.build(&args.names, &opts)).await?;
    if args.json {
        print_json_summary(&summary);
    } else {
        eprintln!("{}", summary.line());
    }
    Ok(if summary.ok() { 0 } else { 1 })
}

async fn clean(cli: &Cli, clean: &CleanArgs) -> Result<i32> {
    let args = &clean.names;
    let engine = load(cli, reporter(args.json, cli.verbose))?;
    let _lock = engine.lock("dk clean", !cli.no_wait)?;
    let selected = engine.select(&args.names)?.selected;
    let mut report = Vec::new();
    for i in selected {
        let node = &engine.ws.nodes[i];
        let staged = crate::stage::clean(&engine.ws, node)?;
        let records = engine.records.clean(&node.name)?;
        let other = engine.ws.state.clean_node(&node.name)?;
        report.push(serde_json::json!({
            "name": node.name,
            "staged_removed": staged,
            "records_removed": records,
            "logs_removed": other,
        }));
        if !args.json {
            println!(
                "{}: removed {} staged path(s), {} record(s), {} log(s)",
                node.name,
                staged.len(),
                records,
                other
            );
            for s in &staged {
                println!("  {s}");
            }
        }
    }
    if clean.build_cache {
        let freed = interruptible(engine.daemon().await?.prune_build_cache()).await?;
        report.push(serde_json::json!({ "build_cache_freed": freed }));
        if !args.json {
            println!("build cache: freed {}", crate::units::human_size(freed));
        }
    }
    if args.json {
        print_json(&report);
    }
    Ok(0)
}
