//! Staging (the old `make copy` step): before a build, copy files from elsewhere in the
//! workspace into the node, fetch pinned artifacts (verified by sha256, kept in a
//! content-addressed cache), and run declared commands that produce files. Everything
//! staged is generated: listed, hashed as part of the context, and removed by `dk clean`.
//!
//! Each step is skipped when its outputs are present and its inputs unchanged, so a no-op
//! build stays a no-op.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::context::hex;
use crate::dockerfile::Platform;
use crate::error::{Error, Result};
use crate::manifest::{StageCopy, StageFetch, StageRun};
use crate::units::Text;
use crate::workspace::{Node, Workspace};

/// What staging did or would do, one line per action.
#[derive(Debug, Default, Clone)]
pub struct StageReport {
    pub actions: Vec<String>,
}

/// Per-node memory of verified outputs, so unchanged steps are not re-verified.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stamps {
    /// Step key -> fingerprint of its inputs and outputs.
    steps: BTreeMap<String, String>,
    /// Digests of `stage.run` inputs, so an unchanged input is not read again.
    #[serde(default)]
    inputs: crate::context::DigestCache,
}

/// One directory's stamps, whichever of its platforms' nodes stages it.
fn stamps_path(ws: &Workspace, node: &Node) -> PathBuf {
    ws.state.stage_stamps(node.base_name())
}

/// Does a step for `platform` (none: every platform) run for this node's directory? Only
/// when the directory is built for it. Every platform's node of a directory stages all of
/// its steps into the one directory, so each sees the same context.
fn applies(node: &Node, platform: Option<&Text<Platform>>) -> bool {
    let Some(p) = platform else {
        return true;
    };
    if node.platforms.is_empty() {
        return p.get().same(&Platform::host());
    }
    node.platforms.iter().any(|q| q.same(p.get()))
}

/// Staging writes into a node's directory, which several platforms' nodes share: one at a
/// time per directory (the second finds the stamps current and does nothing); different
/// directories stage side by side.
fn directory_lock(dir: &Path) -> std::sync::Arc<std::sync::Mutex<()>> {
    type Locks = std::collections::HashMap<PathBuf, std::sync::Arc<std::sync::Mutex<()>>>;
    static LOCKS: std::sync::OnceLock<std::sync::Mutex<Locks>> = std::sync::OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    locks.entry(dir.to_path_buf()).or_default().clone()
}

fn load_stamps(ws: &Workspace, node: &Node) -> Stamps {
    fs::read(stamps_path(ws, node))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Does this node declare any staging?
pub fn has_steps(node: &Node) -> bool {
    let s = &node.manifest.stage;
    !(s.copy.is_empty() && s.fetch.is_empty() && s.run.is_empty())
}

/// Node-relative paths that staging generates (what `dk clean` removes).
pub fn outputs(node: &Node) -> Vec<String> {
    let s = &node.manifest.stage;
    let mut out: Vec<String> = Vec::new();
    out.extend(s.copy.iter().map(|c| c.get_ref().to.clone()));
    out.extend(s.fetch.iter().map(|f| f.get_ref().to.clone()));
    for r in &s.run {
        out.extend(r.get_ref().outputs.iter().cloned());
    }
    out
}

/// Run (or, with `dry_run`, only describe) the staging steps of `node`.
pub fn stage(ws: &Workspace, node: &Node, dry_run: bool) -> Result<StageReport> {
    let mut report = StageReport::default();
    if !has_steps(node) {
        return Ok(report);
    }
    let lock = directory_lock(&node.dir);
    let _one_at_a_time = lock.lock().unwrap_or_else(|e| e.into_inner());
    let mut stamps = load_stamps(ws, node);
    let before = serde_json::to_vec(&stamps).unwrap_or_default();
    let manifest = node.manifest_path.clone().unwrap_or_default();
    for (i, c) in node.manifest.stage.copy.iter().enumerate() {
        copy_step(ws, node, c.get_ref(), dry_run, &mut report)
            .map_err(|e| located(e, &manifest, &format!("stage.copy[{i}]")))?;
    }
    for (i, f) in node.manifest.stage.fetch.iter().enumerate() {
        if !applies(node, f.get_ref().platform.as_ref()) {
            continue;
        }
        let key = format!("fetch:{}", f.get_ref().to);
        fetch_step(
            ws,
            node,
            f.get_ref(),
            &key,
            &mut stamps,
            dry_run,
            &mut report,
        )
        .map_err(|e| located(e, &manifest, &format!("stage.fetch[{i}]")))?;
    }
    for (i, r) in node.manifest.stage.run.iter().enumerate() {
        if !applies(node, r.get_ref().platform.as_ref()) {
            continue;
        }
        let key = format!("run:{i}");
        run_step(
            ws,
            node,
            r.get_ref(),
            &key,
            &mut stamps,
            dry_run,
            &mut report,
        )
        .map_err(|e| located(e, &manifest, &format!("stage.run[{i}]")))?;
    }
    let after = serde_json::to_vec(&stamps).unwrap_or_default();
    if !dry_run && after != before {
        crate::records::write_atomic(&stamps_path(ws, node), &after)?;
    }
    Ok(report)
}

/// Prefix a staging failure with the manifest entry it comes from.
fn located(e: Error, manifest: &str, key: &str) -> Error {
    match e {
        Error::Stage { message, help, .. } => Error::Stage {
            manifest: manifest.to_string(),
            key: key.to_string(),
            message,
            help,
        },
        Error::Definition(mut d) => {
            for x in &mut d {
                x.message = format!("{key}: {}", x.message);
            }
            Error::Definition(d)
        }
        other => other,
    }
}

/// A staging failure; `located` adds the manifest and the step it comes from.
fn fail(message: String) -> Error {
    Error::Stage {
        manifest: String::new(),
        key: String::new(),
        message,
        help: None,
    }
}

/// Resolve a workspace-relative path and make sure it (after symlinks) stays inside.
fn inside_workspace(ws: &Workspace, rel: &str) -> Result<PathBuf> {
    let p = ws.root.join(rel);
    let real = p
        .canonicalize()
        .map_err(|e| fail(format!("source `{rel}` cannot be read: {e}")))?;
    if !real.starts_with(&ws.root) {
        return Err(fail(format!(
            "source `{rel}` resolves to {}, outside the workspace",
            real.display()
        )));
    }
    Ok(real)
}

/// Resolve a node-relative destination, refusing anything that escapes the node.
fn inside_node(node: &Node, rel: &str) -> Result<PathBuf> {
    let p = node.dir.join(rel);
    // The destination may not exist yet: check its nearest existing ancestor.
    let mut probe = p.clone();
    while !probe.exists() {
        match probe.parent() {
            Some(parent) => probe = parent.to_path_buf(),
            None => break,
        }
    }
    let real = probe.canonicalize().unwrap_or(probe);
    if !real.starts_with(&node.dir) {
        return Err(fail(format!(
            "destination `{rel}` resolves outside the node directory"
        )));
    }
    Ok(p)
}

fn files_equal(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(ma), Ok(mb)) if ma.len() == mb.len() => {
            matches!((fs::read(a), fs::read(b)), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

fn copy_step(
    ws: &Workspace,
    node: &Node,
    c: &StageCopy,
    dry_run: bool,
    report: &mut StageReport,
) -> Result<()> {
    let src = inside_workspace(ws, &c.from)?;
    let dst = inside_node(node, &c.to)?;
    let mode = c.mode.as_ref().map(|t| t.get().0);
    let mut changed = Vec::new();
    if src.is_dir() {
        for item in walkdir::WalkDir::new(&src).sort_by_file_name() {
            let item = item.map_err(|e| fail(format!("reading {}: {e}", src.display())))?;
            let rel = item.path().strip_prefix(&src).expect("under src");
            let target = dst.join(rel);
            if item.file_type().is_dir() {
                continue;
            }
            if !files_equal(item.path(), &target) {
                changed.push((item.path().to_path_buf(), target));
            }
        }
    } else if !files_equal(&src, &dst)
        || mode.is_some_and(|m| {
            fs::metadata(&dst)
                .map(|md| md.permissions().mode() & 0o7777)
                .ok()
                != Some(m)
        })
    {
        changed.push((src.clone(), dst.clone()));
    }
    for (from, to) in changed {
        report.actions.push(format!(
            "copy {} -> {}/{}",
            ws.rel(&from),
            node.rel_dir,
            to.strip_prefix(&node.dir).unwrap_or(&to).display()
        ));
        if dry_run {
            continue;
        }
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        let tmp = to.with_extension("dk-staging");
        fs::copy(&from, &tmp).map_err(|e| Error::io("copy", &from, e))?;
        if let Some(m) = mode {
            fs::set_permissions(&tmp, fs::Permissions::from_mode(m))
                .map_err(|e| Error::io("chmod", &tmp, e))?;
        }
        fs::rename(&tmp, &to).map_err(|e| Error::io("rename", &to, e))?;
    }
    Ok(())
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut h = sha2::Sha256::new();
    crate::context::read_chunks(path, |b| h.update(b))?;
    Ok(hex(&h.finalize()))
}

/// Identity of a file on disk, cheap to read: size, mtime, inode.
fn file_id(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).ok()?;
    Some(format!(
        "{}:{}.{}:{}",
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        m.ino()
    ))
}

fn fetch_step(
    ws: &Workspace,
    node: &Node,
    f: &StageFetch,
    key: &str,
    stamps: &mut Stamps,
    dry_run: bool,
    report: &mut StageReport,
) -> Result<()> {
    let dst = inside_node(node, &f.to)?;
    let pin = f.sha256.to_ascii_lowercase();
    let stamp = file_id(&dst).map(|id| format!("{pin}@{id}"));
    if stamp.is_some() && stamps.steps.get(key) == stamp.as_ref() {
        return Ok(());
    }
    if dst.is_file() && sha256_file(&dst)? == pin {
        if !dry_run {
            stamps.steps.insert(
                key.to_string(),
                format!("{pin}@{}", file_id(&dst).unwrap_or_default()),
            );
        }
        return Ok(());
    }
    let cached = ws.fetch_cache.join(&pin);
    if cached.is_file() && sha256_file(&cached)? == pin {
        report
            .actions
            .push(format!("fetch {} (from the verified cache)", f.to));
        if !dry_run {
            place(&cached, &dst)?;
            stamps.steps.insert(
                key.to_string(),
                format!("{pin}@{}", file_id(&dst).unwrap_or_default()),
            );
        }
        return Ok(());
    }
    report
        .actions
        .push(format!("fetch {} with `{}`", f.to, f.command.join(" ")));
    if dry_run {
        return Ok(());
    }
    let scratch = ws.state.fetch_scratch(&node.name);
    let result = (|| {
        let (file, got) = fetch_into(&scratch, ws, node, f)?;
        let file = &file;
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if got != pin {
            return Err(Error::Stage {
                manifest: String::new(),
                key: String::new(),
                message: format!(
                    "`{}` produced {name} with sha256 {got}, but the pin is {pin}.\n  \
                     The source now offers something else (for a Debian package: a new version, named in the file name).",
                    f.command.join(" ")
                ),
                help: Some(format!(
                    "review {name}; if it is what you want, set `sha256 = \"{got}\"` in the manifest"
                )),
            });
        }
        fs::create_dir_all(&ws.fetch_cache).map_err(|e| Error::io("create", &ws.fetch_cache, e))?;
        place(file, &cached)?;
        place(file, &dst)?;
        Ok(())
    })();
    let _ = fs::remove_dir_all(&scratch);
    result?;
    stamps.steps.insert(
        key.to_string(),
        format!("{pin}@{}", file_id(&dst).unwrap_or_default()),
    );
    Ok(())
}

/// Run `f`'s command in an empty `scratch` directory; the one file it left, and its sha256.
fn fetch_into(
    scratch: &Path,
    ws: &Workspace,
    node: &Node,
    f: &StageFetch,
) -> Result<(PathBuf, String)> {
    let _ = fs::remove_dir_all(scratch);
    fs::create_dir_all(scratch).map_err(|e| Error::io("create", scratch, e))?;
    run_command(&f.command, scratch, ws, node)?;
    let produced: Vec<PathBuf> = fs::read_dir(scratch)
        .map_err(|e| Error::io("read", scratch, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    let [file] = produced.as_slice() else {
        return Err(fail(format!(
            "`{}` must leave exactly one file in its scratch directory; it left {}",
            f.command.join(" "),
            produced.len()
        )));
    };
    let got = sha256_file(file)?;
    Ok((file.clone(), got))
}

/// What a `[[stage.fetch]]` command yields today (for `dk outdated`): the file's name and
/// sha256. The file goes into the verified cache under its own sha256, so a build after
/// re-pinning to it fetches nothing again.
pub fn fetch_upstream(ws: &Workspace, node: &Node, f: &StageFetch) -> Result<(String, String)> {
    let scratch = ws.state.fetch_scratch(&format!("{}-upstream", node.name));
    let result = (|| {
        let (file, got) = fetch_into(&scratch, ws, node, f)?;
        fs::create_dir_all(&ws.fetch_cache).map_err(|e| Error::io("create", &ws.fetch_cache, e))?;
        let cached = ws.fetch_cache.join(&got);
        if !cached.is_file() {
            place(&file, &cached)?;
        }
        Ok((file.file_name().unwrap().to_string_lossy().to_string(), got))
    })();
    let _ = fs::remove_dir_all(&scratch);
    result
}

/// Copy `from` to `to` through a temporary file and a rename.
fn place(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    let tmp = to.with_extension("dk-staging");
    fs::copy(from, &tmp).map_err(|e| Error::io("copy", from, e))?;
    fs::rename(&tmp, to).map_err(|e| Error::io("rename", to, e))
}

fn run_command(cmd: &[String], cwd: &Path, ws: &Workspace, node: &Node) -> Result<()> {
    let out = Command::new(&cmd[0])
        .args(&cmd[1..])
        .current_dir(cwd)
        .env("DK_WORKSPACE", &ws.root)
        .env("DK_NODE_DIR", &node.dir)
        .env("DK_NODE", &node.name)
        .output()
        .map_err(|e| fail(format!("cannot run `{}`: {e}", cmd.join(" "))))?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stdout).to_string();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(fail(format!(
            "`{}` failed ({}):\n{}",
            cmd.join(" "),
            out.status,
            tail.join("\n")
        )));
    }
    Ok(())
}

fn run_step(
    ws: &Workspace,
    node: &Node,
    r: &StageRun,
    key: &str,
    stamps: &mut Stamps,
    dry_run: bool,
    report: &mut StageReport,
) -> Result<()> {
    let mut h = blake3::Hasher::new();
    for part in &r.command {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    for input in &r.inputs {
        let p = inside_node(node, input)?;
        let Some(meta) = fs::metadata(&p).ok().filter(|m| m.is_file()) else {
            if dry_run {
                // An earlier step (not run in a dry run) would produce it.
                report
                    .actions
                    .push(format!("run `{}`", r.command.join(" ")));
                return Ok(());
            }
            return Err(fail(format!(
                "input `{input}` does not exist (is an earlier stage step missing?)"
            )));
        };
        h.update(input.as_bytes());
        h.update(&stamps.inputs.digest(input, &p, &meta)?);
    }
    let want = h.finalize().to_hex().to_string();
    let outputs: Vec<PathBuf> = r
        .outputs
        .iter()
        .map(|o| inside_node(node, o))
        .collect::<Result<_>>()?;
    let present = outputs.iter().all(|p| p.exists());
    if present && stamps.steps.get(key) == Some(&want) {
        return Ok(());
    }
    report
        .actions
        .push(format!("run `{}`", r.command.join(" ")));
    if dry_run {
        return Ok(());
    }
    run_command(&r.command, &node.dir, ws, node)?;
    let missing: Vec<&String> = r
        .outputs
        .iter()
        .zip(&outputs)
        .filter(|(_, p)| !p.exists())
        .map(|(o, _)| o)
        .collect();
    if !missing.is_empty() {
        return Err(fail(format!(
            "`{}` succeeded but did not produce {}",
            r.command.join(" "),
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    stamps.steps.insert(key.to_string(), want);
    Ok(())
}

/// Remove staged outputs and stamps of `node`; returns what was removed.
pub fn clean(ws: &Workspace, node: &Node) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for rel in outputs(node) {
        let p = inside_node(node, &rel)?;
        let meta = match fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(_) => continue,
        };
        if meta.is_dir() {
            fs::remove_dir_all(&p).map_err(|e| Error::io("remove", &p, e))?;
        } else {
            fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?;
        }
        removed.push(format!("{}/{rel}", node.rel_dir));
    }
    let stamps = stamps_path(ws, node);
    if stamps.exists() {
        fs::remove_file(&stamps).map_err(|e| Error::io("remove", &stamps, e))?;
    }
    Ok(removed)
}
