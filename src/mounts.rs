//! Mounts: the live bind of each declared mount, and its test variant. Test variants are
//! made fresh under a per-launch test root, so a test can never write to live data:
//!
//! | kind | live | test |
//! |---|---|---|
//! | ro | read-only bind | the live source, read-only |
//! | persistent | read-write bind | a fresh empty directory |
//! | persistent_test_ro | read-write bind | the live source, read-only |
//! | persistent_test_copy | read-write bind | an empty directory with the source's owner and mode |
//! | persistent_test_copy_tree | read-write bind | the source's directory tree, without files |
//! | persistent_test_copy_files | read-write bind | a full copy of the source |
//! | logs | read-write bind | a fresh empty directory, kept when the test fails |
//! | test_only | not mounted | a fresh copy of a node directory (fixtures); replaces other mounts on its target |
//!
//! The source is `<data_root>/<name>/<source>` (dk's: `dk prep` creates it), a host path
//! (`host`), another container's data (`from`), or a named Docker volume (`volume`). Whatever
//! the source, the test variant is read-only or a copy, never the live data writable. A
//! volume's test variant is always an empty directory (its data lives inside the daemon).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::docker::Bind;
use crate::error::{Error, Result};
use crate::manifest::{Mount, MountKind, MountSource};
use crate::userns::Remap;
use crate::workspace::{Node, Workspace};

/// Where a mount's live data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    Path(PathBuf),
    /// A named Docker volume (its Docker name).
    Volume(String),
}

/// The Docker name of a mount's volume: `<namespace>-<name>`, or the name itself for an
/// `external` one.
pub fn volume_name(ws: &Workspace, m: &Mount) -> Option<String> {
    let name = m.volume.as_deref()?;
    Some(if m.external {
        name.to_string()
    } else {
        format!("{}-{name}", ws.namespace.replace('/', "-"))
    })
}

/// Where a mount's live source is.
pub fn live_source(ws: &Workspace, node: &Node, m: &Mount) -> Live {
    match m.source() {
        MountSource::Data(rel) => Live::Path(ws.data_root.join(node.base_name()).join(rel)),
        MountSource::Host(p) => Live::Path(PathBuf::from(p)),
        MountSource::From(other, rel) => Live::Path(ws.data_root.join(other).join(rel)),
        MountSource::Volume(v) => Live::Volume(volume_name(ws, m).unwrap_or_else(|| v.to_string())),
    }
}

/// Live binds. A missing source is an error that says how to create it, before anything
/// starts.
pub fn live_binds(ws: &Workspace, node: &Node) -> Result<Vec<Bind>> {
    let mut out = Vec::new();
    for m in node.manifest.mounts.iter().map(|m| m.get_ref()) {
        if m.kind == MountKind::TestOnly {
            continue;
        }
        let host = match live_source(ws, node, m) {
            Live::Volume(v) => v,
            Live::Path(src) => {
                if !src.exists() {
                    return Err(missing_source(node, m, &src));
                }
                src.to_string_lossy().to_string()
            }
        };
        out.push(Bind {
            host,
            target: m.target.clone(),
            read_only: m.kind == MountKind::Ro,
        });
    }
    Ok(out)
}

/// Every host path (`host = …`) the node mounts exists: dk never creates one, and neither
/// may the daemon (it would make a missing bind source as an empty root-owned directory).
pub fn check_host_paths(ws: &Workspace, node: &Node) -> Result<()> {
    for m in node.manifest.mounts.iter().map(|m| m.get_ref()) {
        if let (MountSource::Host(_), Live::Path(p)) = (m.source(), live_source(ws, node, m))
            && !p.exists()
        {
            return Err(missing_source(node, m, &p));
        }
    }
    Ok(())
}

/// The error for a live source that does not exist, with what creates it.
fn missing_source(node: &Node, m: &Mount, src: &Path) -> Error {
    let what = if m.file { "file" } else { "directory" };
    let help = match m.source() {
        MountSource::Data(_) if m.file => format!(
            "put the file there (`dk prep {}` creates directories, not files)",
            node.base_name()
        ),
        MountSource::Data(_) => format!(
            "run `dk prep {}` to create the data directories with their owners and modes",
            node.base_name()
        ),
        MountSource::Host(_) => {
            "create it on the host, or change `host` in the mount (dk never creates host paths)"
                .to_string()
        }
        MountSource::From(other, _) => {
            format!("it is {other}'s data: run `dk prep {other}`, or check `from` in the mount")
        }
        MountSource::Volume(_) => unreachable!("volumes are not paths"),
    };
    Error::host(
        format!(
            "{}: the {what} {} for {} does not exist",
            node.name,
            src.display(),
            m.target
        ),
        Some(help),
    )
}

/// The test variants, prepared under `root` (created fresh). Returns the binds and the
/// directories worth keeping when the test fails (logs).
pub fn test_binds(
    ws: &Workspace,
    node: &Node,
    root: &Path,
    remap: Remap,
) -> Result<(Vec<Bind>, Vec<PathBuf>)> {
    check_host_paths(ws, node)?;
    let mounts: Vec<&Mount> = node.manifest.mounts.iter().map(|m| m.get_ref()).collect();
    let overridden: Vec<&str> = mounts
        .iter()
        .filter(|m| m.kind == MountKind::TestOnly)
        .map(|m| m.target.as_str())
        .collect();
    let mut binds = Vec::new();
    let mut keep = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        if m.kind != MountKind::TestOnly && overridden.contains(&m.target.as_str()) {
            continue;
        }
        let fresh = root.join(format!("m{i}"));
        let live = live_source(ws, node, m);
        let live_path = match &live {
            Live::Path(p) => Some(p.clone()),
            Live::Volume(_) => None,
        };
        let (host, read_only) = match m.kind {
            MountKind::Ro | MountKind::PersistentTestRo => match &live {
                Live::Path(p) if p.exists() => (p.clone(), true),
                // Never create anything in live data from a test (not even a volume: the
                // daemon would make one, unlabelled, on first use).
                _ => (make_fresh(&fresh, m, remap)?, true),
            },
            MountKind::Persistent | MountKind::Logs => {
                make_fresh(&fresh, m, remap)?;
                if m.kind == MountKind::Logs {
                    keep.push(fresh.clone());
                }
                (fresh, false)
            }
            MountKind::PersistentTestCopy => {
                make_fresh(&fresh, m, remap)?;
                if let Some(meta) = live_path.as_ref().and_then(|p| fs::metadata(p).ok()) {
                    copy_owner_mode(&meta, &fresh)?;
                }
                (fresh, false)
            }
            MountKind::PersistentTestCopyTree | MountKind::PersistentTestCopyFiles => {
                let files = m.kind == MountKind::PersistentTestCopyFiles;
                match live_path.filter(|p| p.exists()) {
                    Some(p) if p.is_file() && files => {
                        fs::copy(&p, &fresh).map_err(|e| Error::io("copy", &p, e))?;
                    }
                    Some(p) if p.is_file() => {
                        make_fresh(&fresh, m, remap)?;
                    }
                    Some(p) => copy_tree(&p, &fresh, files)?,
                    None => {
                        make_fresh(&fresh, m, remap)?;
                    }
                }
                (fresh, false)
            }
            MountKind::TestOnly => {
                let rel = m.source.as_deref().unwrap_or_default();
                let src = node.dir.join(rel);
                if !src.is_dir() {
                    return Err(Error::definition(
                        crate::error::Diagnostic::new(
                            node.manifest_path.clone().unwrap_or_default(),
                            format!(
                                "mount.source: the test_only source {}/{rel} is not a directory",
                                node.rel_dir
                            ),
                        )
                        .help("test_only sources are directories inside the node directory"),
                    ));
                }
                copy_tree(&src, &fresh, true)?;
                chown_tree(&fresh, m, remap)?;
                (fresh, false)
            }
        };
        binds.push(Bind {
            host: host.to_string_lossy().to_string(),
            target: m.target.clone(),
            read_only,
        });
    }
    Ok((binds, keep))
}

/// A fresh, empty test variant: a directory, or an empty file for a file mount.
fn make_fresh(path: &Path, m: &Mount, remap: Remap) -> Result<PathBuf> {
    if m.file {
        fs::write(path, b"").map_err(|e| Error::io("create", path, e))?;
        chown(path, m, remap)?;
    } else {
        make_dir(path, m, remap)?;
    }
    Ok(path.to_path_buf())
}

/// Create a directory with the mount's declared owner, group and mode (ids shifted by the
/// user-namespace remap).
fn make_dir(dir: &Path, m: &Mount, remap: Remap) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let mode = m.mode.as_ref().map(|t| t.get().0).unwrap_or(0o755);
    fs::set_permissions(dir, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("chmod", dir, e))?;
    chown(dir, m, remap)
}

/// Give a volume dk just created (its host `Mountpoint`) the mount's declared owner, group
/// and mode. Docker copies the image's directory over an empty volume on first use, so an
/// image that has the target directory decides instead.
pub fn own_new_volume(volume: &str, path: &Path, m: &Mount, remap: Remap) -> Result<()> {
    if !path.is_dir() {
        return Err(Error::host(
            format!("volume {volume} was created at {}, which dk cannot see", path.display()),
            Some("owner, group and mode on a volume need the daemon on this host (with the `local` driver); drop them and create the directory in the Dockerfile instead".into()),
        ));
    }
    if let Some(mode) = m.mode.as_ref().map(|t| t.get().0) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io("chmod", path, e))?;
    }
    chown(path, m, remap)
}

fn chown(path: &Path, m: &Mount, remap: Remap) -> Result<()> {
    if m.owner.is_none() && m.group.is_none() {
        return Ok(());
    }
    let uid = m.owner.map(|u| remap.uid(u));
    let gid = m.group.map(|g| remap.gid(g));
    std::os::unix::fs::lchown(path, uid, gid).map_err(|e| {
        Error::host(
            format!(
                "cannot give {} to {}:{} ({e})",
                path.display(),
                uid.map(|u| u.to_string()).unwrap_or_default(),
                gid.map(|g| g.to_string()).unwrap_or_default()
            ),
            Some("dk must run as root (or as the owner) to prepare mounts".into()),
        )
    })
}

fn chown_tree(root: &Path, m: &Mount, remap: Remap) -> Result<()> {
    for e in walkdir::WalkDir::new(root) {
        let e = e.map_err(|e| walk_error(root, e))?;
        chown(e.path(), m, remap)?;
    }
    Ok(())
}

fn walk_error(root: &Path, e: walkdir::Error) -> Error {
    let path = e.path().unwrap_or(root).to_path_buf();
    Error::io(
        "walk",
        path,
        e.into_io_error()
            .unwrap_or_else(|| std::io::Error::other("a symlink loop")),
    )
}

fn copy_owner_mode(meta: &fs::Metadata, to: &Path) -> Result<()> {
    fs::set_permissions(to, fs::Permissions::from_mode(meta.mode() & 0o7777))
        .map_err(|e| Error::io("chmod", to, e))?;
    std::os::unix::fs::lchown(to, Some(meta.uid()), Some(meta.gid()))
        .map_err(|e| Error::io("chown", to, e))
}

/// Copy a directory tree keeping modes and owners (and, with `files`, regular files and
/// symlinks too).
fn copy_tree(from: &Path, to: &Path, files: bool) -> Result<()> {
    for e in walkdir::WalkDir::new(from).follow_links(false) {
        let e = e.map_err(|e| walk_error(from, e))?;
        let rel = e.path().strip_prefix(from).expect("under the source");
        let dst = to.join(rel);
        let meta = e
            .path()
            .symlink_metadata()
            .map_err(|err| Error::io("stat", e.path(), err))?;
        if meta.is_dir() {
            fs::create_dir_all(&dst).map_err(|err| Error::io("create", &dst, err))?;
            copy_owner_mode(&meta, &dst)?;
        } else if !files {
            continue;
        } else if meta.file_type().is_symlink() {
            let target =
                fs::read_link(e.path()).map_err(|err| Error::io("readlink", e.path(), err))?;
            std::os::unix::fs::symlink(&target, &dst)
                .map_err(|err| Error::io("symlink", &dst, err))?;
        } else if meta.is_file() {
            fs::copy(e.path(), &dst).map_err(|err| Error::io("copy", e.path(), err))?;
            copy_owner_mode(&meta, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_tree_without_files_keeps_only_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        fs::create_dir_all(src.join("a/b")).unwrap();
        fs::write(src.join("a/file"), "x").unwrap();
        fs::set_permissions(src.join("a"), fs::Permissions::from_mode(0o710)).unwrap();
        let tree = tmp.path().join("tree");
        copy_tree(&src, &tree, false).unwrap();
        assert!(tree.join("a/b").is_dir());
        assert!(!tree.join("a/file").exists());
        assert_eq!(fs::metadata(tree.join("a")).unwrap().mode() & 0o7777, 0o710);
        let full = tmp.path().join("full");
        copy_tree(&src, &full, true).unwrap();
        assert_eq!(fs::read_to_string(full.join("a/file")).unwrap(), "x");
    }
}
