//! Pins: what ties a workspace to an upstream that moves. An external image pinned by
//! digest (`FROM alpine:3.20@sha256:…`, in a Dockerfile line or an ARG default), an external
//! image by tag only, and a `[[stage.fetch]]` with its `sha256`. Each is found with the file
//! and line where it is written, and re-pinned there in place (`repin`: only the digest or
//! checksum changes; comments and formatting stay). Pure apart from reading and writing
//! those files.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::regclient::Reference;
use crate::workspace::Workspace;

#[derive(Debug, Clone)]
pub enum PinKind {
    /// An external image; `digest` when it is pinned by one (else it follows its tag).
    Image {
        image: String,
        reference: Reference,
        digest: Option<String>,
    },
    /// `[[stage.fetch]]` number `index` of the node's manifest.
    Fetch {
        index: usize,
        to: String,
        sha256: String,
    },
}

#[derive(Debug, Clone)]
pub struct Pin {
    pub node: usize,
    /// Absolute path of the file the pin is written in.
    pub file: PathBuf,
    /// Workspace-relative, for messages.
    pub rel: String,
    pub line: usize,
    pub kind: PinKind,
}

impl Pin {
    /// What is pinned: the image, or the fetched file.
    pub fn what(&self) -> String {
        match &self.kind {
            PinKind::Image { image, .. } => image
                .split_once('@')
                .map_or(image.as_str(), |(n, _)| n)
                .to_string(),
            PinKind::Fetch { to, .. } => to.clone(),
        }
    }

    /// The pinned value as written (`sha256:…` for images, the hex for fetches).
    pub fn current(&self) -> Option<&str> {
        match &self.kind {
            PinKind::Image { digest, .. } => digest.as_deref(),
            PinKind::Fetch { sha256, .. } => Some(sha256),
        }
    }

    /// `file:line`.
    pub fn place(&self) -> String {
        format!("{}:{}", self.rel, self.line)
    }
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Where `needle` is written: in the Dockerfile first, then the manifest, then dk.toml.
fn written(ws: &Workspace, i: usize, needle: &str) -> Option<(PathBuf, String, usize)> {
    let node = &ws.nodes[i];
    let mut candidates = vec![(node.dir.join("Dockerfile"), node.dockerfile_path())];
    if let Some(m) = &node.manifest_path {
        candidates.push((ws.root.join(m), m.clone()));
    }
    candidates.push((ws.root.join("dk.toml"), "dk.toml".to_string()));
    candidates.into_iter().find_map(|(path, rel)| {
        let text = std::fs::read_to_string(&path).ok()?;
        let at = text.find(needle)?;
        Some((path, rel, line_of(&text, at)))
    })
}

/// Every pin of `nodes`, in their order; an image used twice by a node is one pin.
pub fn pins(ws: &Workspace, g: &Graph, nodes: &[usize]) -> Vec<Pin> {
    let mut out: Vec<Pin> = Vec::new();
    for &i in nodes {
        let node = &ws.nodes[i];
        for x in g.externals.iter().filter(|x| x.node == i) {
            if out.iter().any(|p| {
                p.node == i && matches!(&p.kind, PinKind::Image { image, .. } if *image == x.image)
            }) {
                continue;
            }
            let Some(reference) = Reference::parse(&x.image) else {
                continue;
            };
            let digest = reference.digest.clone();
            let (file, rel, line) = digest
                .as_deref()
                .and_then(|d| written(ws, i, &format!("@{d}")))
                .unwrap_or_else(|| (node.dir.join("Dockerfile"), node.dockerfile_path(), x.line));
            out.push(Pin {
                node: i,
                file,
                rel,
                line,
                kind: PinKind::Image {
                    image: x.image.clone(),
                    reference,
                    digest,
                },
            });
        }
        for (k, f) in node.manifest.stage.fetch.iter().enumerate() {
            let f = f.get_ref();
            let Some((file, rel, line)) = written(ws, i, &format!("\"{}\"", f.sha256)) else {
                continue;
            };
            out.push(Pin {
                node: i,
                file,
                rel,
                line,
                kind: PinKind::Fetch {
                    index: k,
                    to: f.to.clone(),
                    sha256: f.sha256.clone(),
                },
            });
        }
    }
    out
}

/// Write `new` where `pin`'s value is written, in place; returns the file's previous text
/// (to put back when the new pin fails). Only that value changes: an image digest keeps
/// its `sha256:` form, a fetch its hex.
pub fn repin(pin: &Pin, new: &str) -> Result<String> {
    let old = pin
        .current()
        .ok_or_else(|| Error::usage(format!("{} is not pinned by a digest", pin.place())))?;
    let text = std::fs::read_to_string(&pin.file).map_err(|e| Error::io("read", &pin.file, e))?;
    let (old_hex, new_hex) = (
        old.trim_start_matches("sha256:"),
        new.trim_start_matches("sha256:"),
    );
    let line_start: usize = text
        .split_inclusive('\n')
        .take(pin.line - 1)
        .map(str::len)
        .sum();
    let Some(offset) = text[line_start..].find(old_hex) else {
        return Err(Error::usage(format!(
            "{}: the pin {old} is no longer written there; run `dk outdated` again",
            pin.place()
        )));
    };
    let at = line_start + offset;
    let mut updated = String::with_capacity(text.len());
    updated.push_str(&text[..at]);
    updated.push_str(new_hex);
    updated.push_str(&text[at + old_hex.len()..]);
    write_text(&pin.file, &updated)?;
    Ok(text)
}

/// Put a file back as it was (a re-pin whose tests failed).
pub fn restore(file: &Path, text: &str) -> Result<()> {
    write_text(file, text)
}

fn write_text(file: &Path, text: &str) -> Result<()> {
    // Atomic, and the file keeps its mode.
    let mode = std::fs::metadata(file).map(|m| m.permissions()).ok();
    crate::records::write_atomic(file, text.as_bytes())?;
    if let Some(m) = mode {
        let _ = std::fs::set_permissions(file, m);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repin_changes_only_the_digest_on_its_line_and_restores() {
        let dir = tempfile_dir();
        let file = dir.join("Dockerfile");
        let old = "a".repeat(64);
        let text = format!(
            "# base {old} in a comment above\nARG BASE=reg/x:1@sha256:{old}  # pinned\nFROM ${{BASE}}\n"
        );
        std::fs::write(&file, &text).unwrap();
        let pin = Pin {
            node: 0,
            file: file.clone(),
            rel: "Dockerfile".into(),
            line: 2,
            kind: PinKind::Image {
                image: format!("reg/x:1@sha256:{old}"),
                reference: Reference::parse(&format!("reg/x:1@sha256:{old}")).unwrap(),
                digest: Some(format!("sha256:{old}")),
            },
        };
        let new = format!("sha256:{}", "b".repeat(64));
        let before = repin(&pin, &new).unwrap();
        assert_eq!(before, text);
        let now = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            now,
            format!(
                "# base {old} in a comment above\nARG BASE=reg/x:1@sha256:{}  # pinned\nFROM ${{BASE}}\n",
                "b".repeat(64)
            )
        );
        restore(&file, &before).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("dk-pins-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
