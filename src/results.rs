//! What each verb prints when it is done, and its exit code: the text and JSON renderings
//! of the engine's report types. Results go to stdout, failures and summaries to stderr
//! (so `dk … > file` keeps the results); `--json` prints one JSON document (or, after a
//! run that streamed events, one `{"event": "summary"}` line). Nothing here decides
//! anything: an exit code is a report's own verdict.

use std::time::Duration;

use crate::converge::{RunAction, RunReport};
use crate::engine::Engine;
use crate::live::RollbackOutcome;
use crate::promote::{PromoteReport, PromoteStatus, Release};
use crate::render;
use crate::units::{human_duration, human_size, human_time};

pub fn json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).expect("serialize"));
}

/// The last line of a `--json` run: `{"event": "summary", "summary": …}`.
pub fn json_summary(summary: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string(&serde_json::json!({"event": "summary", "summary": summary}))
            .expect("serialize")
    );
}

fn code(ok: bool) -> i32 {
    if ok { 0 } else { 1 }
}

/// The graph's warnings (an external base pinned by no version): said before anything else.
pub fn warnings(engine: &Engine) {
    for w in &engine.graph.warnings {
        eprintln!("{w}");
    }
}

pub fn ls(engine: &Engine, names: bool, as_json: bool) -> i32 {
    if names {
        for n in engine.ws.names() {
            println!("{n}");
        }
    } else if as_json {
        json(&render::ls_json(&engine.ws, &engine.graph));
    } else {
        print!("{}", render::ls_text(&engine.ws, &engine.graph));
    }
    0
}

pub fn graph(engine: &Engine, format: crate::cli::GraphFormat, as_json: bool) -> i32 {
    use crate::cli::GraphFormat;
    if as_json {
        json(&render::graph_json(&engine.ws, &engine.graph));
        return 0;
    }
    let text = match format {
        GraphFormat::Text => render::graph_text(&engine.ws, &engine.graph),
        GraphFormat::Dot => render::graph_dot(&engine.ws, &engine.graph),
        GraphFormat::Mermaid => render::graph_mermaid(&engine.ws, &engine.graph),
        GraphFormat::Svg => unreachable!("the SVG needs the nodes' looks: graph_svg"),
    };
    print!("{text}");
    0
}

/// `dk graph --format svg`: the picture on stdout; when no daemon answered, says so.
pub fn graph_svg(engine: &Engine, looks: &crate::picture::Looks) -> i32 {
    use crate::picture::Look;
    let drawn: Vec<crate::svg::Drawn> = looks
        .nodes
        .iter()
        .enumerate()
        .map(|(i, l)| crate::svg::Drawn {
            name: engine.name(i),
            class: l.look.class(),
            words: l.words.clone(),
            why: l.why.clone(),
            href: None,
        })
        .collect();
    let edges = crate::svg::edges(&engine.graph);
    let legend: Vec<(&str, &str)> = Look::ALL.iter().map(|l| (l.class(), l.word())).collect();
    if let Some(note) = &looks.records_only {
        eprintln!("note: {note}");
    }
    print!(
        "{}",
        crate::svg::graph(&drawn, &edges, &legend, looks.records_only.as_deref(), true)
    );
    0
}

/// `dk report`: the last report's path, or where it was written (`None`: there is none).
pub fn report(shown: Option<&std::path::Path>) -> i32 {
    match shown {
        None => {
            eprintln!(
                "no run report yet: `dk up`, `dk build` and `dk test` keep one when they do something"
            );
            1
        }
        Some(p) => {
            println!("{}", p.display());
            0
        }
    }
}

pub fn plan(plan: &[crate::plan::PlanEntry], as_json: bool) -> i32 {
    if as_json {
        json(&plan);
    } else {
        print!("{}", render::plan_text(plan));
    }
    0
}

pub fn build(summary: &crate::build::BuildSummary, as_json: bool) -> i32 {
    if as_json {
        json_summary(summary);
    } else {
        eprintln!("{}", summary.line());
    }
    code(summary.ok())
}

pub fn test(summary: &crate::testrun::TestSummary, as_json: bool) -> i32 {
    use crate::testrun::TestStatus;
    if as_json {
        json_summary(summary);
    } else {
        for n in &summary.nodes {
            if matches!(
                n.status,
                TestStatus::BuildFailed { .. } | TestStatus::Blocked { .. }
            ) {
                eprintln!("{}: {}", n.shown(), n.status.describe());
            }
        }
        eprintln!("{}", summary.line());
    }
    code(summary.ok())
}

pub fn promotions(reports: &[PromoteReport], as_json: bool) -> i32 {
    if as_json {
        json(&reports);
    } else {
        for r in reports {
            match &r.status {
                // Its step's line said it.
                PromoteStatus::Promoted { .. } => {}
                PromoteStatus::AlreadyLive { image_id } => {
                    println!("{}: {} is already live", r.name, image_id.short())
                }
                PromoteStatus::Refused { reason } => {
                    eprintln!("{}: not promoted: {reason}", r.name)
                }
            }
        }
    }
    code(crate::promote::all_ok(reports))
}

pub fn rollback(name: &str, outcome: &RollbackOutcome) -> i32 {
    println!(
        "{name}: {} is live again ({} kept as :prev)",
        outcome.live.short(),
        outcome.previous.short()
    );
    runs(&outcome.runs);
    if outcome.reverted {
        eprintln!(
            "{name}: the release did not become ready; {} is live again",
            outcome.previous.short()
        );
    }
    code(!outcome.runs.iter().any(|r| r.action.failed()))
}

pub fn config(entries: &[crate::settings::ConfigEntry], has_local: bool, as_json: bool) -> i32 {
    if as_json {
        json(&entries);
        return 0;
    }
    let rows: Vec<[String; 3]> = entries
        .iter()
        .map(|e| [e.key.clone(), e.value.clone(), e.origin.clone()])
        .collect();
    print!("{}", render::table(&["KEY", "VALUE", "FROM"], &rows));
    if !has_local {
        println!("(no {} here)", crate::local::LOCAL_FILE);
    }
    0
}

pub fn history(name: &str, releases: &[Release], keep: usize, as_json: bool) -> i32 {
    if as_json {
        json(&releases);
        return 0;
    }
    if releases.is_empty() {
        println!("{name}: nothing has gone live yet");
        return 0;
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
                human_time(r.record.promoted_at),
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
    println!("keeps {keep} release(s); roll back with `dk rollback {name} --to N`");
    0
}

/// What happened to each live container (and its hooks). A container created, started
/// or replaced was said by its step's line; what needed no step, or failed, is said here.
pub fn runs(runs: &[RunReport]) {
    for r in runs {
        match &r.action {
            RunAction::Unchanged => println!("{}: running, unchanged", r.name),
            RunAction::Started | RunAction::Created | RunAction::Replaced { .. } => {}
            RunAction::Failed { message } => eprintln!("{}: not running: {message}", r.name),
            RunAction::NotRetried { message } => eprintln!("{}: {message}", r.name),
            RunAction::RolledBack { message } => eprintln!("{}: {message}", r.name),
        }
        for h in &r.hooks {
            hook(&format!("{}: ", r.name), h);
        }
    }
}

/// A hook's line (stdout when it passed; stderr, with its output, when it failed).
fn hook(prefix: &str, h: &crate::converge::HookRun) {
    let line = format!(
        "{prefix}hook {} `{}`: {}",
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

pub fn runs_code(reports: &[RunReport]) -> i32 {
    code(!reports.iter().any(|r| r.action.failed()))
}

/// `dk up`: the tests' line, what went live, what (re)started; and what was pushed.
pub fn up(
    engine: &Engine,
    report: &crate::live::UpReport,
    pushed: &[crate::push::PushOutcome],
    as_json: bool,
) -> i32 {
    if as_json {
        json_summary(report);
    } else {
        for r in &report.promotions {
            if let PromoteStatus::Refused { reason } = &r.status {
                eprintln!("{}: not promoted: {reason}", r.name)
            }
        }
        runs(&report.runs);
        if let Some(why) = &report.stopped_at {
            eprintln!("stopped: {why}");
        }
        eprintln!("{}", report.line());
    }
    let pushed_ok = pushes(engine, pushed);
    code(report.ok() && pushed_ok)
}

/// What `push` did; true when every push went through.
pub fn pushes(engine: &Engine, outcomes: &[crate::push::PushOutcome]) -> bool {
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

/// `dk stop`, `dk down` (and the stop half of `dk restart`): one line per node.
pub fn stopped(
    engine: &Engine,
    results: &[(usize, crate::error::Result<bool>)],
    removed: bool,
) -> i32 {
    let mut ok = true;
    for (i, r) in results {
        match r {
            Ok(true) if removed => println!("{}: removed (data kept)", engine.name(*i)),
            Ok(true) => println!("{}: stopped", engine.name(*i)),
            Ok(false) => println!("{}: no live container", engine.name(*i)),
            Err(e) => {
                eprintln!("{}: {}", engine.name(*i), e.render());
                ok = false;
            }
        }
    }
    code(ok)
}

pub fn status_check(report: &crate::live::CheckReport, as_json: bool) -> i32 {
    if as_json {
        json(report);
    } else if report.ok {
        println!("ok: {} container(s) up", report.checked);
    } else {
        for p in &report.problems {
            println!("{}: {}", p.name, p.problem);
        }
        println!(
            "{} of {} container(s) not up",
            report.problems.len(),
            report.checked
        );
    }
    code(report.ok)
}

pub fn status(rows: &[crate::live::StatusRow], as_json: bool) -> i32 {
    if as_json {
        json(&rows);
        return 0;
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
                    human_duration(Duration::from_secs(u)),
                    rs.filter(|n| *n > 0)
                        .map(|n| format!(", {n} restarts"))
                        .unwrap_or_default()
                ),
                (None, Some(n)) if n > 0 => format!("{n} restarts"),
                _ => String::new(),
            };
            [
                crate::workspace::shown(&r.name, r.platform.as_deref()),
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
    // interrupted replacements, where :live was pushed.
    for r in rows {
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
        // A service's tasks, where each runs: `web: task on node h (10.0.0.2): running`.
        for t in r.service.iter().flat_map(|s| &s.tasks) {
            println!("{}: task {t}", r.name);
        }
        if let Some(f) = &r.failed_start {
            println!(
                "{}: failed start {f} (not retried until the image or settings change; `dk up --retry {}`)",
                r.name, r.name
            );
        }
    }
    0
}

pub fn prune(report: &crate::prune::PruneReport) -> i32 {
    let verb = if report.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for p in &report.images {
        let names = if p.tags.is_empty() {
            "(untagged)".to_string()
        } else {
            p.tags.join(", ")
        };
        match &p.refused {
            Some(why) => println!("kept    {} {names}: {why}", p.id),
            None => println!("{verb} {} {names} ({})", p.id, human_size(p.size)),
        }
    }
    let removed = report.images.iter().filter(|p| p.refused.is_none()).count();
    println!(
        "{verb} {removed} image(s), up to {} (layers shared with the {} image(s) kept stay); kept {} image(s) that a tag (latest, live, prev, a release) or a container needs",
        human_size(report.image_bytes()),
        report.kept,
        report.kept
    );
    match report.build_cache {
        Some(b) => println!("removed {} of dangling build cache", human_size(b)),
        None => println!("would also remove the dangling build cache"),
    }
    0
}

pub fn clean(report: &crate::prune::CleanReport, as_json: bool) -> i32 {
    if as_json {
        // One object per node, then the build cache's, as `dk clean --json` always printed.
        let mut items: Vec<serde_json::Value> = report
            .nodes
            .iter()
            .map(|n| serde_json::to_value(n).expect("serialize"))
            .collect();
        if let Some(freed) = report.build_cache_freed {
            items.push(serde_json::json!({ "build_cache_freed": freed }));
        }
        json(&items);
        return 0;
    }
    for n in &report.nodes {
        println!(
            "{}: removed {} staged path(s), {} record(s), {} log(s)",
            n.name,
            n.staged_removed.len(),
            n.records_removed,
            n.logs_removed
        );
        for s in &n.staged_removed {
            println!("  {s}");
        }
    }
    if let Some(freed) = report.build_cache_freed {
        println!("build cache: freed {}", human_size(freed));
    }
    0
}

/// `dk prep`: each node's changes; 1 when some wait for `--fix`.
pub fn prep(engine: &Engine, changes: &[(usize, Vec<crate::prep::PrepChange>)]) -> i32 {
    let mut pending = false;
    for (i, list) in changes {
        if list.is_empty() {
            println!("{}: data directories are as declared", engine.name(*i));
        }
        for c in list {
            pending |= !c.applied;
            println!("{}: {}: {}", engine.name(*i), c.path, c.what);
        }
    }
    code(!pending)
}

pub fn systemd_unit(unit: &str) -> i32 {
    print!("{unit}");
    0
}

/// `dk systemd --timer update`: the service, then the timer.
pub fn systemd_timer(service: &str, timer: &str, name: &str) -> i32 {
    println!("# {name}.service");
    print!("{service}");
    println!("\n# {name}.timer");
    print!("{timer}");
    0
}

pub fn systemd_timer_installed(paths: &[&std::path::Path], name: &str) -> i32 {
    for p in paths {
        println!("wrote {}", p.display());
    }
    println!("enable the timer:");
    println!("  systemctl daemon-reload && systemctl enable --now {name}.timer");
    0
}

pub fn systemd_installed(path: &std::path::Path, name: &str) -> i32 {
    println!("wrote {}", path.display());
    println!("enable it (starts at every boot, after docker.service):");
    println!("  systemctl daemon-reload && systemctl enable {name}");
    0
}

pub fn lint(run: &crate::lintrun::LintRun, format: crate::cli::LintFormat) -> i32 {
    use crate::cli::LintFormat;
    if !run.shellcheck {
        eprintln!(
            "note: the shell checks of RUN lines were skipped: shellcheck is not installed (apt-get install shellcheck)"
        );
    }
    let open = run.open();
    match format {
        LintFormat::Text => {
            print!("{}", crate::lint::render_text(&run.findings));
            let waived = run.findings.len() - open;
            eprintln!(
                "{open} finding(s){} in {} node(s)",
                if waived > 0 {
                    format!(", {waived} waived")
                } else {
                    String::new()
                },
                run.nodes
            );
        }
        LintFormat::Json => json(&run.findings),
        LintFormat::Sarif => json(&crate::lint::render_sarif(&run.findings)),
    }
    code(open == 0)
}

/// `dk lint --fix`: refused fixes (nothing written), or the fixes made (or, with
/// `dry_run`, their diff).
pub fn lint_fixes(plan: &crate::lintfix::FixPlan, dry_run: bool) -> i32 {
    if !plan.refused.is_empty() {
        for r in &plan.refused {
            println!("{r}");
        }
        eprintln!(
            "nothing was written: {} fix(es) cannot be made mechanically (make them by hand, or waive the rule), {} could",
            plan.refused.len(),
            plan.count()
        );
        return 1;
    }
    if plan.files.is_empty() {
        eprintln!("nothing to fix");
        return 0;
    }
    for f in &plan.files {
        if dry_run {
            print!("{}", crate::lintfix::diff(&f.path, &f.old, &f.new));
        } else {
            for (line, rule) in &f.made {
                println!("{}:{line}: {rule} fixed", f.path);
            }
        }
    }
    if dry_run {
        eprintln!(
            "{} fix(es) in {} file(s) would be made (--dry-run: nothing written)",
            plan.count(),
            plan.files.len()
        );
    } else {
        eprintln!(
            "made {} fix(es) in {} file(s)",
            plan.count(),
            plan.files.len()
        );
    }
    0
}

pub fn import(done: &crate::import::Done) -> i32 {
    let report = &done.report;
    let imported = report
        .services
        .iter()
        .filter(|s| s.skipped.is_none())
        .count();
    println!(
        "imported {imported} of {} service(s) from {} into {}",
        report.services.len(),
        done.files,
        done.root.display()
    );
    for w in &report.written {
        println!("  wrote {w}");
    }
    for n in &report.notes {
        println!("  {n}");
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
    0
}

/// `dk outdated`: one line per pin with something newer (stdout), one per upstream that
/// could not be asked (stderr), then the counts.
pub fn outdated(report: &crate::outdated::OutdatedReport, as_json: bool, check: bool) -> i32 {
    use crate::outdated::short_pin;
    let newer = report.pins.iter().filter(|p| p.outdated()).count();
    if as_json {
        json(report);
    } else {
        for p in report.pins.iter().filter(|p| p.outdated()) {
            println!(
                "{}: {} {} → {}{}; rebuilds {}",
                p.place,
                p.what,
                p.current
                    .as_deref()
                    .map_or("(not pulled)".to_string(), short_pin),
                short_pin(p.available.as_deref().unwrap_or("")),
                p.detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default(),
                p.rebuilds.join(", ")
            );
        }
        for p in report.pins.iter().filter(|p| p.error.is_some()) {
            eprintln!(
                "{}: {}: upstream could not be asked: {}",
                p.place,
                p.what,
                p.error.as_deref().unwrap_or("")
            );
        }
        let unasked = report.pins.iter().filter(|p| p.error.is_some()).count();
        eprintln!(
            "{} pin(s) checked: {newer} outdated{}{}",
            report.pins.len(),
            if unasked > 0 {
                format!(", {unasked} could not be asked")
            } else {
                String::new()
            },
            if newer > 0 {
                "; `dk update` re-pins, tests and deploys them"
            } else {
                ""
            }
        );
    }
    code(report.all_asked() && !(check && newer > 0))
}

/// `dk update`: the pins' lines (each re-pin's step line was said already), the hook, the
/// commit, the counts.
pub fn update(
    report: &crate::outdated::UpdateReport,
    update_hook: Option<&crate::converge::HookRun>,
    commit: Option<&str>,
    as_json: bool,
) -> i32 {
    if as_json {
        json_summary(report);
    } else {
        for l in report.text() {
            eprintln!("{l}");
        }
        if let Some(h) = update_hook {
            hook("", h);
        }
        if let Some(rev) = commit {
            eprintln!("committed the re-pinned files as {rev}");
        }
    }
    code(report.ok() && update_hook.is_none_or(|h| h.ok))
}
