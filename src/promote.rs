//! `dk promote` and `dk rollback`: move tags, never untested images.
//!
//! A node is promoted only when its current `:latest` id has a passing test record for its
//! current test spec, and every node parent it was built on is live at exactly the id it was
//! built on (parents are promoted first, in order, in the same command). Tag moves are
//! ordered so that a crash never leaves a node without `:live` when it had one: the old live
//! is tagged `:prev` first, then `:latest`'s id is tagged `:live`.

use serde::Serialize;

use crate::build::short;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::records::{PromotionRecord, now_unix};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PromoteStatus {
    Promoted {
        image_id: String,
        previous: Option<String>,
    },
    AlreadyLive {
        image_id: String,
    },
    Refused {
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct PromoteReport {
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
    /// Promote the selection, with the parents each needs live first.
    pub async fn promote(&self, names: &[String]) -> Result<Vec<PromoteReport>> {
        let selected = self.select(names)?;
        self.promote_nodes(&selected).await
    }

    pub(crate) async fn promote_nodes(&self, selected: &[usize]) -> Result<Vec<PromoteReport>> {
        let order = self.graph.with_dependencies(selected);
        let daemon = self.daemon().await?;
        let mut reports: Vec<PromoteReport> = Vec::new();
        // Ids that are live after this command, by node.
        let mut live_now: std::collections::HashMap<usize, Option<String>> = Default::default();
        for &i in &order {
            let name = self.name(i).to_string();
            let ws = &self.ws;
            let latest = daemon.image_id(&ws.image(&name, "latest")).await?;
            let live = daemon.image_id(&ws.image(&name, "live")).await?;
            let is_selected = selected.contains(&i);
            let refuse = |reason: String| PromoteReport {
                name: name.clone(),
                status: PromoteStatus::Refused { reason },
            };
            let Some(latest) = latest else {
                if is_selected {
                    reports.push(refuse(format!(
                        "{name} has no :latest image; run `dk build {name}`"
                    )));
                }
                live_now.insert(i, live);
                continue;
            };
            if live.as_deref() == Some(latest.as_str()) {
                if is_selected {
                    reports.push(PromoteReport {
                        name: name.clone(),
                        status: PromoteStatus::AlreadyLive {
                            image_id: latest.clone(),
                        },
                    });
                }
                live_now.insert(i, live);
                continue;
            }
            // A parent that is not selected is promoted only when a selected child needs
            // it at this id; otherwise it is left alone.
            if !is_selected && !self.needed_at(i, &latest, &order, selected).await? {
                live_now.insert(i, live);
                continue;
            }
            match self.promotion_blocker(i, &latest, &live_now).await? {
                Some(reason) => {
                    reports.push(refuse(reason));
                    live_now.insert(i, live);
                }
                None => {
                    self.move_tags(&name, &latest, live.as_deref()).await?;
                    self.records.put_promotion(&PromotionRecord {
                        node: name.clone(),
                        image_id: latest.clone(),
                        previous: live.clone(),
                        promoted_at: now_unix(),
                        action: "promote".into(),
                    })?;
                    reports.push(PromoteReport {
                        name: name.clone(),
                        status: PromoteStatus::Promoted {
                            image_id: latest.clone(),
                            previous: live,
                        },
                    });
                    live_now.insert(i, Some(latest));
                }
            }
        }
        Ok(reports)
    }

    /// Is some selected node's current `:latest` built on node `i` at `id`?
    async fn needed_at(
        &self,
        i: usize,
        id: &str,
        order: &[usize],
        selected: &[usize],
    ) -> Result<bool> {
        let daemon = self.daemon().await?;
        for &c in order
            .iter()
            .filter(|c| selected.contains(c) || self.graph.children[i].contains(c))
        {
            if !self.graph.parents[c].contains(&i) {
                continue;
            }
            let Some(child_latest) = daemon
                .image_id(&self.ws.image(self.name(c), "latest"))
                .await?
            else {
                continue;
            };
            if let Some(rec) = self.build_record_of(c, &child_latest)
                && rec.inputs.parents.get(self.name(i)).map(String::as_str) == Some(id)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The build record that produced `image_id` for node `i`.
    pub(crate) fn build_record_of(
        &self,
        i: usize,
        image_id: &str,
    ) -> Option<crate::records::BuildRecord> {
        self.records
            .builds(self.name(i))
            .into_iter()
            .find(|r| r.image_id == image_id)
    }

    /// Why `latest` of node `i` may not go live, or None when it may.
    async fn promotion_blocker(
        &self,
        i: usize,
        latest: &str,
        live_now: &std::collections::HashMap<usize, Option<String>>,
    ) -> Result<Option<String>> {
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
                return Ok(Some(format!(
                    "{name} {} failed its tests ({}); fix it and run `dk test {name}`",
                    short(latest),
                    failed.join("; ")
                )));
            }
            None if !self.records.tests_of_image(name, latest).is_empty() => {
                return Ok(Some(format!(
                    "the test spec of {name} changed since {} was tested; run `dk test {name}`",
                    short(latest)
                )));
            }
            None => {
                return Ok(Some(format!(
                    "{name} {} is untested; run `dk test {name}` first",
                    short(latest)
                )));
            }
        }
        let Some(rec) = self.build_record_of(i, latest) else {
            return Ok(Some(format!(
                "no build record for {name} {}: it was not built by dk here; run `dk build {name}`",
                short(latest)
            )));
        };
        for (parent, built_on) in &rec.inputs.parents {
            let Some(p) = self.ws.nodes.iter().position(|n| &n.name == parent) else {
                continue;
            };
            let live = match live_now.get(&p) {
                Some(l) => l.clone(),
                None => {
                    self.daemon()
                        .await?
                        .image_id(&self.ws.image(parent, "live"))
                        .await?
                }
            };
            if live.as_deref() != Some(built_on.as_str()) {
                return Ok(Some(format!(
                    "{name} was built on {parent} {}, but {parent} is live at {}; promote {parent} (it must pass its tests) or rebuild {name}",
                    short(built_on),
                    live.as_deref().map(short).unwrap_or("nothing")
                )));
            }
        }
        Ok(None)
    }

    /// `:live` -> `:prev`, then `new` -> `:live`: at no moment is there no `:live`.
    async fn move_tags(&self, name: &str, new: &str, old_live: Option<&str>) -> Result<()> {
        let daemon = self.daemon().await?;
        let repo = self.ws.repo(name);
        if let Some(old) = old_live {
            daemon.tag(old, &repo, "prev").await?;
        }
        daemon.tag(new, &repo, "live").await
    }

    /// `:prev` back to `:live` (the old live becomes `:prev`, so a second rollback undoes
    /// the first). Returns (new live, new prev).
    pub async fn rollback_tags(&self, i: usize) -> Result<(String, String)> {
        let name = self.name(i).to_string();
        let daemon = self.daemon().await?;
        let prev = daemon
            .image_id(&self.ws.image(&name, "prev"))
            .await?
            .ok_or_else(|| Error::Failed(format!("{name} has no :prev image to roll back to")))?;
        let live = daemon
            .image_id(&self.ws.image(&name, "live"))
            .await?
            .ok_or_else(|| Error::Failed(format!("{name} has no :live image")))?;
        let repo = self.ws.repo(&name);
        // Same order as a promotion: the current live is kept as :prev first.
        daemon.tag(&live, &repo, "prev").await?;
        daemon.tag(&prev, &repo, "live").await?;
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
