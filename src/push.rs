//! `dk push`: each node's `:live` image to every `[[registry]]` of dk.toml, as
//! `<url>/<namespace>/<node>`, tagged with the VCS revision its build recorded (else
//! `id-<12 hex>`) and `live`. The revision goes to every registry first; `live` moves only
//! once every registry has it, so a failed push never leaves `live` moved in one registry
//! and not another. The digest each registry reports must be the one the daemon pushed;
//! it is recorded. Credentials come from the Docker config (`credentials.rs`) and only go
//! into the push's auth header. Transient failures are retried (3 tries); a refusal of
//! credentials or of TLS is not, and says what to do.

use std::time::Duration;

use crate::config::RegistryFile;
use crate::docker::{PushFailure, RegistryAuth};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ids::ImageId;
use crate::lock::WorkspaceLock;
use crate::report::ReporterExt;

pub use crate::records::PushRecord;

/// What `push` did for one node.
#[derive(Debug)]
pub struct PushOutcome {
    pub node: usize,
    pub pushed: Vec<PushRecord>,
    /// The registries that refused, and why; `live` was then moved nowhere.
    pub failed: Vec<(String, Error)>,
}

const TRIES: u32 = 3;

/// The tag for a revision: Docker's tag characters, at most 128.
fn revision_tag(revision: Option<&str>, id: &ImageId) -> String {
    match revision {
        Some(r) if !r.is_empty() => r
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(128)
            .collect(),
        _ => format!("id-{}", id.short()),
    }
}

impl Engine {
    /// Push the `:live` image of each of `nodes` to `registries`.
    pub async fn push(
        &self,
        _lock: &WorkspaceLock,
        nodes: &[usize],
        registries: &[RegistryFile],
    ) -> Result<Vec<PushOutcome>> {
        self.push_to(nodes, registries).await
    }

    /// `push` within a run that holds the lock already (a Swarm deploy pushes first).
    pub(crate) async fn push_to(
        &self,
        nodes: &[usize],
        registries: &[RegistryFile],
    ) -> Result<Vec<PushOutcome>> {
        // Each node's other platforms go with it.
        let mut all: Vec<usize> = nodes
            .iter()
            .flat_map(|&i| self.ws.platform_group(i))
            .collect();
        all.sort_unstable();
        all.dedup();
        let live = self.tag_ids(&all, "live").await?;
        let daemon = self.daemon().await?;
        let mut auths: Vec<Option<RegistryAuth>> = Vec::new();
        for r in registries {
            auths.push(crate::credentials::for_registry(&r.url)?);
        }
        let mut out = Vec::new();
        let mut indexed = std::collections::HashSet::new();
        for &i in nodes {
            let node = &self.ws.nodes[i];
            if node.multi_platform() {
                // A directory built for several platforms is pushed as one index per tag,
                // once, as its own node (its other platforms' nodes go with it).
                let primary = self.ws.platform_group(i)[0];
                if indexed.insert(primary) {
                    out.push(
                        self.push_platforms(primary, &live, registries, &auths)
                            .await?,
                    );
                }
                continue;
            }
            let name = self.name(i).to_string();
            let mut outcome = PushOutcome {
                node: i,
                pushed: Vec::new(),
                failed: Vec::new(),
            };
            let Some(id) = live.get(&i) else {
                outcome.failed.push(("-".into(), self.no_live(i, &name)));
                out.push(outcome);
                continue;
            };
            let rev = self.revision_tag_of(&name, id);
            let repo = |r: &RegistryFile| self.ws.registry_repo(r, &name);
            let mut shared: Vec<String> = Vec::new();
            // Phase 1: the revision, everywhere.
            for (r, auth) in registries.iter().zip(&auths) {
                self.reporter.step(&name, format!("pushing to {}", r.url));
                if let Err(e) = self
                    .push_tag(&repo(r), &rev, id, &r.url, auth.as_ref())
                    .await
                {
                    outcome.failed.push((r.url.clone(), e));
                    continue;
                }
                // `registry_cache`: the test record and the inputs' tag, for other checkouts.
                if self.ws.registry_cache {
                    match self.push_shared(i, id, r, auth.as_ref()).await {
                        Ok(tags) => shared.extend(tags),
                        Err(e) => outcome.failed.push((r.url.clone(), e)),
                    }
                }
            }
            // Phase 2: `live`, only when every registry took the revision.
            if outcome.failed.is_empty() {
                for (r, auth) in registries.iter().zip(&auths) {
                    let repo = repo(r);
                    let moved = self
                        .push_tag(&repo, "live", id, &r.url, auth.as_ref())
                        .await;
                    let verified = match moved {
                        Ok(()) => self.verify(&repo, &rev, id, auth.as_ref()).await,
                        Err(e) => Err(e),
                    };
                    match verified {
                        Ok(digest) => {
                            let rec = PushRecord {
                                node: name.clone(),
                                registry: r.url.clone(),
                                image_id: id.clone(),
                                reference: format!("{repo}@{digest}"),
                                digest,
                                tags: [rev.clone(), "live".into()]
                                    .into_iter()
                                    .chain(shared.iter().cloned())
                                    .collect(),
                                pushed_at: crate::units::now_unix(),
                            };
                            self.records.put_push(&rec)?;
                            outcome.pushed.push(rec);
                        }
                        Err(e) => outcome.failed.push((r.url.clone(), e)),
                    }
                }
            }
            // The local names in the registries' repositories served the push only.
            for r in registries {
                let repo = repo(r);
                for tag in [rev.as_str(), "live"] {
                    daemon.untag(&format!("{repo}:{tag}")).await?;
                }
            }
            out.push(outcome);
        }
        Ok(out)
    }

    /// Push the `:live` images of node `i`'s platforms (`rev-<arch>` each, the machine's own
    /// as `rev`'s entry like the others), then write one index per tag through the
    /// registry's API: `rev` on every registry first, then `live` — only when every
    /// registry has the whole `rev` index. Each index is read back and verified.
    async fn push_platforms(
        &self,
        i: usize,
        live: &std::collections::HashMap<usize, ImageId>,
        registries: &[RegistryFile],
        auths: &[Option<RegistryAuth>],
    ) -> Result<PushOutcome> {
        let group = self.ws.platform_group(i);
        let name = self.name(i).to_string();
        let mut outcome = PushOutcome {
            node: i,
            pushed: Vec::new(),
            failed: Vec::new(),
        };
        let mut members = Vec::new();
        for &m in &group {
            let node = &self.ws.nodes[m];
            match (live.get(&m), &node.platform) {
                (Some(id), Some(p)) => members.push((m, id.clone(), p.clone())),
                _ => outcome.failed.push(("-".into(), self.no_live(m, &name))),
            }
        }
        if !outcome.failed.is_empty() {
            return Ok(outcome);
        }
        let rev = self.revision_tag_of(&name, &members[0].1);
        let daemon = self.daemon().await?;
        let client = crate::regclient::RegistryClient::new()?
            .with_insecure(daemon.insecure_registries().await?);
        // Phase 1: every platform's image, then the `rev` index, everywhere.
        let mut indexed = Vec::new();
        for (r, auth) in registries.iter().zip(auths) {
            let repo = self.ws.registry_repo(r, &name);
            let reference = crate::regclient::Reference::parse(&repo)
                .ok_or_else(|| Error::usage(format!("`{repo}` is not a repository reference")))?;
            let mut entries = Vec::new();
            let mut failed = None;
            for (m, id, platform) in &members {
                let member = self.name(*m);
                let tag = format!("{rev}-{}", platform.suffix());
                self.reporter
                    .step(member, format!("pushing to {} as {tag}", r.url));
                let pushed = self.push_tag(&repo, &tag, id, &r.url, auth.as_ref()).await;
                daemon.untag(&format!("{repo}:{tag}")).await?;
                let manifest = match pushed {
                    Ok(()) => client.manifest_raw(&reference, &tag, auth.as_ref()).await,
                    Err(e) => Err(e),
                };
                // `registry_cache`: each platform's test record and inputs' tag too.
                let manifest = match manifest {
                    Ok(raw) if self.ws.registry_cache => self
                        .push_shared(*m, id, r, auth.as_ref())
                        .await
                        .map(|_| raw),
                    other => other,
                };
                match manifest {
                    Ok(raw) => entries.push((raw, platform.clone())),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let index = match failed {
                Some(e) => Err(e),
                None => {
                    self.reporter
                        .step(&name, format!("writing the index {rev} on {}", r.url));
                    client
                        .put_index(&reference, &rev, &entries, auth.as_ref())
                        .await
                }
            };
            match index {
                Ok(digest) => indexed.push((r, auth, repo, reference, entries, digest)),
                Err(e) => outcome.failed.push((r.url.clone(), e)),
            }
        }
        if !outcome.failed.is_empty() {
            return Ok(outcome);
        }
        // Phase 2: `live`, the same index, everywhere.
        for (r, auth, repo, reference, entries, digest) in indexed {
            let moved = client
                .put_index(&reference, "live", &entries, auth.as_ref())
                .await
                .and_then(|d| {
                    if d == digest {
                        Ok(d)
                    } else {
                        Err(Error::Registry {
                            registry: r.url.clone(),
                            message: format!("live's index ({d}) is not {rev}'s ({digest})"),
                            help: "something else pushed to the same repository meanwhile: `dk push` again".into(),
                        })
                    }
                });
            match moved {
                Ok(digest) => {
                    let rec = PushRecord {
                        node: name.clone(),
                        registry: r.url.clone(),
                        image_id: members[0].1.clone(),
                        reference: format!("{repo}@{digest}"),
                        digest,
                        tags: vec![rev.clone(), "live".into()],
                        pushed_at: crate::units::now_unix(),
                    };
                    self.records.put_push(&rec)?;
                    outcome.pushed.push(rec);
                }
                Err(e) => outcome.failed.push((r.url.clone(), e)),
            }
        }
        Ok(outcome)
    }

    /// The error for node `i`, which has no `:live` to push (`dk up name` makes one).
    fn no_live(&self, i: usize, name: &str) -> Error {
        let node = &self.ws.nodes[i];
        Error::MissingImage {
            node: node.shown(),
            image: self.ws.image(&node.name, "live"),
            message: format!("{} has no :live image to push", node.shown()),
            help: format!("run `dk up {name}` (build, test, promote) first"),
        }
    }

    /// The revision tag of node `name`'s release `id`: the VCS revision its promotion
    /// recorded, else `id-<12 hex>`.
    fn revision_tag_of(&self, name: &str, id: &ImageId) -> String {
        let revision = self
            .records
            .promotions(name)
            .into_iter()
            .find(|p| &p.image_id == id)
            .and_then(|p| p.revision);
        revision_tag(revision.as_deref(), id)
    }

    /// Tag `id` as `repo:tag` and push it, retrying what may pass on another try.
    async fn push_tag(
        &self,
        repo: &str,
        tag: &str,
        id: &ImageId,
        url: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<()> {
        self.daemon().await?.tag(id.as_str(), repo, tag).await?;
        self.push_image_tag(repo, tag, url, auth).await
    }

    /// Push `repo:tag` (a tag the daemon has), retrying what may pass on another try.
    pub(crate) async fn push_image_tag(
        &self,
        repo: &str,
        tag: &str,
        url: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<()> {
        let daemon = self.daemon().await?;
        let host = crate::credentials::host_of(url);
        let mut last = String::new();
        for attempt in 1..=TRIES {
            match daemon.push(repo, tag, auth).await? {
                Ok(()) => return Ok(()),
                Err((PushFailure::Auth, m)) => {
                    return Err(Error::Registry {
                        registry: url.to_string(),
                        message: format!(
                            "the registry {} the push of {repo}:{tag} ({m})",
                            if auth.is_some() {
                                "refused the credentials for"
                            } else {
                                "wants credentials for"
                            }
                        ),
                        help: format!(
                            "log in as the Docker CLI does, and dk uses the same credentials: `docker login {host}`"
                        ),
                    });
                }
                Err((PushFailure::Tls, m)) => {
                    return Err(Error::Registry {
                        registry: url.to_string(),
                        message: format!("the daemon cannot talk TLS to the registry ({m})"),
                        help: format!(
                            "on the daemon's machine, put the registry's CA certificate in /etc/docker/certs.d/{host}/ca.crt; a plain-HTTP registry goes in the daemon's insecure-registries (loopback ones are trusted already)"
                        ),
                    });
                }
                Err((PushFailure::Other, m)) => {
                    last = m;
                    if attempt < TRIES {
                        tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
                    }
                }
            }
        }
        Err(Error::Registry {
            registry: url.to_string(),
            message: format!("pushing {repo}:{tag} failed {TRIES} times; the last: {last}"),
            help: "check that the registry answers and has room, then `dk push` again".into(),
        })
    }

    /// The registry's digest of `repo:rev` and `repo:live` must agree with what the daemon
    /// pushed (its RepoDigests for `repo`). Returns it.
    async fn verify(
        &self,
        repo: &str,
        rev: &str,
        id: &ImageId,
        auth: Option<&RegistryAuth>,
    ) -> Result<String> {
        let daemon = self.daemon().await?;
        let at_rev = daemon
            .registry_digest(&format!("{repo}:{rev}"), auth)
            .await?;
        let at_live = daemon
            .registry_digest(&format!("{repo}:live"), auth)
            .await?;
        let facts = daemon.inspect_image(id.as_str()).await?;
        let pushed = facts
            .iter()
            .flat_map(|f| f.repo_digests.iter())
            .find_map(|d| d.strip_prefix(&format!("{repo}@")).map(String::from));
        if at_rev != at_live || pushed.as_deref() != Some(at_live.as_str()) {
            return Err(Error::Registry {
                registry: repo.to_string(),
                message: format!(
                    "the registry's digests ({rev}: {at_rev}, live: {at_live}) are not the one the daemon pushed ({})",
                    pushed.unwrap_or_else(|| "none".into())
                ),
                help: "something else pushed to the same repository meanwhile: `dk push` again"
                    .into(),
            });
        }
        Ok(at_live)
    }
}

impl Engine {
    /// The registries `dk push --registry …` names (all of dk.toml's when none): an
    /// error when dk.toml has none or names none of them.
    pub fn push_targets(&self, only: &[String]) -> Result<Vec<RegistryFile>> {
        if self.ws.registries.is_empty() {
            return Err(Error::usage_help(
                "dk.toml names no registry",
                "add one: [[registry]] url = \"registry.example.com:5000\"",
            ));
        }
        let registries: Vec<RegistryFile> = self
            .ws
            .registries
            .iter()
            .filter(|r| only.is_empty() || only.iter().any(|o| o == &r.url))
            .cloned()
            .collect();
        if registries.is_empty() {
            return Err(Error::usage_help(
                format!("no registry of dk.toml is {}", only.join(", ")),
                format!(
                    "dk.toml has: {}",
                    self.ws
                        .registries
                        .iter()
                        .map(|r| r.url.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(registries)
    }

    /// The nodes `dk push` pushes: the named ones, else every node with a `:live` image.
    pub async fn push_nodes(&self, names: &[String]) -> Result<Vec<usize>> {
        if !names.is_empty() {
            return Ok(self.select(names)?.selected);
        }
        let all: Vec<usize> = (0..self.ws.nodes.len()).collect();
        let live = self.tag_ids(&all, "live").await?;
        Ok(all.into_iter().filter(|i| live.contains_key(i)).collect())
    }

    /// `push = "on-promote"`: what `dk up` promoted goes to those registries too. Empty
    /// when no registry asks for it or nothing was promoted.
    pub async fn push_promoted(
        &self,
        lock: &WorkspaceLock,
        promotions: &[crate::promote::PromoteReport],
    ) -> Result<Vec<PushOutcome>> {
        let on_promote: Vec<RegistryFile> = self
            .ws
            .registries
            .iter()
            .filter(|r| r.push == crate::config::PushWhen::OnPromote)
            .cloned()
            .collect();
        let promoted: Vec<usize> = promotions
            .iter()
            .filter(|p| matches!(p.status, crate::promote::PromoteStatus::Promoted { .. }))
            .map(|p| p.node)
            .collect();
        if on_promote.is_empty() || promoted.is_empty() {
            return Ok(Vec::new());
        }
        self.push(lock, &promoted, &on_promote).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_tags() {
        let id =
            ImageId::new("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        assert_eq!(revision_tag(Some("a1b2c3d"), &id), "a1b2c3d");
        assert_eq!(revision_tag(Some("a1b2+dirty"), &id), "a1b2-dirty");
        assert_eq!(revision_tag(None, &id), "id-0123456789ab");
    }
}
