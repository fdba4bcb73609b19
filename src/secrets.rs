//! Run-time secrets (`[[secret]]` in container.toml): the files a container gets read-only,
//! never built into an image. Each is fingerprinted with a key of the workspace's own
//! (`dk.secret.key` beside dk.toml, random, mode 0600, git-ignored): a changed secret
//! changes the settings hash (so the container is replaced, the Swarm secret rotated), while
//! the fingerprint in a label or a Swarm secret's name cannot be checked against guesses
//! without the key. The key travels with the secret files: a checkout that has both
//! computes the same fingerprints, so it replaces nothing another checkout deployed.
//! The content itself only ever goes to the daemon (Swarm) or stays in its file (a bind).

use std::path::PathBuf;

use crate::docker::SecretMount;
use crate::error::{Diagnostic, Error, Result};
use crate::secret::Secret;
use crate::workspace::{Node, Workspace};

/// The secrets of `node`, each checked to exist and fingerprinted.
pub fn mounts(ws: &Workspace, node: &Node) -> Result<Vec<SecretMount>> {
    if node.manifest.secrets.is_empty() {
        return Ok(Vec::new());
    }
    let key = key(ws)?;
    let manifest = node
        .manifest_path
        .clone()
        .unwrap_or_else(|| format!("{}/container.toml", node.rel_dir));
    node.manifest
        .secrets
        .iter()
        .map(|s| {
            let s = s.get_ref();
            let source = ws.root.join(&s.file);
            let content = std::fs::read(&source).map_err(|e| {
                Error::definition(
                    Diagnostic::new(
                        &manifest,
                        format!(
                            "{}: secret `{}`: cannot read {} ({e})",
                            node.name,
                            s.name,
                            source.display()
                        ),
                    )
                    .help("create the file (readable by you), or change `[[secret]] file`"),
                )
            })?;
            Ok(SecretMount {
                name: s.name.clone(),
                source: source.display().to_string(),
                target: s.target(),
                fingerprint: blake3::keyed_hash(&key, &content).to_hex()[..16].to_string(),
            })
        })
        .collect()
}

/// The content of a secret, for Swarm.
pub fn content(m: &SecretMount) -> Result<Secret> {
    std::fs::read(&m.source)
        .map(Secret::new)
        .map_err(|e| Error::io("reading a secret", &m.source, e))
}

/// The fingerprint key's file, beside dk.toml.
pub const KEY_FILE: &str = "dk.secret.key";

/// The workspace's fingerprint key, made on first use. One kept where earlier versions
/// kept it (`<state_dir>/secret.key`) moves beside dk.toml, so fingerprints stay.
fn key(ws: &Workspace) -> Result<[u8; 32]> {
    let path: PathBuf = ws.root.join(KEY_FILE);
    let read = |p: &std::path::Path| {
        std::fs::read(p)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
    };
    if let Some(key) = read(&path) {
        return Ok(key);
    }
    let key = match read(&ws.state.root().join("secret.key")) {
        Some(old) => old,
        None => crate::ids::random_bytes()?,
    };
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io("writing the secret key", &tmp, e))?;
        f.write_all(&key)
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io("writing the secret key", &tmp, e))?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("writing the secret key", &path, e))?;
    let _ = std::fs::remove_file(ws.state.root().join("secret.key"));
    git_ignore(&ws.root, KEY_FILE)?;
    Ok(key)
}

/// Add `name` to the workspace's .gitignore when the workspace is a git checkout (or has a
/// .gitignore) and the file does not name it yet.
fn git_ignore(root: &std::path::Path, name: &str) -> Result<()> {
    let gi = root.join(".gitignore");
    let current = std::fs::read_to_string(&gi).ok();
    if current.is_none() && !root.join(".git").exists() {
        return Ok(());
    }
    match crate::workspace::gitignore_with(current.as_deref().unwrap_or_default(), name) {
        Some(text) => crate::state::write_atomic(&gi, text.as_bytes()),
        None => Ok(()),
    }
}
