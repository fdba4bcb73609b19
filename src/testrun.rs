//! `dk test`: launch each node's `:latest` image (by id) with its test settings on the test
//! network, wait until it is ready, run the implicit smoke check and the declared checks,
//! and always tear the container down. A passing record for the same image id and test spec
//! means the test is not run again (`--force` runs it).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::build::{BuildOptions, NodeStatus, short};
use crate::checks::{self, Target};
use crate::config::NetworkConfig;
use crate::docker::Daemon;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::launch::{self, ImageFacts, LaunchInput, Role};
use crate::manifest::CheckKind;
use crate::records::{CheckResult, TestRecord, now_unix};
use crate::report::ReporterExt;
use crate::scheduler::{self, Outcome};
use crate::units::{human_duration, parse_duration};

#[derive(Debug, Clone)]
pub struct TestOptions {
    pub jobs: usize,
    pub force: bool,
    pub fail_fast: bool,
}

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
    pub name: String,
    pub image_id: Option<String>,
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
        let mut parts = Vec::new();
        for (label, n) in [
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
        ] {
            if n > 0 {
                parts.push(format!("{n} {label}"));
            }
        }
        format!(
            "{} in {}",
            parts.join(", "),
            human_duration(Duration::from_millis(self.elapsed_ms))
        )
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
        let daemon = self.daemon().await?;
        let left = daemon
            .containers_with_labels(&[("dk.workspace", &self.ws.id), ("dk.role", "test")])
            .await?;
        for c in &left {
            if let Some(id) = &c.id {
                daemon.remove_container(id).await?;
            }
        }
        let tmp = self.ws.state_dir.join("tmp");
        if let Ok(rd) = std::fs::read_dir(&tmp) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with("test-") {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        Ok(left.len())
    }

    /// Make sure a network dk manages exists with its configured subnet. An overlap with
    /// another network is reported to the user before the daemon would refuse.
    pub(crate) async fn ensure_network(&self, net: &NetworkConfig, role: Role) -> Result<()> {
        let daemon = self.daemon().await?;
        let all = daemon.networks().await?;
        let want = net.subnet.to_string();
        if let Some(existing) = all.iter().find(|n| n.name == net.name) {
            if !existing.subnets.contains(&want) {
                return Err(Error::Failed(format!(
                    "network {} exists with subnet {}, but dk.toml says {want}\n  help: remove it (`docker network rm {}`) once nothing uses it, or change the subnet in dk.toml",
                    net.name,
                    existing.subnets.join(", "),
                    net.name
                )));
            }
            return Ok(());
        }
        for other in &all {
            for s in &other.subnets {
                if let Ok(sub) = s.parse::<crate::net::Subnet>()
                    && sub.overlaps(&net.subnet)
                {
                    return Err(Error::Failed(format!(
                        "the {} network's subnet {want} (dk.toml) overlaps network `{}` ({s})\n  help: choose another subnet for network.{} in dk.toml",
                        role.label(),
                        other.name,
                        role.label()
                    )));
                }
            }
        }
        let mut labels = HashMap::new();
        labels.insert("dk.workspace".to_string(), self.ws.id.clone());
        labels.insert("dk.role".to_string(), role.label().to_string());
        daemon
            .create_network(&net.name, &want, &net.subnet.gateway().to_string(), labels)
            .await
    }

    /// Build what is stale, then test the selection.
    pub async fn test(&self, names: &[String], opts: &TestOptions) -> Result<TestSummary> {
        let selected = self.select(names)?;
        self.test_nodes(&selected, opts).await
    }

    pub(crate) async fn test_nodes(
        &self,
        selected: &[usize],
        opts: &TestOptions,
    ) -> Result<TestSummary> {
        let started = Instant::now();
        let order = self.graph.with_dependencies(selected);
        let built = self
            .build_order(
                &order,
                &BuildOptions {
                    jobs: opts.jobs,
                    force: false,
                    fail_fast: opts.fail_fast,
                },
                &[],
            )
            .await?;
        self.remove_test_leftovers().await?;
        self.ensure_network(&self.ws.test_network, Role::Test)
            .await?;

        let selected_order: Vec<usize> = order
            .iter()
            .copied()
            .filter(|i| selected.contains(i))
            .collect();
        let graph = self.graph.clone();
        let mut outcomes = scheduler::run_judged(
            &selected_order,
            |n| graph.parents[n].clone(),
            opts.jobs,
            opts.fail_fast,
            |t: &NodeTest| t.status.ok(),
            |n, _| {
                let image = built.image_id(self.name(n)).map(String::from);
                let build_msg =
                    built
                        .nodes
                        .iter()
                        .find(|r| r.name == self.name(n))
                        .map(|r| match &r.status {
                            NodeStatus::Failed { message } => message.clone(),
                            NodeStatus::Blocked { by } => format!("{by} failed to build"),
                            _ => "not built".to_string(),
                        });
                async move {
                    let Some(image) = image else {
                        return Ok(NodeTest {
                            name: self.name(n).to_string(),
                            image_id: None,
                            status: TestStatus::BuildFailed {
                                message: build_msg.unwrap_or_default(),
                            },
                            checks: Vec::new(),
                            duration_ms: 0,
                            logs: None,
                        });
                    };
                    let t = self.test_node(n, &image, opts.force).await;
                    if let Err(e) = &t {
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

        // Losing the daemon is exit 3, whatever else happened.
        let lost = outcomes
            .iter()
            .find(|(_, o)| matches!(o, Outcome::Failed(Error::Daemon { .. })))
            .map(|(n, _)| *n);
        if let Some(n) = lost
            && let Some(Outcome::Failed(e)) = outcomes.remove(&n)
        {
            return Err(e);
        }
        let mut nodes = Vec::new();
        for &n in &selected_order {
            let name = self.name(n).to_string();
            let t = match outcomes.get(&n) {
                Some(Outcome::Done(t)) => t.clone(),
                Some(Outcome::Failed(e)) => NodeTest {
                    name: name.clone(),
                    image_id: built.image_id(&name).map(String::from),
                    status: TestStatus::Failed {
                        message: e.render(),
                    },
                    checks: Vec::new(),
                    duration_ms: 0,
                    logs: None,
                },
                Some(Outcome::Blocked { by }) => NodeTest {
                    name: name.clone(),
                    image_id: built.image_id(&name).map(String::from),
                    status: TestStatus::Blocked {
                        by: self.name(*by).to_string(),
                    },
                    checks: Vec::new(),
                    duration_ms: 0,
                    logs: None,
                },
                Some(Outcome::Cancelled) | None => NodeTest {
                    name: name.clone(),
                    image_id: built.image_id(&name).map(String::from),
                    status: TestStatus::Cancelled,
                    checks: Vec::new(),
                    duration_ms: 0,
                    logs: None,
                },
            };
            nodes.push(t);
        }
        Ok(TestSummary {
            nodes,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Test one image of one node. Never leaves the container behind (but for a signal,
    /// which the next run's leftover sweep handles).
    async fn test_node(&self, i: usize, image: &str, force: bool) -> Result<NodeTest> {
        let node = &self.ws.nodes[i];
        let name = node.name.clone();
        let spec_hash = self.test_spec_hash(i);
        if !force
            && let Some(rec) = self.records.test(&name, image, &spec_hash)
            && rec.passed
        {
            self.reporter
                .finish(&name, "test", "passed earlier", true, Duration::ZERO, None);
            return Ok(NodeTest {
                name,
                image_id: Some(image.to_string()),
                status: TestStatus::PassedEarlier,
                checks: rec.checks,
                duration_ms: 0,
                logs: None,
            });
        }
        let started = Instant::now();
        self.reporter.start(&name, "test");
        let daemon = self.daemon().await?;
        let facts = daemon
            .inspect_image(image)
            .await?
            .map(|i| ImageFacts::from_inspect(&i))
            .ok_or_else(|| Error::Failed(format!("image {} of {name} is gone", short(image))))?;
        let remap = crate::userns::detect(daemon.userns_remapped().await?)?;
        let root = self.ws.state_dir.join("tmp").join(format!(
            "test-{name}-{}-{}",
            std::process::id(),
            now_unix()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).map_err(|e| Error::io("create", &root, e))?;

        self.reporter.step(&name, "auditing the image");
        let audit = self.audit_check(i, image).await?;
        let result = self.launch_and_check(i, &facts, &root, remap).await;
        let (mut checks, logs, keep, launched) = match result {
            Ok(r) => r,
            Err(e @ Error::Daemon { .. }) => return Err(e),
            Err(e) => (
                vec![CheckResult {
                    name: "launch".into(),
                    passed: false,
                    duration_ms: started.elapsed().as_millis() as u64,
                    detail: Some(e.render()),
                }],
                None,
                Vec::new(),
                None,
            ),
        };
        checks.insert(0, audit);
        // Teardown, always.
        if let Some(id) = launched {
            let _ = daemon.stop_container(&id, Duration::from_secs(2)).await;
            daemon.remove_container(&id).await?;
        }
        let passed = checks.iter().all(|c| c.passed);
        let mut kept = Vec::new();
        if !passed {
            for (k, dir) in keep.iter().enumerate() {
                let dest = self
                    .ws
                    .state_dir
                    .join("logs")
                    .join(&name)
                    .join(format!("{}-test-logs-{k}", now_unix()));
                if let Some(parent) = dest.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                if std::fs::rename(dir, &dest).is_ok() {
                    kept.push(self.ws.rel(&dest).to_string());
                }
            }
        }
        let _ = std::fs::remove_dir_all(&root);
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
            image_id: image.to_string(),
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
                && (!c.passed || c.name.starts_with("logs mounts"))
            {
                detail.push_str(&format!("\n       {d}"));
            }
            detail.push('\n');
        }
        if let Some(l) = &logs {
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
            name,
            image_id: Some(image.to_string()),
            status,
            checks,
            duration_ms: duration.as_millis() as u64,
            logs,
        })
    }

    /// Create, start, wait for readiness, smoke-check and run the checks. Returns the check
    /// results, the container's output on failure, dirs to keep on failure, and the
    /// container id (for teardown) once one exists.
    #[allow(clippy::type_complexity)]
    async fn launch_and_check(
        &self,
        i: usize,
        facts: &ImageFacts,
        root: &std::path::Path,
        remap: crate::userns::Remap,
    ) -> Result<(
        Vec<CheckResult>,
        Option<String>,
        Vec<PathBuf>,
        Option<String>,
    )> {
        let node = &self.ws.nodes[i];
        let daemon = self.daemon().await?;
        let test = &node.manifest.test;
        let (binds, keep) = crate::mounts::test_binds(&self.ws, node, root, remap)?;
        let loopback: Vec<u16> = test
            .checks
            .iter()
            .map(|c| c.get_ref())
            .filter(|c| c.kind() == Some(CheckKind::Http) && c.via.as_deref() == Some("loopback"))
            .filter_map(|c| c.port)
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
        let mut results = Vec::new();
        let outcome = async {
            daemon.start_container(&id).await?;
            let smoke = self.wait_ready(daemon, &id, i, facts).await?;
            let smoke_ok = smoke.passed;
            results.push(smoke);
            if !smoke_ok {
                return Ok::<_, Error>(());
            }
            let target = target(daemon, &id, &spec.network).await?;
            let default_timeout = match &test.check_timeout {
                Some(t) => parse_duration(t).map_err(Error::Failed)?,
                None => DEFAULT_CHECK_TIMEOUT,
            };
            for c in &test.checks {
                let c = c.get_ref();
                self.reporter.step(&node.name, c.display_name());
                let timeout = match &c.timeout {
                    Some(t) => parse_duration(t).map_err(Error::Failed)?,
                    None => default_timeout,
                };
                results.push(checks::run(daemon, &target, c, timeout).await?);
            }
            if let Some(custom) = self.custom_test(i, &target, facts, default_timeout).await? {
                results.push(custom);
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            if matches!(e, Error::Daemon { .. }) {
                // Not a verdict on the image: no record, exit 3 (the sweep at the next
                // start removes the container if it could not be removed now).
                let _ = daemon.remove_container(&id).await;
                return Err(e);
            }
            results.push(CheckResult {
                name: "test run".into(),
                passed: false,
                duration_ms: 0,
                detail: Some(e.render()),
            });
        }
        let logs = if results.iter().all(|c| c.passed) {
            None
        } else {
            Some(daemon.logs_tail(&id, 40).await.unwrap_or_default())
                .filter(|l| !l.trim().is_empty())
        };
        Ok((results, logs, keep, Some(id)))
    }

    /// The image audit as a check: it fails on any finding that is not waived.
    async fn audit_check(&self, i: usize, image: &str) -> Result<CheckResult> {
        let started = Instant::now();
        let (passed, detail) = match self.audit_image(i, image).await {
            Ok(findings) => {
                let open: Vec<String> = findings
                    .iter()
                    .filter(|f| f.waived.is_none())
                    .map(|f| format!("{}: {}", f.rule, f.message))
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

    /// Readiness (healthcheck, port, or nothing) and the implicit smoke check: still running
    /// after the grace period, or exited 0 for a one-shot.
    async fn wait_ready(
        &self,
        daemon: &Daemon,
        id: &str,
        i: usize,
        facts: &ImageFacts,
    ) -> Result<CheckResult> {
        let node = &self.ws.nodes[i];
        let test = &node.manifest.test;
        let started = Instant::now();
        let grace = match &test.grace {
            Some(g) => parse_duration(g).map_err(Error::Failed)?,
            None => DEFAULT_GRACE,
        };
        let ready_timeout = match &test.ready_timeout {
            Some(t) => parse_duration(t).map_err(Error::Failed)?,
            None => DEFAULT_READY,
        };
        let has_health = facts.has_healthcheck || node.manifest.run.healthcheck.is_some();
        let name = if test.one_shot {
            "runs to completion (exit 0)".to_string()
        } else {
            "starts and stays up".to_string()
        };
        let fail = |why: String| CheckResult {
            name: name.clone(),
            passed: false,
            duration_ms: started.elapsed().as_millis() as u64,
            detail: Some(why),
        };
        self.reporter.step(&node.name, "waiting until ready");
        let deadline = started + ready_timeout.max(grace);
        let mut port_ready = test.ready_port.is_none();
        loop {
            let c = daemon
                .inspect_container(id)
                .await?
                .ok_or_else(|| Error::Failed("the test container disappeared".into()))?;
            let state = c.state.clone().unwrap_or_default();
            let running = state.running.unwrap_or(false);
            if !running {
                let code = state.exit_code.unwrap_or(-1);
                if test.one_shot && code == 0 {
                    break;
                }
                return Ok(fail(format!(
                    "the container exited with code {code}{}",
                    if state.oom_killed.unwrap_or(false) {
                        " (killed: out of memory)"
                    } else {
                        ""
                    }
                )));
            }
            let health = state
                .health
                .as_ref()
                .and_then(|h| h.status)
                .map(|s| s.to_string())
                .unwrap_or_default();
            if health == "unhealthy" {
                return Ok(fail("the healthcheck reports unhealthy".into()));
            }
            if !port_ready && let Some(port) = test.ready_port {
                let ip = container_ip(&c, self.ws.test_network.name.as_str());
                if let Some(ip) = ip
                    && let Ok(addr) = format!("{ip}:{port}").parse::<std::net::SocketAddr>()
                    && tokio::time::timeout(
                        Duration::from_millis(500),
                        tokio::net::TcpStream::connect(addr),
                    )
                    .await
                    .is_ok_and(|r| r.is_ok())
                {
                    port_ready = true;
                }
            }
            let health_ready = !has_health || health == "healthy";
            let graced = started.elapsed() >= grace;
            if health_ready && port_ready && graced && !test.one_shot {
                break;
            }
            if Instant::now() >= deadline {
                let what = if !health_ready {
                    format!("the healthcheck is still `{health}`")
                } else if !port_ready {
                    format!(
                        "port {} does not accept connections",
                        test.ready_port.unwrap_or(0)
                    )
                } else {
                    "the one-shot container is still running".to_string()
                };
                return Ok(fail(format!(
                    "not ready within {}: {what}",
                    human_duration(ready_timeout)
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(CheckResult {
            name,
            passed: true,
            duration_ms: started.elapsed().as_millis() as u64,
            detail: None,
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
            .env("DK_IMAGE", &facts.id)
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

fn container_ip(c: &bollard::models::ContainerInspectResponse, network: &str) -> Option<String> {
    c.network_settings
        .as_ref()?
        .networks
        .as_ref()?
        .get(network)?
        .ip_address
        .clone()
        .filter(|ip| !ip.is_empty())
}

async fn target(
    daemon: &Daemon,
    id: &str,
    network: &Option<(String, Option<String>)>,
) -> Result<Target> {
    let c = daemon
        .inspect_container(id)
        .await?
        .ok_or_else(|| Error::Failed("the test container disappeared".into()))?;
    let ip = network.as_ref().and_then(|(n, _)| container_ip(&c, n));
    let mut loopback = Vec::new();
    if let Some(ports) = c.network_settings.as_ref().and_then(|n| n.ports.as_ref()) {
        for (cport, bindings) in ports {
            let cp: u16 = cport
                .split('/')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            if let Some(b) = bindings.as_ref().and_then(|b| b.first())
                && let Some(hp) = b.host_port.as_ref().and_then(|p| p.parse().ok())
            {
                loopback.push((cp, hp));
            }
        }
    }
    Ok(Target {
        container: c
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        ip,
        loopback,
    })
}
