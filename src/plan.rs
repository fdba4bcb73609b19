//! `dk plan`: what `dk build` would do and why, touching nothing (no staging is run, no
//! image is built or tagged, no cache is written).

use std::collections::HashMap;

use serde::Serialize;

use crate::build::prepare;
use crate::docker::ImageSet;
use crate::engine::Engine;
use crate::error::Result;
use crate::freshness::{Freshness, Stale};
use crate::ids::ImageId;
use crate::records::{BuildRecord, Inputs};
use crate::report::ReporterExt;
use crate::stage;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanAction {
    /// Inputs unchanged and the image is there: nothing to do.
    Fresh,
    /// Inputs unchanged and the image is there, but `:latest` must be re-pointed.
    Retag,
    /// Another checkout built these inputs: the image on the daemon is taken (`adopt.rs`).
    Take,
    /// Will be built.
    Build,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub name: String,
    pub action: PlanAction,
    /// Why it is stale (empty when fresh).
    pub reasons: Vec<String>,
    /// Staging steps that would run first.
    pub staging: Vec<String>,
    pub parents: Vec<String>,
    /// The image `:latest` will be (when known without building).
    pub image_id: Option<ImageId>,
}

impl Engine {
    /// `dk plan`: for each node of the selection's order, the decision `dk build` would
    /// make (`Engine::freshness`, the same function) and why.
    pub async fn plan(&self, names: &[String]) -> Result<Vec<PlanEntry>> {
        let sel = self.select(names)?;
        // Reads only: plan never negotiates, builds, tags or pulls.
        let images = match self.reads() {
            Ok(r) => match r.images().await {
                Ok(set) => Some(set),
                Err(e) => {
                    self.unknown_images(&e);
                    None
                }
            },
            Err(e) => {
                self.unknown_images(&e);
                None
            }
        };
        let mut known: HashMap<usize, ImageId> = HashMap::new();
        let mut out = Vec::new();
        for &i in &sel.order {
            let node = &self.ws.nodes[i];
            let staging = stage::stage(&self.ws, node, true)?.actions;
            let parents: Vec<String> = self.graph.parents[i]
                .iter()
                .map(|p| self.name(*p).to_string())
                .collect();
            let stale_parents: Vec<&str> = self.graph.parents[i]
                .iter()
                .filter(|p| !known.contains_key(p))
                .map(|p| self.name(*p))
                .collect();
            let history = self.records.builds(&node.name);
            let mut reasons: Vec<String> = stale_parents
                .iter()
                .map(|p| format!("parent {p} will be rebuilt"))
                .collect();
            if !staging.is_empty() {
                reasons.push("staging will change generated files".to_string());
            }

            // With every parent's id known, the input hash is exact; with a stale parent,
            // compare against what the last build used for it.
            let externals = if images.is_some() {
                self.external_ids_known(i).await?
            } else {
                HashMap::new()
            };
            let mut parent_ids = known.clone();
            if let Some(last) = history.first() {
                for &p in &self.graph.parents[i] {
                    if let Some(id) = last.inputs.parents.get(self.name(p)) {
                        parent_ids.entry(p).or_insert_with(|| id.clone());
                    }
                }
            }
            let all_parents_known = self.graph.parents[i]
                .iter()
                .all(|p| parent_ids.contains_key(p));
            let prepared = if all_parents_known {
                Some(prepare(
                    &self.ws,
                    &self.graph,
                    i,
                    &parent_ids,
                    &externals,
                    false,
                )?)
            } else {
                None
            };

            let mut action = PlanAction::Build;
            let mut image_id = None;
            match &prepared {
                Some(p) if stale_parents.is_empty() => {
                    match self
                        .freshness(i, &p.input_hash, images.as_ref(), false)
                        .await?
                    {
                        Freshness::Fresh(id) => {
                            action = PlanAction::Fresh;
                            image_id = Some(id);
                        }
                        Freshness::Retag(id) => {
                            action = PlanAction::Retag;
                            reasons.push(format!(
                                "`:latest` no longer points at the recorded {} (re-tag, no build)",
                                id.short()
                            ));
                            image_id = Some(id);
                        }
                        Freshness::Unverified(id) => {
                            action = PlanAction::Fresh;
                            reasons.push("inputs unchanged (image presence not checked)".into());
                            image_id = Some(id);
                        }
                        Freshness::Stale(stale) => {
                            match &stale {
                                Stale::ImageGone(id) => reasons.push(format!(
                                    "image {} recorded for these inputs is gone from the daemon",
                                    id.short()
                                )),
                                _ => reasons.extend(explain(&p.inputs, history.first(), &images)),
                            }
                            let taken = match (&stale, &images) {
                                (Stale::Forced, _) | (_, None) => None,
                                _ => self.on_daemon(i, &p.input_hash).await?,
                            };
                            if let Some((id, tag)) = taken {
                                action = PlanAction::Take;
                                reasons.push(format!(
                                    "the daemon's :{tag} ({}) was built from these inputs: taken, not built",
                                    id.short()
                                ));
                                image_id = Some(id);
                            } else if self.ws.registry_cache && !self.ws.registries.is_empty() {
                                reasons.push(
                                    "the registry's copy of these inputs is asked for first (registry_cache)".into(),
                                );
                            }
                        }
                    }
                }
                Some(p) => {
                    // Parent rebuilds decide; still say what changed here.
                    if let Some(last) = history.first() {
                        reasons.extend(
                            diff_files(&last.inputs, &p.inputs)
                                .into_iter()
                                .chain(diff_args(&last.inputs, &p.inputs)),
                        );
                    }
                }
                None => {
                    if history.is_empty() {
                        reasons.push("never built".into());
                    }
                }
            }
            // Staging that would change generated files changes the context.
            if !staging.is_empty() {
                action = PlanAction::Build;
            }
            if let (PlanAction::Fresh | PlanAction::Retag | PlanAction::Take, Some(id)) =
                (&action, &image_id)
            {
                known.insert(i, id.clone());
            }
            out.push(PlanEntry {
                name: node.name.clone(),
                action,
                reasons,
                staging,
                parents,
                image_id,
            });
        }
        Ok(out)
    }

    fn unknown_images(&self, e: &crate::error::Error) {
        self.reporter.note(format!(
            "warning: image state unknown, the plan is from records only ({})",
            e.render().lines().next().unwrap_or("")
        ));
    }

    /// External image ids, looked up (plan never pulls).
    async fn external_ids_known(&self, i: usize) -> Result<HashMap<String, ImageId>> {
        let mut out = HashMap::new();
        for x in self.graph.externals.iter().filter(|x| x.node == i) {
            if let Some(id) = self.reads()?.image_id(&x.image).await? {
                out.insert(x.image.clone(), id);
            }
        }
        Ok(out)
    }
}

/// Why a node whose inputs have no record is stale, relative to its last build.
fn explain(now: &Inputs, last: Option<&BuildRecord>, images: &Option<ImageSet>) -> Vec<String> {
    let Some(last) = last else {
        return vec!["never built".into()];
    };
    let mut reasons = diff_files(&last.inputs, now);
    reasons.extend(diff_args(&last.inputs, now));
    for (name, id) in &now.parents {
        match last.inputs.parents.get(name) {
            Some(old) if old != id => reasons.push(format!(
                "parent {name} changed ({} -> {})",
                old.short(),
                id.short()
            )),
            None => reasons.push(format!("new parent {name}")),
            _ => {}
        }
    }
    for (image, id) in &now.externals {
        match last.inputs.externals.get(image) {
            Some(old) if old != id => reasons.push(format!(
                "base image {image} changed ({} -> {})",
                old.short(),
                id.short()
            )),
            None => reasons.push(format!("new base image {image}")),
            _ => {}
        }
    }
    if reasons.is_empty() && now.dockerfile != last.inputs.dockerfile {
        reasons.push("the Dockerfile as sent changed".into());
    }
    for (k, v) in &now.labels {
        if last.inputs.labels.get(k) != Some(v) {
            reasons.push(format!("label {k} changed"));
        }
    }
    if reasons.is_empty() {
        let gone = images
            .as_ref()
            .is_some_and(|i| i.exists(&last.image_id) == Some(false));
        reasons.push(if gone {
            format!("image {} is gone from the daemon", last.image_id.short())
        } else {
            "inputs differ from every recorded build".into()
        });
    }
    reasons
}

fn diff_files(old: &Inputs, new: &Inputs) -> Vec<String> {
    let mut changed = Vec::new();
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for (path, fp) in &new.files {
        match old.files.get(path) {
            Some(o) if o != fp => changed.push(path.as_str()),
            None => added.push(path.as_str()),
            _ => {}
        }
    }
    for path in old.files.keys() {
        if !new.files.contains_key(path) {
            removed.push(path.as_str());
        }
    }
    let mut out = Vec::new();
    for (verb, list) in [
        ("changed", changed),
        ("appeared", added),
        ("disappeared", removed),
    ] {
        if list.is_empty() {
            continue;
        }
        let shown: Vec<&str> = list.iter().take(5).copied().collect();
        let more = if list.len() > 5 {
            format!(" and {} more", list.len() - 5)
        } else {
            String::new()
        };
        out.push(format!("{verb}: {}{more}", shown.join(", ")));
    }
    out
}

fn diff_args(old: &Inputs, new: &Inputs) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in &new.args {
        match old.args.get(k) {
            Some(o) if o != v => out.push(format!("build arg {k} changed ({o} -> {v})")),
            None => out.push(format!("build arg {k} added")),
            _ => {}
        }
    }
    for k in old.args.keys() {
        if !new.args.contains_key(k) {
            out.push(format!("build arg {k} removed"));
        }
    }
    if old.target != new.target {
        out.push(format!(
            "target changed ({} -> {})",
            old.target.as_deref().unwrap_or("final stage"),
            new.target.as_deref().unwrap_or("final stage")
        ));
    }
    out
}
