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
use std::sync::Mutex;
use std::time::Duration;

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
}

pub trait Reporter: Send + Sync {
    fn emit(&self, event: Event);
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

fn finish_line(node: &str, action: &str, status: &str, duration_ms: u64) -> String {
    if duration_ms == 0 {
        format!("{node}: {action} {status}")
    } else {
        format!(
            "{node}: {action} {status} ({})",
            human_duration(Duration::from_millis(duration_ms))
        )
    }
}

impl Reporter for Plain {
    fn emit(&self, event: Event) {
        match event {
            Event::Start { node, action } => {
                self.buffers
                    .lock()
                    .unwrap()
                    .insert(node.clone(), Vec::new());
                eprintln!("{node}: {action}…");
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
                let lines = self
                    .buffers
                    .lock()
                    .unwrap()
                    .remove(&node)
                    .unwrap_or_default();
                if status == "fresh" && !self.verbose {
                    // A no-op says so in the summary; one line per node would drown it.
                    return;
                }
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
        }
    }
}

/// Live lines on a terminal.
pub struct Live {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
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
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl Reporter for Live {
    fn emit(&self, event: Event) {
        match event {
            Event::Start { node, action } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {prefix:.bold} {elapsed:>4} {wide_msg}",
                    )
                    .expect("template"),
                );
                bar.set_prefix(format!("{node} {action}"));
                bar.enable_steady_tick(Duration::from_millis(120));
                self.bars.lock().unwrap().insert(node, bar);
            }
            Event::Step { node, text } => {
                if let Some(b) = self.bars.lock().unwrap().get(&node) {
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
                if let Some(b) = self.bars.lock().unwrap().remove(&node) {
                    b.finish_and_clear();
                    self.multi.remove(&b);
                }
                let mark = if ok { "✓" } else { "✗" };
                let mut text = format!(
                    "{mark} {}",
                    finish_line(&node, &action, &status, duration_ms)
                );
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
}
