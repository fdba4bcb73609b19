//! `dk test`: launch each node's `:latest` image (by id) with its test settings on the test
//! network, wait until it is ready, run the implicit smoke check and the declared checks,
//! and always tear the container down. A passing record for the same image id and test spec
//! means the test is not run again (`--force` runs it).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::build::{BuildSummary, NodeStatus};
use crate::checks::{self, Target};
use crate::docker::{ContainerInfo, Daemon, ImageFacts};
use crate::engine::{Engine, RunOptions, Selection};
use crate::error::{Error, Result};
use crate::ids::ImageId;
use crate::labels::{self, Role};
use crate::launch::{self, LaunchInput};
use crate::lock::WorkspaceLock;
use crate::manifest::Probe;
use crate::records::{CheckResult, TestRecord};
use crate::report::ReporterExt;
use crate::scheduler::{self, Cancel, Outcome};
use crate::units::human_duration;
use crate::units::now_unix;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TestStatus {
    Passed,
    /// A passing record for this image and spec exists: not relaunched.
    PassedEarlier,
    Failed {
        message: String,
    },
    /// The image could not be built.
    BuildFailed {
        message: String,
    },
    Blocked {
        by: String,
    },
    Cancelled,
}

impl TestStatus {
    pub fn ok(&self) -> bool {
        matches!(self, TestStatus::Passed | TestStatus::PassedEarlier)
    }

    pub fn describe(&self) -> String {
        match self {
            TestStatus::Passed => "passed".into(),
            TestStatus::PassedEarlier => "passed earlier (same image and test spec)".into(),
            TestStatus::Failed { message } => message.clone(),
            TestStatus::BuildFailed { message } => {
                format!("not tested: the build failed: {message}")
            }
            TestStatus::Blocked { by } => format!("not tested: {by} failed"),
            TestStatus::Cancelled => "cancelled".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeTest {
    #[serde(skip)]
    pub node: usize,
    pub name: String,
    /// The platform of a node built for several (`linux/arm64`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub image_id: Option<ImageId>,
    #[serde(flatten)]
    pub status: TestStatus,
    pub checks: Vec<CheckResult>,
    pub duration_ms: u64,
    /// The container's last output lines, when the test failed.
    pub logs: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestSummary {
    pub nodes: Vec<NodeTest>,
    pub elapsed_ms: u64,
}

impl TestSummary {
    pub fn ok(&self) -> bool {
        self.nodes.iter().all(|n| n.status.ok())
    }

    pub fn line(&self) -> String {
        let count = |f: fn(&TestStatus) -> bool| self.nodes.iter().filter(|n| f(&n.status)).count();
        let counts = [
            ("passed", count(|s| matches!(s, TestStatus::Passed))),
            (
                "passed earlier",
                count(|s| matches!(s, TestStatus::PassedEarlier)),
            ),
            ("failed", count(|s| matches!(s, TestStatus::Failed { .. }))),
            (
                "not built",
                count(|s| matches!(s, TestStatus::BuildFailed { .. })),
            ),
            (
                "blocked",
                count(|s| matches!(s, TestStatus::Blocked { .. })),
            ),
            ("cancelled", count(|s| matches!(s, TestStatus::Cancelled))),
        ];
        crate::units::summary_line(&counts, Duration::from_millis(self.elapsed_ms))
    }

    /// The images that passed (or passed earlier), by node: what promotion may move.
    pub fn passed_images(&self) -> std::collections::HashMap<usize, ImageId> {
        self.nodes
            .iter()
            .filter(|n| n.status.ok())
            .filter_map(|n| Some((n.node, n.image_id.clone()?)))
            .collect()
    }
}

impl NodeTest {
    /// How people read its name: `web`, or `web (linux/arm64)` for one platform of several.
    pub fn shown(&self) -> String {
        crate::workspace::shown(&self.name, self.platform.as_deref())
    }

    fn empty(node: usize, name: String, image_id: Option<ImageId>, status: TestStatus) -> Self {
        NodeTest {
            node,
            name,
            platform: None,
            image_id,
            status,
            checks: Vec::new(),
            duration_ms: 0,
            logs: None,
        }
    }
}

const DEFAULT_GRACE: Duration = Duration::from_secs(2);
const DEFAULT_READY: Duration = Duration::from_secs(30);
const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

impl Engine {
    /// Hash of everything that defines a node's test: the [test] section and checks, the
    /// mounts, the run settings, the audit settings, and the custom `test` executable.
    pub fn test_spec_hash(&self, i: usize) -> String {
        let node = &self.ws.nodes[i];
        let m = &node.manifest;
        let custom = std::fs::read(node.dir.join("test"))
            .map(|b| blake3::hash(&b).to_hex().to_string())
            .unwrap_or_default();
        let spec = serde_json::json!({
            "v": 1,
            "test": m.test,
            "mounts": m.mounts,
            "run": m.run,
            "audit": m.audit,
            "custom": custom,
        });
        blake3::hash(&serde_json::to_vec(&spec).expect("serialize")).to_hex()[..16].to_string()
    }

    /// Remove test containers left by crashed or interrupted runs of this workspace, and
    /// their temporary data. Returns how many containers were removed.
    pub async fn remove_test_leftovers(&self) -> Result<usize> {
        let left = self
            .reads()?
            .containers_with_labels(&labels::filter(&self.ws.id, Role::Test))
            .await?;
        if !left.is_empty() {
            let daemon = self.daemon().await?;
            for c in &left {
                daemon.remove_container(&c.id).await?;
            }
        }
        self.ws.state.sweep_test_roots();
        Ok(left.len())
    }

    /// `dk test`: build what is stale, then test the selection.
    pub async fn test(
        &self,
        _lock: &WorkspaceLock,
        names: &[String],
        opts: &RunOptions,
    ) -> Result<TestSummary> {
        let sel = self.select(names)?;
        let built = self.build_step(&sel, opts).await?;
        self.test_step(&sel, &built, &sel.selected, opts).await
    }

    /// Test `nodes` (a subset of `sel.order`, in order) on the images `built` produced.
    /// With `opts.retest`, the selected nodes are tested even when a passing record exists.
    pub async fn test_step(
        &self,
        sel: &Selection,
        built: &BuildSummary,
        nodes: &[usize],
        opts: &RunOptions,
    ) -> Result<TestSummary> {
        let started = Instant::now();
        let to_test: Vec<usize> = sel
            .order
            .iter()
            .copied()
            .filter(|i| nodes.contains(i))
            .collect();
        // Only launch anything when something is to be tested.
        let launches = to_test.iter().any(|&n| {
            built.image(n).is_some_and(|image| {
                (opts.retest && sel.contains(n))
                    || !self
                        .records
                        .test(self.name(n), image, &self.test_spec_hash(n))
                        .is_some_and(|r| r.passed)
            })
        });
        // What a kept failing test (or a killed run) left goes now.
        if launches || self.ws.state.has_test_roots() {
            self.remove_test_leftovers().await?;
        }
        if launches {
            self.ensure_network(Role::Test).await?;
        }
        let graph = self.graph.clone();
        let mut outcomes = scheduler::run_judged(
            &to_test,
            |n| graph.parents[n].clone(),
            opts.jobs,
            opts.fail_fast,
            |t: &NodeTest| t.status.ok(),
            |n, _, cancel| {
                let image = built.image(n).cloned();
                let build_msg = built.get(n).map(|r| match &r.status {
                    NodeStatus::Failed { message } => message.clone(),
                    NodeStatus::Blocked { by } => format!("{by} failed to build"),
                    _ => "not built".to_string(),
                });
                let retest = opts.retest && sel.contains(n);
                let keep = opts.keep_failed;
                async move {
                    let Some(image) = image else {
                        return Ok(NodeTest::empty(
                            n,
                            self.name(n).to_string(),
                            None,
                            TestStatus::BuildFailed {
                                message: build_msg.unwrap_or_default(),
                            },
                        ));
                    };
                    let t = self.test_node(n, &image, retest, keep, &cancel).await;
                    if let Err(e) = &t
                        && !matches!(e, Error::Cancelled)
                    {
                        self.reporter.finish(
                            self.name(n),
                            "test",
                            "failed",
                            false,
                            Duration::ZERO,
                            Some(e.render()),
                        );
                    }
                    t
                }
            },
        )
        .await;

        // Losing the daemon is exit 3, a definition problem exit 2, whatever else happened.
        for fatal in [
            |e: &Error| matches!(e, Error::Daemon { .. }),
            |e: &Error| matches!(e, Error::Definition(_)),
        ] {
            let found = outcomes
                .iter()
                .find(|(_, o)| matches!(o, Outcome::Failed(e) if fatal(e)))
                .map(|(n, _)| *n);
            if let Some(n) = found
                && let Some(Outcome::Failed(e)) = outcomes.remove(&n)
            {
                return Err(e);
            }
        }
        let mut out = Vec::new();
        for &n in &to_test {
            let name = self.name(n).to_string();
            let image = built.image(n).cloned();
            let t = match outcomes.remove(&n) {
                Some(Outcome::Done(t)) => t,
                Some(Outcome::Failed(e)) => NodeTest::empty(
                    n,
                    name,
                    image,
                    TestStatus::Failed {
                        message: e.render(),
                    },
                ),
                Some(Outcome::Blocked { by }) => NodeTest::empty(
                    n,
                    name,
                    image,
                    TestStatus::Blocked {
                        by: self.name(by).to_string(),
                    },
                ),
                Some(Outcome::Cancelled) | None => {
                    NodeTest::empty(n, name, image, TestStatus::Cancelled)
                }
            };
            out.push(NodeTest {
                platform: self.ws.nodes[n].shown_platform(),
                ..t
            });
        }
        Ok(TestSummary {
            nodes: out,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Test one image of one node. The container it launches is removed on every path:
    /// failure, cancellation (`--fail-fast`), or success; a signal leaves it to the next
    /// run's sweep. With `keep`, a failing one stays (with its mount copies) until the
    /// next `dk test`.
    async fn test_node(
        &self,
        i: usize,
        image: &ImageId,
        retest: bool,
        keep: bool,
        cancel: &Cancel,
    ) -> Result<NodeTest> {
        let node = &self.ws.nodes[i];
        let name = node.name.clone();
        let spec_hash = self.test_spec_hash(i);
        if !retest
            && let Some(rec) = self.records.test(&name, image, &spec_hash)
            && rec.passed
        {
            self.reporter
                .finish(&name, "test", "passed earlier", true, Duration::ZERO, None);
            return Ok(NodeTest {
                checks: rec.checks,
                ..NodeTest::empty(i, name, Some(image.clone()), TestStatus::PassedEarlier)
            });
        }
        if cancel.is_raised() {
            return Err(Error::Cancelled);
        }
        let started = Instant::now();
        self.reporter.start(&name, "test");
        let daemon = self.daemon().await?;
        let facts =
            daemon
                .inspect_image(image.as_str())
                .await?
                .ok_or_else(|| Error::MissingImage {
                    node: name.clone(),
                    image: image.to_string(),
                    message: format!("image {} of {name} is gone", image.short()),
                    help: format!("build it again: `dk build {name}`"),
                })?;
        let remap = crate::userns::detect(daemon.userns_remapped().await?)?;
        let root = self.ws.state.test_root(&name);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).map_err(|e| Error::io("create", &root, e))?;

        self.reporter.step(&name, "auditing the image");
        let audit = self.audit_check(i, image).await?;
        if cancel.is_raised() {
            let _ = std::fs::remove_dir_all(&root);
            return Err(Error::Cancelled);
        }
        let mut launch = Launch::default();
        let result = self
            .launch_and_check(i, &facts, &root, remap, cancel, &mut launch)
            .await;
        // A failure the user wants to look into stays; anything else is torn down, always,
        // before anything else can return.
        let fatal = matches!(
            result,
            Err(Error::Daemon { .. } | Error::Cancelled | Error::Definition(_))
        );
        let failed = !audit.passed
            || match &result {
                Ok(checks) => checks.iter().any(|c| !c.passed),
                Err(_) => true,
            };
        let keep = keep && failed && !fatal;
        let kept_container = match &launch.container {
            Some(id) if keep => Some(id.clone()),
            Some(id) => {
                let _ = daemon.stop_container(id, Duration::from_secs(2)).await;
                daemon.remove_container(id).await?;
                None
            }
            None => None,
        };
        let mut checks = match result {
            Ok(checks) => checks,
            // Not a verdict on the image: no record (exit 3, cancelled, or exit 2).
            Err(e @ (Error::Daemon { .. } | Error::Cancelled | Error::Definition(_))) => {
                let _ = std::fs::remove_dir_all(&root);
                return Err(e);
            }
            Err(e) => vec![CheckResult {
                name: "launch".into(),
                passed: false,
                duration_ms: started.elapsed().as_millis() as u64,
                detail: Some(e.render()),
            }],
        };
        checks.insert(0, audit);
        let passed = checks.iter().all(|c| c.passed);
        let mut kept = Vec::new();
        if !passed && kept_container.is_none() {
            for dir in &launch.keep {
                let dest = self.ws.state.kept(&name, "test-logs");
                if let Some(parent) = dest.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                if std::fs::rename(dir, &dest).is_ok() {
                    kept.push(self.ws.rel(&dest).to_string());
                }
            }
        }
        if let Some(id) = &kept_container {
            let reach = match daemon.inspect_container(id).await? {
                Some(c) if c.running => format!(
                    "`docker exec -it {} sh`{}",
                    c.name,
                    c.ips
                        .values()
                        .next()
                        .map(|ip| format!(", address {ip}"))
                        .unwrap_or_default()
                ),
                Some(c) => format!("{} has exited: `docker logs {}`", c.name, c.name),
                None => "the container is gone".to_string(),
            };
            checks.push(CheckResult {
                name: "kept for inspection (the next `dk test` removes it)".into(),
                passed: true,
                duration_ms: 0,
                detail: Some(format!(
                    "container: {reach}; mount copies: {}",
                    self.ws.rel(&root)
                )),
            });
        } else {
            let _ = std::fs::remove_dir_all(&root);
        }
        if !kept.is_empty() {
            checks.push(CheckResult {
                name: "logs mounts kept for inspection".into(),
                passed: true,
                duration_ms: 0,
                detail: Some(kept.join(", ")),
            });
        }

        let duration = started.elapsed();
        self.records.put_test(&TestRecord {
            node: name.clone(),
            image_id: image.clone(),
            spec_hash,
            passed,
            tested_at: now_unix(),
            duration_ms: duration.as_millis() as u64,
            checks: checks.clone(),
        })?;
        let mut detail = String::new();
        for c in &checks {
            let mark = if c.passed { "ok  " } else { "FAIL" };
            detail.push_str(&format!("{mark} {} ({}ms)", c.name, c.duration_ms));
            if let Some(d) = &c.detail
                && (!c.passed || c.name.starts_with("logs mounts") || c.name.starts_with("kept"))
            {
                detail.push_str(&format!("\n       {d}"));
            }
            detail.push('\n');
        }
        if let Some(l) = &launch.logs {
            detail.push_str("container output (last lines):\n");
            for line in l.lines() {
                detail.push_str(&format!("  | {line}\n"));
            }
        }
        let failed_names: Vec<&str> = checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect();
        let status = if passed {
            TestStatus::Passed
        } else {
            TestStatus::Failed {
                message: format!("failed: {}", failed_names.join("; ")),
            }
        };
        self.reporter.finish(
            &name,
            "test",
            if passed { "passed" } else { "failed" },
            passed,
            duration,
            Some(detail.trim_end().to_string()),
        );
        Ok(NodeTest {
            node: i,
            name,
            platform: None,
            image_id: Some(image.clone()),
            status,
            checks,
            duration_ms: duration.as_millis() as u64,
            logs: launch.logs,
        })
    }

    /// Create, start, wait for readiness, smoke-check and run the checks. What it created
    /// is written into `launch` as soon as it exists, so the caller tears it down whatever
    /// happens here (including cancellation, which stops the checks, not the teardown).
    async fn launch_and_check(
        &self,
        i: usize,
        facts: &ImageFacts,
        root: &Path,
        remap: crate::userns::Remap,
        cancel: &Cancel,
        launch: &mut Launch,
    ) -> Result<Vec<CheckResult>> {
        let node = &self.ws.nodes[i];
        let daemon = self.daemon().await?;
        let test = &node.manifest.test;
        let (binds, keep) = crate::mounts::test_binds(&self.ws, node, root, remap)?;
        launch.keep = keep;
        let loopback: Vec<u16> = node
            .checks
            .iter()
            .filter_map(|c| match c.probe {
                Probe::Http {
                    port,
                    loopback: true,
                    ..
                } => Some(port),
                _ => None,
            })
            .collect();
        let spec = launch::spec(
            &self.ws,
            node,
            LaunchInput {
                role: Role::Test,
                image: facts,
                binds,
                publish_loopback: loopback,
            },
        )?;
        daemon.remove_container(&spec.name).await?;
        let id = daemon.create_container(&spec).await?;
        launch.container = Some(id.clone());
        self.own_unowned_mounts(i, &id, &spec).await?;
        let mut results = Vec::new();
        let outcome = cancel
            .or_cancelled(async {
                daemon.start_container(&id).await?;
                let smoke = self.smoke_check(daemon, &id, i).await?;
                let smoke_ok = smoke.passed;
                results.push(smoke);
                if !smoke_ok {
                    return Ok(());
                }
                let target = target(daemon, &id, &spec.network).await?;
                let default_timeout = test
                    .check_timeout
                    .as_ref()
                    .map(|t| *t.get())
                    .unwrap_or(DEFAULT_CHECK_TIMEOUT);
                for c in &node.checks {
                    self.reporter.step(&node.name, c.check.display_name());
                    let timeout = c
                        .check
                        .timeout
                        .as_ref()
                        .map(|t| *t.get())
                        .unwrap_or(default_timeout);
                    results.push(checks::run(daemon, &target, c, timeout).await?);
                }
                if let Some(custom) = self.custom_test(i, &target, facts, default_timeout).await? {
                    results.push(custom);
                }
                Ok(())
            })
            .await;
        match outcome {
            Ok(()) => {}
            // Not a verdict on the image: no record (exit 3, or cancelled).
            Err(e @ (Error::Daemon { .. } | Error::Cancelled)) => return Err(e),
            Err(e) => results.push(CheckResult {
                name: "test run".into(),
                passed: false,
                duration_ms: 0,
                detail: Some(e.render()),
            }),
        }
        if !results.iter().all(|c| c.passed) {
            launch.logs = Some(daemon.logs_tail(&id, 40).await.unwrap_or_default())
                .filter(|l| !l.trim().is_empty());
        }
        Ok(results)
    }

    /// The image audit as a check: it fails on any finding that is not waived.
    async fn audit_check(&self, i: usize, image: &ImageId) -> Result<CheckResult> {
        let started = Instant::now();
        let (passed, detail) = match self.audit_image(i, image).await {
            Ok(findings) => {
                let open: Vec<String> = findings
                    .iter()
                    .filter(|f| f.waived.is_none())
                    .map(|f| format!("{}: {}\n         help: {}", f.rule, f.message, f.help))
                    .collect();
                let waived: Vec<String> = findings
                    .iter()
                    .filter_map(|f| {
                        f.waived
                            .as_ref()
                            .map(|w| format!("{}: {} (waived: {w})", f.rule, f.message))
                    })
                    .collect();
                let mut lines = open.clone();
                lines.extend(waived);
                (
                    open.is_empty(),
                    (!lines.is_empty()).then(|| lines.join("\n       ")),
                )
            }
            Err(e @ Error::Daemon { .. }) => return Err(e),
            Err(e) => (
                false,
                Some(format!("the audit could not run: {}", e.render())),
            ),
        };
        Ok(CheckResult {
            name: "image audit".into(),
            passed,
            duration_ms: started.elapsed().as_millis() as u64,
            detail,
        })
    }

    /// The implicit smoke check: ready (healthcheck, port, or nothing) and still running
    /// after the grace period, or exited 0 for a one-shot.
    async fn smoke_check(&self, daemon: &Daemon, id: &str, i: usize) -> Result<CheckResult> {
        let node = &self.ws.nodes[i];
        let test = &node.manifest.test;
        let started = Instant::now();
        let readiness = crate::ready::Readiness {
            port: test.ready_port,
            http: None,
            network: self.ws.test_network.name.clone(),
            grace: test
                .grace
                .as_ref()
                .map(|g| *g.get())
                .unwrap_or(DEFAULT_GRACE),
            timeout: test
                .ready_timeout
                .as_ref()
                .map(|t| *t.get())
                .unwrap_or(DEFAULT_READY),
            one_shot: test.one_shot,
        };
        self.reporter.step(&node.name, "waiting until ready");
        let verdict =
            crate::ready::wait(daemon, id, &readiness, crate::ready::Since::Start).await?;
        Ok(CheckResult {
            name: if test.one_shot {
                "runs to completion (exit 0)".to_string()
            } else {
                "starts and stays up".to_string()
            },
            passed: verdict.is_ok(),
            duration_ms: started.elapsed().as_millis() as u64,
            detail: verdict.err().map(|why| why.to_string()),
        })
    }

    /// The node's custom `test` executable, run on the host.
    async fn custom_test(
        &self,
        i: usize,
        target: &Target,
        facts: &ImageFacts,
        timeout: Duration,
    ) -> Result<Option<CheckResult>> {
        let node = &self.ws.nodes[i];
        let path = node.dir.join("test");
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(&path) else {
            return Ok(None);
        };
        if !meta.is_file() {
            return Ok(None);
        }
        let started = Instant::now();
        if meta.permissions().mode() & 0o111 == 0 {
            return Ok(Some(CheckResult {
                name: "custom test".into(),
                passed: false,
                duration_ms: 0,
                detail: Some(format!(
                    "{}/test is not executable (chmod +x it)",
                    node.rel_dir
                )),
            }));
        }
        self.reporter.step(&node.name, "custom test");
        let run = tokio::process::Command::new(&path)
            .current_dir(&node.dir)
            .env("DK_CONTAINER", &target.container)
            .env("DK_IP", target.ip.clone().unwrap_or_default())
            .env("DK_IMAGE", facts.id.as_str())
            .kill_on_drop(true)
            .output();
        let limit = timeout.max(Duration::from_secs(60));
        let (passed, detail) = match tokio::time::timeout(limit, run).await {
            Err(_) => (false, format!("no result within {}", human_duration(limit))),
            Ok(Err(e)) => (false, format!("cannot run {}: {e}", path.display())),
            Ok(Ok(out)) => {
                let mut text = String::from_utf8_lossy(&out.stdout).to_string();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                (
                    out.status.success(),
                    format!("{}\n{}", out.status, text.trim_end()),
                )
            }
        };
        Ok(Some(CheckResult {
            name: "custom test".into(),
            passed,
            duration_ms: started.elapsed().as_millis() as u64,
            detail: Some(detail),
        }))
    }
}

/// What a test launch created, for the teardown.
#[derive(Debug, Default)]
struct Launch {
    container: Option<String>,
    /// Directories worth keeping when the test fails (logs mounts).
    keep: Vec<PathBuf>,
    /// The container's last output, when a check failed.
    logs: Option<String>,
}

/// Where the checks reach the test container.
async fn target(
    daemon: &Daemon,
    id: &str,
    network: &Option<(String, Option<String>)>,
) -> Result<Target> {
    let c: ContainerInfo = daemon
        .inspect_container(id)
        .await?
        .ok_or_else(|| Error::container(id, "the test container disappeared"))?;
    Ok(Target {
        ip: network.as_ref().and_then(|(n, _)| c.ips.get(n).cloned()),
        loopback: c.published.clone(),
        container: c.name,
    })
}
