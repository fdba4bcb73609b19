//! `dk prep`: create the data directories a container declares (its non-test mounts), with
//! their owner, group and mode, shifted by the daemon's user-namespace remap. An existing
//! directory is never loosened without `--fix`; every change is reported.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use serde::Serialize;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::lock::WorkspaceLock;
use crate::manifest::{MountKind, MountSource};
use crate::mounts::Live;
use crate::userns::Remap;

#[derive(Debug, Clone, Serialize)]
pub struct PrepChange {
    pub path: String,
    pub what: String,
    /// False when the change is only reported (it needs `--fix`).
    pub applied: bool,
}

impl Engine {
    pub async fn prep(
        &self,
        _lock: &WorkspaceLock,
        i: usize,
        fix: bool,
    ) -> Result<Vec<PrepChange>> {
        let daemon_userns = self.reads()?.userns_remapped().await?;
        let remap = crate::userns::detect(daemon_userns)?;
        prep_node(self, i, fix, remap)
    }
}

fn prep_node(engine: &Engine, i: usize, fix: bool, remap: Remap) -> Result<Vec<PrepChange>> {
    let ws = &engine.ws;
    let node = &ws.nodes[i];
    let mut changes = Vec::new();
    for m in node.manifest.mounts.iter().map(|m| m.get_ref()) {
        if m.kind == MountKind::TestOnly {
            continue;
        }
        let Live::Path(path) = crate::mounts::live_source(ws, node, m) else {
            // A named volume: created (labelled) when the container is.
            continue;
        };
        let shown = path.display().to_string();
        // dk creates only what it owns: directories under <data_root>/<name>/. Host paths,
        // other containers' data and files are expected to exist; prep says whether they do.
        let owned = matches!(m.source(), MountSource::Data(_)) && !m.file;
        if !owned {
            let what = if m.file { "file" } else { "directory" };
            let whose = match m.source() {
                MountSource::From(other, _) => format!(" ({other}'s data: `dk prep {other}`)"),
                _ => String::new(),
            };
            changes.push(if path.exists() {
                PrepChange {
                    path: shown,
                    what: format!("expected {what}, present{whose}"),
                    applied: true,
                }
            } else {
                PrepChange {
                    path: shown,
                    what: format!("expected {what}, MISSING: create it{whose}"),
                    applied: false,
                }
            });
            continue;
        }
        let mode = m.mode.as_ref().map(|t| t.get().0);
        let uid = m.owner.map(|u| remap.uid(u));
        let gid = m.group.map(|g| remap.gid(g));
        let mut change = |what: String, applied: bool| {
            changes.push(PrepChange {
                path: shown.clone(),
                what,
                applied,
            })
        };
        let chown = |uid: Option<u32>, gid: Option<u32>| -> Result<()> {
            std::os::unix::fs::chown(&path, uid, gid).map_err(|e| {
                Error::host(
                    format!(
                        "cannot give {} to {}:{}: {e}",
                        path.display(),
                        uid.map(|u| u.to_string()).unwrap_or_else(|| "-".into()),
                        gid.map(|g| g.to_string()).unwrap_or_else(|| "-".into())
                    ),
                    Some("run `dk prep` as root".into()),
                )
            })
        };
        match fs::metadata(&path) {
            Err(_) => {
                fs::create_dir_all(&path).map_err(|e| Error::io("create", &path, e))?;
                let mode = mode.unwrap_or(0o755);
                fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                    .map_err(|e| Error::io("chmod", &path, e))?;
                chown(uid, gid)?;
                let owner =
                    if uid.is_none() && gid.is_none() && crate::owners::takes_default_owner(m) {
                        "owner: the container's user, given before its first start".to_string()
                    } else {
                        format!(
                            "owner {}, group {}",
                            uid.map(|u| u.to_string())
                                .unwrap_or_else(|| "unchanged".into()),
                            gid.map(|g| g.to_string())
                                .unwrap_or_else(|| "unchanged".into())
                        )
                    };
                change(format!("created ({owner}, mode {mode:04o})"), true);
            }
            Ok(meta) if !meta.is_dir() => {
                return Err(Error::host(
                    format!("{} exists and is not a directory", path.display()),
                    Some(format!(
                        "move it away and run `dk prep {}` again",
                        node.name
                    )),
                ));
            }
            Ok(meta) => {
                let current = meta.mode() & 0o7777;
                if let Some(want) = mode
                    && want != current
                {
                    let loosens = want & !current != 0;
                    if loosens && !fix {
                        change(
                            format!(
                                "mode is {current:04o}, the manifest says {want:04o}: run with --fix to loosen it"
                            ),
                            false,
                        );
                    } else {
                        fs::set_permissions(&path, fs::Permissions::from_mode(want))
                            .map_err(|e| Error::io("chmod", &path, e))?;
                        change(format!("mode {current:04o} -> {want:04o}"), true);
                    }
                }
                let owner_differs = uid.is_some_and(|u| u != meta.uid());
                let group_differs = gid.is_some_and(|g| g != meta.gid());
                if owner_differs || group_differs {
                    let what = format!(
                        "owner {}:{} -> {}:{}",
                        meta.uid(),
                        meta.gid(),
                        uid.unwrap_or(meta.uid()),
                        gid.unwrap_or(meta.gid())
                    );
                    if fix {
                        chown(uid, gid)?;
                        change(what, true);
                    } else {
                        change(format!("{what} needed: run with --fix"), false);
                    }
                }
            }
        }
    }
    Ok(changes)
}

impl Engine {
    /// The nodes `dk prep` prepares: the named ones, else every node that mounts data.
    pub fn prep_selection(&self, names: &[String]) -> Result<Vec<usize>> {
        Ok(self
            .directories(&self.select(names)?.selected)
            .into_iter()
            .filter(|i| !names.is_empty() || !self.ws.nodes[*i].manifest.mounts.is_empty())
            .collect())
    }
}
