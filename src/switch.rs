//! Replacing a live host container, as a transaction.
//!
//! A replacement creates the new container as `<name>-next`, waits until it is ready (one
//! continuous run: `ready.rs`), checks again at the moment of the switch, and only then
//! lets the names change hands. From the moment the old container is stopped (stop-first)
//! or the new one started (start-first) until the old one is removed, a `Switch` owns the
//! two containers; its only exits are `commit` (the new one is live, the old one gone) and
//! `restore` (the old one back under its name, on its network, started and waited for, the
//! new one removed). No `?` can leave in between.
//!
//! Before each step, an intent record (`.dk/intents/<node>.json`) says what is about to
//! happen. A dk killed at any moment leaves that record; the next command that touches the
//! node's live container (`dk up`, `dk start`, `dk stop`, `dk down`, a rollback) calls
//! `recover` first, which decides from the record: the new container when it had become
//! ready and still runs that run, else the old one, and removes the rest. `dk status` only
//! reads the record and says which command repairs it.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::docker::{ContainerInfo, ContainerSpec, Daemon};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::manifest::ReplaceOrder;
use crate::ready::{Ready, RunId, Since};
use crate::report::ReporterExt;

/// Where a replacement stood when its record was last written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Creating the new container (`new_id` is set once it exists).
    Creating,
    /// Stop-first: stopping the old container.
    Stopping,
    /// Starting the new container and waiting until it is ready.
    Gating,
    /// The new container was ready in this run; the names are changing hands.
    Ready { run: Option<RunId> },
    /// The new container is live; the old one is being removed.
    Committed,
}

/// What a replacement is about to do, written before it does it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Intent {
    pub node: String,
    pub order: ReplaceOrder,
    /// The live container's name.
    pub name: String,
    pub old_id: String,
    pub old_was_running: bool,
    pub new_id: Option<String>,
    #[serde(flatten)]
    pub phase: Phase,
    pub at: u64,
}

impl Intent {
    pub fn next_name(&self) -> String {
        format!("{}-next", self.name)
    }

    pub fn old_name(&self) -> String {
        format!("{}-old", self.name)
    }

    /// What `dk status` says about it (a read: nothing is changed).
    pub fn describe(&self) -> String {
        let at = match &self.phase {
            Phase::Creating => "while creating the new container",
            Phase::Stopping => "while stopping the old container",
            Phase::Gating => "while the new container was being checked",
            Phase::Ready { .. } => "after the new container was ready, while switching",
            Phase::Committed => "after the switch, while removing the old container",
        };
        format!(
            "a replacement was interrupted {at} (at {}): `dk up {}` (or `dk start {}`) settles it — the new container if it had become ready, else the old one",
            crate::units::human_time(self.at),
            self.node,
            self.node
        )
    }
}

/// The two containers of a replacement under way. Consumed by `commit` or `restore`.
#[must_use = "a switch ends in commit or restore"]
struct Switch<'a> {
    engine: &'a Engine,
    i: usize,
    old: &'a ContainerInfo,
    spec: &'a ContainerSpec,
    new_id: String,
    intent: Intent,
    /// What has been done to the old container so far (what `restore` undoes).
    old_stopped: bool,
    old_off_network: bool,
    old_renamed: bool,
}

impl Engine {
    /// Replace node `i`'s live container `old` by a new one of `spec`, in `order`. Returns
    /// the downtime (zero for start-first). On any failure the old container is back, and
    /// the error says what failed and what became of the old one.
    pub(crate) async fn replace(
        &self,
        i: usize,
        old: &ContainerInfo,
        spec: &ContainerSpec,
        hash: &str,
        order: ReplaceOrder,
    ) -> Result<Duration> {
        let daemon = self.daemon().await?;
        let mut intent = Intent {
            node: self.name(i).to_string(),
            order,
            name: spec.name.clone(),
            old_id: old.id.clone(),
            old_was_running: old.running,
            new_id: None,
            phase: Phase::Creating,
            at: crate::units::now_unix(),
        };
        self.put_intent(&intent)?;
        let created = async {
            daemon.remove_container(&intent.next_name()).await?;
            daemon.remove_container(&intent.old_name()).await?;
            let mut next = spec.clone();
            next.name = intent.next_name();
            daemon.create_container(&next).await
        }
        .await;
        let new_id = match created {
            Ok(id) => id,
            Err(e) => {
                let _ = daemon.remove_container(&intent.next_name()).await;
                self.clear_intent(&intent.node)?;
                return Err(e);
            }
        };
        intent.new_id = Some(new_id.clone());
        let sw = Switch {
            engine: self,
            i,
            old,
            spec,
            new_id,
            intent,
            old_stopped: false,
            old_off_network: false,
            old_renamed: false,
        };
        match order {
            ReplaceOrder::StopFirst => sw.stop_first(hash).await,
            ReplaceOrder::StartFirst => sw.start_first(hash).await.map(|()| Duration::ZERO),
        }
    }

    fn put_intent(&self, intent: &Intent) -> Result<()> {
        crate::records::write_json(&self.ws.state.intent(&intent.node), intent)
    }

    fn clear_intent(&self, node: &str) -> Result<()> {
        let p = self.ws.state.intent(node);
        match std::fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &p, e)),
        }
    }

    /// The record of a replacement of node `i` that did not finish (dk was killed, or
    /// could not put things back), if any. A read: `dk status` shows it.
    pub fn interrupted(&self, i: usize) -> Option<Intent> {
        crate::records::read_json(&self.ws.state.intent(self.name(i)))
    }

    /// Finish what an interrupted replacement of node `i` left: exactly one live container
    /// under the node's name — the new one when it had become ready and still runs that
    /// run, else the old one (started again when it ran before) — and nothing else.
    /// Returns what it did, or None when there was nothing to do.
    pub(crate) async fn recover(&self, i: usize) -> Result<Option<String>> {
        let Some(intent) = self.interrupted(i) else {
            return Ok(None);
        };
        let daemon = self.daemon().await?;
        let reads = self.reads()?;
        let find = |id: Option<String>, name: String| async move {
            if let Some(id) = id
                && let Some(c) = reads.inspect_container(&id).await?
            {
                return Ok::<_, Error>(Some(c));
            }
            reads.inspect_container(&name).await
        };
        let new = find(intent.new_id.clone(), intent.next_name()).await?;
        let old = reads.inspect_container(&intent.old_id).await?;
        let new_good = match (&intent.phase, &new) {
            (Phase::Ready { run }, Some(n)) => verified(self, i, n, run.clone()).await?,
            (Phase::Committed, Some(n)) => verified(self, i, n, RunId::of(n)).await?,
            _ => false,
        };
        let said = if new_good {
            let n = new.expect("checked above");
            if let Some(o) = &old {
                daemon
                    .stop_container(&o.id, stop_grace(o.stop_timeout))
                    .await?;
                daemon.remove_container(&o.id).await?;
            }
            if n.name != intent.name {
                daemon.rename_container(&n.id, &intent.name).await?;
            }
            format!(
                "{}: finished an interrupted replacement: the new container had become ready and is live ({} removed)",
                intent.node,
                if old.is_some() {
                    "the old one"
                } else {
                    "nothing else"
                }
            )
        } else {
            if let Some(n) = &new {
                discard(daemon, &n.id).await?;
            }
            match &old {
                Some(o) => {
                    let back = put_back(self, daemon, i, o, &intent).await?;
                    format!(
                        "{}: undid an interrupted replacement: the new container was removed; {back}",
                        intent.node
                    )
                }
                None => format!(
                    "{}: an interrupted replacement left no old container; the new one was removed",
                    intent.node
                ),
            }
        };
        self.clear_intent(&intent.node)?;
        self.reporter.note(&said);
        Ok(Some(said))
    }
}

/// Is `n` still running `run`, ready by node `i`'s readiness?
async fn verified(
    engine: &Engine,
    i: usize,
    n: &ContainerInfo,
    run: Option<RunId>,
) -> Result<bool> {
    let readiness = engine.live_readiness(i);
    Ok(
        crate::ready::verify(engine.reads()?, &n.id, run.as_ref(), &readiness)
            .await?
            .is_ok(),
    )
}

/// The old container `o` back as the live one: its name, its network, started and
/// waited for when it ran before the replacement. Says how that went.
async fn put_back(
    engine: &Engine,
    daemon: &Daemon,
    i: usize,
    o: &ContainerInfo,
    intent: &Intent,
) -> Result<String> {
    if o.restarting {
        // Its restart policy is starting it again: stopped first, so that it is not
        // joined to the network while the restart joins it too.
        daemon
            .stop_container(&o.id, stop_grace(o.stop_timeout))
            .await?;
    }
    if o.name != intent.name {
        daemon.rename_container(&o.id, &intent.name).await?;
    }
    let net = &engine.ws.live_network.name;
    if !o.networks.iter().any(|n| n == net) {
        // Under the aliases and address its spec gives (what start-first took it off).
        let (aliases, ip) = match engine.live_spec(i, None).await {
            Ok(spec) => (spec.aliases, spec.network.and_then(|(_, ip)| ip)),
            Err(_) => (vec![intent.node.clone()], None),
        };
        daemon
            .connect_network(&o.id, net, &aliases, ip.as_deref())
            .await?;
    }
    if !intent.old_was_running {
        return Ok("the old container (stopped before) was put back".into());
    }
    let was_running = o.running && !o.restarting;
    if !was_running {
        daemon.start_container(&o.id).await?;
    }
    let since = if was_running {
        Since::Now
    } else {
        Since::Start
    };
    Ok(
        match crate::ready::wait(daemon, &o.id, &engine.live_readiness(i), since).await? {
            Ok(_) => "the old container was put back and runs again".to_string(),
            Err(why) => {
                format!("the old container was put back, but it is not ready either: {why}")
            }
        },
    )
}

impl Switch<'_> {
    fn phase(&mut self, phase: Phase) -> Result<()> {
        self.intent.phase = phase;
        self.engine.put_intent(&self.intent)
    }

    /// Stop the old one, start the new one; the outage runs from the stop to the new
    /// one's first answer.
    async fn stop_first(mut self, hash: &str) -> Result<Duration> {
        let daemon = match self.engine.daemon().await {
            Ok(d) => d,
            Err(e) => return Err(self.restore(e).await),
        };
        if let Err(e) = self.phase(Phase::Stopping) {
            return Err(self.restore(e).await);
        }
        let down_from = Instant::now();
        self.old_stopped = true;
        if let Err(e) = daemon
            .stop_container(&self.old.id, stop_grace(self.spec.stop_timeout))
            .await
        {
            return Err(self.restore(e).await);
        }
        let ready = match self.gate(hash).await {
            Ok(r) => r,
            Err(e) => return Err(self.restore(e).await),
        };
        let downtime = ready.answered.unwrap_or_else(Instant::now) - down_from;
        match self.swap(&ready).await {
            Ok(()) => self.commit().await.map(|()| downtime),
            Err(e) => Err(self.restore(e).await),
        }
    }

    /// Start the new one beside the old one (both answer to the node's name); once it is
    /// ready, the old one leaves the live network (the name resolves to the new one only)
    /// and stops.
    async fn start_first(mut self, hash: &str) -> Result<()> {
        let ready = match self.gate(hash).await {
            Ok(r) => r,
            Err(e) => return Err(self.restore(e).await),
        };
        let stepped = async {
            let daemon = self.engine.daemon().await?;
            if let Some((net, _)) = &self.spec.network
                && self.old.networks.iter().any(|n| n == net)
            {
                self.old_off_network = true;
                daemon.disconnect_network(&self.old.id, net).await?;
            }
            self.old_stopped = true;
            daemon
                .stop_container(&self.old.id, stop_grace(self.old.stop_timeout))
                .await
        }
        .await;
        if let Err(e) = stepped {
            return Err(self.restore(e).await);
        }
        match self.swap(&ready).await {
            Ok(()) => self.commit().await,
            Err(e) => Err(self.restore(e).await),
        }
    }

    /// Start the new container and wait until it is ready (its failure is recorded, its
    /// log kept, by `start_ready`).
    async fn gate(&mut self, hash: &str) -> Result<Ready> {
        self.phase(Phase::Gating)?;
        let ready = self
            .engine
            .start_ready(self.i, &self.new_id, self.spec, hash)
            .await?;
        self.phase(Phase::Ready {
            run: ready.run.clone(),
        })?;
        Ok(ready)
    }

    /// The names change hands, with the new one checked before and after: still the run
    /// that was ready, still answering.
    async fn swap(&mut self, ready: &Ready) -> Result<()> {
        self.check(ready, "at the switch").await?;
        let daemon = self.engine.daemon().await?;
        // A crash-looping old container may have been started again by its restart policy
        // meanwhile: it is stopped before it gives up its name.
        daemon
            .stop_container(&self.old.id, stop_grace(self.old.stop_timeout))
            .await?;
        self.old_renamed = true;
        let renamed = async {
            daemon
                .rename_container(&self.old.id, &self.intent.old_name())
                .await?;
            daemon
                .rename_container(&self.new_id, &self.intent.name)
                .await
        }
        .await;
        if let Err(e) = renamed {
            // A rename fails when the container dies under it: then how it died is the
            // news, and the daemon's words are the detail.
            return Err(match self.check(ready, "at the switch").await {
                Err(crash) => with_restore(crash, &self.intent.name, &format!("({})", e.render())),
                Ok(()) => e,
            });
        }
        self.check(ready, "after the switch").await
    }

    async fn check(&self, ready: &Ready, when: &str) -> Result<()> {
        let reads = self.engine.reads()?;
        let readiness = self.engine.live_readiness(self.i);
        match crate::ready::verify(reads, &self.new_id, ready.run.as_ref(), &readiness).await? {
            Ok(()) => Ok(()),
            Err(why) => Err(Error::Container {
                name: self.spec.name.clone(),
                message: format!(
                    "the new container was ready, but not {when}: {why}{}",
                    why.exit_code
                        .map(|c| format!(" (exit code {c})"))
                        .unwrap_or_default()
                ),
                help: Some(format!("see its output: `dk logs {}`", self.intent.node)),
            }),
        }
    }

    /// The new one is live: the old one goes. A failure to remove it is left to the next
    /// `recover` (the record stays), not a failed deploy.
    async fn commit(mut self) -> Result<()> {
        self.phase(Phase::Committed)?;
        let daemon = self.engine.daemon().await?;
        if daemon.remove_container(&self.old.id).await.is_ok() {
            self.engine.clear_intent(&self.intent.node)?;
        }
        Ok(())
    }

    /// Put the old container back as it was and remove the new one; returns `e` with
    /// what became of the old one. When putting back fails too, the record stays for the
    /// next `dk up` and the error says so.
    async fn restore(self, e: Error) -> Error {
        let engine = self.engine;
        let undone = async {
            let daemon = engine.daemon().await?;
            discard(daemon, &self.new_id).await?;
            if !self.old_stopped && !self.old_off_network && !self.old_renamed {
                return Ok::<_, Error>("the old container kept running throughout".to_string());
            }
            let o = engine
                .reads()?
                .inspect_container(&self.old.id)
                .await?
                .ok_or_else(|| Error::container(&self.intent.name, "the old container is gone"))?;
            put_back(engine, daemon, self.i, &o, &self.intent).await
        }
        .await;
        match undone {
            Ok(back) => {
                let _ = engine.clear_intent(&self.intent.node);
                with_restore(e, &self.intent.name, &back)
            }
            Err(again) => with_restore(
                e,
                &self.intent.name,
                &format!(
                    "putting the old container back failed too: {}; `dk up {}` finishes it",
                    again.render(),
                    self.intent.node
                ),
            ),
        }
    }
}

/// Remove a new container that did not make it: stopped first, so that a restart policy
/// that is starting it again at that moment is cancelled before the removal (a forced
/// removal racing a restart can leave the daemon with an endpoint on the network).
async fn discard(daemon: &Daemon, id: &str) -> Result<()> {
    daemon.stop_container(id, Duration::from_secs(2)).await?;
    daemon.remove_container(id).await
}

/// Add what happened to the old container to a failed replacement's error.
pub(crate) fn with_restore(e: Error, container: &str, what: &str) -> Error {
    match e {
        Error::Container {
            name,
            message,
            help,
        } => Error::Container {
            name,
            message: format!("{message}\n  {what}"),
            help,
        },
        other => Error::Container {
            name: container.to_string(),
            message: format!("{}\n  {what}", other.render()),
            help: None,
        },
    }
}

/// How long a container gets to stop before it is killed (its `stop_timeout`, else 10 s).
pub(crate) fn stop_grace(stop_timeout: Option<i64>) -> Duration {
    Duration::from_secs(stop_timeout.unwrap_or(10).max(0) as u64)
}
