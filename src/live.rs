//! Live containers: `dk up` (build → test → promote → (re)start, only where something
//! changed), the launcher verbs (start, stop, restart, down) and `dk status`.
//!
//! A live container is replaced only when it is not running the `:live` image or its
//! settings changed (the `dk.settings-hash` label). The replacement itself is a
//! transaction (`switch.rs`): the new container goes live only once it is ready, else the
//! old one is put back, so a bad config or a crash never leaves nothing running.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::converge::{HookRun, RunAction, RunReport, not_ours};
pub use crate::docker::LogOptions;
use crate::docker::{ContainerInfo, ContainerSpec};
use crate::engine::{Engine, RunOptions, Selection};
use crate::error::{Error, Result};
use crate::ids::ImageId;
use crate::labels::{self, Role};
use crate::launch::{self, LaunchInput};
use crate::lock::WorkspaceLock;
use crate::manifest::ReplaceOrder;
use crate::promote::{PromoteReport, PromoteStatus, all_ok};
use crate::ready::Readiness;
use crate::records::FailedStart;
use crate::report::ReporterExt;
use crate::switch::stop_grace;
use crate::testrun::TestSummary;
use crate::units::human_duration;

/// What `dk rollback` did.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackOutcome {
    pub live: ImageId,
    pub previous: ImageId,
    pub runs: Vec<RunReport>,
    /// The release did not become ready: the previous live is live again.
    pub reverted: bool,
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
        self.stopped_at.is_none() && self.runs.iter().all(|r| !r.action.failed())
    }

    /// The run's one summary line: the tests' line, then what was promoted and what each
    /// container did (`3 passed in 4.1s; 2 promoted; 1 created, 1 replaced, 2 unchanged`).
    pub fn line(&self) -> String {
        let promoted = self
            .promotions
            .iter()
            .filter(|p| matches!(p.status, PromoteStatus::Promoted { .. }))
            .count();
        let mut line = self.tests.line();
        if promoted > 0 {
            line.push_str(&format!("; {promoted} promoted"));
        }
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for r in &self.runs {
            let word = match r.action {
                RunAction::NotRetried { .. } => "not retried",
                RunAction::RolledBack { .. } => "rolled back",
                ref a => a.outcome(),
            };
            match counts.iter_mut().find(|(w, _)| *w == word) {
                Some((_, n)) => *n += 1,
                None => counts.push((word, 1)),
            }
        }
        if !counts.is_empty() {
            let runs: Vec<String> = counts.iter().map(|(w, n)| format!("{n} {w}")).collect();
            line.push_str(&format!("; {}", runs.join(", ")));
        }
        line
    }
}

/// How `run_step` treats containers.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunStepOptions {
    /// Try an (image, settings) pair again that failed its live start before.
    pub retry: bool,
    /// Run the nodes' `[hooks]` (dk up and rollback do; the launcher verbs do not).
    pub hooks: bool,
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
    pub async fn up(
        &self,
        _lock: &WorkspaceLock,
        names: &[String],
        opts: &RunOptions,
    ) -> Result<UpReport> {
        let sel = self.up_selection(names)?;
        for &i in &sel.selected {
            crate::mounts::check_host_paths(&self.ws, &self.ws.nodes[i])?;
            crate::secrets::mounts(&self.ws, &self.ws.nodes[i])?;
        }
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
        let live = crate::promote::live_ids(&promotions);
        let runs = self
            .run_step(
                &sel.selected,
                &live,
                RunStepOptions {
                    retry: opts.retry,
                    hooks: true,
                },
            )
            .await?;
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
        opts: RunStepOptions,
    ) -> Result<Vec<RunReport>> {
        // A host runs its own platform's image: other platforms' nodes are built, tested
        // and published, never run.
        let selected = &self.directories(selected);
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
        self.ensure_volumes(selected).await?;
        let mut reports = Vec::new();
        for (w, wave) in waves.iter().enumerate() {
            let results = futures_util::future::join_all(wave.iter().map(|&i| {
                let spec = specs.remove(&i).expect("a spec per selected node");
                async move {
                    let (action, old_image, new_image) = match spec {
                        Ok(spec) => {
                            let new_image = ImageId::new(spec.image.clone());
                            let converged = if self.on_swarm(i) {
                                self.converge_service(i, spec, opts.retry).await
                            } else {
                                self.ensure_running(i, spec, opts.retry).await
                            };
                            match converged {
                                Ok((action, old)) => (action, old, Some(new_image)),
                                Err(e) => (
                                    RunAction::Failed {
                                        message: e.render(),
                                    },
                                    None,
                                    Some(new_image),
                                ),
                            }
                        }
                        Err(e) => (
                            RunAction::Failed {
                                message: e.render(),
                            },
                            None,
                            None,
                        ),
                    };
                    let mut report = RunReport {
                        node: i,
                        name: self.name(i).to_string(),
                        action,
                        hooks: Vec::new(),
                    };
                    if opts.hooks {
                        self.after_run(&mut report, old_image, new_image).await;
                    }
                    report
                }
            }))
            .await;
            let mut failed = false;
            for report in results {
                failed |= report.action.failed();
                reports.push(report);
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
                            hooks: Vec::new(),
                        });
                    }
                }
                break;
            }
        }
        Ok(reports)
    }

    /// The named volumes the selected containers mount, created (labelled by dk) when they
    /// do not exist, with the mount's declared owner, group and mode. `down` never removes
    /// them.
    pub(crate) async fn ensure_volumes(&self, selected: &[usize]) -> Result<()> {
        let mut remap = None;
        for &i in selected {
            let node = &self.ws.nodes[i];
            for m in node.manifest.mounts.iter().map(|m| m.get_ref()) {
                if let crate::mounts::Live::Volume(v) =
                    crate::mounts::live_source(&self.ws, node, m)
                {
                    let daemon = self.daemon().await?;
                    if m.external {
                        if !daemon.volume_exists(&v).await? {
                            return Err(Error::host(
                                format!("{}: the external volume {v} does not exist", node.name),
                                Some("dk never creates an external volume: create it (`docker volume create`), or drop `external` to let dk make its own".into()),
                            ));
                        }
                        continue;
                    }
                    let mut l = labels::owned(&self.ws.id, Role::Live);
                    l.insert(labels::NODE, node.name.clone());
                    if let Some(path) = daemon.ensure_volume(&v, l).await?
                        && (m.owner.is_some() || m.group.is_some() || m.mode.is_some())
                    {
                        let r = match remap {
                            Some(r) => r,
                            None => *remap
                                .insert(crate::userns::detect(daemon.userns_remapped().await?)?),
                        };
                        crate::mounts::own_new_volume(&v, &path, m, r)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The node's hooks for what `report` says happened: `after_up` after a change that
    /// went live (rolling back when it fails and `rollback_on_failure` says so),
    /// `on_failure` after a failure.
    async fn after_run(&self, report: &mut RunReport, old: Option<ImageId>, new: Option<ImageId>) {
        let i = report.node;
        let hooks = &self.ws.nodes[i].manifest.hooks;
        let changed = matches!(
            report.action,
            RunAction::Created | RunAction::Replaced { .. } | RunAction::Started
        );
        let (which, cmd) = match (&report.action, &hooks.after_up, &hooks.on_failure) {
            (_, Some(cmd), _) if changed => ("after_up", cmd),
            (RunAction::Failed { .. }, _, Some(cmd)) => ("on_failure", cmd),
            _ => return,
        };
        let run = self
            .run_hook(
                i,
                which,
                cmd,
                old.as_ref(),
                new.as_ref(),
                report.action.outcome(),
            )
            .await;
        let hook_failed = !run.ok;
        report.hooks.push(run);
        if !(hook_failed && which == "after_up" && hooks.rollback_on_failure) {
            return;
        }
        // Roll back to the image the container ran before, through the same gate.
        let message = match (&old, &new) {
            (Some(old), Some(new)) if old != new => {
                match self.rollback_to_image(i, old).await {
                    Ok(()) => format!(
                        "the after_up hook failed: rolled back from {} to {}",
                        new.short(),
                        old.short()
                    ),
                    Err(e) => format!(
                        "the after_up hook failed, and rolling back to {} failed too: {}",
                        old.short(),
                        e.render()
                    ),
                }
            }
            _ => "the after_up hook failed; there is no other image to roll back to (only the settings changed, or nothing ran before)".to_string(),
        };
        report.action = RunAction::RolledBack { message };
        if let Some(cmd) = &hooks.on_failure {
            let run = self
                .run_hook(
                    i,
                    "on_failure",
                    cmd,
                    new.as_ref(),
                    old.as_ref(),
                    "rolled_back",
                )
                .await;
            report.hooks.push(run);
        }
    }

    /// `dk rollback`: a kept release back as `:live`, and the live container (when there
    /// is one) replaced through the readiness gate. When the release does not become ready,
    /// the old container is put back and `:live` points at it again.
    pub async fn rollback(
        &self,
        _lock: &WorkspaceLock,
        i: usize,
        to: &crate::promote::RollbackTarget,
    ) -> Result<RollbackOutcome> {
        let (live, previous) = self.rollback_tags(i, to).await?;
        let mut outcome = RollbackOutcome {
            live,
            previous,
            runs: Vec::new(),
            reverted: false,
        };
        if self.on_swarm(i) {
            // Swarm's previous spec first; then the service is converged to the release
            // now `:live`, which sends nothing when the previous spec was that release.
            if !self.rollback_service(i).await? {
                return Ok(outcome);
            }
        } else if self.live_container(i).await?.1.is_none() {
            return Ok(outcome);
        }
        let known = HashMap::from([(i, outcome.live.clone())]);
        let opts = RunStepOptions {
            retry: true,
            hooks: true,
        };
        outcome.runs = self.run_step(&[i], &known, opts).await?;
        if outcome
            .runs
            .iter()
            .any(|r| matches!(r.action, RunAction::Failed { .. }))
        {
            let name = self.name(i).to_string();
            self.move_tags_back(&name, &outcome.previous, &outcome.live)
                .await?;
            self.record_release(i, &outcome.previous, Some(&outcome.live), "revert")
                .await?;
            // Its other platforms went back with it: they come forward with it too.
            let others: Vec<usize> = self
                .ws
                .platform_group(i)
                .into_iter()
                .filter(|&m| m != i)
                .collect();
            let prev = self.tag_ids(&others, "prev").await?;
            let live = self.tag_ids(&others, "live").await?;
            for m in others {
                if let (Some(prev), Some(live)) = (prev.get(&m), live.get(&m)) {
                    self.move_tags_back(self.name(m), prev, live).await?;
                    self.record_release(m, prev, Some(live), "revert").await?;
                }
            }
            outcome.reverted = true;
        }
        Ok(outcome)
    }

    /// `:live` back to `old` (a release) and its container back on it.
    async fn rollback_to_image(&self, i: usize, old: &ImageId) -> Result<()> {
        let (live, _) = self
            .rollback_tags(
                i,
                &crate::promote::RollbackTarget::Image(old.hex().to_string()),
            )
            .await?;
        let spec = self.live_spec(i, Some(&live)).await?;
        self.ensure_running(i, spec, true).await?;
        Ok(())
    }

    /// Run one hook on the host, bounded by the node's `hooks.timeout`, with `DK_NODE`,
    /// `DK_OLD_IMAGE`, `DK_NEW_IMAGE` and `DK_OUTCOME` in its environment.
    async fn run_hook(
        &self,
        i: usize,
        which: &str,
        cmd: &[String],
        old: Option<&ImageId>,
        new: Option<&ImageId>,
        outcome: &str,
    ) -> HookRun {
        let node = &self.ws.nodes[i];
        let limit = node
            .manifest
            .hooks
            .timeout
            .as_ref()
            .map(|t| *t.get())
            .unwrap_or(Duration::from_secs(60));
        self.reporter.step(&node.name, format!("hook {which}"));
        let env = [
            ("DK_NODE", node.name.clone().into()),
            (
                "DK_OLD_IMAGE",
                old.map(ImageId::as_str).unwrap_or("").into(),
            ),
            (
                "DK_NEW_IMAGE",
                new.map(ImageId::as_str).unwrap_or("").into(),
            ),
            ("DK_OUTCOME", outcome.into()),
            (
                "DK_CONTAINER",
                launch::container_name(&self.ws, &node.name, Role::Live).into(),
            ),
        ];
        crate::converge::run_hook(which, cmd, &self.ws.root, &env, limit).await
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
        spec.labels.insert(labels::SETTINGS_HASH, hash);
        Ok(spec)
    }

    /// What "ready" means for node `i`'s live container: healthy (with a healthcheck), the
    /// declared `[run] ready` port or HTTP answer, and up for the grace period; bounded.
    pub(crate) fn live_readiness(&self, i: usize) -> Readiness {
        let r = self.ws.nodes[i]
            .manifest
            .run
            .ready
            .clone()
            .unwrap_or_default();
        Readiness {
            port: r.port,
            http: r.http,
            network: self.ws.live_network.name.clone(),
            grace: r.grace.map(|g| *g.get()).unwrap_or(Duration::from_secs(2)),
            timeout: r
                .timeout
                .map(|t| *t.get())
                .unwrap_or(Duration::from_secs(60)),
            one_shot: false,
        }
    }

    /// Make node `i`'s live container run its `:live` image with its current settings,
    /// touching it only when something differs; a container it starts must become ready,
    /// or the one it replaces is put back. Returns what happened and the image the
    /// container ran before.
    pub async fn ensure_running(
        &self,
        i: usize,
        spec: ContainerSpec,
        retry: bool,
    ) -> Result<(RunAction, Option<ImageId>)> {
        let name = self.name(i).to_string();
        // What an interrupted replacement left is settled first.
        self.recover(i).await?;
        let existing = self.reads()?.inspect_container(&spec.name).await?;
        let hash = spec
            .labels
            .get(labels::SETTINGS_HASH)
            .cloned()
            .unwrap_or_default();
        if let Some(existing) = &existing
            && existing.labels.get(labels::WORKSPACE) != Some(&self.ws.id)
        {
            return Err(not_ours("container", &spec.name));
        }
        let same = existing.as_ref().is_some_and(|e| {
            e.image.as_str() == spec.image && e.labels.get(labels::SETTINGS_HASH) == Some(&hash)
        });
        if same && existing.as_ref().is_some_and(|e| e.running) {
            return Ok((RunAction::Unchanged, existing.map(|e| e.image)));
        }
        if !retry
            && let Some(action) = self.not_retried(&name, &ImageId::new(spec.image.clone()), &hash)
        {
            return Ok((action, existing.map(|e| e.image)));
        }
        let daemon = self.daemon().await?;
        let Some(existing) = existing else {
            self.reporter.start(&name, "start");
            let t = Instant::now();
            let id = daemon.create_container(&spec).await?;
            if let Err(e) = self.start_ready(i, &id, &spec, &hash).await {
                let _ = daemon.remove_container(&id).await;
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
            return Ok((RunAction::Created, None));
        };
        if same {
            // Stopped, unchanged: start it again, through the same gate.
            self.reporter.start(&name, "start");
            let t = Instant::now();
            self.start_ready(i, &existing.id, &spec, &hash).await?;
            self.reporter
                .finish(&name, "start", "started", true, t.elapsed(), None);
            return Ok((RunAction::Started, Some(existing.image)));
        }
        let reason = if existing.image.as_str() != spec.image {
            format!(
                "image {} -> {}",
                existing.image.short(),
                crate::ids::short(&spec.image)
            )
        } else {
            "settings changed".to_string()
        };
        let order = self.ws.nodes[i]
            .manifest
            .run
            .replace
            .as_ref()
            .map(|o| *o.get_ref())
            .unwrap_or(ReplaceOrder::StopFirst);
        self.reporter.start(&name, "replace");
        let t = Instant::now();
        let downtime = self.replace(i, &existing, &spec, &hash, order).await?;
        let how = match order {
            ReplaceOrder::StartFirst => "start-first, no downtime".to_string(),
            ReplaceOrder::StopFirst => format!("down for {}", human_duration(downtime)),
        };
        self.reporter.finish(
            &name,
            "replace",
            &format!("replaced ({reason}); {how}"),
            true,
            t.elapsed(),
            None,
        );
        Ok((
            RunAction::Replaced {
                downtime_ms: downtime.as_millis() as u64,
                reason,
                order,
            },
            Some(existing.image),
        ))
    }

    /// `NotRetried` when this image with these settings failed its last live start.
    pub(crate) fn not_retried(&self, name: &str, image: &ImageId, hash: &str) -> Option<RunAction> {
        let f = self.records.failed_start(name)?;
        if &f.image_id != image || f.settings_hash != hash {
            return None;
        }
        Some(RunAction::NotRetried {
            message: format!(
                "{} with these settings did not become ready on its last start ({}{}); not tried again until the image or the settings change\n  help: fix it and run `dk up {name}`, or force another try with `dk up --retry {name}`",
                f.image_id.short(),
                f.reason,
                f.log
                    .as_deref()
                    .map(|l| format!("; log: {l}"))
                    .unwrap_or_default()
            ),
        })
    }

    /// Start container `id` (of `spec`) and wait until it is ready. On success the node's
    /// failed-start memory is cleared; on failure it is recorded, the container stopped,
    /// its logs kept, and the error says what failed.
    pub(crate) async fn start_ready(
        &self,
        i: usize,
        id: &str,
        spec: &ContainerSpec,
        hash: &str,
    ) -> Result<crate::ready::Ready> {
        let daemon = self.daemon().await?;
        let name = self.name(i);
        let readiness = self.live_readiness(i);
        self.own_unowned_mounts(i, id, spec).await?;
        let started = daemon.start_container(id).await;
        let verdict = match started {
            Ok(()) => {
                self.reporter.step(name, "waiting until ready");
                crate::ready::wait(daemon, id, &readiness, crate::ready::Since::Start).await?
            }
            Err(e) => Err(crate::ready::NotReady {
                reason: format!("it did not start: {}", e.render()),
                health_log: None,
                exit_code: None,
            }),
        };
        match verdict {
            Ok(ready) => {
                self.records.clear_failed_start(name)?;
                Ok(ready)
            }
            Err(why) => {
                let logs = daemon.logs_tail(id, 1000).await.unwrap_or_default();
                let _ = daemon.stop_container(id, Duration::from_secs(2)).await;
                let log_path = self.ws.state.new_log(name, "failed-start")?;
                std::fs::write(&log_path, &logs).map_err(|e| Error::io("write", &log_path, e))?;
                let log_rel = self.ws.rel(&log_path).to_string();
                self.records.put_failed_start(&FailedStart {
                    node: name.to_string(),
                    image_id: ImageId::new(spec.image.clone()),
                    settings_hash: hash.to_string(),
                    at: crate::units::now_unix(),
                    reason: why.reason.clone(),
                    log: Some(log_rel.clone()),
                })?;
                let mut message = format!("the new container did not become ready: {why}");
                if let Some(code) = why.exit_code {
                    message.push_str(&format!(" (exit code {code})"));
                }
                let lines: Vec<&str> = logs.lines().collect();
                if !lines.is_empty() {
                    message.push_str("\n  its last lines of output:");
                    for l in &lines[lines.len().saturating_sub(20)..] {
                        message.push_str(&format!("\n    | {l}"));
                    }
                }
                message.push_str(&format!("\n  full log: {log_rel}"));
                Err(Error::Container {
                    name: spec.name.clone(),
                    message,
                    help: None,
                })
            }
        }
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
        match crate::ready::wait(self.reads()?, &name, &readiness, crate::ready::Since::Now).await?
        {
            Ok(_) => Ok(()),
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
    pub async fn start_live(
        &self,
        _lock: &WorkspaceLock,
        selected: &[usize],
    ) -> Result<Vec<RunReport>> {
        // An explicit start is a new try, whatever failed before.
        let opts = RunStepOptions {
            retry: true,
            hooks: false,
        };
        self.run_step(selected, &HashMap::new(), opts).await
    }

    /// Stop live containers (with their stop timeout).
    pub async fn stop_live(&self, _lock: &WorkspaceLock, i: usize) -> Result<bool> {
        self.stop_one(i).await
    }

    async fn stop_one(&self, i: usize) -> Result<bool> {
        if self.on_swarm(i) {
            return Err(Error::usage_help(
                format!(
                    "{} is a Swarm service, which Swarm keeps running",
                    self.name(i)
                ),
                format!(
                    "remove it with `dk down {}` (its data is kept)",
                    self.name(i)
                ),
            ));
        }
        self.recover(i).await?;
        let (name, c) = self.live_container(i).await?;
        let Some(c) = c else { return Ok(false) };
        self.daemon()
            .await?
            .stop_container(&name, stop_grace(c.stop_timeout))
            .await?;
        Ok(true)
    }

    /// Remove a live container; its data directories are never touched.
    pub async fn down_live(&self, _lock: &WorkspaceLock, i: usize) -> Result<bool> {
        if self.on_swarm(i) {
            return self.remove_service(i).await;
        }
        let existed = self.stop_one(i).await?;
        let (name, _) = self.live_container(i).await?;
        self.daemon().await?.remove_container(&name).await?;
        Ok(existed)
    }

    /// Every node that has a live container in this workspace.
    /// What `dk start --all` (a boot) starts: every live container that exists and every
    /// autostart container that has a `:live` image, in graph order.
    pub async fn nodes_to_boot(&self) -> Result<Vec<usize>> {
        let mut out = self.nodes_with_live_containers().await?;
        let autostart: Vec<usize> = (0..self.ws.nodes.len())
            .filter(|&i| self.ws.nodes[i].manifest.autostart)
            .filter(|&i| self.ws.nodes[i].variant_of.is_none())
            .collect();
        out.extend(self.tag_ids(&autostart, "live").await?.into_keys());
        out.sort_by_key(|i| self.graph.position(*i));
        out.dedup();
        Ok(out)
    }

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
            let node = &self.ws.nodes[i];
            // Another platform's node has images and records, never a container here.
            let (container, c) = match node.variant_of {
                None => self.live_container(i).await?,
                Some(_) => (String::new(), None),
            };
            // What `:live` passed: under the current spec, or (a rollback) an older one.
            let spec = self.test_spec_hash(i);
            let live_tested = live.map(|id| {
                let tests = self.records.tests_of_image(&name, id);
                if tests.iter().any(|t| t.passed && t.spec_hash == spec) {
                    "passed (current spec)".to_string()
                } else if let Some(t) = tests.iter().find(|t| t.passed) {
                    format!(
                        "passed when it went live (spec {}, since changed)",
                        t.spec_hash
                    )
                } else {
                    "no test record here".to_string()
                }
            });
            let failed_start = self.records.failed_start(&name).map(|f| {
                format!(
                    "{} at {}: {}",
                    f.image_id.short(),
                    crate::units::human_time(f.at),
                    f.reason
                )
            });
            let mut row = StatusRow {
                pushed: self
                    .records
                    .pushes(&name)
                    .into_iter()
                    .filter(|p| Some(&p.image_id) == live)
                    .map(|p| p.reference)
                    .collect(),
                autostart: self.ws.nodes[i].manifest.autostart,
                running: false,
                live_tested,
                failed_start,
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
                service: None,
                interrupted: self.interrupted(i).map(|it| it.describe()),
                platform: node.shown_platform(),
            };
            if node.variant_of.is_some() {
                row.state = "image only (another platform)".into();
            } else if self.on_swarm(i) {
                if let Some(svc) = self.service_status(i, live).await? {
                    row.state = format!(
                        "service {}/{} running{}",
                        svc.running,
                        svc.replicas,
                        svc.update
                            .as_deref()
                            .map(|u| format!(", update {u}"))
                            .unwrap_or_default()
                    );
                    row.running = svc.running >= svc.replicas.max(1);
                    row.runs_live = Some(svc.runs_live);
                    row.service = Some(svc);
                }
            } else if let Some(c) = c {
                row.state = c.status.clone();
                row.health = c.health.map(|h| h.label().to_string());
                row.runs_live = Some(Some(&c.image) == live);
                row.restarts = Some(c.restart_count);
                row.running = c.running;
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

#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub name: String,
    /// Where its `:live` image was pushed (`<url>/<ns>/<node>@sha256:…`).
    pub pushed: Vec<String>,
    /// Started by a bare `dk up` (and expected up by `dk status --check`).
    pub autostart: bool,
    pub running: bool,
    pub latest: Option<String>,
    pub live: Option<String>,
    /// Test result of the current `:latest` for the current spec.
    pub tested: String,
    /// What the `:live` image passed: the current test spec, or the spec of the time it
    /// went live (after a rollback).
    pub live_tested: Option<String>,
    /// The last live start that did not become ready (not retried until something changes).
    pub failed_start: Option<String>,
    pub container: String,
    pub state: String,
    pub health: Option<String>,
    /// Does the container run the `:live` image?
    pub runs_live: Option<bool>,
    pub started_at: Option<String>,
    pub uptime_s: Option<u64>,
    pub restarts: Option<i64>,
    /// `[deploy] target = "swarm"`: the service and its tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<crate::swarm::ServiceStatus>,
    /// A replacement that did not finish (dk was killed mid-way): what it left, and the
    /// command that settles it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// The platform of a node built for several (`linux/arm64`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// Seconds since an RFC 3339 timestamp (`2026-11-22T05:26:06.123456789Z`).
impl StatusRow {
    /// What `dk status --check` says is wrong with this container: not there, not
    /// running, or not healthy where it has a healthcheck.
    pub fn problem(&self) -> Option<String> {
        if self.container.is_empty() {
            // Another platform's images: nothing runs here.
            return None;
        }
        if let Some(it) = &self.interrupted {
            return Some(it.clone());
        }
        if self.state == "absent" {
            return Some(match &self.live {
                Some(_) => format!("no live container: `dk start {}`", self.name),
                None => format!("never went live: `dk up {}`", self.name),
            });
        }
        if let Some(svc) = &self.service
            && !self.running
        {
            return Some(format!(
                "{} of {} tasks running ({}): `docker service ps {}` on the manager",
                svc.running,
                svc.replicas,
                svc.tasks.join("; "),
                self.container
            ));
        }
        if !self.running {
            let why = self
                .failed_start
                .as_ref()
                .map(|f| format!("; last failed start: {f}"))
                .unwrap_or_default();
            return Some(format!(
                "{} ({}){why}: `dk start {}`, `dk logs {}`",
                self.state, self.container, self.name, self.name
            ));
        }
        match self.health.as_deref() {
            Some(h) if h != "healthy" && h != "none" => Some(format!(
                "running but {h} ({}): `dk logs {}`",
                self.container, self.name
            )),
            _ => None,
        }
    }
}

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
    let now = crate::units::now_unix() as i64;
    Some((now - secs).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_from_rfc3339() {
        let now = crate::units::now_unix();
        // 1970-01-02T00:00:00Z is 86400.
        assert_eq!(uptime_secs("1970-01-02T00:00:00Z"), Some(now - 86400));
        assert_eq!(uptime_secs("2000-03-01T00:00:00.5Z"), Some(now - 951868800));
        assert_eq!(uptime_secs("garbage"), None);
    }
}

/// What `dk status --check` found: the containers it checked and what is wrong with each.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub ok: bool,
    pub checked: usize,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub name: String,
    pub problem: String,
}

impl Engine {
    /// `dk status --check`: the autostart containers (or the named ones) must run, healthy
    /// where they can say, with no interrupted replacement.
    pub async fn status_check(&self, names: &[String]) -> Result<CheckReport> {
        let rows = self.status(names).await?;
        let checked: Vec<&StatusRow> = rows
            .iter()
            .filter(|r| r.autostart || !names.is_empty())
            .collect();
        let problems: Vec<Problem> = checked
            .iter()
            .filter_map(|r| {
                r.problem().map(|p| Problem {
                    name: r.name.clone(),
                    problem: p,
                })
            })
            .collect();
        Ok(CheckReport {
            ok: problems.is_empty(),
            checked: checked.len(),
            problems,
        })
    }

    /// The nodes a launcher verb (`start`, `stop`, `restart`, `down`) acts on: the named
    /// ones, or with `all`, what a boot starts (`start`) or every node with a live
    /// container (and, for `down`, every Swarm service).
    pub async fn launcher_selection(
        &self,
        verb: &str,
        names: &[String],
        all: bool,
    ) -> Result<Vec<usize>> {
        if all {
            if !names.is_empty() {
                return Err(Error::usage("give names or --all, not both"));
            }
            if verb == "start" {
                return self.nodes_to_boot().await;
            }
            let mut nodes = self.nodes_with_live_containers().await?;
            if verb == "down" {
                nodes.extend(self.nodes_with_services().await?);
            }
            return Ok(nodes);
        }
        if names.is_empty() {
            return Err(Error::usage_help(
                format!("`dk {verb}` needs the names of the containers"),
                if verb == "down" {
                    "name them, or use --all to remove every live container of this workspace (data is kept)"
                } else {
                    "name them; prefixes work (`dk restart f`)"
                },
            ));
        }
        Ok(self.directories(&self.select(names)?.selected))
    }

    /// Stop (or, with `remove`, remove) the live containers of `selected`, `jobs` at a
    /// time; each node's result (did it have a live container?), in the order given.
    pub async fn stop_many(
        &self,
        lock: &WorkspaceLock,
        selected: &[usize],
        jobs: usize,
        remove: bool,
    ) -> Vec<(usize, Result<bool>)> {
        use futures_util::StreamExt;
        let mut results: Vec<(usize, Result<bool>)> =
            futures_util::stream::iter(selected.iter().map(|&i| async move {
                let r = if remove {
                    self.down_live(lock, i).await
                } else {
                    self.stop_live(lock, i).await
                };
                (i, r)
            }))
            .buffer_unordered(jobs.max(1))
            .collect()
            .await;
        results.sort_by_key(|(i, _)| selected.iter().position(|s| s == i));
        results
    }

    /// `dk logs`: node `i`'s live container's output, each chunk to `on_chunk`.
    pub async fn follow_logs(
        &self,
        i: usize,
        opts: &LogOptions,
        on_chunk: impl FnMut(&[u8]),
    ) -> Result<()> {
        let (container, c) = self.live_container(i).await?;
        if c.is_none() {
            return Err(Error::Container {
                name: container.clone(),
                message: format!("{} has no live container ({container})", self.name(i)),
                help: Some(format!("start it: `dk up {}`", self.name(i))),
            });
        }
        self.reads()?.follow_logs(&container, opts, on_chunk).await
    }
}
