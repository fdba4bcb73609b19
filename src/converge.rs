//! What converging one node's live container or service did: the vocabulary `live.rs`
//! (host containers) and `swarm.rs` (services) share, and the refusal to touch an object
//! this workspace did not make.

use serde::Serialize;

use crate::error::Error;
use crate::manifest::ReplaceOrder;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RunAction {
    /// Running the live image with the current settings: untouched.
    Unchanged,
    /// Existed, stopped, unchanged: started (and ready).
    Started,
    /// Did not exist: created and started (and ready).
    Created,
    /// Replaced by a new container once it was ready. `downtime_ms`: from the old one
    /// stopping to the new one being ready (0 for start-first).
    Replaced {
        downtime_ms: u64,
        reason: String,
        order: ReplaceOrder,
    },
    /// The new container failed (or did not become ready); the old one was put back when
    /// there was one. The message says what failed and where the logs are.
    Failed { message: String },
    /// This image with these settings failed its live start before: not tried again until
    /// either changes (`dk up --retry` forces it).
    NotRetried { message: String },
    /// An `after_up` hook failed and the container was rolled back to the image it replaced.
    RolledBack { message: String },
}

impl RunAction {
    pub fn failed(&self) -> bool {
        matches!(
            self,
            RunAction::Failed { .. } | RunAction::NotRetried { .. } | RunAction::RolledBack { .. }
        )
    }

    pub fn outcome(&self) -> &'static str {
        match self {
            RunAction::Unchanged => "unchanged",
            RunAction::Started => "started",
            RunAction::Created => "created",
            RunAction::Replaced { .. } => "replaced",
            RunAction::Failed { .. } => "failed",
            RunAction::NotRetried { .. } => "not_retried",
            RunAction::RolledBack { .. } => "rolled_back",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    #[serde(skip)]
    pub node: usize,
    pub name: String,
    #[serde(flatten)]
    pub action: RunAction,
    /// The hooks that ran for this container, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookRun>,
}

/// A hook that ran on the host.
#[derive(Debug, Clone, Serialize)]
pub struct HookRun {
    /// `after_up` or `on_failure`.
    pub hook: String,
    pub command: Vec<String>,
    pub ok: bool,
    /// Its exit, or why it did not finish.
    pub status: String,
    /// Its last lines of output.
    pub output: String,
}

/// A container or service of this name exists, and another workspace (or someone) made it.
pub(crate) fn not_ours(kind: &str, name: &str) -> Error {
    Error::Container {
        name: name.to_string(),
        message: format!("a {kind} named {name} exists that this workspace did not create"),
        help: Some(
            "remove or rename it, or run this workspace with another namespace (DK_NAMESPACE)"
                .into(),
        ),
    }
}

/// Run a hook on the host in `dir` with `env`, bounded by `limit` (killed past it): a
/// `HookRun` with its last 20 lines of output.
pub async fn run_hook(
    which: &str,
    cmd: &[String],
    dir: &std::path::Path,
    env: &[(&str, std::ffi::OsString)],
    limit: std::time::Duration,
) -> HookRun {
    let mut command = tokio::process::Command::new(&cmd[0]);
    command
        .args(&cmd[1..])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let (ok, status, output) = match tokio::time::timeout(limit, command.output()).await {
        Err(_) => (
            false,
            format!("killed after {}", crate::units::human_duration(limit)),
            String::new(),
        ),
        Ok(Err(e)) => (
            false,
            format!("cannot run `{}`: {e}", cmd[0]),
            String::new(),
        ),
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).to_string();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(20)..].join("\n");
            (out.status.success(), out.status.to_string(), tail)
        }
    };
    HookRun {
        hook: which.to_string(),
        command: cmd.to_vec(),
        ok,
        status,
        output,
    }
}
