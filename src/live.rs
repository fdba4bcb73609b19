//! Live containers: `dk up` (build → test → promote → (re)start, only where something
//! changed), the launcher verbs (start, stop, restart, down) and `dk status`.
//!
//! A live container is replaced only when it is not running the `:live` image or its
//! settings changed (the `dk.settings-hash` label). Replacement creates the new container
//! first, then stops the old and starts the new; if the new one fails to start, the old one
//! is renamed back and restarted, so a bad config never leaves nothing running.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::build::short;
use crate::docker::Daemon;
use crate::docker::containers::ContainerSpec;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::launch::{self, ImageFacts, LaunchInput, Role};
use crate::promote::{PromoteReport, all_ok};
use crate::report::ReporterExt;
use crate::testrun::{TestOptions, TestSummary};
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
    pub fn up_selection(&self, names: &[String]) -> Result<Vec<usize>> {
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
        Ok(auto)
    }

    /// Build, test and promote the selection (with what it builds on), then start or replace
    /// exactly the live containers whose image or settings changed, in start waves.
    pub async fn up(&self, names: &[String], opts: &TestOptions) -> Result<UpReport> {
        let selected = self.up_selection(names)?;
        let with_deps = self.graph.with_dependencies(&selected);
        let tests = self.test_nodes(&with_deps, opts).await?;
        if !tests.ok() {
            return Ok(UpReport {
                tests,
                promotions: Vec::new(),
                runs: Vec::new(),
                stopped_at: Some("a build or test failed; no container was touched".into()),
            });
        }
        let promotions = self.promote_nodes(&selected).await?;
        if !all_ok(&promotions) {
            return Ok(UpReport {
                tests,
                promotions,
                runs: Vec::new(),
                stopped_at: Some("a promotion was refused; no container was touched".into()),
            });
        }
        let runs = self.run_waves(&selected).await?;
        Ok(UpReport {
            tests,
            promotions,
            runs,
            stopped_at: None,
        })
    }

    /// Start (or replace) the live containers of `selected`, wave by wave.
    pub async fn run_waves(&self, selected: &[usize]) -> Result<Vec<RunReport>> {
        self.ensure_network(&self.ws.live_network, Role::Live)
            .await?;
        let waves = self.graph.start_waves(&self.ws, selected)?;
        let mut reports = Vec::new();
        for (w, wave) in waves.iter().enumerate() {
            let results = futures_util::future::join_all(wave.iter().map(|&i| async move {
                let r = self.ensure_running(i).await;
                (i, r)
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
                    name: self.name(i).to_string(),
                    action,
                });
            }
            if !failed && w + 1 < waves.len() {
                for &i in wave {
                    if let Err(e) = self.wait_live_ready(i).await {
                        failed = true;
                        if let Some(r) = reports.iter_mut().find(|r| r.name == self.name(i)) {
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

    /// The spec of node `i`'s live container on its `:live` image.
    pub async fn live_spec(&self, i: usize) -> Result<ContainerSpec> {
        let node = &self.ws.nodes[i];
        let daemon = self.daemon().await?;
        let live = self.ws.image(&node.name, "live");
        let facts = daemon
            .inspect_image(&live)
            .await?
            .map(|img| ImageFacts::from_inspect(&img))
            .ok_or_else(|| {
                Error::Failed(format!(
                    "{} has no :live image; run `dk up {}` (build, test, promote) first",
                    node.name, node.name
                ))
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
        spec.labels.insert("dk.settings-hash".into(), hash);
        Ok(spec)
    }

    /// Make node `i`'s live container run its `:live` image with its current settings,
    /// touching it only when something differs.
    pub async fn ensure_running(&self, i: usize) -> Result<RunAction> {
        let name = self.name(i).to_string();
        let daemon = self.daemon().await?;
        let spec = self.live_spec(i).await?;
        let existing = daemon.inspect_container(&spec.name).await?;
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
        let labels = existing
            .config
            .as_ref()
            .and_then(|c| c.labels.clone())
            .unwrap_or_default();
        if labels.get("dk.workspace") != Some(&self.ws.id) {
            return Err(Error::Failed(format!(
                "a container named {} exists that this workspace did not create\n  help: remove or rename it, or run this workspace with another namespace (DK_NAMESPACE)",
                spec.name
            )));
        }
        let running = existing
            .state
            .as_ref()
            .and_then(|s| s.running)
            .unwrap_or(false);
        let same_image = existing.image.as_deref() == Some(spec.image.as_str());
        let same_settings = labels.get("dk.settings-hash") == spec.labels.get("dk.settings-hash");
        let id = existing.id.clone().unwrap_or_default();
        if same_image && same_settings {
            if running {
                return Ok(RunAction::Unchanged);
            }
            daemon.start_container(&id).await?;
            self.reporter
                .finish(&name, "start", "started", true, Duration::ZERO, None);
            return Ok(RunAction::Started);
        }
        let reason = if !same_image {
            format!(
                "image {} -> {}",
                existing.image.as_deref().map(short).unwrap_or("?"),
                short(&spec.image)
            )
        } else {
            "settings changed".to_string()
        };
        self.reporter.start(&name, "replace");
        let downtime = self.replace(daemon, &id, running, &spec).await?;
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
        old_id: &str,
        old_running: bool,
        spec: &ContainerSpec,
    ) -> Result<Duration> {
        let next_name = format!("{}-next", spec.name);
        let old_name = format!("{}-old", spec.name);
        daemon.remove_container(&next_name).await?;
        daemon.remove_container(&old_name).await?;
        let mut next = spec.clone();
        next.name = next_name.clone();
        let new_id = daemon.create_container(&next).await?;
        let grace = self.stop_grace(spec);
        let down_from = Instant::now();
        daemon.stop_container(old_id, grace).await?;
        daemon.rename_container(old_id, &old_name).await?;
        daemon.rename_container(&new_id, &spec.name).await?;
        if let Err(e) = daemon.start_container(&new_id).await {
            // Put the old one back as it was.
            let _ = daemon.remove_container(&new_id).await;
            daemon.rename_container(old_id, &spec.name).await?;
            if old_running {
                daemon.start_container(old_id).await?;
            }
            return Err(Error::Failed(format!(
                "the new container failed to start, the old one {}: {}",
                if old_running {
                    "was restarted"
                } else {
                    "was kept"
                },
                e.render()
            )));
        }
        let downtime = down_from.elapsed();
        daemon.remove_container(old_id).await?;
        Ok(downtime)
    }

    fn stop_grace(&self, spec: &ContainerSpec) -> Duration {
        Duration::from_secs(spec.stop_timeout.unwrap_or(10).max(0) as u64)
    }

    /// Wait until node `i`'s live container is running, and healthy if it has a healthcheck.
    async fn wait_live_ready(&self, i: usize) -> Result<()> {
        let daemon = self.daemon().await?;
        let name = launch::container_name(&self.ws, self.name(i), Role::Live);
        let started = Instant::now();
        loop {
            let c = daemon
                .inspect_container(&name)
                .await?
                .ok_or_else(|| Error::Failed(format!("{name} disappeared")))?;
            let state = c.state.unwrap_or_default();
            let health = state
                .health
                .as_ref()
                .and_then(|h| h.status)
                .map(|s| s.to_string());
            let running = state.running.unwrap_or(false);
            match (running, health.as_deref()) {
                (true, None | Some("none") | Some("") | Some("healthy")) => return Ok(()),
                (true, Some("unhealthy")) => {
                    return Err(Error::Failed(format!(
                        "{name} is unhealthy; later start waves were not started"
                    )));
                }
                (false, _) if state.restarting != Some(true) => {
                    return Err(Error::Failed(format!(
                        "{name} exited with code {}; later start waves were not started",
                        state.exit_code.unwrap_or(-1)
                    )));
                }
                _ => {}
            }
            if started.elapsed() > WAVE_TIMEOUT {
                return Err(Error::Failed(format!(
                    "{name} was not running and healthy within {}",
                    human_duration(WAVE_TIMEOUT)
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The live container of node `i`: (name, inspect) when it exists.
    pub async fn live_container(
        &self,
        i: usize,
    ) -> Result<(String, Option<bollard::models::ContainerInspectResponse>)> {
        let name = launch::container_name(&self.ws, self.name(i), Role::Live);
        let c = self.daemon().await?.inspect_container(&name).await?;
        Ok((name, c))
    }

    /// Start stopped (or missing) live containers of the selection.
    pub async fn start_live(&self, selected: &[usize]) -> Result<Vec<RunReport>> {
        self.run_waves(selected).await
    }

    /// Stop live containers (with their stop timeout).
    pub async fn stop_live(&self, i: usize) -> Result<bool> {
        let daemon = self.daemon().await?;
        let (name, c) = self.live_container(i).await?;
        let Some(c) = c else { return Ok(false) };
        let grace = c
            .config
            .as_ref()
            .and_then(|cfg| cfg.stop_timeout)
            .map(|s| Duration::from_secs(s.max(0) as u64))
            .unwrap_or(Duration::from_secs(10));
        daemon.stop_container(&name, grace).await?;
        Ok(true)
    }

    /// Remove a live container; its data directories are never touched.
    pub async fn down_live(&self, i: usize) -> Result<bool> {
        let daemon = self.daemon().await?;
        let existed = self.stop_live(i).await?;
        let (name, _) = self.live_container(i).await?;
        daemon.remove_container(&name).await?;
        Ok(existed)
    }

    /// Every node that has a live container in this workspace.
    pub async fn nodes_with_live_containers(&self) -> Result<Vec<usize>> {
        let daemon = self.daemon().await?;
        let list = daemon
            .containers_with_labels(&[("dk.workspace", &self.ws.id), ("dk.role", "live")])
            .await?;
        let mut out: Vec<usize> = list
            .iter()
            .filter_map(|c| c.labels.as_ref()?.get("dk.node").cloned())
            .filter_map(|n| self.ws.nodes.iter().position(|x| x.name == n))
            .collect();
        out.sort_by_key(|i| self.graph.order.iter().position(|o| o == i));
        out.dedup();
        Ok(out)
    }

    pub async fn status(&self, names: &[String]) -> Result<Vec<StatusRow>> {
        let selected = self.select(names)?;
        let daemon = self.daemon().await?;
        let mut rows = Vec::new();
        for i in selected {
            let name = self.name(i).to_string();
            let latest = daemon.image_id(&self.ws.image(&name, "latest")).await?;
            let live = daemon.image_id(&self.ws.image(&name, "live")).await?;
            let tested = latest.as_ref().and_then(|id| {
                self.records
                    .test(&name, id, &self.test_spec_hash(i))
                    .map(|r| if r.passed { "passed" } else { "failed" }.to_string())
            });
            let (container, c) = self.live_container(i).await?;
            let mut row = StatusRow {
                name: name.clone(),
                latest: latest.as_deref().map(|s| short(s).to_string()),
                live: live.as_deref().map(|s| short(s).to_string()),
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
                let state = c.state.clone().unwrap_or_default();
                row.state = state.status.map(|s| s.to_string()).unwrap_or_default();
                row.health = state.health.and_then(|h| h.status).map(|s| s.to_string());
                row.runs_live = Some(c.image.is_some() && c.image == live);
                row.restarts = c.restart_count;
                if state.running == Some(true) {
                    row.started_at = state.started_at.clone();
                    row.uptime_s = state.started_at.as_deref().and_then(uptime_secs);
                }
            }
            rows.push(row);
        }
        Ok(rows)
    }
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
