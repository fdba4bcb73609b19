//! `dk outdated` and `dk update`: upstream changes flowing through the graph. `outdated`
//! asks each pin's upstream (the registry, through `regclient`, per platform; a fetch
//! command, run in a scratch directory) what it offers now. `update` re-pins in place and
//! does what `dk up` would for exactly the nodes that depend on the pin — build, test,
//! promote, replace what runs — one pin at a time: a pin whose dependents fail is written
//! back as it was and nothing of it goes live, while the others go on.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::converge::RunAction;
use crate::engine::{Engine, RunOptions};
use crate::error::{Error, Result};
use crate::lock::WorkspaceLock;
use crate::pins::{self, Pin, PinKind};
use crate::promote::{PromoteStatus, all_ok};
use crate::regclient::RegistryClient;
use crate::report::ReporterExt;
use crate::testrun::{TestStatus, TestSummary};

/// One pin, and what its upstream offers.
#[derive(Debug, Clone, Serialize)]
pub struct PinState {
    pub node: String,
    /// `file:line` where the pin is written.
    pub place: String,
    /// The image (without its digest) or the fetched file.
    pub what: String,
    /// `image` or `fetch`.
    pub kind: &'static str,
    /// The pinned digest or checksum; for an image by tag only, the local copy's digest.
    pub current: Option<String>,
    /// What upstream has now, when it differs.
    pub available: Option<String>,
    /// What upstream says of it: the image's creation time, the fetched file's name.
    pub detail: Option<String>,
    /// The nodes that would be rebuilt.
    pub rebuilds: Vec<String>,
    /// Why upstream could not be asked.
    pub error: Option<String>,
    #[serde(skip)]
    pub(crate) pin: Pin,
}

impl PinState {
    pub fn outdated(&self) -> bool {
        self.available.is_some()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OutdatedReport {
    pub pins: Vec<PinState>,
}

impl OutdatedReport {
    /// Could every upstream be asked?
    pub fn all_asked(&self) -> bool {
        self.pins.iter().all(|p| p.error.is_none())
    }
}

/// `dk update`'s options.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    pub run: RunOptions,
    /// Show what would be re-pinned; change nothing.
    pub dry_run: bool,
    /// Promote, but replace no running container.
    pub no_deploy: bool,
}

/// What became of one pin in `dk update`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PinOutcome {
    /// Re-pinned, built, tested, promoted (and what ran replaced).
    Updated {
        promoted: Vec<String>,
        replaced: Vec<String>,
    },
    /// Written back as it was: a dependent failed to build, test, promote or start.
    Failed { message: String },
    /// `--dry-run`: would be re-pinned.
    WouldUpdate,
}

#[derive(Debug, Clone, Serialize)]
pub struct PinUpdate {
    #[serde(flatten)]
    pub state: PinState,
    #[serde(flatten)]
    pub outcome: PinOutcome,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpdateReport {
    /// Every pin asked (the up-to-date ones included).
    pub checked: usize,
    /// Upstreams that could not be asked.
    pub unasked: Vec<PinState>,
    pub updates: Vec<PinUpdate>,
    /// The tests of every transaction, for the run report.
    #[serde(skip)]
    pub tests: TestSummary,
    /// Files re-pinned and kept (for `--commit`), workspace-relative.
    #[serde(skip)]
    pub changed_files: BTreeSet<String>,
}

impl UpdateReport {
    pub fn ok(&self) -> bool {
        self.unasked.is_empty()
            && self
                .updates
                .iter()
                .all(|u| !matches!(u.outcome, PinOutcome::Failed { .. }))
    }
}

impl Engine {
    /// The node and everything built on it, in build order.
    fn with_dependents(&self, i: usize) -> Vec<usize> {
        // A pin is its directory's, on every platform.
        let mut set: BTreeSet<usize> = self.ws.platform_group(i).into_iter().collect();
        for &n in &self.graph.order {
            if self.graph.parents[n].iter().any(|p| set.contains(p)) {
                set.insert(n);
            }
        }
        self.graph
            .order
            .iter()
            .copied()
            .filter(|n| set.contains(n))
            .collect()
    }

    /// `dk outdated`: every pin of the selection (and what it builds on), asked.
    pub async fn outdated(&self, names: &[String]) -> Result<OutdatedReport> {
        let sel = self.select(names)?;
        // One pin per place: a directory's platforms share their files.
        let found = pins::pins(&self.ws, &self.graph, &self.directories(&sel.order));
        let client = RegistryClient::new()?;
        // Upstreams are asked side by side, 8 at a time, answers kept in pin order.
        use futures_util::StreamExt;
        let pins = futures_util::stream::iter(found.into_iter().map(|pin| self.ask(&client, pin)))
            .buffered(8)
            .collect::<Vec<_>>()
            .await;
        Ok(OutdatedReport { pins })
    }

    async fn ask(&self, client: &RegistryClient, pin: Pin) -> PinState {
        let rebuilds = self
            .with_dependents(pin.node)
            .into_iter()
            .map(|n| self.name(n).to_string())
            .collect();
        let mut state = PinState {
            node: self.name(pin.node).to_string(),
            place: pin.place(),
            what: pin.what(),
            kind: match pin.kind {
                PinKind::Image { .. } => "image",
                PinKind::Fetch { .. } => "fetch",
            },
            current: pin.current().map(str::to_string),
            available: None,
            detail: None,
            rebuilds,
            error: None,
            pin: pin.clone(),
        };
        let asked = match &pin.kind {
            PinKind::Image { .. } => self.ask_registry(client, &pin, &mut state).await,
            PinKind::Fetch { index, .. } => {
                let node = &self.ws.nodes[pin.node];
                let f = node.manifest.stage.fetch[*index].get_ref();
                let (ws, node, f) = (self.ws.clone(), node.name.clone(), f.clone());
                let fetched = tokio::task::spawn_blocking(move || {
                    let n = ws.nodes.iter().find(|n| n.name == node).expect("node");
                    crate::stage::fetch_upstream(&ws, n, &f)
                })
                .await
                .map_err(|e| Error::usage(format!("the fetch did not finish: {e}")))
                .and_then(|r| r);
                fetched.map(|(file, sha)| {
                    if !sha.eq_ignore_ascii_case(state.current.as_deref().unwrap_or("")) {
                        state.available = Some(sha);
                    }
                    state.detail = Some(file);
                })
            }
        };
        if let Err(e) = asked {
            state.error = Some(e.render().lines().next().unwrap_or("").to_string());
        }
        state
    }

    async fn ask_registry(
        &self,
        client: &RegistryClient,
        pin: &Pin,
        state: &mut PinState,
    ) -> Result<()> {
        let PinKind::Image {
            image,
            reference,
            digest,
        } = &pin.kind
        else {
            return Ok(());
        };
        let Some(tag) = reference.tag.clone() else {
            state.detail = Some("pinned by digest only: no tag to follow".into());
            return Ok(());
        };
        let platform = self.ws.nodes[pin.node]
            .platform
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_else(|| crate::dockerfile::Platform::host().to_string());
        let auth = crate::credentials::for_registry(&reference.registry)?;
        let now = client
            .resolve(reference, &tag, &platform, auth.as_ref())
            .await?;
        let current = match digest {
            Some(d) => d.clone(),
            None => {
                // By tag only: upstream against the local copy's digest.
                let local = self.reads()?.inspect_image(image).await?;
                let full = format!("{}/{}", reference.registry, reference.repository);
                let known = local
                    .iter()
                    .flat_map(|f| f.repo_digests.iter())
                    .filter_map(|rd| rd.split_once('@'))
                    .find(|(name, _)| {
                        *name == full
                            || (reference.registry == "docker.io"
                                && (*name == reference.repository
                                    || *name
                                        == reference.repository.trim_start_matches("library/")))
                    })
                    .map(|(_, d)| d.to_string());
                state.current = known.clone();
                match known {
                    Some(k) => k,
                    None => {
                        state.available = Some(now.digest.clone());
                        state.detail = Some("not pulled here yet".into());
                        return Ok(());
                    }
                }
            }
        };
        let newer = if now.digest == current {
            None
        } else if !now.index {
            Some(now.digest.clone())
        } else {
            // An index: compare this platform's image, not the list (which changes whenever
            // any platform is added). The pin keeps its kind: index or image manifest.
            let was = client
                .resolve(reference, &current, &platform, auth.as_ref())
                .await?;
            let (was_platform, keeps_index) = if was.index {
                (was.platform_digest, true)
            } else {
                (Some(current.clone()), false)
            };
            if was_platform.is_some() && was_platform == now.platform_digest {
                None
            } else if keeps_index {
                Some(now.digest.clone())
            } else {
                now.platform_digest.clone()
            }
        };
        if let Some(new) = &newer {
            let image_digest = if now.index {
                now.platform_digest.clone().unwrap_or_else(|| new.clone())
            } else {
                new.clone()
            };
            state.detail = client
                .created(reference, &image_digest, auth.as_ref())
                .await
                .map(|c| format!("created {c}"));
        }
        state.available = newer;
        Ok(())
    }

    /// `dk update`: each outdated pin of the selection re-pinned in its own transaction.
    pub async fn update(
        &self,
        lock: &WorkspaceLock,
        names: &[String],
        opts: &UpdateOptions,
    ) -> Result<UpdateReport> {
        let asked = self.outdated(names).await?;
        let checked = asked.pins.len();
        let (unasked, states): (Vec<PinState>, Vec<PinState>) =
            asked.pins.into_iter().partition(|p| p.error.is_some());
        let mut report = UpdateReport {
            checked,
            unasked,
            updates: Vec::new(),
            tests: TestSummary {
                nodes: Vec::new(),
                elapsed_ms: 0,
            },
            changed_files: BTreeSet::new(),
        };
        for state in states.into_iter().filter(PinState::outdated) {
            if opts.dry_run {
                report.updates.push(PinUpdate {
                    state,
                    outcome: PinOutcome::WouldUpdate,
                });
                continue;
            }
            let outcome = self.update_one(lock, &state, opts, &mut report).await?;
            report.updates.push(PinUpdate { state, outcome });
        }
        Ok(report)
    }

    /// One pin's transaction: re-pin, then build, test, promote and replace its dependents
    /// on the workspace as it now reads; on any failure, the file is put back and `:latest`
    /// re-pointed at what it was.
    async fn update_one(
        &self,
        _lock: &WorkspaceLock,
        state: &PinState,
        opts: &UpdateOptions,
        report: &mut UpdateReport,
    ) -> Result<PinOutcome> {
        let pin = &state.pin;
        let new = state.available.as_deref().expect("an outdated pin");
        let node_name = state.node.clone();
        let what = format!("{} {}", state.what, short_pin(new));
        self.reporter.start(&node_name, "update");
        let t = std::time::Instant::now();
        let mut retag: Option<(String, crate::ids::ImageId)> = None;
        let before = match &pin.kind {
            PinKind::Image {
                reference, digest, ..
            } => {
                let daemon = self.daemon().await?;
                let pinned = format!("{}@{new}", reference.tagged());
                if digest.is_none() {
                    // By tag only: the tag is moved by the pull; remember where it was.
                    if let Some(old) = self.reads()?.inspect_image(&reference.tagged()).await? {
                        retag = Some((reference.tagged(), old.id));
                    }
                    daemon.pull(&reference.tagged()).await?;
                    None
                } else {
                    daemon.pull(&pinned).await?;
                    Some(pins::repin(pin, new)?)
                }
            }
            PinKind::Fetch { .. } => Some(pins::repin(pin, new)?),
        };
        let result = self.deploy_pin(state, opts, report).await;
        let failure = match &result {
            Ok(Ok(_)) => None,
            Ok(Err(message)) => Some(message.clone()),
            Err(e) => Some(e.render()),
        };
        if let Some(message) = failure {
            if let Some(text) = &before {
                pins::restore(&pin.file, text)?;
            }
            if let Some((reference, id)) = &retag {
                let (repo, tag) = reference.rsplit_once(':').expect("a tagged reference");
                self.daemon().await?.tag(id.as_str(), repo, tag).await?;
            }
            // `:latest` back to the images of the pin as it was (a retag, no build).
            let back = self.reload()?;
            let sel = back.selection(self.with_dependents(pin.node));
            let _ = back.build_step(&sel, &opts.run).await;
            self.reporter.finish(
                &node_name,
                "update",
                &format!("{what} failed; the pin stays as it was"),
                false,
                t.elapsed(),
                Some(message.clone()),
            );
            return Ok(PinOutcome::Failed { message });
        }
        if before.is_some() {
            report.changed_files.insert(pin.rel.clone());
        }
        let (promoted, replaced) = result.expect("checked").expect("checked");
        self.reporter.finish(
            &node_name,
            "update",
            &format!("re-pinned {what}"),
            true,
            t.elapsed(),
            None,
        );
        Ok(PinOutcome::Updated { promoted, replaced })
    }

    /// Build, test, promote (and replace what runs) the pin's node and its dependents, on
    /// the workspace as it reads now. `Ok(Err(message))`: the pin failed (nothing of it
    /// went live); `Err`: dk itself could not go on.
    async fn deploy_pin(
        &self,
        state: &PinState,
        opts: &UpdateOptions,
        report: &mut UpdateReport,
    ) -> Result<std::result::Result<(Vec<String>, Vec<String>), String>> {
        let e = self.reload()?;
        let affected = e.with_dependents(state.pin.node);
        let sel = e.selection(affected.clone());
        let built = e.build_step(&sel, &opts.run).await?;
        let tests = e.test_step(&sel, &built, &sel.order, &opts.run).await?;
        report.tests.elapsed_ms += tests.elapsed_ms;
        report.tests.nodes.extend(tests.nodes.iter().cloned());
        if !tests.ok() {
            let broken: Vec<String> = tests
                .nodes
                .iter()
                .filter(|n| !n.status.ok())
                .map(|n| match &n.status {
                    TestStatus::Failed { message } => {
                        format!("{}: tests failed: {message}", n.name)
                    }
                    other => format!("{}: {}", n.name, other.describe()),
                })
                .collect();
            return Ok(Err(format!(
                "{} {} broke: {}",
                state.what,
                short_pin(state.available.as_deref().unwrap_or("")),
                broken.join("; ")
            )));
        }
        let promotions = e.promote_step(&sel, &tests.passed_images()).await?;
        if !all_ok(&promotions) {
            let refused: Vec<String> = promotions
                .iter()
                .filter_map(|p| match &p.status {
                    PromoteStatus::Refused { reason } => Some(format!("{}: {reason}", p.name)),
                    _ => None,
                })
                .collect();
            return Ok(Err(format!("not promoted: {}", refused.join("; "))));
        }
        let promoted: Vec<String> = promotions
            .iter()
            .filter(|p| matches!(p.status, PromoteStatus::Promoted { .. }))
            .map(|p| p.name.clone())
            .collect();
        if opts.no_deploy {
            return Ok(Ok((promoted, Vec::new())));
        }
        // Replace only what runs: an update starts nothing that was not running.
        let mut running = Vec::new();
        for &i in &affected {
            let runs = if e.on_swarm(i) {
                e.status(&[e.name(i).to_string()])
                    .await?
                    .iter()
                    .any(|r| r.service.is_some())
            } else {
                e.live_container(i).await?.1.is_some_and(|c| c.running)
            };
            if runs {
                running.push(i);
            }
        }
        let live = crate::promote::live_ids(&promotions);
        let runs = e
            .run_step(
                &running,
                &live,
                crate::live::RunStepOptions {
                    retry: true,
                    hooks: true,
                },
            )
            .await?;
        if let Some(bad) = runs.iter().find(|r| r.action.failed()) {
            // The old containers were put back; `:live` goes back with them.
            for p in promotions.iter().rev() {
                if matches!(p.status, PromoteStatus::Promoted { .. }) {
                    e.rollback_tags(p.node, &crate::promote::RollbackTarget::Prev)
                        .await?;
                }
            }
            let why = match &bad.action {
                RunAction::Failed { message }
                | RunAction::NotRetried { message }
                | RunAction::RolledBack { message } => message.clone(),
                other => other.outcome().to_string(),
            };
            return Ok(Err(format!(
                "{} did not start on the new image ({why}); the old one is back and `:live` with it",
                bad.name
            )));
        }
        let replaced = runs
            .iter()
            .filter(|r| matches!(r.action, RunAction::Replaced { .. } | RunAction::Started))
            .map(|r| r.name.clone())
            .collect();
        Ok(Ok((promoted, replaced)))
    }
}

/// `sha256:0123456789ab` (12 hex), for lines.
pub fn short_pin(d: &str) -> String {
    let hex = d.trim_start_matches("sha256:");
    format!("sha256:{}", &hex[..hex.len().min(12)])
}

impl Engine {
    /// dk.toml's `after_update` (every pin went through, something was re-pinned) or
    /// `on_update_failure` hook, with the run report's path in `DK_REPORT` and its text in
    /// `DK_REPORT_TEXT`; bounded by `[hooks] timeout` (default 60s).
    pub async fn update_hook(
        &self,
        report: &UpdateReport,
        report_path: Option<&std::path::Path>,
        text: &str,
    ) -> Option<crate::converge::HookRun> {
        let hooks = &self.ws.update_hooks;
        let (which, cmd) = if !report.ok() {
            ("on_update_failure", hooks.on_update_failure.as_ref()?)
        } else if report
            .updates
            .iter()
            .any(|u| matches!(u.outcome, PinOutcome::Updated { .. }))
        {
            ("after_update", hooks.after_update.as_ref()?)
        } else {
            return None;
        };
        let cmd = cmd.clone();
        if cmd.is_empty() {
            return None;
        }
        let limit = hooks
            .timeout
            .as_ref()
            .map(|t| *t.get())
            .unwrap_or(std::time::Duration::from_secs(60));
        let env = [
            (
                "DK_REPORT",
                report_path
                    .map(|p| p.as_os_str().to_owned())
                    .unwrap_or_default(),
            ),
            ("DK_REPORT_TEXT", text.into()),
            (
                "DK_OUTCOME",
                if report.ok() { "updated" } else { "failed" }.into(),
            ),
        ];
        Some(crate::converge::run_hook(which, &cmd, &self.ws.root, &env, limit).await)
    }
}

impl Engine {
    /// `dk update --commit` is refused before anything is done when other changes are
    /// staged (its commit holds only the re-pinned files), or outside git.
    pub fn can_commit_repins(&self) -> Result<()> {
        match crate::vcs::staged_changes(&self.ws.root) {
            Ok(false) => Ok(()),
            Ok(true) => Err(Error::usage_help(
                "--commit: other changes are staged in git",
                "commit or unstage them first (`git status`), so the update's commit holds only the re-pinned files",
            )),
            Err(e) => Err(Error::usage_help(
                format!("--commit: the workspace is not in a git repository ({e})"),
                "drop --commit, or run `git init` in the workspace",
            )),
        }
    }

    /// One commit of exactly the re-pinned files, its message listing each change; the
    /// new revision (`None`: nothing was re-pinned).
    pub fn commit_repins(&self, report: &UpdateReport) -> Result<Option<String>> {
        if report.changed_files.is_empty() {
            return Ok(None);
        }
        let files: Vec<String> = report.changed_files.iter().cloned().collect();
        let mut message = String::from("dk update: re-pin what upstream changed\n\n");
        for u in &report.updates {
            if matches!(u.outcome, PinOutcome::Updated { .. }) {
                message.push_str(&format!(
                    "- {}: {} {} -> {}\n",
                    u.state.place,
                    u.state.what,
                    u.state.current.as_deref().unwrap_or("(none)"),
                    u.state.available.as_deref().unwrap_or("")
                ));
            }
        }
        crate::vcs::commit_files(&self.ws.root, &files, &message)
            .map(Some)
            .map_err(|e| {
                Error::usage_help(
                    format!("--commit: git commit failed: {e}"),
                    "the files are re-pinned and deployed; commit them yourself",
                )
            })
    }
}

impl UpdateReport {
    /// The report as text: one line per pin that changed or failed, then the counts.
    pub fn text(&self) -> Vec<String> {
        let mut out = Vec::new();
        for u in &self.updates {
            let s = &u.state;
            let change = format!(
                "{} {} → {}",
                s.what,
                short_pin(s.current.as_deref().unwrap_or("(none)")),
                short_pin(s.available.as_deref().unwrap_or(""))
            );
            out.push(match &u.outcome {
                PinOutcome::Updated { promoted, replaced } => format!(
                    "{}: {change}: re-pinned; rebuilt and tested {}; promoted {}; replaced {}",
                    s.place,
                    s.rebuilds.join(", "),
                    list_or_none(promoted),
                    list_or_none(replaced)
                ),
                PinOutcome::Failed { message } => format!(
                    "{}: {change}: failed, the pin stays as it was: {message}",
                    s.place
                ),
                PinOutcome::WouldUpdate => format!(
                    "{}: {change}: would re-pin; rebuilds {}",
                    s.place,
                    s.rebuilds.join(", ")
                ),
            });
        }
        for s in &self.unasked {
            out.push(format!(
                "{}: {}: upstream could not be asked: {}",
                s.place,
                s.what,
                s.error.as_deref().unwrap_or("")
            ));
        }
        out.push(self.line());
        out
    }

    /// `3 pins checked: 1 re-pinned, 1 failed (written back), 1 up to date`.
    pub fn line(&self) -> String {
        let count =
            |f: fn(&PinOutcome) -> bool| self.updates.iter().filter(|u| f(&u.outcome)).count();
        let updated = count(|o| matches!(o, PinOutcome::Updated { .. }));
        let failed = count(|o| matches!(o, PinOutcome::Failed { .. }));
        let would = count(|o| matches!(o, PinOutcome::WouldUpdate));
        let current = self.checked - self.updates.len() - self.unasked.len();
        let mut parts = Vec::new();
        if would > 0 {
            parts.push(format!("{would} would be re-pinned"));
        }
        if updated > 0 {
            parts.push(format!("{updated} re-pinned"));
        }
        if failed > 0 {
            parts.push(format!("{failed} failed (written back)"));
        }
        if !self.unasked.is_empty() {
            parts.push(format!("{} could not be asked", self.unasked.len()));
        }
        parts.push(format!("{current} up to date"));
        format!("{} pin(s) checked: {}", self.checked, parts.join(", "))
    }
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
