//! A multi-node Swarm rig: one hub network namespace holding a bridge and a
//! `docker-registry`, and one namespace per node joined to the hub by a veth pair, each
//! with a Docker daemon of its own (the first is the manager, the others workers); every
//! daemon lists the registry in `insecure-registries`, nodes carry a `zone` label
//! (`z1`, `z2`, …), and the dispatcher heartbeat is 1 s so that a dead node is noticed in
//! seconds. Nothing of it touches the host's network namespace.
//!
//! `cargo xtask test` starts one rig for the whole suite and names it in
//! `DK_TEST_CLUSTER` (a JSON file); a test run alone starts its own. Whoever started it
//! removes it ([`Rig`]'s drop): daemons, what a SIGKILLed daemon leaves (containerd,
//! shims, mounts), the registry, the namespaces. Std, serde_json and `crate::parts` only,
//! so that both the test binary and xtask include this file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::parts::Dockerd;

/// The rig's private network (inside its namespaces only).
const NET: &str = "192.168.213";
const REGISTRY_PORT: u16 = 5000;
/// The variable naming a rig started by `cargo xtask test`.
pub const RIG_VAR: &str = "DK_TEST_CLUSTER";

fn in_netns(netns: &str, cmd: &str) -> Command {
    let mut c = Command::new("nsenter");
    c.arg(format!("--net=/run/netns/{netns}")).arg(cmd);
    c
}

fn checked(mut c: Command, what: &str) -> Output {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ip(netns: &str, args: &str) {
    let mut c = in_netns(netns, "ip");
    c.args(args.split_whitespace());
    checked(c, &format!("ip {args} (in {netns})"));
}

fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

/// One node: its daemon (namespace and directory) and its address on the rig's network.
#[derive(Debug, Clone)]
pub struct RigNode {
    pub daemon: Dockerd,
    pub addr: String,
}

impl std::ops::Deref for RigNode {
    type Target = Dockerd;

    fn deref(&self) -> &Dockerd {
        &self.daemon
    }
}

impl RigNode {
    fn new(netns: String, dir: PathBuf, addr: String) -> RigNode {
        RigNode {
            daemon: Dockerd { netns, dir },
            addr,
        }
    }

    /// Its swarm node id.
    pub fn node_id(&self) -> String {
        let out = self.docker(&["info", "--format", "{{.Swarm.NodeID}}"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// A rig: where it lives and its nodes (`nodes[0]` is the manager).
#[derive(Debug, Clone)]
pub struct RigInfo {
    pub root: PathBuf,
    pub hub: String,
    pub nodes: Vec<RigNode>,
    /// `host:port` of the registry every node pulls from.
    pub registry: String,
}

impl RigInfo {
    pub fn manager(&self) -> &RigNode {
        &self.nodes[0]
    }

    fn to_json(&self) -> String {
        let nodes: Vec<serde_json::Value> = self
            .nodes
            .iter()
            .map(|n| serde_json::json!({"netns": n.netns, "dir": n.dir, "addr": n.addr}))
            .collect();
        serde_json::json!({
            "root": self.root, "hub": self.hub, "nodes": nodes, "registry": self.registry
        })
        .to_string()
    }

    fn from_json(text: &str) -> RigInfo {
        let v: serde_json::Value = serde_json::from_str(text).expect("the rig's description");
        let s = |v: &serde_json::Value| v.as_str().expect("a string").to_string();
        RigInfo {
            root: PathBuf::from(s(&v["root"])),
            hub: s(&v["hub"]),
            registry: s(&v["registry"]),
            nodes: v["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|n| RigNode::new(s(&n["netns"]), PathBuf::from(s(&n["dir"])), s(&n["addr"])))
                .collect(),
        }
    }

    /// The rig `cargo xtask test` started, if any.
    pub fn shared() -> Option<RigInfo> {
        let file = std::env::var_os(RIG_VAR)?;
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{RIG_VAR}={}: {e}", Path::new(&file).display()));
        Some(RigInfo::from_json(&text))
    }

    /// The swarm's view of its nodes: (id, state, availability) per line of `node ls`.
    pub fn node_states(&self) -> Vec<(String, String, String)> {
        let out = self.manager().docker(&[
            "node",
            "ls",
            "--format",
            "{{.ID}} {{.Status}} {{.Availability}}",
        ]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace().map(|s| s.to_lowercase());
                Some((w.next()?, w.next()?, w.next()?))
            })
            .collect()
    }

    /// Wait (bounded) until every node is `ready` and `active` again: after a test killed
    /// or drained one.
    pub fn wait_all_ready(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let states = self.node_states();
            if states.len() == self.nodes.len()
                && states.iter().all(|(_, s, a)| s == "ready" && a == "active")
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the rig's nodes are not all ready and active: {states:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// A rig this process started; dropping it removes all of it.
pub struct Rig {
    pub info: RigInfo,
    registry: Option<std::process::Child>,
    described: Option<PathBuf>,
}

impl Rig {
    /// `n` nodes (at least 2), a registry, a swarm: about 15 s.
    pub fn start(n: usize) -> Rig {
        crate::parts::require_tools(
            &[
                ("ip", "iproute2"),
                ("nsenter", "util-linux"),
                ("dockerd", "docker.io"),
                ("docker-registry", "docker-registry"),
                ("pkill", "procps"),
                ("curl", "curl"),
            ],
            "the multi-node Swarm rig",
        );
        let root = std::env::temp_dir().join(unique("dkrig-"));
        std::fs::create_dir_all(&root).unwrap();
        let hub = unique("dkhub");
        let mut rig = Rig {
            info: RigInfo {
                root: root.clone(),
                hub: hub.clone(),
                nodes: Vec::new(),
                registry: format!("{NET}.254:{REGISTRY_PORT}"),
            },
            registry: None,
            described: None,
        };
        // From here on a failure drops `rig`, which removes what exists so far.
        checked(
            {
                let mut c = Command::new("ip");
                c.args(["netns", "add", &hub]);
                c
            },
            "ip netns add",
        );
        ip(&hub, "link set lo up");
        ip(&hub, "link add br0 type bridge");
        ip(&hub, &format!("addr add {NET}.254/24 dev br0"));
        ip(&hub, "link set br0 up");
        for k in 1..=n {
            let netns = unique("dkrn");
            checked(
                {
                    let mut c = Command::new("ip");
                    c.args(["netns", "add", &netns]);
                    c
                },
                "ip netns add",
            );
            let dir = root.join(format!("node{k}"));
            std::fs::create_dir_all(&dir).unwrap();
            rig.info.nodes.push(RigNode::new(
                netns.clone(),
                dir.clone(),
                format!("{NET}.{k}"),
            ));
            ip(
                &hub,
                &format!("link add vh{k} type veth peer name eth0 netns {netns}"),
            );
            ip(&hub, &format!("link set vh{k} master br0 up"));
            ip(&netns, "link set lo up");
            ip(&netns, &format!("addr add {NET}.{k}/24 dev eth0"));
            ip(&netns, "link set eth0 up");
            std::fs::write(
                dir.join("daemon.json"),
                format!(
                    "{{\"storage-driver\": \"fuse-overlayfs\", \"log-driver\": \"json-file\", \"insecure-registries\": [\"{}\"]}}\n",
                    rig.info.registry
                ),
            )
            .unwrap();
        }
        // The registry, in the hub.
        let reg = root.join("registry");
        std::fs::create_dir_all(&reg).unwrap();
        std::fs::write(
            reg.join("config.yml"),
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {}\n",
                reg.join("data").display(),
                rig.info.registry
            ),
        )
        .unwrap();
        rig.registry = Some(
            in_netns(&hub, "docker-registry")
                .arg("serve")
                .arg(reg.join("config.yml"))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(reg.join("log")).unwrap())
                .spawn()
                .expect("start docker-registry"),
        );
        // The daemons, started side by side.
        std::thread::scope(|s| {
            for node in &rig.info.nodes {
                s.spawn(|| node.launch());
            }
        });
        let manager = rig.info.manager().clone();
        checked(
            {
                let mut c = Command::new("docker");
                c.args(["-H", &manager.host(), "swarm", "init"])
                    .args(["--advertise-addr", &manager.addr])
                    .args(["--listen-addr", &format!("{}:2377", manager.addr)])
                    .args(["--dispatcher-heartbeat", "1s"]);
                c
            },
            "swarm init",
        );
        let token = checked(
            {
                let mut c = Command::new("docker");
                c.args(["-H", &manager.host(), "swarm", "join-token", "-q", "worker"]);
                c
            },
            "swarm join-token",
        );
        let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
        for node in &rig.info.nodes[1..] {
            let out = node.docker(&[
                "swarm",
                "join",
                "--token",
                &token,
                "--advertise-addr",
                &node.addr,
                "--listen-addr",
                &format!("{}:2377", node.addr),
                &format!("{}:2377", manager.addr),
            ]);
            assert!(
                out.status.success(),
                "swarm join of {}: {}",
                node.addr,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for (k, node) in rig.info.nodes.iter().enumerate() {
            let id = node.node_id();
            let out = manager.docker(&[
                "node",
                "update",
                "--label-add",
                &format!("zone=z{}", k + 1),
                &id,
            ]);
            assert!(
                out.status.success(),
                "node update: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        rig.info.wait_all_ready(Duration::from_secs(60));
        // The registry answers from every node's namespace.
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &rig.info.nodes {
            loop {
                let ok = in_netns(&node.netns, "curl")
                    .args([
                        "-s",
                        "-o",
                        "/dev/null",
                        &format!("http://{}/v2/", rig.info.registry),
                    ])
                    .output()
                    .is_ok_and(|o| o.status.success());
                if ok {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the rig's registry does not answer from {}",
                    node.addr
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        rig
    }

    /// Write the description other processes find through [`RIG_VAR`]; returns its path.
    pub fn describe(&mut self) -> PathBuf {
        let file = self.info.root.join("rig.json");
        std::fs::write(&file, self.info.to_json()).unwrap();
        self.described = Some(file.clone());
        file
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        for node in &self.info.nodes {
            // Services go with the manager's data; containers with their daemon.
            node.stop(Duration::from_secs(30));
        }
        if let Some(mut r) = self.registry.take() {
            let _ = r.kill();
            let _ = r.wait();
        }
        for node in &self.info.nodes {
            let _ = Command::new("ip")
                .args(["netns", "del", &node.netns])
                .output();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.info.hub])
            .output();
        let _ = std::fs::remove_dir_all(&self.info.root);
    }
}
