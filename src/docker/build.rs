//! Image builds through the classic builder: the context arrives as a stream of tar
//! chunks, the output comes back as lines, and the result is the image id.

use std::collections::HashMap;

use bollard::query_parameters::BuildImageOptions;
use bytes::Bytes;
use futures_util::StreamExt;

use super::Daemon;
use crate::error::Error;
use crate::ids::ImageId;

#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    /// `repo:tag` given to the result.
    pub tag: String,
    pub labels: HashMap<String, String>,
    pub build_args: HashMap<String, String>,
    pub target: Option<String>,
    /// Run every step again (`--no-cache`).
    pub no_cache: bool,
}

/// Why a build did not produce an image.
#[derive(Debug)]
pub enum BuildError {
    /// The Dockerfile failed (a step returned non-zero, a file was missing...).
    Step(String),
    /// Talking to the daemon failed.
    Daemon(Error),
}

impl Daemon {
    /// Build from `context` (a stream of tar chunks), calling `on_line` with each output
    /// line. Returns the image id.
    pub async fn build(
        &self,
        req: &BuildRequest,
        context: impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
        mut on_line: impl FnMut(&str),
    ) -> std::result::Result<ImageId, BuildError> {
        let opts = BuildImageOptions {
            dockerfile: "Dockerfile".to_string(),
            t: Some(req.tag.clone()),
            rm: true,
            forcerm: true,
            pull: None,
            labels: Some(req.labels.clone()),
            buildargs: Some(req.build_args.clone()),
            target: req.target.clone().unwrap_or_default(),
            nocache: req.no_cache,
            ..Default::default()
        };
        let mut stream = self
            .long
            .build_image(opts, None, Some(bollard::body_try_stream(context)));
        let mut id = None;
        let mut pending = String::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(s) = info.stream {
                        pending.push_str(&s);
                        while let Some(pos) = pending.find('\n') {
                            let line: String = pending.drain(..=pos).collect();
                            on_line(&strip_ansi(line.trim_end_matches(['\n', '\r'])));
                        }
                    }
                    if let Some(status) = info.status {
                        on_line(&status);
                    }
                    if let Some(aux) = info.aux
                        && let Some(i) = aux.id
                    {
                        id = Some(i);
                    }
                }
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    if !pending.is_empty() {
                        on_line(&strip_ansi(&pending));
                    }
                    return Err(BuildError::Step(error.trim().to_string()));
                }
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code,
                    message,
                }) if status_code < 500 || message.contains("dockerfile") => {
                    return Err(BuildError::Step(message));
                }
                Err(e) => return Err(BuildError::Daemon(self.err("building", e))),
            }
        }
        if !pending.is_empty() {
            on_line(&strip_ansi(&pending));
        }
        id.map(ImageId::new)
            .ok_or_else(|| BuildError::Step("the daemon reported no image id".into()))
    }
}

/// Remove ANSI escape sequences (the classic builder colours stderr output).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_colour_codes() {
        assert_eq!(super::strip_ansi("\u{1b}[91mchown: x\u{1b}[0m"), "chown: x");
        assert_eq!(super::strip_ansi("plain"), "plain");
    }
}
