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
use crate::records::{PromotionRecord, now_unix};

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

pub fn all_ok(reports: &[PromoteReport]) -> bool {
    reports
        .iter()
        .all(|r| !matches!(r.status, PromoteStatus::Refused { .. }))
}

impl Engine {
    /// `dk promote`: promote the selection, with the parents each needs live first.
    pub async fn promote(&self, names: &[String]) -> Result<Vec<PromoteReport>> {
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
    /// `sel.order` is promoted first when a selected child was built on it at that id.
    pub async fn promote_step(
        &self,
        sel: &Selection,
        latest: &HashMap<usize, ImageId>,
    ) -> Result<Vec<PromoteReport>> {
        let live_before = self.tag_ids(&sel.order, "live").await?;
        let mut reports: Vec<PromoteReport> = Vec::new();
        // Ids that are live after this command, by node.
        let mut live_now: HashMap<usize, Option<ImageId>> = HashMap::new();
        for &i in &sel.order {
            let name = self.name(i).to_string();
            let live = live_before.get(&i).cloned();
            let is_selected = sel.contains(i);
            let report = |status| PromoteReport {
                node: i,
                name: name.clone(),
                status,
            };
            let Some(latest_id) = latest.get(&i).cloned() else {
                if is_selected {
                    reports.push(report(PromoteStatus::Refused {
                        reason: format!("{name} has no :latest image; run `dk build {name}`"),
                    }));
                }
                live_now.insert(i, live);
                continue;
            };
            if live.as_ref() == Some(&latest_id) {
                if is_selected {
                    reports.push(report(PromoteStatus::AlreadyLive {
                        image_id: latest_id,
                    }));
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
            match self.promotion_blocker(i, &latest_id, &live_now) {
                Some(reason) => {
                    reports.push(report(PromoteStatus::Refused { reason }));
                    live_now.insert(i, live);
                }
                None => {
                    self.move_tags(&name, &latest_id, live.as_ref()).await?;
                    self.records.put_promotion(&PromotionRecord {
                        node: name.clone(),
                        image_id: latest_id.clone(),
                        previous: live.clone(),
                        promoted_at: now_unix(),
                        action: "promote".into(),
                    })?;
                    reports.push(report(PromoteStatus::Promoted {
                        image_id: latest_id.clone(),
                        previous: live,
                    }));
                    live_now.insert(i, Some(latest_id));
                }
            }
        }
        Ok(reports)
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
            daemon.tag(old.as_str(), &repo, "prev").await?;
        }
        daemon.tag(new.as_str(), &repo, "live").await
    }

    /// `:prev` back to `:live` (the old live becomes `:prev`, so a second rollback undoes
    /// the first). Returns (new live, new prev).
    pub async fn rollback_tags(&self, i: usize) -> Result<(ImageId, ImageId)> {
        let name = self.name(i).to_string();
        let ids = self.tag_ids(&[i], "prev").await?;
        let prev = ids.get(&i).cloned().ok_or_else(|| Error::MissingImage {
            node: name.clone(),
            image: self.ws.image(&name, "prev"),
            message: format!("{name} has no :prev image to roll back to"),
            help: "a :prev appears when a promotion replaces a live image".into(),
        })?;
        let live = self
            .tag_ids(&[i], "live")
            .await?
            .remove(&i)
            .ok_or_else(|| Error::MissingImage {
                node: name.clone(),
                image: self.ws.image(&name, "live"),
                message: format!("{name} has no :live image"),
                help: format!("promote one first: `dk up {name}`"),
            })?;
        self.move_tags(&name, &prev, Some(&live)).await?;
        self.records.put_promotion(&PromotionRecord {
            node: name.clone(),
            image_id: prev.clone(),
            previous: Some(live.clone()),
            promoted_at: now_unix(),
            action: "rollback".into(),
        })?;
        Ok((prev, live))
    }
}
