//! Who owns a writable mount nobody gave an owner: the container's user.
//!
//! A read-write data directory (`<data_root>/<node>/<source>`) or a named volume without
//! `owner`/`group` that is still as dk (or Docker) created it — empty and owned by root —
//! is given to the user the container runs as just before the container starts: the
//! numeric `[run] user`, else the image's `USER`, resolved in the container's own
//! `/etc/passwd` and `/etc/group` the way Docker resolves it, shifted by the daemon's
//! user-namespace remap. An explicit owner or group wins; a directory with anything in
//! it is never re-owned; `host` and `from` sources are never touched; a volume whose image
//! has a directory at the target keeps what Docker's copy-up gave it.

use std::path::{Path, PathBuf};

use crate::docker::ContainerSpec;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::manifest::{Mount, MountKind, MountSource};
use crate::report::ReporterExt;
use crate::userns::Remap;

/// A user and group id, as the container sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

/// Resolve `user[:group]` (names or numbers) as Docker does: a name must be in `passwd`; a
/// number need not be, and then its group is 0; a group defaults to the user's primary
/// group; `""` is root. `passwd`/`group` are the files' texts (`None`: the file is absent).
pub fn resolve(
    user: &str,
    passwd: Option<&str>,
    group: Option<&str>,
) -> std::result::Result<RunAs, String> {
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let entry = |f: &str| -> Option<(u32, u32)> {
        passwd?.lines().find_map(|l| {
            let mut p = l.split(':');
            let name = p.next()?;
            let uid: u32 = p.nth(1)?.parse().ok()?;
            let gid: u32 = p.next()?.parse().ok()?;
            (name == f || uid.to_string() == f).then_some((uid, gid))
        })
    };
    let (uid, primary) = if u.is_empty() {
        (0, 0)
    } else if let Ok(n) = u.parse::<u32>() {
        (n, entry(u).map(|(_, g)| g).unwrap_or(0))
    } else {
        entry(u).ok_or_else(|| format!("user `{u}` is not in the image's /etc/passwd"))?
    };
    let gid = match g {
        None | Some("") => primary,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => group
                .and_then(|t| {
                    t.lines().find_map(|l| {
                        let mut p = l.split(':');
                        (p.next()? == g).then(|| p.nth(1)?.parse().ok())?
                    })
                })
                .ok_or_else(|| format!("group `{g}` is not in the image's /etc/group"))?,
        },
    };
    Ok(RunAs { uid, gid })
}

/// Does `m` get the container's user when it has no owner: writable, not a file, and a
/// source dk creates (its data directory or its own volume).
pub(crate) fn takes_default_owner(m: &Mount) -> bool {
    m.owner.is_none()
        && m.group.is_none()
        && !m.file
        && !m.external
        && !matches!(m.kind, MountKind::Ro | MountKind::TestOnly)
        && matches!(m.source(), MountSource::Data(_) | MountSource::Volume(_))
}

/// Is `dir` a directory with nothing in it, owned by (remapped) root?
fn empty_and_root_owned(dir: &Path, remap: Remap) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(dir) else {
        return false;
    };
    meta.is_dir()
        && meta.uid() == remap.uid(0)
        && meta.gid() == remap.gid(0)
        && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// One mount waiting for its default owner.
struct Pending {
    path: PathBuf,
    target: String,
    volume: bool,
}

impl Engine {
    /// Give node `i`'s unowned, still-empty writable mounts to the user container `id` (just
    /// created from `spec`, not started) runs as. For a live container those are its data
    /// directories and volumes; for a test container, the fresh directories that stand in
    /// for them. For a live container, says what it did in a note.
    pub(crate) async fn own_unowned_mounts(
        &self,
        i: usize,
        id: &str,
        spec: &ContainerSpec,
    ) -> Result<()> {
        let node = &self.ws.nodes[i];
        let test = spec.labels.get(crate::labels::ROLE).map(String::as_str)
            == Some(crate::labels::Role::Test.label());
        let mounts: Vec<&Mount> = node
            .manifest
            .mounts
            .iter()
            .map(|m| m.get_ref())
            .filter(|m| takes_default_owner(m))
            .collect();
        if mounts.is_empty() {
            return Ok(());
        }
        let daemon = self.daemon().await?;
        let remap = crate::userns::detect(daemon.userns_remapped().await?)?;
        let mut pending = Vec::new();
        for m in mounts {
            let (path, volume) = if test {
                match spec
                    .binds
                    .iter()
                    .find(|b| b.target == m.target && !b.read_only)
                {
                    Some(b) => (PathBuf::from(&b.host), false),
                    None => continue,
                }
            } else {
                match crate::mounts::live_source(&self.ws, node, m) {
                    crate::mounts::Live::Path(p) => (p, false),
                    // A volume of a remote daemon is not visible here: nothing to do.
                    crate::mounts::Live::Volume(v) => match daemon.volume_mountpoint(&v).await? {
                        Some(p) => (p, true),
                        None => continue,
                    },
                }
            };
            if empty_and_root_owned(&path, remap) {
                pending.push(Pending {
                    path,
                    target: m.target.clone(),
                    volume,
                });
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        let user = match spec.user.as_deref().filter(|u| !u.is_empty()) {
            Some(u) => u.to_string(),
            None => daemon
                .inspect_image(&spec.image)
                .await?
                .map(|f| f.user)
                .unwrap_or_default(),
        };
        if crate::launch::is_root_user(&user) {
            return Ok(());
        }
        let text = |f: Option<crate::docker::FileInfo>| {
            f.map(|f| String::from_utf8_lossy(&f.content).into_owned())
        };
        let passwd = text(daemon.read_path(id, "/etc/passwd").await?);
        let group = text(daemon.read_path(id, "/etc/group").await?);
        // Docker refuses to start a container whose user it cannot resolve, with its own
        // words; dk leaves the directories as they are and lets that error speak.
        let Ok(run_as) = resolve(&user, passwd.as_deref(), group.as_deref()) else {
            return Ok(());
        };
        if run_as.uid == 0 {
            return Ok(());
        }
        let mut image_dirs = None;
        for p in pending {
            if p.volume {
                let dirs = match &image_dirs {
                    Some(d) => d,
                    None => image_dirs.insert(self.image_dirs(i, &spec.image).await?),
                };
                if dirs.contains(&p.target) {
                    continue;
                }
            }
            let (uid, gid) = (remap.uid(run_as.uid), remap.gid(run_as.gid));
            std::os::unix::fs::chown(&p.path, Some(uid), Some(gid)).map_err(|e| {
                Error::host(
                    format!("cannot give {} to {uid}:{gid} ({e})", p.path.display()),
                    Some(format!(
                        "run dk as root, or set `owner` and `group` on the mount at {} and create the directory yourself",
                        p.target
                    )),
                )
            })?;
            if !test {
                self.reporter.note(format!(
                    "{}: {} given to {}:{} (the container's user; set `owner` on the mount to choose)",
                    node.name,
                    p.path.display(),
                    run_as.uid,
                    run_as.gid
                ));
            }
        }
        Ok(())
    }

    /// Which of node `i`'s volume targets are directories in `image` itself (Docker copies
    /// those into a new volume, owner included). Looked at in a container made for the
    /// question, without mounts, and removed.
    async fn image_dirs(&self, i: usize, image: &str) -> Result<Vec<String>> {
        let node = &self.ws.nodes[i];
        let daemon = self.daemon().await?;
        let name = format!(
            "{}-probe",
            crate::launch::container_name(&self.ws, &node.name, crate::labels::Role::Job)
        );
        let labels = crate::labels::owned(&self.ws.id, crate::labels::Role::Job);
        let _ = daemon.remove_container(&name).await;
        let probe = daemon
            .create_container(&ContainerSpec::bare(name, image.to_string(), labels))
            .await?;
        let mut dirs = Vec::new();
        let mut result = Ok(());
        for m in node.manifest.mounts.iter().map(|m| m.get_ref()) {
            if m.volume.is_none() {
                continue;
            }
            match daemon.read_path(&probe, &m.target).await {
                Ok(Some(f)) if f.is_dir => dirs.push(m.target.clone()),
                Ok(_) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        daemon.remove_container(&probe).await?;
        result.map(|()| dirs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1234:1235::/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nstaff:x:50:app\napp:x:1235:\n";

    fn r(user: &str) -> std::result::Result<RunAs, String> {
        resolve(user, Some(PASSWD), Some(GROUP))
    }

    #[test]
    fn users_resolve_as_docker_resolves_them() {
        assert_eq!(r(""), Ok(RunAs { uid: 0, gid: 0 }));
        assert_eq!(
            r("app"),
            Ok(RunAs {
                uid: 1234,
                gid: 1235
            })
        );
        assert_eq!(
            r("1234"),
            Ok(RunAs {
                uid: 1234,
                gid: 1235
            })
        );
        assert_eq!(
            r("1000"),
            Ok(RunAs { uid: 1000, gid: 0 }),
            "unknown number: group 0"
        );
        assert_eq!(
            r("1000:1000"),
            Ok(RunAs {
                uid: 1000,
                gid: 1000
            })
        );
        assert_eq!(r("app:staff"), Ok(RunAs { uid: 1234, gid: 50 }));
        assert_eq!(r("app:7"), Ok(RunAs { uid: 1234, gid: 7 }));
        assert!(r("nobody").unwrap_err().contains("`nobody` is not in"));
        assert!(r("app:wheel").unwrap_err().contains("`wheel` is not in"));
        assert_eq!(
            resolve("1000:1000", None, None),
            Ok(RunAs {
                uid: 1000,
                gid: 1000
            }),
            "numbers need no passwd"
        );
    }
}
