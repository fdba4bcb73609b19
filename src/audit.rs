//! The image audit, run by `dk test` after each build: what the best-practice guides care
//! about most, checked in the built image itself. The filesystem is read by exporting a
//! throwaway container that is created but never started (no network, entrypoint never run).
//!
//! Rules: `root` (runs as root), `setuid` (setuid/setgid files), `world-writable` (files and
//! non-sticky directories), `package-manager` (apk, apt, dpkg, rpm, pip, …), `hardening`
//! (tools /prep removes, and login shells; only where `[audit] hardened = true`), `size`
//! (above `[audit] max_size`), `entrypoint-form` (ENTRYPOINT/CMD in shell form).

use std::io::Read;

use futures_util::StreamExt;
use serde::Serialize;

use crate::docker::ContainerSpec;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ids::ImageId;
use crate::labels::{self, Role};
use crate::units::human_size;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFinding {
    pub rule: String,
    pub message: String,
    /// The file it is about, when there is one.
    pub path: Option<String>,
    pub waived: Option<String>,
    /// How to fix it, and the `[[audit.waive]]` that would waive it instead.
    pub help: String,
}

/// How to fix a finding of `rule` (about `path`), then how to waive it.
pub fn help_for(rule: &str, path: Option<&str>) -> String {
    let p = path.unwrap_or("the file");
    let fix = match rule {
        "root" => "set a non-root USER in the Dockerfile (the baseline's `USER app`) or `[run] user = \"1000:1000\"`; if it must run as root, `[run] allow_root = \"<why>\"`".to_string(),
        "setuid" => format!("clear the bits in the Dockerfile (`RUN chmod u-s,g-s {p}`), or run the baseline's /prep, which removes setuid files"),
        "world-writable" => format!("`RUN chmod o-w {p}` in the Dockerfile (a shared scratch directory wants the sticky bit: chmod 1777), or run the baseline's /prep"),
        "package-manager" => format!("remove it once the packages are in (`RUN rm -f {p}`, or `apk del apk-tools`), or run the baseline's /prep (`USER 0`, `RUN [\"/prep\"]`, `USER app`), which deletes package managers"),
        "hardening" => "run the baseline's /prep in the Dockerfile (`USER 0`, `RUN [\"/prep\"]`, `USER app`); to keep a tool, allow it in the node's files/prep-local".to_string(),
        "size" => "make the image smaller (a multi-stage build, copying only what runs), or raise `[audit] max_size`".to_string(),
        "entrypoint-form" => "use the exec form, which gets signals: `CMD [\"httpd\", \"-f\"]` rather than `CMD httpd -f`".to_string(),
        _ => "see docs/manifest.md, [audit]".to_string(),
    };
    let waive_rule = match path {
        Some(p) => format!("{rule}:{p}"),
        None => rule.to_string(),
    };
    format!(
        "{fix}; or waive it in container.toml: [[audit.waive]] rule = \"{waive_rule}\" reason = \"<why>\""
    )
}

/// Directories where executables are looked for.
const BIN_DIRS: [&str; 6] = [
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "usr/local/bin",
    "usr/local/sbin",
];

pub const PACKAGE_MANAGERS: [&str; 13] = [
    "apk",
    "apt",
    "apt-get",
    "dpkg",
    "dpkg-deb",
    "rpm",
    "rpm2cpio",
    "yum",
    "dnf",
    "microdnf",
    "pip",
    "pip3",
    "easy_install",
];

/// The tools the baseline's /prep removes (its REMOVE_TOOLS, minus package managers).
pub const HARDENING_TOOLS: [&str; 34] = [
    "chmod",
    "chown",
    "chgrp",
    "chattr",
    "chroot",
    "ln",
    "su",
    "sudo",
    "passwd",
    "adduser",
    "addgroup",
    "deluser",
    "delgroup",
    "login",
    "getty",
    "mount",
    "umount",
    "setuidgid",
    "nsenter",
    "unshare",
    "switch_root",
    "pivot_root",
    "insmod",
    "rmmod",
    "modprobe",
    "lsmod",
    "crontab",
    "crond",
    "ftpd",
    "telnetd",
    "tftpd",
    "nc",
    "netcat",
    "telnet",
];

/// Everything the audit needs from one pass over the exported filesystem.
#[derive(Debug, Default)]
struct Scan {
    setuid: Vec<String>,
    world_writable: Vec<String>,
    present: std::collections::BTreeSet<String>,
    passwd: Option<String>,
}

impl Engine {
    /// Audit `image` (an id) of node `i`; findings covered by `[[audit.waive]]` are marked.
    pub async fn audit_image(&self, i: usize, image: &ImageId) -> Result<Vec<AuditFinding>> {
        let node = &self.ws.nodes[i];
        let facts = self
            .reads()?
            .inspect_image(image.as_str())
            .await?
            .ok_or_else(|| Error::MissingImage {
                node: node.name.clone(),
                image: image.to_string(),
                message: format!("image {} of {} is gone", image.short(), node.name),
                help: format!("build it again: `dk build {}`", node.name),
            })?;
        let mut out = Vec::new();
        let mut add = |rule: &str, message: String, path: Option<String>| {
            out.push(AuditFinding {
                help: help_for(rule, path.as_deref()),
                rule: rule.into(),
                message,
                path,
                waived: None,
            })
        };

        let user = node.manifest.run.user.clone().unwrap_or(facts.user.clone());
        if crate::launch::is_root_user(&user) {
            add(
                "root",
                format!(
                    "the container runs as `{}`",
                    if user.is_empty() { "root" } else { &user }
                ),
                None,
            );
        }
        let shell_form =
            |e: &[String]| e.len() == 3 && (e[0] == "/bin/sh" || e[0] == "sh") && e[1] == "-c";
        if shell_form(&facts.entrypoint) {
            add(
                "entrypoint-form",
                "ENTRYPOINT is in shell form (/bin/sh -c …): the process does not get signals"
                    .into(),
                None,
            );
        } else if facts.entrypoint.is_empty() && shell_form(&facts.cmd) {
            add(
                "entrypoint-form",
                "CMD is in shell form (/bin/sh -c …): the process does not get signals".into(),
                None,
            );
        }
        if let Some(budget) = &node.manifest.audit.max_size {
            let limit = budget.get().0;
            let size = facts.size;
            if size > limit {
                add(
                    "size",
                    format!(
                        "the image is {} , over its budget of {}",
                        human_size(size),
                        human_size(limit)
                    ),
                    None,
                );
            }
        }

        let scan = self.scan_filesystem(i, image).await?;
        for p in &scan.setuid {
            add(
                "setuid",
                format!("/{p} is setuid or setgid"),
                Some(format!("/{p}")),
            );
        }
        for p in &scan.world_writable {
            add(
                "world-writable",
                format!("/{p} is world-writable"),
                Some(format!("/{p}")),
            );
        }
        for tool in PACKAGE_MANAGERS {
            for d in BIN_DIRS {
                let p = format!("{d}/{tool}");
                if scan.present.contains(&p) {
                    add(
                        "package-manager",
                        format!("package manager `{tool}` is in the image at /{p}"),
                        Some(format!("/{p}")),
                    );
                }
            }
        }
        if node.manifest.audit.hardened == Some(true) {
            for tool in HARDENING_TOOLS {
                for d in BIN_DIRS {
                    let p = format!("{d}/{tool}");
                    if scan.present.contains(&p) {
                        add(
                            "hardening",
                            format!("`{tool}` should have been removed by /prep (/{p})"),
                            Some(format!("/{p}")),
                        );
                    }
                }
            }
            if let Some(passwd) = &scan.passwd {
                for line in passwd.lines() {
                    let f: Vec<&str> = line.split(':').collect();
                    if let (Some(name), Some(shell)) = (f.first(), f.get(6))
                        && !shell.is_empty()
                        && !shell.ends_with("nologin")
                        && !shell.ends_with("false")
                    {
                        add(
                            "hardening",
                            format!("account `{name}` has the login shell {shell}"),
                            Some("/etc/passwd".into()),
                        );
                    }
                }
            }
        }
        for f in &mut out {
            if f.rule == "root"
                && let Some(reason) = &node.manifest.run.allow_root
            {
                f.waived = Some(format!("run.allow_root: {}", reason.get_ref()));
                continue;
            }
            if let Some(w) = node
                .manifest
                .audit
                .waive
                .iter()
                .map(|w| w.get_ref())
                .find(|w| {
                    w.rule == f.rule
                        || f.path
                            .as_deref()
                            .is_some_and(|p| w.rule == format!("{}:{p}", f.rule))
                })
            {
                f.waived = w.reason.clone();
            }
        }
        Ok(out)
    }

    /// One pass over the image's filesystem through `export` of a never-started container.
    async fn scan_filesystem(&self, i: usize, image: &ImageId) -> Result<Scan> {
        let daemon = self.daemon().await?;
        let node = &self.ws.nodes[i];
        let name = format!(
            "{}-audit-{}-{}",
            self.ws.namespace.replace('/', "-"),
            crate::launch::name_part(&node.name),
            std::process::id()
        );
        let labels = labels::container(&self.ws.id, Role::Test, &node.name, image);
        let spec = ContainerSpec {
            // Never run: a command is only needed because some images have none.
            cmd: Some(vec!["/dk-audit-never-runs".into()]),
            network: Some(("none".into(), None)),
            read_only: true,
            no_new_privileges: true,
            ..ContainerSpec::bare(name, image.to_string(), labels)
        };
        daemon.remove_container(&spec.name).await?;
        let id = daemon.create_container(&spec).await?;
        let result = async {
            let (tx, rx) = std::sync::mpsc::sync_channel::<bytes::Bytes>(8);
            let reader = tokio::task::spawn_blocking(move || {
                scan_tar(ChannelReader {
                    rx,
                    buf: bytes::Bytes::new(),
                })
            });
            let mut stream = std::pin::pin!(daemon.export(&id));
            while let Some(chunk) = stream.next().await {
                if tx.send(chunk?).is_err() {
                    break;
                }
            }
            drop(tx);
            reader.await.expect("scan task").map_err(|e| Error::Docker {
                context: format!("auditing {}", image.short()),
                detail: format!("the exported filesystem cannot be read: {e}"),
            })
        }
        .await;
        daemon.remove_container(&id).await?;
        result
    }
}

struct ChannelReader {
    rx: std::sync::mpsc::Receiver<bytes::Bytes>,
    buf: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.rx.recv() {
                Ok(b) => self.buf = b,
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf = self.buf.slice(n..);
        Ok(n)
    }
}

fn scan_tar(reader: impl Read) -> std::io::Result<Scan> {
    let mut scan = Scan::default();
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let header = entry.header();
        let path = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        let mode = header.mode().unwrap_or(0);
        let kind = header.entry_type();
        if kind.is_symlink() || kind.is_hard_link() || kind.is_file() {
            scan.present.insert(path.clone());
        }
        if kind.is_file() && mode & 0o6000 != 0 {
            scan.setuid.push(path.clone());
        }
        let sticky_dir = kind.is_dir() && mode & 0o1000 != 0;
        if (kind.is_file() || kind.is_dir()) && mode & 0o002 != 0 && !sticky_dir {
            scan.world_writable.push(path.clone());
        }
        if path == "etc/passwd" && kind.is_file() {
            let mut s = String::new();
            entry.read_to_string(&mut s)?;
            scan.passwd = Some(s);
        }
    }
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_sees_setuid_world_writable_links_and_passwd() {
        let mut b = tar::Builder::new(Vec::new());
        let mut add =
            |path: &str, mode: u32, kind: tar::EntryType, data: &[u8], link: Option<&str>| {
                let mut h = tar::Header::new_gnu();
                h.set_mode(mode);
                h.set_entry_type(kind);
                h.set_size(data.len() as u64);
                if let Some(l) = link {
                    b.append_link(&mut h, path, l).unwrap();
                } else {
                    b.append_data(&mut h, path, data).unwrap();
                }
            };
        add("bin/su", 0o4755, tar::EntryType::Regular, b"x", None);
        add("tmp", 0o1777, tar::EntryType::Directory, b"", None);
        add("data", 0o777, tar::EntryType::Directory, b"", None);
        add(
            "bin/apk",
            0o777,
            tar::EntryType::Symlink,
            b"",
            Some("busybox"),
        );
        add(
            "etc/passwd",
            0o644,
            tar::EntryType::Regular,
            b"root:x:0:0::/root:/bin/sh\n",
            None,
        );
        let bytes = b.into_inner().unwrap();
        let scan = scan_tar(&bytes[..]).unwrap();
        assert_eq!(scan.setuid, ["bin/su"]);
        assert_eq!(
            scan.world_writable,
            ["data"],
            "sticky /tmp and symlinks are fine"
        );
        assert!(scan.present.contains("bin/apk"));
        assert!(scan.passwd.unwrap().contains("/bin/sh"));
    }
}
