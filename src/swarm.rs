//! Swarm deploys: a node with `[deploy] target = "swarm"` runs as one Swarm service instead
//! of one container. Its image goes by registry digest (pushed to dk.toml's first
//! `[[registry]]` when that digest is not recorded yet), so every swarm node runs the same
//! tested bytes. The service is created or updated only when its settings hash differs (a
//! no-op `dk up` sends nothing); Swarm rolls an update out one task at a time, gated on
//! the healthcheck, and rolls it back by itself on failure: dk waits for either and says
//! which. A rolled-back (image, settings) pair is remembered like a failed live start.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::config::RegistryFile;
use crate::converge::RunAction;
use crate::docker::{ContainerSpec, NodeInfo, SecretRef, ServiceInfo, ServiceSettings, TaskInfo};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ids::ImageId;
use crate::labels::{self, Role};
use crate::manifest::{DeployTarget, ReplaceOrder};
use crate::records::FailedStart;
use crate::report::ReporterExt;

/// How often a rollout is looked at.
const POLL: Duration = Duration::from_millis(250);
/// Failed tasks of a new service before dk stops waiting for one to run.
const CREATE_FAILURES: usize = 3;

/// A service's state for `dk status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceStatus {
    pub replicas: u64,
    pub running: u64,
    /// Swarm's state of the last update (`completed`, `rollback_completed`, …).
    pub update: Option<String>,
    /// The service runs the `:live` image.
    pub runs_live: bool,
    /// Each task: `running`, `failed: <error>`, … (the ones Swarm wants running).
    pub tasks: Vec<String>,
}

impl Engine {
    /// Does node `i` run as a Swarm service? (its `[deploy] target`, else dk.toml's)
    pub fn on_swarm(&self, i: usize) -> bool {
        self.ws.nodes[i]
            .manifest
            .deploy
            .target
            .or(self.ws.deploy.target)
            .unwrap_or_default()
            == DeployTarget::Swarm
    }

    /// Node `i`'s service: named as its live container would be.
    fn service_name(&self, i: usize) -> String {
        crate::launch::container_name(&self.ws, self.name(i), Role::Live)
    }

    /// The overlay network of this workspace's services.
    fn overlay(&self) -> String {
        format!("{}-swarm", self.ws.live_network.name)
    }

    /// Make node `i`'s service run `spec` (its `:live` image and settings), touching it only
    /// when its settings hash differs. Returns what happened and the image it ran before.
    pub(crate) async fn converge_service(
        &self,
        i: usize,
        spec: ContainerSpec,
        retry: bool,
    ) -> Result<(RunAction, Option<ImageId>)> {
        let name = self.name(i).to_string();
        self.require_manager(&spec.name).await?;
        let registry = self.swarm_registry(&name)?;
        let existing = self.reads()?.service(&spec.name).await?;
        if let Some(s) = &existing
            && s.labels.get(labels::WORKSPACE) != Some(&self.ws.id)
        {
            return Err(crate::converge::not_ours("Swarm service", &spec.name));
        }
        let old_image = existing
            .as_ref()
            .and_then(|s| s.labels.get(labels::IMAGE))
            .map(|id| ImageId::new(id.clone()));
        let live = ImageId::new(spec.image.clone());
        // "Unchanged" is decided by what the image was built from (its input hash) and the
        // settings without the image, so another checkout that built the same inputs into
        // other bytes, or took them from the registry, replaces nothing.
        let mut settings = self.service_settings(i, &spec).await?;
        let input_hash = self
            .reads()?
            .inspect_image(&spec.image)
            .await?
            .and_then(|f| f.labels.get(labels::INPUT_HASH).cloned());
        let hash = service_hash(&spec, &settings);
        let carried = |key: &str| existing.as_ref().and_then(|s| s.labels.get(key));
        let unchanged = match (&input_hash, carried(labels::INPUT_HASH)) {
            (Some(ours), Some(theirs)) => {
                ours == theirs && carried(labels::SETTINGS_HASH) == Some(&hash)
            }
            _ => false,
        };
        if unchanged {
            return Ok((RunAction::Unchanged, old_image));
        }
        settings.image = self.service_image(i, &live, &registry).await?;
        if existing.is_some() && carried(labels::INPUT_HASH).is_none() {
            // A service made before the input hash was carried: its hash covered the image.
            let before = legacy_service_hash(&spec, &settings);
            if carried(labels::SETTINGS_HASH) == Some(&before) {
                return Ok((RunAction::Unchanged, old_image));
            }
        }
        let mut labels: HashMap<String, String> = spec.labels.to_map().into_iter().collect();
        labels.insert(labels::SETTINGS_HASH.to_string(), hash.clone());
        if let Some(h) = &input_hash {
            labels.insert(labels::INPUT_HASH.to_string(), h.clone());
        }
        if !retry && let Some(action) = self.not_retried(&name, &live, &hash) {
            return Ok((action, old_image));
        }
        let daemon = self.daemon().await?;
        daemon
            .ensure_overlay(&self.overlay(), labels::owned(&self.ws.id, Role::Live))
            .await?;
        let auth = crate::credentials::for_registry(&registry.url)?;
        let bound = self.rollout_bound(i, &settings);
        let t = Instant::now();
        let fail = |reason: String| FailedStart {
            node: name.clone(),
            image_id: live.clone(),
            settings_hash: hash.clone(),
            at: crate::units::now_unix(),
            reason,
            log: None,
        };
        let Some(existing) = existing else {
            self.reporter.start(&name, "service");
            daemon
                .create_service(&spec, &settings, labels, auth.as_ref())
                .await?;
            if let Err(e) = self.wait_created(&spec.name, &settings, bound).await {
                // Nothing served before: a service that never runs is not left behind.
                daemon.remove_service(&spec.name).await?;
                self.prune_secrets(i, &spec.name, &[]).await?;
                self.records.put_failed_start(&fail(e.render()))?;
                return Err(e);
            }
            self.records.clear_failed_start(&name)?;
            self.reporter.finish(
                &name,
                "service",
                &format!("created, {} task(s) running", settings.replicas),
                true,
                t.elapsed(),
                None,
            );
            return Ok((RunAction::Created, None));
        };
        let reason = match &old_image {
            Some(old) if old != &live => format!("image {} -> {}", old.short(), live.short()),
            _ => "settings changed".to_string(),
        };
        self.reporter.start(&name, "rollout");
        daemon
            .update_service(&existing, &spec, &settings, labels, auth.as_ref())
            .await?;
        let rolled_out = self
            .wait_rollout(
                &spec.name,
                &settings,
                bound,
                existing.update_started.clone(),
            )
            .await;
        // The previous spec keeps its secrets (a rollback goes back to it); older
        // versions, and a rolled-back spec's, go.
        self.prune_secrets(i, &spec.name, &existing.secrets).await?;
        if let Err(e) = rolled_out {
            self.records.put_failed_start(&fail(e.render()))?;
            return Err(e);
        }
        self.records.clear_failed_start(&name)?;
        self.reporter.finish(
            &name,
            "rollout",
            &format!("replaced ({reason}); rolled out by Swarm, task by task"),
            true,
            t.elapsed(),
            None,
        );
        Ok((
            RunAction::Replaced {
                downtime_ms: 0,
                reason,
                order: if settings.start_first {
                    ReplaceOrder::StartFirst
                } else {
                    ReplaceOrder::StopFirst
                },
            },
            old_image,
        ))
    }

    /// `dk rollback` of a service: Swarm's own rollback to its previous spec, waited for.
    /// Returns false when there is no service (nothing to roll back on the cluster).
    pub(crate) async fn rollback_service(&self, i: usize) -> Result<bool> {
        let name = self.service_name(i);
        self.require_manager(&name).await?;
        let Some(current) = self.reads()?.service(&name).await? else {
            return Ok(false);
        };
        self.daemon()
            .await?
            .rollback_service(&current, &name)
            .await?;
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let s = self.service_now(&name).await?;
            match s.update_state.as_deref() {
                Some("rollback_completed") => return Ok(true),
                Some("rollback_paused") | Some("paused") => {
                    return Err(self
                        .rollout_error(&name, &s, "Swarm paused the rollback")
                        .await);
                }
                _ => {}
            }
            if Instant::now() > deadline {
                return Err(self
                    .rollout_error(&name, &s, "Swarm's rollback did not finish within 300 s")
                    .await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Remove node `i`'s service (`dk down`); its volumes and data are kept.
    pub(crate) async fn remove_service(&self, i: usize) -> Result<bool> {
        let name = self.service_name(i);
        let removed = self.daemon().await?.remove_service(&name).await?;
        self.prune_secrets(i, &name, &[]).await?;
        Ok(removed)
    }

    /// The swarm nodes whose service exists (`dk down --all`); none when the daemon
    /// manages no swarm.
    pub async fn nodes_with_services(&self) -> Result<Vec<usize>> {
        let reads = self.reads()?;
        let mut out = Vec::new();
        if !reads.swarm_manager().await? {
            return Ok(out);
        }
        for i in (0..self.ws.nodes.len()).filter(|&i| self.on_swarm(i)) {
            let name = self.service_name(i);
            if reads.service(&name).await?.is_some() {
                out.push(i);
            }
        }
        Ok(out)
    }

    /// Node `i`'s service as `dk status` shows it (None: no service).
    pub(crate) async fn service_status(
        &self,
        i: usize,
        live: Option<&ImageId>,
    ) -> Result<Option<ServiceStatus>> {
        let name = self.service_name(i);
        let reads = self.reads()?;
        if !reads.swarm_manager().await? {
            return Ok(None);
        }
        let Some(s) = reads.service(&name).await? else {
            return Ok(None);
        };
        let tasks = reads.service_tasks(&name).await?;
        let nodes = reads.swarm_nodes().await?;
        let wanted: Vec<&TaskInfo> = tasks.iter().filter(|t| t.desired == "running").collect();
        Ok(Some(ServiceStatus {
            replicas: s.replicas,
            running: wanted.iter().filter(|t| t.state == "running").count() as u64,
            update: s.update_state.clone(),
            runs_live: live.is_some_and(|l| s.labels.get(labels::IMAGE) == Some(&l.to_string())),
            tasks: wanted.iter().map(|t| task_line(t, &nodes)).collect(),
        }))
    }

    /// The daemon must manage a swarm to deploy services.
    async fn require_manager(&self, what: &str) -> Result<()> {
        if self.reads()?.swarm_manager().await? {
            return Ok(());
        }
        Err(Error::Container {
            name: what.to_string(),
            message: "`[deploy] target = \"swarm\"`, but the daemon dk talks to is not a manager of a swarm".into(),
            help: Some(
                "point dk at a manager (`dk -H NAME`, DOCKER_HOST), or make this daemon one: `docker swarm init`"
                    .into(),
            ),
        })
    }

    /// Services pull by digest from dk.toml's first registry.
    fn swarm_registry(&self, name: &str) -> Result<RegistryFile> {
        self.ws.registries.first().cloned().ok_or_else(|| {
            Error::usage_help(
                format!("{name} deploys to Swarm, which pulls images from a registry, and dk.toml names none"),
                "add one that every swarm node can pull from: [[registry]] url = \"registry.example.com:5000\"",
            )
        })
    }

    /// The live image `live` of node `i` by registry digest: pushed now when it was not
    /// pushed there yet.
    async fn service_image(
        &self,
        i: usize,
        live: &ImageId,
        registry: &RegistryFile,
    ) -> Result<String> {
        let recorded = self
            .records
            .pushes(self.name(i))
            .into_iter()
            .find(|p| p.registry == registry.url && &p.image_id == live);
        if let Some(p) = recorded {
            return Ok(p.reference);
        }
        let mut outcome = self.push_to(&[i], std::slice::from_ref(registry)).await?;
        let o = outcome.pop().expect("one outcome per node");
        match (o.pushed.into_iter().next(), o.failed.into_iter().next()) {
            (Some(p), _) => Ok(p.reference),
            (None, Some((_, e))) => Err(e),
            (None, None) => unreachable!("a push either went through or failed"),
        }
    }

    /// What the service of `spec` needs besides it: replicas, placement, order, secrets
    /// (the image by digest is `service_image`'s, filled in once a change is decided).
    async fn service_settings(&self, i: usize, spec: &ContainerSpec) -> Result<ServiceSettings> {
        let node = &self.ws.nodes[i].manifest;
        let deploy = &node.deploy;
        let ws = &self.ws.deploy;
        let grace = node
            .run
            .ready
            .as_ref()
            .and_then(|r| r.grace.as_ref())
            .map(|g| *g.get())
            .unwrap_or(Duration::from_secs(5));
        Ok(ServiceSettings {
            image: String::new(),
            replicas: deploy.replicas.or(ws.replicas).unwrap_or(1),
            constraints: deploy
                .constraints
                .clone()
                .or_else(|| ws.constraints.clone())
                .unwrap_or_default(),
            spread: deploy
                .spread
                .clone()
                .or_else(|| ws.spread.clone())
                .unwrap_or_default(),
            max_per_node: deploy.max_per_node.or(ws.max_per_node),
            // The workspace's overlay stands for the live network; other networks it names
            // must be swarm-scoped (overlay) ones on the manager.
            networks: match spec.network.as_ref().map(|(n, _)| n.as_str()) {
                Some("none") => Vec::new(),
                named => std::iter::once(self.overlay())
                    .chain(
                        named
                            .filter(|n| *n != self.ws.live_network.name)
                            .map(String::from),
                    )
                    .chain(spec.extra_networks.iter().cloned())
                    .collect(),
            },
            // Host-mode ports cannot be held by an old and a new task at once.
            start_first: spec.ports.is_empty(),
            monitor: grace,
            secrets: self.swarm_secrets(i, spec).await?,
        })
    }

    /// Node `i`'s `[[secret]]`s as Swarm secrets, one per content (`<service>-<name>-<12
    /// hex of the keyed fingerprint>`), owned by the container's user when it is numeric.
    async fn swarm_secrets(&self, i: usize, spec: &ContainerSpec) -> Result<Vec<SecretRef>> {
        if spec.secrets.is_empty() {
            return Ok(Vec::new());
        }
        let daemon = self.daemon().await?;
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (uid, gid) = match spec
            .user
            .as_deref()
            .map(|u| u.split_once(':').unwrap_or((u, u)))
        {
            Some((u, g)) if numeric(u) && numeric(g) => (u.to_string(), g.to_string()),
            // A user by name (or the image's): readable by whoever the process runs as.
            _ => ("0".to_string(), "0".to_string()),
        };
        let mode = if uid == "0" { 0o444 } else { 0o400 };
        let mut labels = labels::owned(&self.ws.id, Role::Live);
        labels.insert(labels::NODE, self.name(i).to_string());
        let mut refs = Vec::new();
        for m in &spec.secrets {
            let name = format!("{}-{}-{}", spec.name, m.name, &m.fingerprint[..12]);
            let id = daemon
                .ensure_secret(&name, &crate::secrets::content(m)?, labels.clone())
                .await?;
            refs.push(SecretRef {
                id,
                name,
                target: m.target.clone(),
                uid: uid.clone(),
                gid: gid.clone(),
                mode,
            });
        }
        Ok(refs)
    }

    /// Remove node `i`'s Swarm secrets that neither its service (if any) references nor
    /// `keep` names (the spec before an update: Swarm's rollback goes back to it).
    async fn prune_secrets(&self, i: usize, service: &str, keep: &[String]) -> Result<()> {
        let mut labels = labels::owned(&self.ws.id, Role::Live);
        labels.insert(labels::NODE, self.name(i).to_string());
        let reads = self.reads()?;
        let used = reads
            .service(service)
            .await?
            .map(|s| s.secrets)
            .unwrap_or_default();
        let daemon = self.daemon().await?;
        for (id, name) in reads.secrets_with_labels(&labels.to_map()).await? {
            if !used.contains(&name) && !keep.contains(&name) {
                daemon.remove_secret(&id).await?;
            }
        }
        Ok(())
    }

    /// How long a rollout may take: `[deploy] timeout`, else per task its readiness bound
    /// and the monitor period, plus a minute for pulls.
    fn rollout_bound(&self, i: usize, s: &ServiceSettings) -> Duration {
        if let Some(t) = self.ws.nodes[i].manifest.deploy.timeout.as_ref().or(self
            .ws
            .deploy
            .timeout
            .as_ref())
        {
            return *t.get();
        }
        let ready = self.ws.nodes[i]
            .manifest
            .run
            .ready
            .as_ref()
            .and_then(|r| r.timeout.as_ref())
            .map(|t| *t.get())
            .unwrap_or(Duration::from_secs(60));
        (ready + s.monitor) * s.replicas.max(1) as u32 + Duration::from_secs(60)
    }

    async fn service_now(&self, name: &str) -> Result<ServiceInfo> {
        self.reads()?
            .service(name)
            .await?
            .ok_or_else(|| Error::Container {
                name: name.to_string(),
                message: format!("the Swarm service {name} disappeared during its rollout"),
                help: Some("something else removed it: run `dk up` again".into()),
            })
    }

    /// A new service: wait until `replicas` tasks of its image run; a task that keeps
    /// failing ends the wait early.
    async fn wait_created(&self, name: &str, s: &ServiceSettings, bound: Duration) -> Result<()> {
        let deadline = Instant::now() + bound;
        loop {
            let tasks = self.reads()?.service_tasks(name).await?;
            let of_image = |t: &&TaskInfo| t.image.as_deref() == Some(s.image.as_str());
            let running = tasks
                .iter()
                .filter(of_image)
                .filter(|t| t.desired == "running" && t.state == "running")
                .count() as u64;
            if running >= s.replicas {
                return Ok(());
            }
            let failed: Vec<&TaskInfo> = tasks
                .iter()
                .filter(of_image)
                .filter(|t| matches!(t.state.as_str(), "failed" | "rejected"))
                .collect();
            let late = Instant::now() > deadline;
            if failed.len() >= CREATE_FAILURES || late {
                let report = self.task_report(name).await;
                return Err(Error::Container {
                    name: name.to_string(),
                    message: format!(
                        "the new Swarm service did not run {} task(s) ({}); per node: {report}; the service was removed",
                        s.replicas,
                        if late {
                            format!("not within {}", crate::units::human_duration(bound))
                        } else {
                            "tasks keep failing".to_string()
                        },
                    ),
                    help: Some(format!(
                        "see the task logs with `docker service logs {name}` on the manager, fix it and `dk up` again"
                    )),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// An updated service: wait until Swarm completes the update, or rolls it back.
    async fn wait_rollout(
        &self,
        name: &str,
        s: &ServiceSettings,
        bound: Duration,
        before: Option<String>,
    ) -> Result<()> {
        let deadline = Instant::now() + bound;
        loop {
            let svc = self.service_now(name).await?;
            match svc.update_state.as_deref() {
                Some("completed") if svc.update_started != before => return Ok(()),
                Some("rollback_completed") | Some("rollback_paused") | Some("paused") => {
                    return Err(self
                        .rollout_error(
                            name,
                            &svc,
                            "Swarm rolled the update back; the previous tasks keep serving",
                        )
                        .await);
                }
                // No rolling update (only the replicas changed): the tasks say.
                None => {
                    let tasks = self.reads()?.service_tasks(name).await?;
                    let wanted: Vec<&TaskInfo> =
                        tasks.iter().filter(|t| t.desired == "running").collect();
                    if wanted.len() as u64 == s.replicas
                        && wanted.iter().all(|t| {
                            t.state == "running" && t.image.as_deref() == Some(s.image.as_str())
                        })
                    {
                        return Ok(());
                    }
                }
                _ => {}
            }
            if Instant::now() > deadline {
                return Err(self
                    .rollout_error(
                        name,
                        &svc,
                        &format!(
                            "Swarm did not finish the update within {} (`[deploy] timeout`); it goes on with it",
                            crate::units::human_duration(bound)
                        ),
                    )
                    .await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// What Swarm reports of the service, node by node: every node with the states of the
    /// tasks it holds (the ones Swarm wants running, then recent failures) and its own
    /// state when it is not ready and active (a dead node shows as `down`); then the tasks
    /// no node took. One line.
    async fn task_report(&self, name: &str) -> String {
        let Ok(reads) = self.reads() else {
            return "(the manager does not answer)".into();
        };
        let tasks = reads.service_tasks(name).await.unwrap_or_default();
        let mut nodes = reads.swarm_nodes().await.unwrap_or_default();
        nodes.sort_by(|a, b| a.addr.cmp(&b.addr));
        // Wanted tasks first, then at most 3 failed ones per node.
        let of = |node: Option<&str>| -> Vec<String> {
            let here = |t: &&TaskInfo| t.node.as_deref() == node;
            tasks
                .iter()
                .filter(here)
                .filter(|t| t.desired == "running")
                .map(task_state)
                .chain(
                    tasks
                        .iter()
                        .filter(here)
                        .filter(|t| t.desired != "running" && t.error.is_some())
                        .take(3)
                        .map(task_state),
                )
                .collect()
        };
        let mut parts: Vec<String> = nodes
            .iter()
            .map(|n| {
                let held = of(Some(&n.id));
                format!(
                    "{}: {}",
                    n.shown(),
                    if held.is_empty() {
                        "no task".to_string()
                    } else {
                        held.join(", ")
                    }
                )
            })
            .collect();
        let unplaced = of(None);
        if !unplaced.is_empty() {
            parts.push(format!("not placed: {}", unplaced.join(", ")));
        }
        parts.join("; ")
    }

    async fn rollout_error(&self, name: &str, s: &ServiceInfo, what: &str) -> Error {
        Error::Container {
            name: name.to_string(),
            message: format!(
                "{what} ({}); per node: {}",
                s.update_message
                    .as_deref()
                    .unwrap_or("no message from Swarm"),
                self.task_report(name).await
            ),
            help: Some(format!(
                "see the task logs with `docker service logs {name}` on the manager; fix it and `dk up` again"
            )),
        }
    }
}

/// The service's settings hash, without the image (its input hash is compared instead)
/// and without where this checkout keeps the secret files (a Swarm secret is its content,
/// which the keyed fingerprint stands for): the same from every checkout.
fn service_hash(spec: &ContainerSpec, s: &ServiceSettings) -> String {
    let mut spec = spec.clone();
    spec.image.clear();
    spec.labels.remove(labels::IMAGE);
    for m in &mut spec.secrets {
        m.source.clear();
    }
    let mut s = s.clone();
    s.image.clear();
    legacy_service_hash(&spec, &s)
}

/// The settings hash services carried before the input hash was: the image included.
fn legacy_service_hash(spec: &ContainerSpec, s: &ServiceSettings) -> String {
    let mut h = blake3::Hasher::new();
    h.update(crate::launch::settings_hash(spec).as_bytes());
    h.update(&serde_json::to_vec(s).expect("serialize service settings"));
    h.finalize().to_hex()[..16].to_string()
}

/// `on node host (10.0.0.2): running`, `on node host (10.0.0.3), down: failed: <error>`,
/// or `not placed: pending: no suitable node (…)`.
fn task_line(t: &TaskInfo, nodes: &[NodeInfo]) -> String {
    let at = match t
        .node
        .as_deref()
        .and_then(|id| nodes.iter().find(|n| n.id == id))
    {
        Some(n) => format!("on node {}", n.shown()),
        None => "not placed".to_string(),
    };
    format!("{at}: {}", task_state(t))
}

/// `running`, or `failed: <error>`.
fn task_state(t: &TaskInfo) -> String {
    match &t.error {
        Some(e) => format!("{}: {e}", t.state),
        None => t.state.clone(),
    }
}
