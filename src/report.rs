//! Progress reporting. The engine emits events; a reporter renders them:
//!
//! - `Live`: on a terminal, one live line per running node (indicatif) with its current
//!   step; finished nodes print one line above the live area.
//! - `Plain`: without a terminal, ordered lines; each node's output is printed as one
//!   block when it finishes, never interleaved with another node's.
//! - `Json`: one JSON object per line.
//! - `Silent`: for tests that drive the engine.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::units::human_duration;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Work on a node begins (`action`: build, test, promote, start...).
    Start { node: String, action: String },
    /// The node's current step changed (a Dockerfile step, a check...).
    Step { node: String, text: String },
    /// One line of the node's output.
    Line { node: String, line: String },
    /// Work on a node ended.
    Finish {
        node: String,
        action: String,
        status: String,
        ok: bool,
        duration_ms: u64,
        detail: Option<String>,
    },
    /// A message not tied to a node.
    Note { text: String },
    /// The nodes a run may touch, in build order, each with its depth in the graph (the
    /// live view draws them as a tree).
    Nodes { nodes: Vec<NodeDepth> },
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeDepth {
    pub name: String,
    pub depth: usize,
}

pub trait Reporter: Send + Sync {
    fn emit(&self, event: Event);
    /// The run is over: a live view collapses to its result lines before the summary.
    fn settle(&self) {}
}

/// Convenience wrappers used by the engine.
pub trait ReporterExt {
    fn start(&self, node: &str, action: &str);
    fn step(&self, node: &str, text: impl Into<String>);
    fn line(&self, node: &str, line: impl Into<String>);
    fn finish(
        &self,
        node: &str,
        action: &str,
        status: &str,
        ok: bool,
        duration: Duration,
        detail: Option<String>,
    );
    fn note(&self, text: impl Into<String>);
}

impl<R: Reporter + ?Sized> ReporterExt for R {
    fn start(&self, node: &str, action: &str) {
        self.emit(Event::Start {
            node: node.into(),
            action: action.into(),
        })
    }
    fn step(&self, node: &str, text: impl Into<String>) {
        self.emit(Event::Step {
            node: node.into(),
            text: text.into(),
        })
    }
    fn line(&self, node: &str, line: impl Into<String>) {
        self.emit(Event::Line {
            node: node.into(),
            line: line.into(),
        })
    }
    fn finish(
        &self,
        node: &str,
        action: &str,
        status: &str,
        ok: bool,
        duration: Duration,
        detail: Option<String>,
    ) {
        self.emit(Event::Finish {
            node: node.into(),
            action: action.into(),
            status: status.into(),
            ok,
            duration_ms: duration.as_millis() as u64,
            detail,
        })
    }
    fn note(&self, text: impl Into<String>) {
        self.emit(Event::Note { text: text.into() })
    }
}

/// Passes every event on with its node named as people read it: a node built for several
/// platforms says which (`web` → `web (linux/amd64)`, `web@arm64` → `web (linux/arm64)`).
pub struct Renamed {
    inner: Arc<dyn Reporter>,
    names: HashMap<String, String>,
}

impl Renamed {
    /// `inner` itself when no name changes.
    pub fn wrap(inner: Arc<dyn Reporter>, names: HashMap<String, String>) -> Arc<dyn Reporter> {
        if names.is_empty() {
            inner
        } else {
            Arc::new(Renamed { inner, names })
        }
    }

    fn rename(&self, node: &mut String) {
        if let Some(n) = self.names.get(node.as_str()) {
            node.clone_from(n);
        }
    }
}

impl Reporter for Renamed {
    fn emit(&self, mut event: Event) {
        match &mut event {
            Event::Start { node, .. }
            | Event::Step { node, .. }
            | Event::Line { node, .. }
            | Event::Finish { node, .. } => self.rename(node),
            Event::Nodes { nodes } => nodes.iter_mut().for_each(|n| self.rename(&mut n.name)),
            Event::Note { .. } => {}
        }
        self.inner.emit(event)
    }

    fn settle(&self) {
        self.inner.settle()
    }
}

/// An event and when it happened, in milliseconds since the run began.
#[derive(Debug, Clone)]
pub struct Stamped {
    pub at_ms: u64,
    pub event: Event,
}

/// Passes every event on to another reporter and keeps it, stamped, for the run report.
pub struct Recording {
    inner: Arc<dyn Reporter>,
    began: Instant,
    events: Mutex<Vec<Stamped>>,
}

impl Recording {
    pub fn new(inner: Arc<dyn Reporter>) -> Recording {
        Recording {
            inner,
            began: Instant::now(),
            events: Mutex::new(Vec::new()),
        }
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Stamped> {
        self.events.lock().unwrap().clone()
    }

    /// Did the run do anything? (A step began: a no-op run only reports fresh nodes.)
    pub fn did_something(&self) -> bool {
        self.events
            .lock()
            .unwrap()
            .iter()
            .any(|s| matches!(s.event, Event::Start { .. }))
    }
}

impl Reporter for Recording {
    fn emit(&self, event: Event) {
        self.events.lock().unwrap().push(Stamped {
            at_ms: self.began.elapsed().as_millis() as u64,
            event: event.clone(),
        });
        self.inner.emit(event);
    }
    fn settle(&self) {
        self.inner.settle();
    }
}

/// Discards everything (engine tests), or keeps it for inspection.
#[derive(Default)]
pub struct Silent {
    pub events: Mutex<Vec<Event>>,
}

impl Reporter for Silent {
    fn emit(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }
}

pub struct Json;

impl Reporter for Json {
    fn emit(&self, event: Event) {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer(&mut out, &event);
        let _ = writeln!(out);
    }
}

/// Plain, ordered output for CI and pipes.
pub struct Plain {
    /// Print each node's buffered output when it finishes (otherwise only on failure).
    pub verbose: bool,
    buffers: Mutex<HashMap<String, Vec<String>>>,
}

impl Plain {
    pub fn new(verbose: bool) -> Plain {
        Plain {
            verbose,
            buffers: Mutex::new(HashMap::new()),
        }
    }
}

/// The one line of a step's result. Actions whose status is a whole phrase (`created and
/// started`, `replaced (…); down for 1.2s`, `1eb0bef50467 is live`) are not named again.
fn finish_line(node: &str, action: &str, status: &str, duration_ms: u64) -> String {
    let said = if PHRASE_ACTIONS.contains(&action) {
        format!("{node}: {status}")
    } else {
        format!("{node}: {action} {status}")
    };
    if duration_ms == 0 {
        said
    } else {
        format!(
            "{said} ({})",
            human_duration(Duration::from_millis(duration_ms))
        )
    }
}

/// Actions whose finishing status says what was done.
const PHRASE_ACTIONS: &[&str] = &[
    "start", "replace", "service", "rollout", "promote", "update",
];

impl Reporter for Plain {
    fn emit(&self, event: Event) {
        match event {
            Event::Start { node, action } => {
                self.buffers
                    .lock()
                    .unwrap()
                    .insert(node.clone(), Vec::new());
                // A step's one line is its result; its start is said only with -v.
                if self.verbose {
                    eprintln!("{node}: {action}…");
                }
            }
            Event::Step { .. } => {}
            Event::Line { node, line } => {
                self.buffers
                    .lock()
                    .unwrap()
                    .entry(node)
                    .or_default()
                    .push(line);
            }
            Event::Finish {
                node,
                action,
                status,
                ok,
                duration_ms,
                detail,
            } => {
                let lines = self.buffers.lock().unwrap().remove(&node);
                let lines = match lines {
                    Some(l) => l,
                    // Nothing began: `fresh`, `passed earlier`. A no-op says so in the
                    // summary; one line per node would drown it.
                    None if ok && !self.verbose => return,
                    None => Vec::new(),
                };
                // One write for the whole block, so blocks never interleave.
                let mut block = String::new();
                if self.verbose && !lines.is_empty() {
                    for l in &lines {
                        block.push_str(&format!("  {node} | {l}\n"));
                    }
                }
                block.push_str(&finish_line(&node, &action, &status, duration_ms));
                block.push('\n');
                if let Some(d) = detail
                    && (!ok || self.verbose)
                {
                    for l in d.lines() {
                        block.push_str(&format!("  {l}\n"));
                    }
                }
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(block.as_bytes());
            }
            Event::Note { text } => eprintln!("{text}"),
            Event::Nodes { .. } => {}
        }
    }
}

/// On a terminal: a live tree of the nodes at work, in graph order and indented by depth,
/// each with its current step and elapsed time; finished nodes keep their result in the
/// tree, and each result line is printed above it. `settle` collapses the tree, leaving
/// the result lines (the same as plain mode's) and then the summary.
pub struct Live {
    multi: MultiProgress,
    tree: Mutex<Tree>,
}

#[derive(Default)]
struct Tree {
    /// Position in build order and depth, by node (from `Event::Nodes`).
    known: HashMap<String, (usize, usize)>,
    /// The drawn nodes, in build order: (position, name, bar).
    bars: Vec<(usize, String, ProgressBar)>,
    /// Nodes with a step under way.
    open: std::collections::HashSet<String>,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    pub fn new() -> Live {
        Live {
            multi: MultiProgress::new(),
            tree: Mutex::new(Tree::default()),
        }
    }

    fn running_style() -> ProgressStyle {
        ProgressStyle::with_template("{prefix} {spinner} {elapsed:>4} {wide_msg}")
            .expect("template")
    }

    fn done_style() -> ProgressStyle {
        ProgressStyle::with_template("{prefix} {wide_msg}").expect("template")
    }

    /// The bar of `node`, drawn at its place in the tree when it is new.
    fn bar(&self, tree: &mut Tree, node: &str) -> ProgressBar {
        if let Some((_, _, b)) = tree.bars.iter().find(|(_, n, _)| n == node) {
            return b.clone();
        }
        let fallback = tree.known.len() + tree.bars.len();
        let (pos, depth) = tree.known.get(node).copied().unwrap_or((fallback, 0));
        let at = tree.bars.iter().filter(|(p, _, _)| *p < pos).count();
        let bar = self.multi.insert(at, ProgressBar::new_spinner());
        bar.set_style(Live::running_style());
        let indent = if depth == 0 {
            String::new()
        } else {
            format!("{}└ ", "  ".repeat(depth - 1))
        };
        bar.set_prefix(format!("{indent}{node}"));
        tree.bars.insert(at, (pos, node.to_string(), bar.clone()));
        bar
    }
}

impl Reporter for Live {
    fn emit(&self, event: Event) {
        let mut tree = self.tree.lock().unwrap();
        match event {
            Event::Nodes { nodes } => {
                tree.known = nodes
                    .into_iter()
                    .enumerate()
                    .map(|(k, n)| (n.name, (k, n.depth)))
                    .collect();
            }
            Event::Start { node, action } => {
                tree.open.insert(node.clone());
                let bar = self.bar(&mut tree, &node);
                bar.set_style(Live::running_style());
                bar.reset_elapsed();
                bar.set_message(format!("{action}…"));
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            Event::Step { node, text } => {
                if let Some((_, _, b)) = tree.bars.iter().find(|(_, n, _)| *n == node) {
                    b.set_message(text);
                }
            }
            Event::Line { .. } => {}
            Event::Finish {
                node,
                action,
                status,
                ok,
                duration_ms,
                detail,
            } => {
                // Nothing began (`fresh`, `passed earlier`): nothing to say.
                if !tree.open.remove(&node) && ok {
                    return;
                }
                let mark = if ok { "✓" } else { "✗" };
                let line = finish_line(&node, &action, &status, duration_ms);
                {
                    let bar = self.bar(&mut tree, &node);
                    bar.disable_steady_tick();
                    bar.set_style(Live::done_style());
                    bar.set_message(format!(
                        "{mark} {}",
                        line.strip_prefix(&format!("{node}: ")).unwrap_or(&line)
                    ));
                }
                let mut text = format!("{mark} {line}");
                if let Some(d) = detail
                    && !ok
                {
                    for l in d.lines() {
                        text.push_str(&format!("\n  {l}"));
                    }
                }
                let _ = self.multi.println(text);
            }
            Event::Note { text } => {
                let _ = self.multi.println(text);
            }
        }
    }

    fn settle(&self) {
        let mut tree = self.tree.lock().unwrap();
        for (_, _, b) in tree.bars.drain(..) {
            b.finish_and_clear();
            self.multi.remove(&b);
        }
    }
}
