//! A run report: one self-contained HTML file (no script, no network, no external asset)
//! from a run's stamped events and reports: the graph with what happened to each node, a
//! timeline of each node's steps with their waits, each test check with its result and
//! output, the release history and Swarm tasks of the nodes involved. Light and dark
//! (`prefers-color-scheme`); every node is a link and a focusable section. Pure.

use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

use crate::engine::Engine;
use crate::picture::ReportFacts;
use crate::report::{Event, Stamped};
use crate::svg::{self, Drawn, escape};
use crate::testrun::TestSummary;
use crate::units::{human_duration, human_time};

/// What a report is made of.
pub struct Run<'a> {
    /// `up`, `build`, `test`.
    pub verb: &'a str,
    /// The arguments it was given (`dk up web`).
    pub command: String,
    pub began_unix: u64,
    pub ok: bool,
    /// The verb's summary line(s).
    pub summary: Vec<String>,
    pub events: &'a [Stamped],
    pub tests: Option<&'a TestSummary>,
    pub facts: &'a ReportFacts,
}

/// One step of a node: an action from its start to its finish.
struct Step {
    action: String,
    status: String,
    ok: bool,
    from_ms: u64,
    to_ms: u64,
    detail: Option<String>,
}

#[derive(Default)]
struct NodeRun {
    steps: Vec<Step>,
    /// Finished without work (`fresh`, `passed earlier`).
    skipped: Vec<String>,
    lines: Vec<String>,
}

impl NodeRun {
    fn class(&self) -> &'static str {
        if self.steps.iter().any(|s| !s.ok) {
            return "failed";
        }
        match self.steps.last().map(|s| s.action.as_str()) {
            None => "untouched",
            Some("build") => "built",
            Some("test") => "tested",
            Some("promote") => "promoted",
            Some(_) => "replaced",
        }
    }

    fn words(&self) -> String {
        if self.steps.is_empty() {
            return if self.skipped.is_empty() {
                "not in this run".into()
            } else {
                self.skipped.join(", ")
            };
        }
        let mut w: Vec<String> = Vec::new();
        for s in &self.steps {
            w.push(if s.ok {
                s.action.clone()
            } else {
                format!("{} failed", s.action)
            });
        }
        w.join(" → ")
    }
}

fn node_runs(n: usize, names: &HashMap<&str, usize>, events: &[Stamped]) -> Vec<NodeRun> {
    let mut runs: Vec<NodeRun> = (0..n).map(|_| NodeRun::default()).collect();
    let mut open: HashMap<(usize, String), u64> = HashMap::new();
    for s in events {
        match &s.event {
            Event::Start { node, action } => {
                if let Some(&i) = names.get(node.as_str()) {
                    open.insert((i, action.clone()), s.at_ms);
                }
            }
            Event::Finish {
                node,
                action,
                status,
                ok,
                duration_ms,
                detail,
            } => {
                let Some(&i) = names.get(node.as_str()) else {
                    continue;
                };
                match open.remove(&(i, action.clone())) {
                    Some(from) => runs[i].steps.push(Step {
                        action: action.clone(),
                        status: status.clone(),
                        ok: *ok,
                        from_ms: from,
                        to_ms: s.at_ms.max(from),
                        detail: detail.clone(),
                    }),
                    None if *ok && *duration_ms == 0 => {
                        runs[i].skipped.push(format!("{action} {status}"))
                    }
                    None => runs[i].steps.push(Step {
                        action: action.clone(),
                        status: status.clone(),
                        ok: *ok,
                        from_ms: s.at_ms.saturating_sub(*duration_ms),
                        to_ms: s.at_ms,
                        detail: detail.clone(),
                    }),
                }
            }
            Event::Line { node, line } => {
                if let Some(&i) = names.get(node.as_str()) {
                    runs[i].lines.push(line.clone());
                }
            }
            Event::Step { .. } | Event::Note { .. } | Event::Nodes { .. } => {}
        }
    }
    runs
}

const PAGE_STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1f2328; --muted: #57606a; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de; --ok: #1a7f37; --bad: #cf222e; --link: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9da7b3; --bg: #0d1117; --panel: #161b22; --line: #30363d; --ok: #3fb950; --bad: #f85149; --link: #58a6ff; } }
body { margin: 0; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 0 0 6px; }
.muted { color: var(--muted); } .ok { color: var(--ok); } .bad { color: var(--bad); }
a { color: var(--link); }
a:focus-visible, section:focus-visible { outline: 2px solid var(--link); outline-offset: 2px; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); }
section.node { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; margin: 8px 0; background: var(--panel); }
table { border-collapse: collapse; margin: 6px 0; } th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; border-bottom: 1px solid var(--line); }
pre { margin: 4px 0; padding: 6px 8px; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; overflow-x: auto; font-size: 12px; white-space: pre-wrap; }
.tl text { font: 11px ui-monospace, Menlo, Consolas, monospace; fill: var(--fg); }
.tl .axis { stroke: var(--line); } .tl .wait { fill: var(--line); }
.tl .bar { fill: var(--link); } .tl .bar.failed { fill: var(--bad); } .tl .bar.build { fill: #bf8700; } .tl .bar.test { fill: #0969da; } .tl .bar.promote { fill: #8250df; } .tl .bar.replace, .tl .bar.start, .tl .bar.service, .tl .bar.rollout { fill: #1a7f37; }
"#;

/// The report, as one HTML document.
pub fn html(engine: &Engine, run: &Run) -> String {
    let ws = &engine.ws;
    let n = ws.nodes.len();
    // Events name nodes as people read them (`web (linux/arm64)`).
    let shown: Vec<String> = ws.nodes.iter().map(|n| n.shown()).collect();
    let names: HashMap<&str, usize> = (0..n).map(|i| (shown[i].as_str(), i)).collect();
    let runs = node_runs(n, &names, run.events);
    let total_ms = run.events.last().map_or(0, |s| s.at_ms).max(1);
    let mut out = String::new();
    let title = format!("dk {} — {}", run.verb, human_time(run.began_unix));
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{PAGE_STYLE}{}</style></head><body>"#,
        escape(&title),
        svg::STYLE
    );
    let verdict = if run.ok {
        r#"<span class="ok">ok</span>"#
    } else {
        r#"<span class="bad">failed</span>"#
    };
    let _ = write!(
        out,
        r#"<header><h1>{}</h1><p>{verdict} · <code>{}</code> · took {} · workspace <code>{}</code></p>"#,
        escape(&title),
        escape(&run.command),
        human_duration(Duration::from_millis(total_ms)),
        escape(&ws.root.display().to_string())
    );
    for l in &run.summary {
        let _ = write!(out, "<p>{}</p>", escape(l));
    }
    out.push_str("</header>");

    // The graph, each box a link to its node's section.
    let drawn: Vec<Drawn> = (0..n)
        .map(|i| Drawn {
            name: &ws.nodes[i].name,
            class: runs[i].class(),
            words: runs[i].words(),
            why: runs[i]
                .steps
                .iter()
                .map(|s| format!("{}: {}", s.action, s.status))
                .collect(),
            href: Some(format!("#n-{}", ws.nodes[i].name)),
        })
        .collect();
    let edges = svg::edges(&engine.graph);
    let legend = [
        ("untouched", "not touched"),
        ("built", "built"),
        ("tested", "tested"),
        ("promoted", "promoted"),
        ("replaced", "(re)started"),
        ("failed", "failed"),
    ];
    out.push_str(r#"<h2 id="graph">Graph</h2><div class="scroll">"#);
    out.push_str(&svg::graph(&drawn, &edges, &legend, None, false));
    out.push_str("</div>");

    // The timeline.
    out.push_str(r#"<h2 id="timeline">Timeline</h2>"#);
    out.push_str(&timeline(engine, &runs, total_ms));

    // Each node.
    out.push_str(r#"<h2 id="nodes">Nodes</h2>"#);
    let involved: Vec<usize> = (0..n)
        .filter(|i| !runs[*i].steps.is_empty() || !runs[*i].skipped.is_empty())
        .collect();
    for (i, r) in runs.iter().enumerate() {
        node_section(&mut out, engine, run, i, r);
    }
    if involved.is_empty() {
        out.push_str(r#"<p class="muted">No node was part of this run.</p>"#);
    }
    out.push_str("</body></html>\n");
    out
}

fn timeline(engine: &Engine, runs: &[NodeRun], total_ms: u64) -> String {
    let rows: Vec<usize> = {
        let mut r: Vec<usize> = (0..runs.len())
            .filter(|i| !runs[*i].steps.is_empty())
            .collect();
        r.sort_by_key(|i| runs[*i].steps[0].from_ms);
        r
    };
    if rows.is_empty() {
        return r#"<p class="muted">No step ran.</p>"#.to_string();
    }
    let label_w = rows
        .iter()
        .map(|i| engine.name(*i).chars().count())
        .max()
        .unwrap_or(4) as f64
        * 7.0
        + 16.0;
    let (plot_w, row_h) = (760.0, 18.0);
    let width = label_w + plot_w + 90.0;
    let height = 24.0 + rows.len() as f64 * row_h;
    let x = |ms: u64| label_w + ms as f64 / total_ms as f64 * plot_w;
    let mut out = format!(
        r#"<div class="scroll"><svg class="tl" role="img" aria-label="timeline" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}">"#
    );
    for k in 0..=4u64 {
        let ms = total_ms * k / 4;
        let _ = write!(
            out,
            r#"<line class="axis" x1="{0:.1}" y1="14" x2="{0:.1}" y2="{height:.0}"/><text x="{0:.1}" y="10">{1}</text>"#,
            x(ms),
            human_duration(Duration::from_millis(ms))
        );
    }
    for (row, &i) in rows.iter().enumerate() {
        let y = 18.0 + row as f64 * row_h;
        let r = &runs[i];
        let _ = write!(
            out,
            r#"<text x="4" y="{:.0}">{}</text>"#,
            y + 11.0,
            escape(engine.name(i))
        );
        // The wait: from when its last parent finished to its first step.
        let ready = engine.graph.parents[i]
            .iter()
            .filter_map(|p| runs[*p].steps.last().map(|s| s.to_ms))
            .max()
            .unwrap_or(0);
        let first = r.steps[0].from_ms;
        if first > ready {
            let _ = write!(
                out,
                r#"<rect class="wait" x="{:.1}" y="{:.0}" width="{:.1}" height="12"><title>{}: waited {} for a job slot or the daemon</title></rect>"#,
                x(ready),
                y + 2.0,
                (x(first) - x(ready)).max(0.5),
                escape(engine.name(i)),
                human_duration(Duration::from_millis(first - ready))
            );
        }
        // Waits between its steps: for the rest of the graph's builds or tests, a start wave.
        for pair in r.steps.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if b.from_ms > a.to_ms {
                let _ = write!(
                    out,
                    r#"<rect class="wait" x="{:.1}" y="{:.0}" width="{:.1}" height="12"><title>{}: waited {} before {}</title></rect>"#,
                    x(a.to_ms),
                    y + 2.0,
                    (x(b.from_ms) - x(a.to_ms)).max(0.5),
                    escape(engine.name(i)),
                    human_duration(Duration::from_millis(b.from_ms - a.to_ms)),
                    escape(&b.action)
                );
            }
        }
        for s in &r.steps {
            let class = if s.ok { s.action.as_str() } else { "failed" };
            let _ = write!(
                out,
                r#"<rect class="bar {}" x="{:.1}" y="{:.0}" width="{:.1}" height="12"><title>{}: {} {} ({})</title></rect>"#,
                escape(class),
                x(s.from_ms),
                y + 2.0,
                (x(s.to_ms) - x(s.from_ms)).max(1.5),
                escape(engine.name(i)),
                escape(&s.action),
                escape(&s.status),
                human_duration(Duration::from_millis(s.to_ms - s.from_ms))
            );
        }
        let end = r.steps.iter().map(|s| s.to_ms).max().unwrap_or(first);
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.0}">{}</text>"#,
            x(end) + 4.0,
            y + 11.0,
            human_duration(Duration::from_millis(end - first))
        );
    }
    out.push_str("</svg></div>");
    out
}

fn node_section(out: &mut String, engine: &Engine, run: &Run, i: usize, r: &NodeRun) {
    let name = engine.name(i);
    let _ = write!(
        out,
        r#"<section class="node" id="n-{0}" tabindex="-1" data-node="{0}"><h3>{0} <span class="muted">{1}</span></h3>"#,
        escape(name),
        escape(&r.words())
    );
    if !r.steps.is_empty() {
        out.push_str("<table><tr><th>step</th><th>result</th><th>began</th><th>took</th></tr>");
        for s in &r.steps {
            let _ = write!(
                out,
                r#"<tr><td>{}</td><td class="{}">{}</td><td>+{}</td><td>{}</td></tr>"#,
                escape(&s.action),
                if s.ok { "ok" } else { "bad" },
                escape(&s.status),
                human_duration(Duration::from_millis(s.from_ms)),
                human_duration(Duration::from_millis(s.to_ms - s.from_ms))
            );
        }
        out.push_str("</table>");
        // A test step's detail lists its checks: the table below shows them in full.
        let checks_shown = run
            .tests
            .is_some_and(|t| t.nodes.iter().any(|t| t.node == i && !t.checks.is_empty()));
        for s in r
            .steps
            .iter()
            .filter(|s| s.detail.is_some() && !(checks_shown && s.action == "test"))
        {
            let _ = write!(
                out,
                "<pre>{}</pre>",
                escape(s.detail.as_deref().unwrap_or(""))
            );
        }
    }
    if let Some(t) = run.tests.and_then(|t| t.nodes.iter().find(|t| t.node == i))
        && !t.checks.is_empty()
    {
        out.push_str("<table><tr><th>check</th><th>result</th><th>took</th><th>expected / actual, output</th></tr>");
        for c in &t.checks {
            let _ = write!(
                out,
                r#"<tr><td>{}</td><td class="{}">{}</td><td>{}</td><td>{}</td></tr>"#,
                escape(&c.name),
                if c.passed { "ok" } else { "bad" },
                if c.passed { "passed" } else { "failed" },
                human_duration(Duration::from_millis(c.duration_ms)),
                c.detail
                    .as_deref()
                    .map(|d| format!("<pre>{}</pre>", escape(d)))
                    .unwrap_or_default()
            );
        }
        out.push_str("</table>");
        if let Some(logs) = &t.logs {
            let _ = write!(out, "<p>last output:</p><pre>{}</pre>", escape(logs));
        }
    }
    if !r.lines.is_empty() {
        let tail = &r.lines[r.lines.len().saturating_sub(60)..];
        let _ = write!(
            out,
            "<details><summary>output ({} lines, the last {} here)</summary><pre>{}</pre></details>",
            r.lines.len(),
            tail.len(),
            escape(&tail.join("\n"))
        );
    }
    if let Some((_, releases)) = run.facts.history.iter().find(|(n, _)| n == name) {
        out.push_str("<table><tr><th>release</th><th>image</th><th>when</th><th>action</th></tr>");
        for rel in releases.iter().rev().take(5) {
            let _ = write!(
                out,
                "<tr><td>#{}{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                rel.number,
                if rel.live { " (live)" } else { "" },
                escape(rel.record.image_id.short()),
                human_time(rel.record.promoted_at),
                escape(&rel.record.action)
            );
        }
        out.push_str("</table>");
    }
    if let Some((_, s)) = run.facts.services.iter().find(|(n, _)| n == name) {
        let _ = write!(
            out,
            "<p>Swarm service: {}/{} running{}</p><ul>",
            s.running,
            s.replicas,
            s.update
                .as_deref()
                .map(|u| format!(", last update {}", escape(u)))
                .unwrap_or_default()
        );
        for t in &s.tasks {
            let _ = write!(out, "<li>{}</li>", escape(t));
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
}
