//! Records: the stamps' successor. What was built from which inputs, which image passed
//! which test spec, what was promoted when. One JSON file per record, written atomically
//! (temp file, fsync, rename, fsync of the directory), so a crash never leaves a torn record.
//!
//! Records never override Docker: a record whose image is gone is ignored by its readers.
//! A record that cannot be parsed is ignored with a warning.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};
use crate::ids::ImageId;
use crate::state::StateDir;

pub use crate::state::write_atomic;

pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!("ignoring unreadable record {}: {e}", path.display());
            None
        }
    }
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).expect("records serialize");
    write_atomic(path, &bytes)
}

/// One node pushed to one registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushRecord {
    pub node: String,
    pub registry: String,
    pub image_id: ImageId,
    /// `<url>/<namespace>/<node>@sha256:…`
    pub reference: String,
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: u64,
}

/// What a build consumed, kept so that `dk plan` can say what changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// Context path -> fingerprint of kind, mode and content.
    pub files: BTreeMap<String, String>,
    /// Fingerprint of the Dockerfile as sent (parents pinned to ids).
    pub dockerfile: String,
    pub args: BTreeMap<String, String>,
    pub target: Option<String>,
    /// Node parent name -> image id built on.
    pub parents: BTreeMap<String, ImageId>,
    /// External image reference -> local image id built on.
    pub externals: BTreeMap<String, ImageId>,
    /// The labels the image carries (hashed with the rest).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildRecord {
    pub node: String,
    pub input_hash: String,
    pub image_id: ImageId,
    pub built_at: u64,
    /// The same moment in milliseconds (records before it have only `built_at`): two
    /// builds of a node in one second are still told apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_at_ms: Option<u64>,
    pub duration_ms: u64,
    pub log: Option<String>,
    pub inputs: Inputs,
    /// The VCS revision of the workspace when the image was built. Not an image label:
    /// a label is part of the image id, and hashing the revision would rebuild every node
    /// on every commit (see ARCHITECTURE.md, "What is hashed").
    #[serde(default)]
    pub revision: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    pub duration_ms: u64,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestRecord {
    pub node: String,
    pub image_id: ImageId,
    pub spec_hash: String,
    pub passed: bool,
    pub tested_at: u64,
    pub duration_ms: u64,
    pub checks: Vec<CheckResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PromotionRecord {
    pub node: String,
    pub image_id: ImageId,
    pub previous: Option<ImageId>,
    pub promoted_at: u64,
    /// `promote` or `rollback`.
    pub action: String,
    /// The test spec hash the image passed when it went live, and when it was tested.
    #[serde(default)]
    pub test_spec: Option<String>,
    #[serde(default)]
    pub tested_at: Option<u64>,
    /// The VCS revision its build recorded.
    #[serde(default)]
    pub revision: Option<String>,
}

/// A live start that did not become ready: dk does not try the same image with the same
/// settings again until one of them changes (or `--retry`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailedStart {
    pub node: String,
    pub image_id: ImageId,
    pub settings_hash: String,
    pub at: u64,
    pub reason: String,
    /// Workspace-relative path of the kept log.
    pub log: Option<String>,
}

/// The record store under `<state_dir>/records`.
#[derive(Debug, Clone)]
pub struct Records {
    dir: PathBuf,
}

/// How many build records are kept per node (older ones are pruned after a build).
const KEEP_BUILDS: usize = 20;

impl Records {
    pub fn new(state: &StateDir) -> Records {
        Records {
            dir: state.records(),
        }
    }

    fn build_path(&self, node: &str, input_hash: &str) -> PathBuf {
        self.dir
            .join("builds")
            .join(node)
            .join(format!("{input_hash}.json"))
    }

    pub fn build(&self, node: &str, input_hash: &str) -> Option<BuildRecord> {
        read_json(&self.build_path(node, input_hash))
    }

    pub fn put_build(&self, rec: &BuildRecord) -> Result<()> {
        write_json(&self.build_path(&rec.node, &rec.input_hash), rec)?;
        self.prune_builds(&rec.node);
        Ok(())
    }

    /// All build records of a node, newest first.
    pub fn builds(&self, node: &str) -> Vec<BuildRecord> {
        let dir = self.dir.join("builds").join(node);
        let mut out: Vec<BuildRecord> = fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| read_json(&e.path()))
            .collect();
        let when = |r: &BuildRecord| r.built_at_ms.unwrap_or(r.built_at * 1000);
        out.sort_by(|a, b| when(b).cmp(&when(a)).then(b.input_hash.cmp(&a.input_hash)));
        out
    }

    fn prune_builds(&self, node: &str) {
        for old in self.builds(node).into_iter().skip(KEEP_BUILDS) {
            let _ = fs::remove_file(self.build_path(node, &old.input_hash));
        }
    }

    fn test_path(&self, node: &str, image_id: &ImageId, spec_hash: &str) -> PathBuf {
        let id = image_id.hex();
        self.dir
            .join("tests")
            .join(node)
            .join(format!("{id}-{spec_hash}.json"))
    }

    pub fn test(&self, node: &str, image_id: &ImageId, spec_hash: &str) -> Option<TestRecord> {
        read_json(&self.test_path(node, image_id, spec_hash))
    }

    pub fn put_test(&self, rec: &TestRecord) -> Result<()> {
        write_json(
            &self.test_path(&rec.node, &rec.image_id, &rec.spec_hash),
            rec,
        )
    }

    /// Test records of a node for one image (any spec), newest first.
    pub fn tests_of_image(&self, node: &str, image_id: &ImageId) -> Vec<TestRecord> {
        let prefix = image_id.hex().to_string();
        let dir = self.dir.join("tests").join(node);
        let mut out: Vec<TestRecord> = fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .filter_map(|e| read_json(&e.path()))
            .collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.tested_at));
        out
    }

    pub fn put_promotion(&self, rec: &PromotionRecord) -> Result<()> {
        let dir = self.dir.join("promotions").join(&rec.node);
        let n = fs::read_dir(&dir).map(|r| r.count()).unwrap_or(0);
        write_json(&dir.join(format!("{}-{n:06}.json", rec.promoted_at)), rec)
    }

    /// Promotions and rollbacks of a node, newest first: its release history. (Files are
    /// named `<time>-<sequence>`, so their names order them, within a second too.)
    pub fn promotions(&self, node: &str) -> Vec<PromotionRecord> {
        let dir = self.dir.join("promotions").join(node);
        let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        paths.iter().rev().filter_map(|p| read_json(p)).collect()
    }

    /// Record a push of `rec.node` to `rec.registry` (the latest one per registry is kept).
    pub fn put_push(&self, rec: &PushRecord) -> Result<()> {
        let file: String = rec
            .registry
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        write_json(
            &self
                .dir
                .join("pushes")
                .join(&rec.node)
                .join(format!("{file}.json")),
            rec,
        )
    }

    /// The latest push of `node` to each registry.
    pub fn pushes(&self, node: &str) -> Vec<PushRecord> {
        let dir = self.dir.join("pushes").join(node);
        let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        paths.sort();
        paths.iter().filter_map(|p| read_json(p)).collect()
    }

    fn failure_path(&self, node: &str) -> PathBuf {
        self.dir.join("failures").join(format!("{node}.json"))
    }

    /// The last live start of `node` that did not become ready, if any.
    pub fn failed_start(&self, node: &str) -> Option<FailedStart> {
        read_json(&self.failure_path(node))
    }

    pub fn put_failed_start(&self, rec: &FailedStart) -> Result<()> {
        write_json(&self.failure_path(&rec.node), rec)
    }

    /// Forget a failed start (after a successful one).
    pub fn clear_failed_start(&self, node: &str) -> Result<()> {
        let p = self.failure_path(node);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &p, e)),
        }
    }

    /// Remove every record of `node`. Returns how many files were removed.
    pub fn clean(&self, node: &str) -> Result<usize> {
        let mut n = 0;
        let failure = self.failure_path(node);
        if failure.exists() {
            fs::remove_file(&failure).map_err(|e| Error::io("remove", &failure, e))?;
            n += 1;
        }
        for kind in ["builds", "tests", "promotions"] {
            let dir = self.dir.join(kind).join(node);
            if dir.exists() {
                n += fs::read_dir(&dir).map(|r| r.count()).unwrap_or(0);
                fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, e))?;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(node: &str, hash: &str, at: u64) -> BuildRecord {
        BuildRecord {
            node: node.into(),
            input_hash: hash.into(),
            image_id: ImageId::new(format!("sha256:{hash}")),
            built_at: at,
            built_at_ms: None,
            duration_ms: 1,
            log: None,
            inputs: Inputs::default(),
            revision: None,
        }
    }

    #[test]
    fn two_builds_in_one_second_are_ordered_by_their_milliseconds() {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::new(&StateDir::new(dir.path().to_path_buf()));
        // The later one has the smaller hash: only the milliseconds can order them.
        let mut first = rec("a", "ffff", 100);
        first.built_at_ms = Some(100_100);
        let mut second = rec("a", "0000", 100);
        second.built_at_ms = Some(100_900);
        records.put_build(&first).unwrap();
        records.put_build(&second).unwrap();
        assert_eq!(records.builds("a")[0].input_hash, "0000");
    }

    #[test]
    fn build_records_round_trip_and_prune() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Records::new(&StateDir::new(tmp.path().to_path_buf()));
        for i in 0..(KEEP_BUILDS + 5) {
            r.put_build(&rec("web", &format!("h{i:03}"), i as u64))
                .unwrap();
        }
        assert_eq!(
            r.build("web", "h024").unwrap().image_id.as_str(),
            "sha256:h024"
        );
        assert!(r.build("web", "h000").is_none(), "oldest pruned");
        assert_eq!(r.builds("web").len(), KEEP_BUILDS);
        assert_eq!(r.builds("web")[0].input_hash, "h024");
    }

    #[test]
    fn corrupt_record_is_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Records::new(&StateDir::new(tmp.path().to_path_buf()));
        let p = r.build_path("web", "bad");
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, b"{ not json").unwrap();
        assert!(r.build("web", "bad").is_none());
        assert!(r.builds("web").is_empty());
    }

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("a/b.json");
        write_atomic(&p, b"1").unwrap();
        write_atomic(&p, b"2").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"2");
        assert_eq!(fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }
}
