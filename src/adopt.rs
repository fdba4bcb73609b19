//! Taking an image instead of building it: when a node has no build record for its inputs
//! (a new checkout, an emptied `.dk/`), the image another checkout built from exactly those
//! inputs is taken — from the daemon (`:latest`, `:live` or `:prev` of the node carrying
//! the same `dk.input-hash` and `dk.workspace`), else, with `[build] registry_cache`, from
//! the first registry, with the test record it passed. What makes the registry's copy
//! trustworthy is what `dk push` sends there (with `registry_cache`): besides the
//! revision and `live`, the tag `in-<input hash>` (the tested image built from those
//! inputs) and, before it, `tested-<image id hex>`: an image of one empty layer whose
//! `dk.test-record` label is the test record (check names, results and durations; no
//! output). An image id is its config's digest, so the image pulled is the image tested.

use base64::Engine as _;

use crate::build::Prepared;
use crate::config::RegistryFile;
use crate::engine::Engine;
use crate::error::Result;
use crate::ids::ImageId;
use crate::labels;
use crate::records::{BuildRecord, PushRecord, TestRecord};
use crate::report::ReporterExt;

/// The label of a test-record image.
pub const TEST_RECORD: &str = "dk.test-record";

/// The registry tag of the tested image built from `input_hash`.
pub fn inputs_tag(input_hash: &str) -> String {
    format!("in-{input_hash}")
}

/// The registry tag of the test record of image `id`.
pub fn record_tag(id: &ImageId) -> String {
    format!("tested-{}", id.hex())
}

/// A test record as a label value: JSON, base64url (a `LABEL` change needs no quoting).
/// What checks printed stays here: only names, results and durations travel.
pub fn encode_record(rec: &TestRecord) -> String {
    let mut rec = rec.clone();
    for c in &mut rec.checks {
        c.detail = None;
    }
    let json = serde_json::to_vec(&rec).expect("serialize a test record");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

pub fn decode_record(value: &str) -> Option<TestRecord> {
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value.trim())
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// Where an adopted image came from.
pub enum Adopted {
    /// The daemon had it (`:latest`, `:live` or `:prev`).
    Daemon { id: ImageId, tag: &'static str },
    /// Pulled from a registry; `tested` when its test record came with it.
    Registry {
        id: ImageId,
        registry: String,
        tested: bool,
    },
}

impl Adopted {
    pub fn id(&self) -> &ImageId {
        match self {
            Adopted::Daemon { id, .. } | Adopted::Registry { id, .. } => id,
        }
    }

    /// Where it came from: `the daemon`, or the registry's url.
    pub fn source(&self) -> String {
        match self {
            Adopted::Daemon { .. } => "the daemon".into(),
            Adopted::Registry { registry, .. } => registry.clone(),
        }
    }

    /// What the build line says.
    pub fn said(&self) -> String {
        match self {
            Adopted::Daemon { id, tag } => format!(
                "taken from the daemon's :{tag} ({}, built from these inputs)",
                id.short()
            ),
            Adopted::Registry {
                id,
                registry,
                tested,
            } => format!(
                "taken from {registry} ({}, built from these inputs{})",
                id.short(),
                if *tested {
                    ", with the test record it passed"
                } else {
                    "; no test record came with it"
                }
            ),
        }
    }
}

impl Engine {
    /// The image built elsewhere from `prepared`'s inputs, made this checkout's `:latest`
    /// with a build record (and the test record it passed, from a registry); None when
    /// there is none. A registry that cannot be asked is a note, and the node is built.
    pub(crate) async fn adopt(
        &self,
        i: usize,
        prepared: &Prepared,
        revision: Option<String>,
    ) -> Result<Option<Adopted>> {
        let name = self.name(i).to_string();
        let ws = &self.ws;
        let mut adopted = self
            .on_daemon(i, &prepared.input_hash)
            .await?
            .map(|(id, tag)| Adopted::Daemon { id, tag });
        if adopted.is_none()
            && ws.registry_cache
            && let Some(r) = ws.registries.first()
        {
            match self.take_from_registry(i, prepared, r).await {
                Ok(found) => adopted = found,
                Err(e) => self.reporter.note(format!(
                    "{name}: the registry's copy could not be asked for, so it is built: {}",
                    e.render()
                )),
            }
        }
        let Some(adopted) = adopted else {
            return Ok(None);
        };
        let id = adopted.id().clone();
        // One from the registry was named `:latest` when pulled (`take_from_registry`).
        if let Adopted::Daemon { tag, .. } = &adopted
            && *tag != "latest"
        {
            self.daemon()
                .await?
                .tag(id.as_str(), &ws.repo(&name), &ws.tag(&name, "latest"))
                .await?;
        }
        self.records.put_build(&BuildRecord {
            node: name,
            input_hash: prepared.input_hash.clone(),
            image_id: id,
            built_at: crate::units::now_unix(),
            built_at_ms: Some(crate::units::since_epoch().as_millis() as u64),
            duration_ms: 0,
            log: None,
            inputs: prepared.inputs.clone(),
            revision,
        })?;
        Ok(Some(adopted))
    }

    /// The daemon's image of node `i` built from `input_hash` by this workspace (another
    /// checkout of it), and which of its tags names it. A read: `dk plan` asks it too.
    pub(crate) async fn on_daemon(
        &self,
        i: usize,
        input_hash: &str,
    ) -> Result<Option<(ImageId, &'static str)>> {
        let name = self.name(i);
        for tag in ["latest", "live", "prev"] {
            if let Some(f) = self
                .reads()?
                .inspect_image(&self.ws.image(name, tag))
                .await?
                && f.labels.get(labels::INPUT_HASH).map(String::as_str) == Some(input_hash)
                && f.labels.get(labels::WORKSPACE) == Some(&self.ws.id)
            {
                return Ok(Some((f.id, tag)));
            }
        }
        Ok(None)
    }

    /// Pull `in-<input hash>` of node `i` from registry `r`, with its test record.
    async fn take_from_registry(
        &self,
        i: usize,
        prepared: &Prepared,
        r: &RegistryFile,
    ) -> Result<Option<Adopted>> {
        let name = self.name(i);
        let daemon = self.daemon().await?;
        let repo = self.ws.registry_repo(r, name);
        let auth = crate::credentials::for_registry(&r.url)?;
        let tag = inputs_tag(&prepared.input_hash);
        let reference = format!("{repo}:{tag}");
        self.reporter
            .step(name, format!("asking {} for a tested image", r.url));
        if !daemon.pull_present(&reference, auth.as_ref()).await? {
            return Ok(None);
        }
        let facts = daemon.inspect_image(&reference).await?.filter(|f| {
            f.labels.get(labels::INPUT_HASH) == Some(&prepared.input_hash)
                && f.labels.get(labels::WORKSPACE) == Some(&self.ws.id)
        });
        // Named `:latest` before the registry's tag goes: an image whose last name goes is
        // removed (as one that is not what its tag says should be).
        if let Some(f) = &facts {
            daemon
                .tag(
                    f.id.as_str(),
                    &self.ws.repo(name),
                    &self.ws.tag(name, "latest"),
                )
                .await?;
        }
        daemon.untag(&reference).await?;
        let Some(facts) = facts else {
            // Not what the tag says: built here instead.
            return Ok(None);
        };
        let id = facts.id.clone();
        if let Some(digest) = facts
            .repo_digests
            .iter()
            .find_map(|d| d.strip_prefix(&format!("{repo}@")))
        {
            self.records.put_push(&PushRecord {
                node: name.to_string(),
                registry: r.url.clone(),
                image_id: id.clone(),
                reference: format!("{repo}@{digest}"),
                digest: digest.to_string(),
                tags: vec![tag],
                pushed_at: crate::units::now_unix(),
            })?;
        }
        let record_ref = format!("{repo}:{}", record_tag(&id));
        let mut tested = false;
        if daemon.pull_present(&record_ref, auth.as_ref()).await? {
            let rec = daemon
                .inspect_image(&record_ref)
                .await?
                .and_then(|f| f.labels.get(TEST_RECORD).and_then(|v| decode_record(v)));
            daemon.untag(&record_ref).await?;
            if let Some(rec) = rec.filter(|t| t.node == name && t.image_id == id && t.passed) {
                self.records.put_test(&rec)?;
                tested = true;
            }
        }
        Ok(Some(Adopted::Registry {
            id,
            registry: r.url.clone(),
            tested,
        }))
    }

    /// With `registry_cache`, what `dk push` sends besides the revision and `live`: the
    /// test record of `id` (`tested-<hex>`), then `in-<input hash>`. Returns the tags.
    pub(crate) async fn push_shared(
        &self,
        i: usize,
        id: &ImageId,
        r: &RegistryFile,
        auth: Option<&crate::docker::RegistryAuth>,
    ) -> Result<Vec<String>> {
        let name = self.name(i);
        let daemon = self.daemon().await?;
        let repo = self.ws.registry_repo(r, name);
        let mut tags = Vec::new();
        if let Some(rec) = self
            .records
            .tests_of_image(name, id)
            .into_iter()
            .find(|t| t.passed)
        {
            let mut l = labels::owned(&self.ws.id, labels::Role::Build);
            l.insert(labels::NODE, name);
            l.insert(TEST_RECORD, encode_record(&rec));
            let tag = record_tag(id);
            daemon.import_labelled(&repo, &tag, &l.to_map()).await?;
            let pushed = self.push_image_tag(&repo, &tag, &r.url, auth).await;
            daemon.untag(&format!("{repo}:{tag}")).await?;
            pushed?;
            tags.push(tag);
        }
        let input_hash = daemon
            .inspect_image(id.as_str())
            .await?
            .and_then(|f| f.labels.get(labels::INPUT_HASH).cloned());
        if let Some(h) = input_hash {
            let tag = inputs_tag(&h);
            daemon.tag(id.as_str(), &repo, &tag).await?;
            let pushed = self.push_image_tag(&repo, &tag, &r.url, auth).await;
            daemon.untag(&format!("{repo}:{tag}")).await?;
            pushed?;
            tags.push(tag);
        }
        Ok(tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::CheckResult;

    #[test]
    fn a_test_record_travels_as_a_label_without_what_checks_printed() {
        let rec = TestRecord {
            node: "web".into(),
            image_id: ImageId::new(format!("sha256:{}", "ab".repeat(32))),
            spec_hash: "0123".into(),
            passed: true,
            tested_at: 17,
            duration_ms: 900,
            checks: vec![CheckResult {
                name: "http".into(),
                passed: true,
                duration_ms: 12,
                detail: Some("password=hunter2".into()),
            }],
        };
        let label = encode_record(&rec);
        assert!(
            label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let back = decode_record(&label).unwrap();
        assert_eq!(back.node, "web");
        assert_eq!(back.image_id, rec.image_id);
        assert_eq!(back.checks[0].detail, None);
        assert_eq!(back.checks[0].name, "http");
        assert!(decode_record("not base64!").is_none());
        assert_eq!(
            record_tag(&rec.image_id),
            format!("tested-{}", "ab".repeat(32))
        );
        assert_eq!(inputs_tag("ff"), "in-ff");
    }
}
