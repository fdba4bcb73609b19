//! `StateDir`: the layout of a workspace's `.dk/` (or `dk.toml`'s `state_dir`). Every path
//! dk keeps state under is made here, so the layout is written down once:
//!
//! ```text
//! .dk/lock                          the workspace lock (its content names the holder)
//! .dk/records/{builds,tests,promotions}/<node>/…   the record store (records.rs)
//! .dk/logs/<node>/<ms>-<what>.log   build logs; kept test logs mounts
//! .dk/cache/digests/<node>.json     context digest cache (context.rs)
//! .dk/cache/fetch/<sha256>          verified downloads of [[stage.fetch]]
//! .dk/stage/<node>.json             staging stamps (stage.rs)
//! .dk/intents/<node>.json           a live replacement under way (switch.rs)
//! .dk/tmp/test-<node>-…             per-launch test mount roots (swept by the next run)
//! .dk/tmp/fetch-<node>-…            scratch directories of fetch steps
//! ```

use std::path::{Path, PathBuf};

use std::fs;
use std::io::Write;

use crate::error::{Error, Result};

/// Write `bytes` to `path` so that readers see either the old or the new content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("record paths have a parent");
    fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io("write", path, e)
    })
}

#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

/// Milliseconds since the epoch: unique enough for log names, and sorts in time order.
fn stamp_ms() -> u128 {
    crate::units::since_epoch().as_millis()
}

impl StateDir {
    pub fn new(root: PathBuf) -> StateDir {
        StateDir { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn lock_file(&self) -> PathBuf {
        self.root.join("lock")
    }

    pub fn records(&self) -> PathBuf {
        self.root.join("records")
    }

    pub fn logs(&self, node: &str) -> PathBuf {
        self.root.join("logs").join(node)
    }

    /// A fresh log file path under `logs/<node>/` (the directory is created).
    pub fn new_log(&self, node: &str, what: &str) -> Result<PathBuf> {
        let dir = self.logs(node);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        Ok(dir.join(format!("{}-{what}.log", stamp_ms())))
    }

    /// Where a kept directory of a failed test goes (`logs/<node>/<ms>-<what>`).
    pub fn kept(&self, node: &str, what: &str) -> PathBuf {
        self.logs(node).join(format!("{}-{what}", stamp_ms()))
    }

    pub fn digest_cache(&self, node: &str) -> PathBuf {
        self.root
            .join("cache")
            .join("digests")
            .join(format!("{node}.json"))
    }

    pub fn default_fetch_cache(&self) -> PathBuf {
        self.root.join("cache").join("fetch")
    }

    /// The intent record of a replacement of `node`'s live container under way.
    pub fn intent(&self, node: &str) -> PathBuf {
        self.root.join("intents").join(format!("{node}.json"))
    }

    pub fn stage_stamps(&self, node: &str) -> PathBuf {
        self.root.join("stage").join(format!("{node}.json"))
    }

    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A per-launch root for a test's mounts: `tmp/test-<node>-<pid>-<ms>`.
    pub fn test_root(&self, node: &str) -> PathBuf {
        self.tmp()
            .join(format!("test-{node}-{}-{}", std::process::id(), stamp_ms()))
    }

    /// Scratch for a fetch step of `node`.
    pub fn fetch_scratch(&self, node: &str) -> PathBuf {
        self.tmp()
            .join(format!("fetch-{node}-{}", std::process::id()))
    }

    /// Remove what test launches left under `tmp/` (an interrupted run's mount copies).
    /// Is a test root left (a kept failing test, or a crashed run)?
    pub fn has_test_roots(&self) -> bool {
        std::fs::read_dir(self.tmp()).is_ok_and(|rd| {
            rd.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("test-"))
        })
    }

    pub fn sweep_test_roots(&self) {
        if let Ok(rd) = std::fs::read_dir(self.tmp()) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with("test-") {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }

    /// Remove a node's logs and digest cache. Returns how many log entries went.
    pub fn clean_node(&self, node: &str) -> Result<usize> {
        let mut removed = 0;
        let logs = self.logs(node);
        if logs.exists() {
            removed = std::fs::read_dir(&logs).map(|r| r.count()).unwrap_or(0);
            std::fs::remove_dir_all(&logs).map_err(|e| Error::io("remove", &logs, e))?;
        }
        let cache = self.digest_cache(node);
        if cache.exists() {
            std::fs::remove_file(&cache).map_err(|e| Error::io("remove", &cache, e))?;
        }
        Ok(removed)
    }
}
