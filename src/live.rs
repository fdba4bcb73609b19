//! Live containers: `dk up` (build → test → promote → (re)start, only where something
//! changed), the launcher verbs (start, stop, restart, down) and `dk status`.
//!
//! A live container is replaced only when it is not running the `:live` image or its
//! settings changed (the `dk.settings-hash` label). Replacement creates the new container
//! first, then stops the old and starts the new; if the new one fails to start, the old one
//! is renamed back and restarted, so a bad config never leaves nothing running.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::docker::{ContainerInfo, ContainerSpec, Daemon};
use crate::engine::{Engine, RunOptions, Selection};
use crate::error::{Error, Result};
use crate::ids::ImageId;
use crate::labels::{self, Role};
use crate::launch::{self, LaunchInput};
use crate::promote::{PromoteReport, PromoteStatus, all_ok};
use crate::report::ReporterExt;
use crate::testrun::TestSummary;
use crate::units::human_duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RunAction {
    /// Running the live image with the current settings: untouched.
    Unchanged,
    /// Existed, stopped, unchanged: started.
    Started,
    /// Did not exist: created and started.
    Created,
    /// Replaced by a new container; `downtime_ms` between the old stopping and the new running.
    Replaced {
        downtime_ms: u64,
        reason: String,
    },
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    #[serde(skip)]
    pub node: usize,
    pub name: String,
    #[serde(flatten)]
    pub action: RunAction,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    pub tests: TestSummary,
    pub promotions: Vec<PromoteReport>,
    pub runs: Vec<RunReport>,
    /// Why nothing was (re)started, when a step before failed.
    pub stopped_at: Option<String>,
}

impl UpReport {
    pub fn ok(&self) -> bool {
        self.stopped_at.is_none()
            && self
                .runs
                .iter()
                .all(|r| !matches!(r.action, RunAction::Failed { .. }))
    }
}

/// How long a started wave may take to be running (and healthy, where it has a healthcheck).
const WAVE_TIMEOUT: Duration = Duration::from_secs(120);

impl Engine {
    /// The nodes `dk up` works on: the named ones, or every autostart container.
    pub fn up_selection(&self, names: &[String]) -> Result<Selection> {
        if !names.is_empty() {
            return self.select(names);
        }
        let auto: Vec<usize> = self
            .graph
            .order
            .iter()
            .copied()
            .filter(|i| self.ws.nodes[*i].manifest.autostart)
            .collect();
        if auto.is_empty() {
            return Err(Error::usage_help(
                "no container is marked `autostart = true`, and no names were given",
                "name the containers to start (`dk up NAME…`), or mark them autostart in their container.toml",
            ));
        }
        Ok(self.selection(auto))
    }

    /// `dk up`: one straight pipeline over a selection resolved once. Build what is stale
    /// (with what the selection builds on), test it, promote what passed, then start or
    /// replace exactly the live containers whose image or settings changed, in start
    /// waves. Each step takes the previous step's result.
    pub async fn up(&self, names: &[String], opts: &RunOptions) -> Result<UpReport> {
        let sel = self.up_selection(names)?;
        let built = self.build_step(&sel, opts).await?;
        let tests = self.test_step(&sel, &built, &sel.order, opts).await?;
        if !tests.ok() {
            return Ok(UpReport {
                tests,
                promotions: Vec::new(),
                runs: Vec::new(),
                stopped_at: Some("a build or test failed; no container was touched".into()),
            });
        }
        let promotions = self.promote_step(&sel, &tests.passed_images()).await?;
        if !all_ok(&promotions) {
            return Ok(UpReport {
                tests,
                promotions,
                runs: Vec::new(),
                stopped_at: Some("a promotion was refused; no container was touched".into()),
            });
        }
        let live: HashMap<usize, ImageId> = promotions
            .iter()
            .filter_map(|p| match &p.status {
                PromoteStatus::Promoted { image_id, .. }
                | PromoteStatus::AlreadyLive { image_id } => Some((p.node, image_id.clone())),
                PromoteStatus::Refused { .. } => None,
            })
            .collect();
        let runs = self.run_step(&sel.selected, &live).await?;
        Ok(UpReport {
            tests,
            promotions,
            runs,
            stopped_at: None,
        })
    }

    /// Start (or replace) the live containers of `selected`, wave by wave. `live` holds the
    /// `:live` ids already known (from a promotion); the others are looked up.
    pub async fn run_step(
        &self,
        selected: &[usize],
        live: &HashMap<usize, ImageId>,
    ) -> Result<Vec<RunReport>> {
        let waves = self.graph.start_waves(&self.ws, selected)?;
        // Every spec first: a definition problem (exit 2) stops everything before any
        // container is touched.
        let mut specs: HashMap<usize, Result<ContainerSpec>> = HashMap::new();
        for &i in selected {
            match self.live_spec(i, live.get(&i)).await {
                Err(e @ Error::Definition(_)) => return Err(e),
                spec => {
                    specs.insert(i, spec);
                }
            }
        }
        self.ensure_network(Role::Live).await?;
        let mut reports = Vec::new();
        for (w, wave) in waves.iter().enumerate() {
            let results = futures_util::future::join_all(wave.iter().map(|&i| {
                let spec = specs.remove(&i).expect("a spec per selected node");
                async move {
                    let r = match spec {
                        Ok(spec) => self.ensure_running(i, spec).await,
                        Err(e) => Err(e),
                    };
                    (i, r)
                }
            }))
            .await;
            let mut failed = false;
            for (i, r) in results {
                let action = match r {
                    Ok(a) => a,
                    Err(e) => RunAction::Failed {
                        message: e.render(),
                    },
                };
                failed |= matches!(action, RunAction::Failed { .. });
                reports.push(RunReport {
                    node: i,
                    name: self.name(i).to_string(),
                    action,
                });
            }
            if !failed && w + 1 < waves.len() {
                for &i in wave {
                    if let Err(e) = self.wait_live_ready(i).await {
                        failed = true;
                        if let Some(r) = reports.iter_mut().find(|r| r.node == i) {
                            r.action = RunAction::Failed {
                                message: e.render(),
                            };
                        }
                    }
                }
            }
            if failed {
                for later in &waves[w + 1..] {
                    for &i in later {
                        reports.push(RunReport {
                            node: i,
                            name: self.name(i).to_string(),
                            action: RunAction::Failed {
                                message: "not started: an earlier start wave failed".into(),
                            },
                        });
                    }
                }
                break;
            }
        }
        Ok(reports)
    }

    /// The spec of node `i`'s live container on its `:live` image (`live` when known).
    pub async fn live_spec(&self, i: usize, live: Option<&ImageId>) -> Result<ContainerSpec> {
        let node = &self.ws.nodes[i];
        let reference = match live {
            Some(id) => id.to_string(),
            None => self.ws.image(&node.name, "live"),
        };
        let facts = self
            .reads()?
            .inspect_image(&reference)
            .await?
            .ok_or_else(|| Error::MissingImage {
                node: node.name.clone(),
                image: reference.clone(),
                message: format!("{} has no :live image", node.name),
                help: format!("run `dk up {}` (build, test, promote) first", node.name),
            })?;
        let binds = crate::mounts::live_binds(&self.ws, node)?;
        let mut spec = launch::spec(
            &self.ws,
            node,
            LaunchInput {
                role: Role::Live,
                image: &facts,
                binds,
                publish_loopback: Vec::new(),
            },
        )?;
        let hash = launch::settings_hash(&spec);
        spec.labels.insert(labels::SETTINGS_HASH.into(), hash);
        Ok(spec)
    }

    /// Make node `i`'s live container run its `:live` image with its current settings,
    /// touching it only when something differs.
    pub async fn ensure_running(&self, i: usize, spec: ContainerSpec) -> Result<RunAction> {
        let name = self.name(i).to_string();
        let existing = self.reads()?.inspect_container(&spec.name).await?;
        let daemon = self.daemon().await?;
        let Some(existing) = existing else {
            self.reporter.start(&name, "start");
            let t = Instant::now();
            let id = daemon.create_container(&spec).await?;
            if let Err(e) = daemon.start_container(&id).await {
                daemon.remove_container(&id).await?;
                return Err(e);
            }
            self.reporter.finish(
                &name,
                "start",
                "created and started",
                true,
                t.elapsed(),
                None,
            );
            return Ok(RunAction::Created);
        };
        if existing.labels.get(labels::WORKSPACE) != Some(&self.ws.id) {
            return Err(Error::Container {
                name: spec.name.clone(),
                message: format!(
                    "a container named {} exists that this workspace did not create",
                    spec.name
                ),
                help: Some(
                    "remove or rename it, or run this workspace with another namespace (DK_NAMESPACE)"
                        .into(),
                ),
            });
        }
        let same_image = existing.image.as_str() == spec.image;
        let same_settings =
            existing.labels.get(labels::SETTINGS_HASH) == spec.labels.get(labels::SETTINGS_HASH);
        if same_image && same_settings {
            if existing.running {
                return Ok(RunAction::Unchanged);
            }
            daemon.start_container(&existing.id).await?;
            self.reporter
                .finish(&name, "start", "started", true, Duration::ZERO, None);
            return Ok(RunAction::Started);
        }
        let reason = if !same_image {
            format!(
                "image {} -> {}",
                existing.image.short(),
                crate::ids::short(&spec.image)
            )
        } else {
            "settings changed".to_string()
        };
        self.reporter.start(&name, "replace");
        let downtime = self.replace(daemon, &existing, &spec).await?;
        self.reporter.finish(
            &name,
            "replace",
            &format!("replaced ({reason}), down for {}", human_duration(downtime)),
            true,
            downtime,
            None,
        );
        Ok(RunAction::Replaced {
            downtime_ms: downtime.as_millis() as u64,
            reason,
        })
    }

    /// New container first; then stop the old, start the new; on failure, restore the old.
    async fn replace(
        &self,
        daemon: &Daemon,
        old: &ContainerInfo,
        spec: &ContainerSpec,
    ) -> Result<Duration> {
        let next_name = format!("{}-next", spec.name);
        let old_name = format!("{}-old", spec.name);
        daemon.remove_container(&next_name).await?;
        daemon.remove_container(&old_name).await?;
        let mut next = spec.clone();
        next.name = next_name.clone();
        let new_id = daemon.create_container(&next).await?;
        let down_from = Instant::now();
        daemon
            .stop_container(&old.id, stop_grace(spec.stop_timeout))
            .await?;
        daemon.rename_container(&old.id, &old_name).await?;
        daemon.rename_container(&new_id, &spec.name).await?;
        if let Err(e) = daemon.start_container(&new_id).await {
            // Put the old one back as it was.
            let _ = daemon.remove_container(&new_id).await;
            daemon.rename_container(&old.id, &spec.name).await?;
            if old.running {
                daemon.start_container(&old.id).await?;
            }
            return Err(Error::Container {
                name: spec.name.clone(),
                message: format!(
                    "the new container failed to start, the old one {}: {}",
                    if old.running {
                        "was restarted"
                    } else {
                        "was kept"
                    },
                    e.render()
                ),
                help: None,
            });
        }
        let downtime = down_from.elapsed();
        daemon.remove_container(&old.id).await?;
        Ok(downtime)
    }

    /// Wait until node `i`'s live container is running, and healthy if it has a healthcheck.
    async fn wait_live_ready(&self, i: usize) -> Result<()> {
        let name = launch::container_name(&self.ws, self.name(i), Role::Live);
        let readiness = crate::ready::Readiness {
            port: None,
            http: None,
            network: self.ws.live_network.name.clone(),
            grace: Duration::ZERO,
            timeout: WAVE_TIMEOUT,
            one_shot: false,
        };
        match crate::ready::wait(self.reads()?, &name, &readiness).await? {
            Ok(()) => Ok(()),
            Err(why) => Err(Error::Container {
                name: name.clone(),
                message: format!("{name}: {why}; later start waves were not started"),
                help: Some(format!("see its output: `dk logs {}`", self.name(i))),
            }),
        }
    }

    /// The live container of node `i`: (name, its state when it exists).
    pub async fn live_container(&self, i: usize) -> Result<(String, Option<ContainerInfo>)> {
        let name = launch::container_name(&self.ws, self.name(i), Role::Live);
        let c = self.reads()?.inspect_container(&name).await?;
        Ok((name, c))
    }

    /// Start stopped (or missing) live containers of the selection.
    pub async fn start_live(&self, selected: &[usize]) -> Result<Vec<RunReport>> {
        self.run_step(selected, &HashMap::new()).await
    }

    /// Stop live containers (with their stop timeout).
    pub async fn stop_live(&self, i: usize) -> Result<bool> {
        let (name, c) = self.live_container(i).await?;
        let Some(c) = c else { return Ok(false) };
        self.daemon()
            .await?
            .stop_container(&name, stop_grace(c.stop_timeout))
            .await?;
        Ok(true)
    }

    /// Remove a live container; its data directories are never touched.
    pub async fn down_live(&self, i: usize) -> Result<bool> {
        let existed = self.stop_live(i).await?;
        let (name, _) = self.live_container(i).await?;
        self.daemon().await?.remove_container(&name).await?;
        Ok(existed)
    }

    /// Every node that has a live container in this workspace.
    pub async fn nodes_with_live_containers(&self) -> Result<Vec<usize>> {
        let list = self
            .reads()?
            .containers_with_labels(&labels::filter(&self.ws.id, Role::Live))
            .await?;
        let mut out: Vec<usize> = list
            .iter()
            .filter_map(|c| c.labels.get(labels::NODE))
            .filter_map(|n| self.ws.nodes.iter().position(|x| &x.name == n))
            .collect();
        out.sort_by_key(|i| self.graph.position(*i));
        out.dedup();
        Ok(out)
    }

    pub async fn status(&self, names: &[String]) -> Result<Vec<StatusRow>> {
        let sel = self.select(names)?;
        let latest = self.tag_ids(&sel.selected, "latest").await?;
        let live = self.tag_ids(&sel.selected, "live").await?;
        let mut rows = Vec::new();
        for &i in &sel.selected {
            let name = self.name(i).to_string();
            let latest = latest.get(&i);
            let live = live.get(&i);
            let tested = latest.and_then(|id| {
                self.records
                    .test(&name, id, &self.test_spec_hash(i))
                    .map(|r| if r.passed { "passed" } else { "failed" }.to_string())
            });
            let (container, c) = self.live_container(i).await?;
            let mut row = StatusRow {
                name: name.clone(),
                latest: latest.map(|s| s.short().to_string()),
                live: live.map(|s| s.short().to_string()),
                tested: tested.unwrap_or_else(|| "untested".into()),
                container,
                state: "absent".into(),
                health: None,
                runs_live: None,
                started_at: None,
                uptime_s: None,
                restarts: None,
            };
            if let Some(c) = c {
                row.state = c.status.clone();
                row.health = c.health.map(|h| h.label().to_string());
                row.runs_live = Some(Some(&c.image) == live);
                row.restarts = Some(c.restart_count);
                if c.running {
                    row.uptime_s = c.started_at.as_deref().and_then(uptime_secs);
                    row.started_at = c.started_at.clone();
                }
            }
            rows.push(row);
        }
        Ok(rows)
    }
}

/// How long a container gets to stop before it is killed (its `stop_timeout`, else 10 s).
fn stop_grace(stop_timeout: Option<i64>) -> Duration {
    Duration::from_secs(stop_timeout.unwrap_or(10).max(0) as u64)
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub name: String,
    pub latest: Option<String>,
    pub live: Option<String>,
    /// Test result of the current `:latest` for the current spec.
    pub tested: String,
    pub container: String,
    pub state: String,
    pub health: Option<String>,
    /// Does the container run the `:live` image?
    pub runs_live: Option<bool>,
    pub started_at: Option<String>,
    pub uptime_s: Option<u64>,
    pub restarts: Option<i64>,
}

/// Seconds since an RFC 3339 timestamp (`2026-11-22T05:26:06.123456789Z`).
fn uptime_secs(ts: &str) -> Option<u64> {
    let (date, time) = ts.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.trim_end_matches('Z');
    let time = time.split(['+']).next()?;
    let mut t = time.split(':');
    let (hh, mm) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let ss: f64 = t.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + hh * 3600 + mm * 60 + ss as i64;
    let now = crate::records::now_unix() as i64;
    Some((now - secs).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_from_rfc3339() {
        let now = crate::records::now_unix();
        // 1970-01-02T00:00:00Z is 86400.
        assert_eq!(uptime_secs("1970-01-02T00:00:00Z"), Some(now - 86400));
        assert_eq!(uptime_secs("2000-03-01T00:00:00.5Z"), Some(now - 951868800));
        assert_eq!(uptime_secs("garbage"), None);
    }
}
