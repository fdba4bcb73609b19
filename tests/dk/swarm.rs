//! Swarm as the deploy target, on a three-node swarm: the rig of `tests/support/cluster.rs`
//! (three daemons in network namespaces of their own, joined by a bridge in a hub namespace
//! that also holds the registry every node pulls from). `cargo xtask test` starts one rig for
//! the suite; a test run alone starts its own. `dk up` creates the service by registry
//! digest, a no-op `dk up` sends no update, a change rolls out, a live-only broken image is
//! rolled back by Swarm while the old tasks keep serving, `dk rollback` / `dk down` drive the
//! service; tasks spread over zones and at most so many per node; every wait is bounded and
//! its verdict is what Swarm says, per node, also when a worker dies or is drained mid-way.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use crate::cluster::{Rig, RigInfo, RigNode};
use crate::common::{SecondDaemon, TestWs, stderr, stdout};
/// A busybox httpd service that first fails when `/conf/bad` exists (only the live data
/// has it: its tests get an empty copy), with a healthcheck Swarm gates the rollout on.
fn service(ws: &TestWs, page: &str) {
    service_with(ws, page, "replicas = 2");
}

/// The same service with `deploy` as its `[deploy]` table.
fn service_with(ws: &TestWs, page: &str, deploy: &str) {
    ws.container(
        "svc",
        "FROM baseline\nCOPY www /www\nCMD [\"sh\", \"-c\", \"if [ -e /conf/bad ]; then echo cannot parse /conf/bad >&2; exit 1; fi; exec httpd -f -p 8080 -h /www\"]\n",
    );
    ws.write("containers/svc/www/index.html", page);
    ws.write("containers/svc/.dockerignore", "container.toml\n");
    ws.write(
        "containers/svc/container.toml",
        &format!("[deploy]\n{deploy}\n\n[[secret]]\nname = \"token\"\nfile = \"secrets/token\"\n\n[[mount]]\nkind = \"persistent_test_copy\"\nsource = \"conf\"\ntarget = \"/conf\"\n\n[run.healthcheck]\ncommand = [\"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:8080/\"]\ninterval = \"1s\"\nretries = 2\n\n[run.ready]\ngrace = \"2s\"\n\n[[audit.waive]]\nrule = \"entrypoint-form\"\nreason = \"the fixture checks its config in a shell first\"\n"),
    );
}

const SECRET_1: &str = "first-s3cret-never-shown";
const SECRET_2: &str = "second-s3cret-never-shown";

/// Tests on the suite's rig share it; one that kills or drains a node holds it alone.
static RIG: RwLock<()> = RwLock::new(());

enum RigLock {
    Shared(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
    Alone(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

/// The rig a test runs on: the suite's, or one of its own (removed with it).
struct OnRig {
    info: RigInfo,
    own: Option<Rig>,
    lock: Option<RigLock>,
}

impl OnRig {
    fn get(alone: bool) -> OnRig {
        match RigInfo::shared() {
            Some(info) => {
                let lock = if alone {
                    RigLock::Alone(RIG.write().unwrap_or_else(|e| e.into_inner()))
                } else {
                    RigLock::Shared(RIG.read().unwrap_or_else(|e| e.into_inner()))
                };
                OnRig {
                    info,
                    own: None,
                    lock: Some(lock),
                }
            }
            None => {
                let rig = Rig::start(3);
                OnRig {
                    info: rig.info.clone(),
                    own: Some(rig),
                    lock: None,
                }
            }
        }
    }
}

impl Drop for OnRig {
    fn drop(&mut self) {
        // A shared rig a test disturbed is put back: every daemon up, every node active.
        if self.own.is_none() && matches!(self.lock, Some(RigLock::Alone(_))) {
            for node in &self.info.nodes {
                if !node.docker(&["info"]).status.success() {
                    node.reap();
                    node.launch();
                }
            }
            for (id, _, availability) in self.info.node_states() {
                if availability != "active" {
                    let _ = self.info.manager().docker(&[
                        "node",
                        "update",
                        "--availability",
                        "active",
                        &id,
                    ]);
                }
            }
            self.info.wait_all_ready(Duration::from_secs(90));
        }
    }
}

struct Swarm {
    ws: TestWs,
    rig: OnRig,
}

impl Swarm {
    fn start() -> Swarm {
        Swarm::on(OnRig::get(false))
    }

    fn on(rig: OnRig) -> Swarm {
        let ws = TestWs::for_services();
        std::fs::create_dir_all(ws.path("data/svc/conf")).unwrap();
        ws.write("secrets/token", SECRET_1);
        let mut toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
        toml.push_str(&format!(
            "\n[deploy]\ntarget = \"swarm\"\n\n[[registry]]\nurl = \"{}\"\n",
            rig.info.registry
        ));
        ws.write("dk.toml", &toml);
        ws.write("docker-config/config.json", "{}\n");
        Swarm { ws, rig }
    }

    fn manager(&self) -> &RigNode {
        self.rig.info.manager()
    }

    fn dk(&self, args: &[&str]) -> std::process::Output {
        self.ws
            .dk()
            .env("DOCKER_HOST", self.manager().host())
            .env("DOCKER_CONFIG", self.ws.path("docker-config"))
            .args(args)
            .output()
            .unwrap()
    }

    /// `dk up NAME` started in the background (the caller waits for it, bounded).
    fn spawn_up(&self, name: &str) -> std::process::Child {
        self.ws
            .process()
            .env("DOCKER_HOST", self.manager().host())
            .env("DOCKER_CONFIG", self.ws.path("docker-config"))
            .args(["up", name])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.dk(args);
        let all = self.shown(&out);
        assert!(out.status.success(), "dk {args:?}:\n{all}");
        all
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.dk(args);
        let all = self.shown(&out);
        assert!(!out.status.success(), "dk {args:?} should fail:\n{all}");
        all
    }

    /// What dk printed, which never holds a secret.
    fn shown(&self, out: &std::process::Output) -> String {
        let all = format!("{}{}", stdout(out), stderr(out));
        assert!(
            !all.contains(SECRET_1) && !all.contains(SECRET_2),
            "a secret was printed:\n{all}"
        );
        all
    }

    /// The secret as the service's tasks read it.
    fn secret(&self) -> String {
        let (node, id) = self.task_containers().remove(0);
        let out = self.rig.info.nodes[node].docker(&["exec", &id, "cat", "/run/secrets/token"]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    }

    /// The names of the workspace's Swarm secrets.
    fn secrets(&self) -> Vec<String> {
        let out = self.manager().docker(&[
            "secret",
            "ls",
            "--format",
            "{{.Name}}",
            "--filter",
            &format!("label=dk.workspace={}", self.ws.id()),
        ]);
        stdout(&out).split_whitespace().map(String::from).collect()
    }

    fn name(&self) -> String {
        format!("{}-svc", self.ws.ns)
    }

    /// `docker service inspect` of the service: (version, image).
    fn inspect(&self) -> (u64, String) {
        let out = self.manager().docker(&[
            "service",
            "inspect",
            "--format",
            "{{.Version.Index}} {{.Spec.TaskTemplate.ContainerSpec.Image}}",
            &self.name(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let s = stdout(&out);
        let (v, image) = s.trim().split_once(' ').unwrap();
        (v.parse().unwrap(), image.to_string())
    }

    /// Swarm's state of the service's last update (`updating`, `completed`, …; empty: none).
    fn update_state(&self) -> String {
        let out = self.manager().docker(&[
            "service",
            "inspect",
            "--format",
            "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
            &self.name(),
        ]);
        stdout(&out).trim().to_string()
    }

    /// The running containers of the service's tasks on every node that answers:
    /// (node index, container id), sorted.
    fn task_containers(&self) -> Vec<(usize, String)> {
        let mut all = Vec::new();
        for (k, node) in self.rig.info.nodes.iter().enumerate() {
            let out = node.docker(&[
                "ps",
                "-q",
                "--no-trunc",
                "--filter",
                &format!("label=com.docker.swarm.service.name={}", self.name()),
            ]);
            all.extend(
                stdout(&out)
                    .split_whitespace()
                    .map(|id| (k, id.to_string())),
            );
        }
        all.sort();
        all
    }

    /// The containers of `n` tasks once the old ones of a finished rollout are gone
    /// (Swarm stops them after reporting the update completed); bounded.
    fn settled(&self, n: usize) -> Vec<(usize, String)> {
        for _ in 0..150 {
            let ids = self.task_containers();
            if ids.len() == n {
                return ids;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "not {n} task containers after 30 s: {:?}",
            self.task_containers()
        );
    }

    /// The page the service serves, asked by its node name on the overlay from inside one of
    /// its own tasks (DNS round robin: any task may answer).
    fn fetch(&self) -> String {
        let (node, id) = self.task_containers().remove(0);
        let out = self.rig.info.nodes[node].docker(&[
            "exec",
            &id,
            "timeout",
            "5",
            "wget",
            "-q",
            "-O-",
            "http://svc:8080/",
        ]);
        assert!(out.status.success(), "fetch: {}", stderr(&out));
        stdout(&out)
    }

    /// The registry's repository of the service's image, as the service names it.
    fn repo(&self) -> String {
        format!("{}/{}/svc@sha256:", self.rig.info.registry, self.ws.ns)
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        // What the test left on the (possibly shared) swarm: its services, secrets, networks.
        let label = format!("label=dk.workspace={}", self.ws.id());
        let m = self.manager();
        for (kind, list) in [
            ("service", vec!["service", "ls", "-q", "--filter", &label]),
            ("secret", vec!["secret", "ls", "-q", "--filter", &label]),
            ("network", vec!["network", "ls", "-q", "--filter", &label]),
        ] {
            for id in stdout(&m.docker(&list)).split_whitespace() {
                let _ = m.docker(&[kind, "rm", id]);
            }
        }
    }
}

#[test]
fn services_roll_out_by_digest_and_swarm_rolls_back_a_broken_image() {
    let s = Swarm::start();
    service(&s.ws, "v1\n");
    let out = s.ok(&["up", "svc"]);
    assert!(out.contains("svc: created"), "{out}");
    let (v1, image1) = s.inspect();
    let repo = s.repo();
    assert!(image1.starts_with(&repo), "by registry digest: {image1}");
    assert_eq!(s.settled(2).len(), 2, "two replicas");
    assert_eq!(s.fetch(), "v1\n");
    assert_eq!(s.secret(), SECRET_1, "the secret is a file of the tasks");
    assert_eq!(s.secrets().len(), 1, "{:?}", s.secrets());
    let status = s.ok(&["status", "svc"]);
    assert!(status.contains("service 2/2 running"), "{status}");

    // Nothing changed: no update is sent to Swarm.
    let out = s.ok(&["up", "svc"]);
    assert!(!out.contains("rolled out"), "{out}");
    assert_eq!(
        s.inspect().0,
        v1,
        "a no-op up leaves the service version alone"
    );

    // A change rolls out through Swarm, task by task.
    service(&s.ws, "v2\n");
    let out = s.ok(&["up", "svc"]);
    assert!(out.contains("svc: replaced"), "{out}");
    let (_, image2) = s.inspect();
    assert!(image2.starts_with(&repo) && image2 != image1, "{image2}");
    assert_eq!(s.fetch(), "v2\n");
    let serving = s.settled(2);

    // v3 passes its tests but cannot start on the live data: Swarm rolls it back, and the
    // v2 tasks were never stopped.
    service(&s.ws, "v3\n");
    s.ws.write("data/svc/conf/bad", "garbage\n");
    let out = s.fails(&["up", "svc"]);
    assert!(out.contains("1 passed"), "v3 passed its tests: {out}");
    assert!(out.contains("Swarm rolled the update back"), "{out}");
    assert_eq!(s.inspect().1, image2, "the service is back on v2");
    assert_eq!(s.task_containers(), serving, "the old tasks kept serving");
    assert_eq!(s.fetch(), "v2\n");
    // Remembered, like a failed live start.
    let out = s.fails(&["up", "svc"]);
    assert!(out.contains("not tried again"), "{out}");

    // Fixed outside dk: it goes out.
    std::fs::remove_file(s.ws.path("data/svc/conf/bad")).unwrap();
    let out = s.ok(&["up", "--retry", "svc"]);
    assert!(out.contains("svc: replaced"), "{out}");
    assert_eq!(s.fetch(), "v3\n");

    // A changed secret is a new Swarm secret (versioned by content), rolled out; the
    // previous version stays while the previous spec (a rollback) needs it.
    s.ws.write("secrets/token", SECRET_2);
    let out = s.ok(&["up", "svc"]);
    assert!(out.contains("svc: replaced"), "{out}");
    s.settled(2);
    assert_eq!(s.secret(), SECRET_2);
    let inspect = stdout(&s.manager().docker(&["service", "inspect", &s.name()]));
    assert!(
        !inspect.contains(SECRET_2),
        "not in the service's spec or labels"
    );
    assert_eq!(s.secrets().len(), 2, "{:?}", s.secrets());

    // dk rollback: Swarm's previous spec first (v3 with the first secret, which was kept
    // for it), then the service is converged to the release now live (v2), with the
    // secret of today.
    let out = s.ok(&["rollback", "svc"]);
    assert!(!out.contains("failed"), "{out}");
    assert_eq!(s.inspect().1, image2);
    s.settled(2);
    assert_eq!(s.fetch(), "v2\n");
    assert_eq!(s.secret(), SECRET_2);

    // Swarm keeps services running: stop says how to remove it; down (--all) does.
    let out = s.fails(&["stop", "svc"]);
    assert!(out.contains("dk down svc"), "{out}");
    s.ok(&["down", "--all"]);
    let out = s.manager().docker(&[
        "service",
        "ls",
        "-q",
        "--filter",
        &format!("label=dk.workspace={}", s.ws.id()),
    ]);
    assert_eq!(stdout(&out).trim(), "", "no service is left");
    assert_eq!(s.secrets(), Vec::<String>::new(), "nor a secret");
}

#[test]
fn a_daemon_that_is_no_swarm_manager_is_a_clear_error() {
    let daemon = SecondDaemon::start();
    let ws = TestWs::for_services();
    ws.container("svc", "FROM baseline\n");
    ws.write("containers/svc/.dockerignore", "container.toml\n");
    ws.write(
        "containers/svc/container.toml",
        "[deploy]\ntarget = \"swarm\"\n",
    );
    let mut toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    toml.push_str("\n[[registry]]\nurl = \"127.0.0.1:1\"\n");
    ws.write("dk.toml", &toml);
    let out = ws
        .dk()
        .env("DOCKER_HOST", daemon.host())
        .args(["up", "svc"])
        .output()
        .unwrap();
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("not a manager of a swarm") && all.contains("docker swarm init"),
        "{all}"
    );
    assert_eq!(
        stdout(&daemon.docker(&["ps", "-aq", "--filter", "label=dk.role=live"])).trim(),
        "",
        "no container was started instead"
    );
}

/// The node index of each running task, sorted.
fn task_nodes(s: &Swarm) -> Vec<usize> {
    s.task_containers().into_iter().map(|(n, _)| n).collect()
}

#[test]
fn tasks_spread_over_zones_at_most_so_many_per_node_and_a_bound_that_passes_is_exit_1() {
    let s = Swarm::start();
    service_with(
        &s.ws,
        "v1\n",
        "replicas = 3\nspread = [\"node.labels.zone\"]\nmax_per_node = 1\ntimeout = \"25s\"",
    );
    s.ok(&["up", "svc"]);
    assert_eq!(
        s.settled(3).iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        vec![0, 1, 2],
        "one task in each zone"
    );
    // dk status says where each task runs.
    let status = s.ok(&["status", "svc"]);
    assert!(status.contains("service 3/3 running"), "{status}");
    for addr in ["192.168.213.1", "192.168.213.2", "192.168.213.3"] {
        assert!(
            status.contains("svc: task on node") && status.contains(&format!("({addr}): running")),
            "the task on {addr}: {status}"
        );
    }

    // A fourth task has nowhere to go: Swarm keeps it pending, and dk stops waiting at the
    // bound `[deploy] timeout` sets (the default would be minutes), exit 1, saying per node
    // what Swarm reports, while the three tasks keep serving.
    service_with(
        &s.ws,
        "v1\n",
        "replicas = 4\nspread = [\"node.labels.zone\"]\nmax_per_node = 1\ntimeout = \"25s\"",
    );
    let t = Instant::now();
    let out = s.dk(&["up", "svc"]);
    let all = s.shown(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        t.elapsed() < Duration::from_secs(120),
        "the 25 s bound was not honoured: {:?}\n{all}",
        t.elapsed()
    );
    assert!(all.contains("within 25"), "{all}");
    assert!(all.contains("per node:"), "{all}");
    for addr in ["192.168.213.1", "192.168.213.2", "192.168.213.3"] {
        assert!(all.contains(addr), "node {addr} in the report: {all}");
    }
    assert!(
        all.contains("pending") && all.contains("max replicas per node limit"),
        "the pending task and Swarm's reason: {all}"
    );
    assert_eq!(
        task_nodes(&s),
        vec![0, 1, 2],
        "the three tasks kept serving"
    );
    assert_eq!(s.fetch(), "v1\n");

    // Bad placement keys are refused before anything runs, at the key.
    service_with(
        &s.ws,
        "v1\n",
        "replicas = 1\nspread = [\"zone\"]\nmax_per_node = 0",
    );
    let out = s.fails(&["plan"]);
    assert!(
        out.contains("deploy.spread: `zone` is not a node label")
            && out.contains("deploy.max_per_node: 0"),
        "{out}"
    );
    service_with(&s.ws, "v1\n", "replicas = 1");
}

/// Wait (bounded) for a `dk up` started in the background: (exit code, what it printed).
fn finish(mut child: std::process::Child, within: Duration) -> (Option<i32>, String) {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (status.code(), format!("{}{}", stdout(&out), stderr(&out)));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "dk up did not end within {within:?}:\n{}{}",
                stdout(&out),
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Wait (bounded) until Swarm is rolling the service's update out.
fn until_updating(s: &Swarm) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while s.update_state() != "updating" {
        assert!(
            Instant::now() < deadline,
            "Swarm did not start the rollout: {}",
            s.update_state()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_worker_killed_mid_rollout_ends_with_swarm_s_verdict_and_a_drained_node_moves_its_tasks() {
    let s = Swarm::on(OnRig::get(true));
    let deploy = "replicas = 3\nspread = [\"node.labels.zone\"]\ntimeout = \"45s\"";
    service_with(&s.ws, "v1\n", deploy);
    s.ok(&["up", "svc"]);
    s.settled(3);
    assert_eq!(task_nodes(&s), vec![0, 1, 2], "one task in each zone");

    // The second node is drained while v2 rolls out: its tasks move, dk up succeeds.
    service_with(&s.ws, "v2\n", deploy);
    let up = s.spawn_up("svc");
    until_updating(&s);
    let id = s.rig.info.nodes[1].node_id();
    let drained = s
        .manager()
        .docker(&["node", "update", "--availability", "drain", &id]);
    assert!(drained.status.success(), "{}", stderr(&drained));
    let (code, out) = finish(up, Duration::from_secs(240));
    assert_eq!(code, Some(0), "{out}");
    let running = s.settled(3);
    assert!(
        running.iter().all(|(n, _)| *n != 1),
        "none on the drained node: {running:?}"
    );
    assert_eq!(s.fetch(), "v2\n");
    let active = s
        .manager()
        .docker(&["node", "update", "--availability", "active", &id]);
    assert!(active.status.success(), "{}", stderr(&active));
    s.rig.info.wait_all_ready(Duration::from_secs(60));

    // The third node's daemon dies while Swarm rolls v3 out (last: what a node that comes
    // back reports of its dead tasks could fail a later rollout; the rig's guard restarts
    // it once this service is gone).
    service_with(&s.ws, "v3\n", deploy);
    let up = s.spawn_up("svc");
    until_updating(&s);
    s.rig.info.nodes[2].kill();
    let (code, out) = finish(up, Duration::from_secs(240));
    let state = s.update_state();
    eprintln!("killed worker: dk up exit {code:?}, Swarm's update {state}");
    match code {
        // Swarm completed the update: every task runs v3, on the nodes that live.
        Some(0) => {
            assert_eq!(state, "completed", "{out}");
            let running = s.settled(3);
            assert!(running.iter().all(|(n, _)| *n != 2), "{running:?}");
            assert_eq!(s.fetch(), "v3\n");
        }
        // Swarm rolled back or the bound passed: said so, naming the dead node.
        Some(1) => {
            assert!(
                out.contains("rolled the update back") || out.contains("within 45"),
                "{out}"
            );
            assert!(
                out.contains("per node:") && out.contains("192.168.213.3"),
                "{out}"
            );
        }
        other => panic!("dk up ended with {other:?}: {out}"),
    }
}

#[test]
fn a_node_that_cannot_pull_is_named_with_its_pull_error_and_the_old_tasks_keep_serving() {
    let s = Swarm::on(OnRig::get(true));
    // Placed on the third node only, so that Swarm has nowhere else to put a new task.
    let deploy = "replicas = 2\nconstraints = [\"node.labels.zone == z3\"]\ntimeout = \"90s\"";
    service_with(&s.ws, "v1\n", deploy);
    s.ok(&["up", "svc"]);
    s.settled(2);
    let serving = s.task_containers();
    assert!(serving.iter().all(|(n, _)| *n == 2), "{serving:?}");
    // The third node loses its route to the registry (the swarm's own traffic still flows):
    // it can pull nothing.
    let node3 = &s.rig.info.nodes[2];
    let registry_ip = s.rig.info.registry.split(':').next().unwrap().to_string();
    let route = |verb: &str| {
        let out = std::process::Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", node3.netns))
            .args([
                "ip",
                "route",
                verb,
                "blackhole",
                &format!("{registry_ip}/32"),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "ip route {verb}: {}", stderr(&out));
    };
    route("add");
    service_with(&s.ws, "v2\n", deploy);
    let out = s.dk(&["up", "svc"]);
    route("del");
    let all = s.shown(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("rolled the update back"), "{all}");
    assert!(
        all.contains("(192.168.213.3)") && all.contains("rejected"),
        "the node and its rejected task: {all}"
    );
    assert!(
        all.contains(&registry_ip),
        "the pull error names the registry: {all}"
    );
    // The v1 tasks never stopped (Swarm may have started a spare beside them).
    let now = s.task_containers();
    assert!(
        serving.iter().all(|c| now.contains(c)),
        "the v1 tasks kept serving: {serving:?} then {now:?}"
    );
    assert_eq!(s.fetch(), "v1\n");
}

#[test]
fn a_second_checkout_takes_the_tested_image_from_the_registry_and_replaces_nothing() {
    let s = Swarm::start();
    service(&s.ws, "one");
    // Another checkout shares what runs only with the same data: an absolute data_root.
    let toml = std::fs::read_to_string(s.ws.path("dk.toml")).unwrap();
    s.ws.write(
        "dk.toml",
        &format!(
            "data_root = \"{}\"\n{toml}\n[build]\nregistry_cache = true\n",
            s.ws.path("data").display()
        ),
    );
    let first = s.ok(&["up", "svc"]);
    assert!(first.contains("wrote `id = "), "{first}");
    let written = std::fs::read_to_string(s.ws.path("dk.toml")).unwrap();
    assert!(
        written.contains(&format!("id = \"{}\"", s.ws.id())),
        "{written}"
    );
    assert!(
        s.ws.path("dk.secret.key").is_file() && !s.ws.path(".dk/secret.key").exists(),
        "the fingerprint key is kept beside dk.toml"
    );
    let before = s.inspect();

    // A second checkout: the workspace's files (the key with the secrets), no `.dk/`, another
    // path; the builder has lost the service's image (only the baseline's is left).
    let other = TestWs::empty();
    for entry in std::fs::read_dir(s.ws.root()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == ".dk" || entry.file_name() == "data" {
            continue;
        }
        let out = std::process::Command::new("cp")
            .args(["-a", "--"])
            .arg(entry.path())
            .arg(other.root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for tag in ["latest", "live"] {
        let out = s
            .manager()
            .docker(&["rmi", &format!("{}/svc:{tag}", s.ws.ns)]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let dk2 = |args: &[&str]| {
        let out = other
            .dk()
            .env("DOCKER_HOST", s.manager().host())
            .env("DOCKER_CONFIG", other.path("docker-config"))
            .args(args)
            .output()
            .unwrap();
        s.shown(&out);
        out
    };
    let out = dk2(&["up", "svc"]);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{all}");
    assert!(all.contains("taken from the daemon's :latest"), "{all}");
    assert!(
        all.contains(&format!("taken from {} (", s.rig.info.registry))
            && all.contains("with the test record it passed"),
        "{all}"
    );
    assert!(all.contains("passed earlier"), "not tested again: {all}");
    assert!(!all.contains("rollout"), "{all}");
    assert_eq!(s.inspect(), before, "the service was not touched");
    let status = dk2(&["status", "svc"]);
    let shown = stdout(&status);
    assert!(shown.contains("on node"), "{shown}");

    // Without the key that travels with the secrets, the fingerprints differ: replaced once.
    std::fs::remove_file(other.path("dk.secret.key")).unwrap();
    let out = dk2(&["up", "svc"]);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{all}");
    assert!(all.contains("settings changed"), "{all}");
    assert_ne!(s.inspect().0, before.0);
    assert_eq!(s.inspect().1, before.1, "the same image");
}

#[test]
fn a_service_built_for_two_platforms_runs_from_their_manifest_list_by_digest() {
    let s = Swarm::start();
    crate::multiarch::two_platform_baseline(&s.ws);
    service(&s.ws, "one");
    // dk writes the list to the registry itself (the daemon cannot): it runs where the
    // registry answers, in the rig's hub, and speaks HTTP to it as the daemon does (its
    // insecure-registries).
    let dk = |args: &[&str]| {
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", &s.rig.info.hub])
            .arg(crate::common::dk_path())
            .arg("-C")
            .arg(s.ws.root())
            .env_remove("DK_NAMESPACE")
            .env("DOCKER_HOST", s.manager().host())
            .env("DOCKER_CONFIG", s.ws.path("docker-config"))
            .args(args)
            .output()
            .unwrap();
        let all = s.shown(&out);
        assert!(out.status.success(), "dk {args:?}:\n{all}");
        all
    };
    let out = dk(&["up", "svc"]);
    assert!(
        out.contains("svc (linux/amd64): test passed")
            && out.contains("svc (linux/arm64): test passed"),
        "{out}"
    );
    // The service names one digest: the registry's list of both platforms, from which
    // each node pulls its own (here: amd64).
    let (version, image) = s.inspect();
    let (repo, digest) = image.split_once('@').expect("by digest");
    let path = repo.split_once('/').unwrap().1;
    let list =
        crate::multiarch::manifest_at(&s.rig.info.registry, path, digest, Some(&s.rig.info.hub));
    let mut archs: Vec<&str> = list["manifests"]
        .as_array()
        .unwrap_or_else(|| panic!("a list at {digest}: {list}"))
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    archs.sort();
    assert_eq!(archs, ["amd64", "arm64"], "{list}");
    assert_eq!(s.task_containers().len(), 2, "both replicas run");
    // Nothing changed: nothing is sent.
    dk(&["up", "svc"]);
    assert_eq!(s.inspect().0, version);
}
