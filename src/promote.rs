//! `dk promote` and `dk rollback`: move tags, never untested images.
//!
//! A node is promoted only when its current `:latest` id has a passing test record for its
//! current test spec, and every node parent it was built on is live at exactly the id it was
//! built on (parents are promoted first, in order, in the same command). Tag moves are
//! ordered so that a crash never leaves a node without `:live` when it had one: the old live
//! is tagged `:prev` first, then `:latest`'s id is tagged `:live`.

use std::collections::HashMap;

use serde::Serialize;

use crate::engine::{Engine, Selection};
use crate::error::{Error, Result};
use crate::ids::ImageId;
use crate::lock::WorkspaceLock;
use crate::records::PromotionRecord;
use crate::report::ReporterExt;
use crate::units::now_unix;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PromoteStatus {
    Promoted {
        image_id: ImageId,
        previous: Option<ImageId>,
    },
    AlreadyLive {
        image_id: ImageId,
    },
    Refused {
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct PromoteReport {
    #[serde(skip)]
    pub node: usize,
    pub name: String,
    #[serde(flatten)]
    pub status: PromoteStatus,
}

/// What a promotion step does for one node.
enum Decision {
    /// Tell this; move nothing.
    Report(PromoteStatus),
    /// Move `:live` to `image` (`previous` becomes `:prev`).
    Promote {
        image: ImageId,
        previous: Option<ImageId>,
    },
}

/// The id each node's `:live` has after a promotion step (promoted, or already live).
pub fn live_ids(reports: &[PromoteReport]) -> std::collections::HashMap<usize, ImageId> {
    reports
        .iter()
        .filter_map(|p| match &p.status {
            PromoteStatus::Promoted { image_id, .. } | PromoteStatus::AlreadyLive { image_id } => {
                Some((p.node, image_id.clone()))
            }
            PromoteStatus::Refused { .. } => None,
        })
        .collect()
}

pub fn all_ok(reports: &[PromoteReport]) -> bool {
    reports
        .iter()
        .all(|r| !matches!(r.status, PromoteStatus::Refused { .. }))
}

impl Engine {
    /// `dk promote`: promote the selection, with the parents each needs live first.
    pub async fn promote(
        &self,
        _lock: &WorkspaceLock,
        names: &[String],
    ) -> Result<Vec<PromoteReport>> {
        let sel = self.select(names)?;
        let latest = self.tag_ids(&sel.order, "latest").await?;
        self.promote_step(&sel, &latest).await
    }

    /// Where `tag` points for each of `nodes` (one snapshot, read without negotiating).
    pub async fn tag_ids(&self, nodes: &[usize], tag: &str) -> Result<HashMap<usize, ImageId>> {
        let refs: Vec<String> = nodes
            .iter()
            .map(|&i| self.ws.image(self.name(i), tag))
            .collect();
        let set = self.image_snapshot(&refs).await?;
        Ok(nodes
            .iter()
            .zip(&refs)
            .filter_map(|(&i, r)| Some((i, set.tag(r)?.clone())))
            .collect())
    }

    /// Promote the selected nodes of `sel` whose `:latest` is `latest[node]`; a parent in
    /// `sel.order` is promoted first when a selected child was built on it at that id. A
    /// directory built for several platforms goes live on all of them or on none.
    pub async fn promote_step(
        &self,
        sel: &Selection,
        latest: &HashMap<usize, ImageId>,
    ) -> Result<Vec<PromoteReport>> {
        let live_before = self.tag_ids(&sel.order, "live").await?;
        // Decide first; a platform refused vetoes its directory's other platforms, which may
        // refuse their children in turn: decide again until nothing more is vetoed.
        let mut vetoed: HashMap<usize, String> = HashMap::new();
        let decisions = loop {
            let decisions = self.decide(sel, latest, &live_before, &vetoed);
            let mut more = false;
            for (i, d) in &decisions {
                let Decision::Report(PromoteStatus::Refused { reason }) = d else {
                    continue;
                };
                for j in self.ws.platform_group(*i) {
                    if j != *i && !vetoed.contains_key(&j) {
                        let why = format!(
                            "{} cannot go live without {}, which may not: {reason}",
                            self.ws.nodes[j].shown(),
                            self.ws.nodes[*i].shown()
                        );
                        vetoed.insert(j, why);
                        more = true;
                    }
                }
            }
            if !more {
                break decisions;
            }
        };
        let mut reports = Vec::new();
        for (i, d) in decisions {
            let name = self.name(i).to_string();
            let status = match d {
                Decision::Report(status) => status,
                Decision::Promote { image, previous } => {
                    let t = std::time::Instant::now();
                    self.reporter.start(&name, "promote");
                    self.move_tags(&name, &image, previous.as_ref()).await?;
                    self.record_release(i, &image, previous.as_ref(), "promote")
                        .await?;
                    self.reporter.finish(
                        &name,
                        "promote",
                        &promoted_line(&image, previous.as_ref()),
                        true,
                        t.elapsed(),
                        None,
                    );
                    PromoteStatus::Promoted {
                        image_id: image,
                        previous,
                    }
                }
            };
            reports.push(PromoteReport {
                node: i,
                name,
                status,
            });
        }
        Ok(reports)
    }

    /// What promoting `sel` would do for each node it reports on, in order, given where
    /// `:live` was and the nodes `vetoed` (with why).
    fn decide(
        &self,
        sel: &Selection,
        latest: &HashMap<usize, ImageId>,
        live_before: &HashMap<usize, ImageId>,
        vetoed: &HashMap<usize, String>,
    ) -> Vec<(usize, Decision)> {
        let mut out = Vec::new();
        // Ids that are live after this command, by node.
        let mut live_now: HashMap<usize, Option<ImageId>> = HashMap::new();
        for &i in &sel.order {
            let name = self.name(i);
            let live = live_before.get(&i).cloned();
            let is_selected = sel.contains(i);
            let Some(latest_id) = latest.get(&i).cloned() else {
                if is_selected {
                    out.push((
                        i,
                        Decision::Report(PromoteStatus::Refused {
                            reason: format!("{name} has no :latest image; run `dk build {name}`"),
                        }),
                    ));
                }
                live_now.insert(i, live);
                continue;
            };
            if live.as_ref() == Some(&latest_id) {
                if is_selected {
                    out.push((
                        i,
                        Decision::Report(PromoteStatus::AlreadyLive {
                            image_id: latest_id,
                        }),
                    ));
                }
                live_now.insert(i, live);
                continue;
            }
            // A parent that is not selected is promoted only when a selected child needs
            // it at this id; otherwise it is left alone.
            if !is_selected && !self.needed_at(i, &latest_id, sel, latest) {
                live_now.insert(i, live);
                continue;
            }
            let blocker = vetoed
                .get(&i)
                .cloned()
                .or_else(|| self.promotion_blocker(i, &latest_id, &live_now));
            match blocker {
                Some(reason) => {
                    out.push((i, Decision::Report(PromoteStatus::Refused { reason })));
                    live_now.insert(i, live);
                }
                None => {
                    out.push((
                        i,
                        Decision::Promote {
                            image: latest_id.clone(),
                            previous: live,
                        },
                    ));
                    live_now.insert(i, Some(latest_id));
                }
            }
        }
        out
    }

    /// Is some selected node (or child of `i`) in `sel` built on node `i` at `id`?
    fn needed_at(
        &self,
        i: usize,
        id: &ImageId,
        sel: &Selection,
        latest: &HashMap<usize, ImageId>,
    ) -> bool {
        sel.order
            .iter()
            .filter(|&&c| sel.contains(c) || self.graph.children[i].contains(&c))
            .filter(|&&c| self.graph.parents[c].contains(&i))
            .filter_map(|&c| self.build_record_of(c, latest.get(&c)?))
            .any(|rec| rec.inputs.parents.get(self.name(i)) == Some(id))
    }

    /// The build record that produced `image_id` for node `i`.
    pub(crate) fn build_record_of(
        &self,
        i: usize,
        image_id: &ImageId,
    ) -> Option<crate::records::BuildRecord> {
        self.records
            .builds(self.name(i))
            .into_iter()
            .find(|r| &r.image_id == image_id)
    }

    /// Why `latest` of node `i` may not go live, or None when it may. `live_now` holds
    /// the live id of every node of the selection's order (parents come first).
    fn promotion_blocker(
        &self,
        i: usize,
        latest: &ImageId,
        live_now: &HashMap<usize, Option<ImageId>>,
    ) -> Option<String> {
        let name = self.name(i);
        let spec = self.test_spec_hash(i);
        match self.records.test(name, latest, &spec) {
            Some(r) if r.passed => {}
            Some(r) => {
                let failed: Vec<&str> = r
                    .checks
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| c.name.as_str())
                    .collect();
                return Some(format!(
                    "{name} {} failed its tests ({}); fix it and run `dk test {name}`",
                    latest.short(),
                    failed.join("; ")
                ));
            }
            None if !self.records.tests_of_image(name, latest).is_empty() => {
                return Some(format!(
                    "the test spec of {name} changed since {} was tested; run `dk test {name}`",
                    latest.short()
                ));
            }
            None => {
                return Some(format!(
                    "{name} {} is untested; run `dk test {name}` first",
                    latest.short()
                ));
            }
        }
        let Some(rec) = self.build_record_of(i, latest) else {
            return Some(format!(
                "no build record for {name} {}: it was not built by dk here; run `dk build {name}`",
                latest.short()
            ));
        };
        for (parent, built_on) in &rec.inputs.parents {
            let Some(p) = self.ws.nodes.iter().position(|n| &n.name == parent) else {
                continue;
            };
            let live = live_now.get(&p).cloned().flatten();
            if live.as_ref() != Some(built_on) {
                return Some(format!(
                    "{name} was built on {parent} {}, but {parent} is live at {}; promote {parent} (it must pass its tests) or rebuild {name}",
                    built_on.short(),
                    live.as_ref().map(ImageId::short).unwrap_or("nothing")
                ));
            }
        }
        None
    }

    /// `:live` -> `:prev`, then `new` -> `:live`: at no moment is there no `:live`.
    async fn move_tags(&self, name: &str, new: &ImageId, old_live: Option<&ImageId>) -> Result<()> {
        let daemon = self.daemon().await?;
        let repo = self.ws.repo(name);
        if let Some(old) = old_live {
            daemon
                .tag(old.as_str(), &repo, &self.ws.tag(name, "prev"))
                .await?;
        }
        daemon
            .tag(new.as_str(), &repo, &self.ws.tag(name, "live"))
            .await
    }

    /// Undo a rollback's tag move: `live` back to `:live`, `undone` to `:prev`.
    pub(crate) async fn move_tags_back(
        &self,
        name: &str,
        live: &ImageId,
        undone: &ImageId,
    ) -> Result<()> {
        self.move_tags(name, live, Some(undone)).await
    }

    /// How many live images of node `i` are kept for rollback.
    pub fn keep_releases(&self, i: usize) -> usize {
        self.ws.nodes[i]
            .manifest
            .deploy
            .keep_releases
            .or(self.ws.deploy.keep_releases)
            .unwrap_or(3)
            .max(1) as usize
    }

    /// Append a promotion or rollback to node `i`'s release history, and keep the last
    /// `keep_releases` live images (tagged `release-<id>` in its repository, which protects
    /// them from pruning); older ones lose that tag.
    pub(crate) async fn record_release(
        &self,
        i: usize,
        image: &ImageId,
        previous: Option<&ImageId>,
        action: &str,
    ) -> Result<()> {
        let name = self.name(i).to_string();
        let tested = self
            .records
            .tests_of_image(&name, image)
            .into_iter()
            .find(|r| r.passed);
        self.records.put_promotion(&PromotionRecord {
            node: name.clone(),
            image_id: image.clone(),
            previous: previous.cloned(),
            promoted_at: now_unix(),
            action: action.into(),
            test_spec: tested.as_ref().map(|t| t.spec_hash.clone()),
            tested_at: tested.as_ref().map(|t| t.tested_at),
            revision: self.build_record_of(i, image).and_then(|b| b.revision),
        })?;
        let daemon = self.daemon().await?;
        let repo = self.ws.repo(&name);
        let history = self.records.promotions(&name);
        let mut kept: Vec<&ImageId> = Vec::new();
        for r in &history {
            if !kept.contains(&&r.image_id) {
                kept.push(&r.image_id);
            }
        }
        let (keep, drop) = kept.split_at(kept.len().min(self.keep_releases(i)));
        for id in keep {
            if daemon.image_id(id.as_str()).await?.is_some() {
                daemon.tag(id.as_str(), &repo, &release_tag(id)).await?;
            }
        }
        for id in drop {
            daemon.untag(&format!("{repo}:{}", release_tag(id))).await?;
        }
        Ok(())
    }

    /// Node `i`'s release history, newest first, numbered from 1, with whether each image
    /// is still kept.
    pub async fn history(&self, i: usize) -> Result<Vec<Release>> {
        let name = self.name(i);
        let reads = self.reads()?;
        let live = reads.image_id(&self.ws.image(name, "live")).await?;
        let spec = self.test_spec_hash(i);
        let repo = self.ws.repo(name);
        let mut out = Vec::new();
        for (n, record) in self.records.promotions(name).into_iter().enumerate() {
            let kept = reads
                .image_id(&format!("{repo}:{}", release_tag(&record.image_id)))
                .await?
                .is_some();
            out.push(Release {
                number: n + 1,
                live: live.as_ref() == Some(&record.image_id),
                kept,
                current_spec: record.test_spec.as_deref() == Some(spec.as_str()),
                record,
            });
        }
        Ok(out)
    }

    /// Put a kept release back as `:live` (the current live becomes `:prev`). Returns
    /// (new live, old live). The target must still exist and must have passed its tests
    /// when it went live (under the test spec of that time).
    /// A directory built for several platforms rolls back on all of them together: each
    /// platform to its own release of the same moment (its `:prev`, or the same entry of its
    /// history, which is promoted in step with the others), every one checked before any tag
    /// moves.
    pub async fn rollback_tags(&self, i: usize, to: &RollbackTarget) -> Result<(ImageId, ImageId)> {
        let group = self.ws.platform_group(i);
        let (target, live) = self.rollback_target(group[0], to).await?;
        let mut moves = vec![(group[0], target.clone(), live.clone())];
        let to = match to {
            RollbackTarget::Image(_) => {
                let name = self.name(group[0]);
                let n = self
                    .records
                    .promotions(name)
                    .iter()
                    .position(|r| r.image_id == target)
                    .map_or(0, |k| k + 1);
                RollbackTarget::Entry(n)
            }
            other => other.clone(),
        };
        for &m in &group[1..] {
            let (t, l) = self.rollback_target(m, &to).await?;
            moves.push((m, t, l));
        }
        for (m, t, l) in &moves {
            self.move_tags(self.name(*m), t, Some(l)).await?;
            self.record_release(*m, t, Some(l), "rollback").await?;
        }
        Ok((target, live))
    }

    /// The release `to` of node `i` and its current `:live`, checked: kept, tested, not live.
    async fn rollback_target(&self, i: usize, to: &RollbackTarget) -> Result<(ImageId, ImageId)> {
        let name = self.name(i).to_string();
        let reads = self.reads()?;
        let missing = |message: String, help: String| Error::MissingImage {
            node: name.clone(),
            image: self.ws.image(&name, "live"),
            message,
            help,
        };
        let live = reads
            .image_id(&self.ws.image(&name, "live"))
            .await?
            .ok_or_else(|| {
                missing(
                    format!("{name} has no :live image"),
                    format!("promote one first: `dk up {name}`"),
                )
            })?;
        let target = match to {
            RollbackTarget::Prev => reads
                .image_id(&self.ws.image(&name, "prev"))
                .await?
                .ok_or_else(|| {
                    missing(
                        format!("{name} has no :prev image to roll back to"),
                        format!("see what is kept: `dk history {name}`"),
                    )
                })?,
            RollbackTarget::Entry(n) => {
                let history = self.history(i).await?;
                let r = history.iter().find(|r| r.number == *n).ok_or_else(|| {
                    missing(
                        format!(
                            "{name} has no release #{n} ({} in its history)",
                            history.len()
                        ),
                        format!("see them: `dk history {name}`"),
                    )
                })?;
                r.record.image_id.clone()
            }
            RollbackTarget::Image(prefix) => {
                let p = prefix.strip_prefix("sha256:").unwrap_or(prefix);
                let history = self.records.promotions(&name);
                let mut ids: Vec<&ImageId> = history
                    .iter()
                    .map(|r| &r.image_id)
                    .filter(|id| id.hex().starts_with(p))
                    .collect();
                ids.dedup();
                match ids.as_slice() {
                    [one] => (*one).clone(),
                    [] => {
                        return Err(missing(
                            format!("no release of {name} has an image id starting with {p}"),
                            format!("see them: `dk history {name}`"),
                        ));
                    }
                    _ => {
                        return Err(Error::usage(format!(
                            "`{p}` matches several releases of {name}; give more digits"
                        )));
                    }
                }
            }
        };
        if target == live {
            return Err(Error::usage(format!(
                "{} is already live for {name}",
                target.short()
            )));
        }
        if reads.image_id(target.as_str()).await?.is_none() {
            return Err(missing(
                format!(
                    "{name} {} is no longer in the daemon (not a kept release)",
                    target.short()
                ),
                format!("choose a kept one: `dk history {name}`"),
            ));
        }
        if !self
            .records
            .tests_of_image(&name, &target)
            .iter()
            .any(|r| r.passed)
        {
            return Err(Error::Container {
                name: name.clone(),
                message: format!(
                    "{name} {} never passed its tests here; only tested images go live",
                    target.short()
                ),
                help: Some(format!(
                    "test it first, or roll back to another: `dk history {name}`"
                )),
            });
        }
        Ok((target, live))
    }
}

/// Which release `dk rollback` goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTarget {
    /// `:prev`.
    Prev,
    /// Entry N of `dk history` (1 is the newest).
    Entry(usize),
    /// An image id (a unique prefix) among the node's releases.
    Image(String),
}

impl RollbackTarget {
    /// `--to`: none is `:prev`; a short number is a history entry; else an image id.
    pub fn parse(to: Option<&str>) -> RollbackTarget {
        match to {
            None => RollbackTarget::Prev,
            Some(t) => match t.parse::<usize>() {
                Ok(n) if t.len() < 6 => RollbackTarget::Entry(n),
                _ => RollbackTarget::Image(t.to_string()),
            },
        }
    }
}

/// One entry of a node's release history.
#[derive(Debug, Clone, Serialize)]
pub struct Release {
    pub number: usize,
    #[serde(flatten)]
    pub record: PromotionRecord,
    /// Is this the image `:live` points at now?
    pub live: bool,
    /// Is the image still kept (tagged `release-…`)?
    pub kept: bool,
    /// Was it tested under the node's current test spec?
    pub current_spec: bool,
}

/// What a promotion did: `1eb0bef50467 is live (was 9f3c…, kept as :prev)`.
pub fn promoted_line(id: &ImageId, previous: Option<&ImageId>) -> String {
    format!(
        "{} is live{}",
        id.short(),
        previous
            .map(|p| format!(" (was {}, kept as :prev)", p.short()))
            .unwrap_or_default()
    )
}

/// The tag that keeps a release image: `release-<12 hex>`.
fn release_tag(id: &ImageId) -> String {
    format!("release-{}", id.short())
}
