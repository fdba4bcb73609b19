//! The one error type of dk, and the exit code each kind maps to.
//!
//! Exit codes (the contract the README states): 0 success, 1 a build/test/promotion failed,
//! 2 usage or definition error, 3 the Docker daemon cannot be reached or is too old.
//! Interrupted runs exit 128 + signal (130 for SIGINT, 143 for SIGTERM) after cleaning up.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem located in a file of the workspace: `path:line:col: message`, then a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Path as shown to the user (workspace-relative where possible).
    pub path: String,
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            line: None,
            col: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn at(mut self, line: usize, col: usize) -> Self {
        self.line = Some(line);
        self.col = Some(col);
        self
    }

    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Locate the diagnostic at a byte offset of `text` (TOML spans are byte ranges).
    pub fn at_offset(self, text: &str, offset: usize) -> Self {
        let (line, col) = line_col(text, offset);
        self.at(line, col)
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.col {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command-line use: unknown name, ambiguous prefix, conflicting flags.
    #[error("{message}{}", help_line(.help))]
    Usage {
        message: String,
        help: Option<String>,
    },

    /// One or more problems in the workspace's definitions (dk.toml, manifests, Dockerfiles).
    #[error("{}", join_diagnostics(.0))]
    Definition(Vec<Diagnostic>),

    /// The daemon cannot be reached, is too old, or stopped answering.
    #[error("cannot use the Docker daemon at {endpoint}: {detail}\n  help: {help}")]
    Daemon {
        endpoint: String,
        detail: String,
        help: String,
    },

    /// The daemon answered a request with a refusal (not about reachability).
    #[error("{context}: {detail}")]
    Docker { context: String, detail: String },

    /// A Dockerfile step failed: the step, its last output lines, where the full log is.
    #[error("{}", render_build(.step, .message, .tail, .log))]
    Build {
        node: String,
        step: Option<String>,
        message: String,
        tail: Vec<String>,
        log: String,
    },

    /// A staging step of a manifest (`stage.copy[0]`, …) failed.
    #[error("{manifest}: {key}: {message}{}", help_line(.help))]
    Stage {
        manifest: String,
        key: String,
        message: String,
        help: Option<String>,
    },

    /// An image dk needs is not in the daemon (and could not be pulled).
    #[error("{message}\n  help: {help}")]
    MissingImage {
        node: String,
        image: String,
        message: String,
        help: String,
    },

    /// A registry refused a push or cannot be reached: which one, what it said, what to do.
    #[error("{registry}: {message}\n  help: {help}")]
    Registry {
        registry: String,
        message: String,
        help: String,
    },

    /// A container is not in the state an operation needs (gone, not running, foreign,
    /// not ready).
    #[error("{message}{}", help_line(.help))]
    Container {
        name: String,
        message: String,
        help: Option<String>,
    },

    /// A network dk manages cannot be used as configured.
    #[error("{message}\n  help: {help}")]
    Network {
        name: String,
        message: String,
        help: String,
    },

    /// The host is not ready for what a container needs (data directories, owners, the
    /// user-namespace remap files).
    #[error("{message}{}", help_line(.help))]
    Host {
        message: String,
        help: Option<String>,
    },

    /// Another dk holds the workspace lock and `--no-wait` was given.
    #[error("{0}")]
    Locked(String),

    /// A filesystem operation failed.
    #[error("{op} {}: {source}", .path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Stopped because another job failed under `--fail-fast` (what it started was torn
    /// down).
    #[error("cancelled")]
    Cancelled,

    /// dk was interrupted by a signal and has cleaned up.
    #[error("interrupted by {}; cleaned up", signal_name(*.signal))]
    Interrupted { signal: i32 },
}

fn help_line(help: &Option<String>) -> String {
    match help {
        Some(h) => format!("\n  help: {h}"),
        None => String::new(),
    }
}

fn render_build(step: &Option<String>, message: &str, tail: &[String], log: &str) -> String {
    let mut out = String::new();
    if let Some(step) = step {
        out.push_str(&format!("failed at {step}\n"));
    }
    out.push_str(message);
    out.push('\n');
    if !tail.is_empty() {
        out.push_str("last lines of output:\n");
        for l in tail {
            out.push_str(&format!("  {l}\n"));
        }
    }
    out.push_str(&format!("full log: {log}"));
    out
}

fn join_diagnostics(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage { .. } | Error::Definition(_) => 2,
            Error::Daemon { .. } => 3,
            Error::Interrupted { signal } => 128 + signal,
            Error::Docker { .. }
            | Error::Build { .. }
            | Error::Stage { .. }
            | Error::MissingImage { .. }
            | Error::Registry { .. }
            | Error::Container { .. }
            | Error::Network { .. }
            | Error::Host { .. }
            | Error::Locked(_)
            | Error::Io { .. }
            | Error::Cancelled => 1,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help: None,
        }
    }

    pub fn usage_help(message: impl Into<String>, help: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help: Some(help.into()),
        }
    }

    pub fn definition(diag: Diagnostic) -> Self {
        Error::Definition(vec![diag])
    }

    pub fn io(op: &'static str, path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub fn container(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Container {
            name: name.into(),
            message: message.into(),
            help: None,
        }
    }

    pub fn host(message: impl Into<String>, help: Option<String>) -> Self {
        Error::Host {
            message: message.into(),
            help,
        }
    }

    /// The text printed to stderr.
    pub fn render(&self) -> String {
        self.to_string()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // 'é' is two bytes; the column counts characters.
        assert_eq!(line_col(text, 9), (2, 3));
        assert_eq!(line_col(text, 1000), (3, 1));
    }

    #[test]
    fn diagnostic_renders_compiler_style() {
        let d = Diagnostic::new("containers/web/container.toml", "unknown key `prots`")
            .at(3, 1)
            .help("did you mean `ports`?");
        assert_eq!(
            d.to_string(),
            "containers/web/container.toml:3:1: unknown key `prots`\n  help: did you mean `ports`?"
        );
    }

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(Error::Definition(vec![]).exit_code(), 2);
        assert_eq!(Error::host("x", None).exit_code(), 1);
        assert_eq!(
            Error::Daemon {
                endpoint: "e".into(),
                detail: "d".into(),
                help: "h".into()
            }
            .exit_code(),
            3
        );
        assert_eq!(
            Error::Interrupted {
                signal: libc::SIGINT
            }
            .exit_code(),
            130
        );
        assert_eq!(
            Error::Interrupted {
                signal: libc::SIGTERM
            }
            .exit_code(),
            143
        );
    }
}
