//! Real parts the integration tests and `cargo xtask bench` start: a second Docker daemon
//! in a network namespace of its own (optionally a single-node swarm) and a
//! `docker-registry`, each removed by its guard even when the caller fails. Std only, so
//! that both the test binary (`tests/dk/common.rs`) and xtask include this file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A private temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(unique(&format!("{prefix}-")));
        std::fs::create_dir_all(&p).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One dockerd of a test's own: its network namespace, and the directory holding its
/// config (`daemon.json`), data and exec roots, pid file, socket and log. Started detached
/// (stopped through its pid file), so that whoever knows the directory can stop it: the
/// [`SecondDaemon`] guard, or the owner of a multi-node rig (`cluster.rs`).
#[derive(Debug, Clone)]
pub struct Dockerd {
    pub netns: String,
    pub dir: PathBuf,
}

impl Dockerd {
    /// `unix://…/docker.sock`, for DOCKER_HOST.
    pub fn host(&self) -> String {
        format!("unix://{}/docker.sock", self.dir.display())
    }

    /// The docker CLI against this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("-H")
            .arg(self.host())
            .args(args)
            .output()
            .expect("docker CLI")
    }

    fn answers(&self) -> bool {
        self.docker(&["info", "--format", "{{.ServerVersion}}"])
            .status
            .success()
    }

    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
    }

    /// Start it (nsenter, not `ip netns exec`, which remounts /sys) and wait until it
    /// answers.
    pub fn launch(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("dockerd.log"))
            .unwrap();
        let mut child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", self.netns))
            .arg("dockerd")
            .arg("--config-file")
            .arg(self.dir.join("daemon.json"))
            .arg("-H")
            .arg(self.host())
            .arg("--data-root")
            .arg(self.dir.join("data"))
            .arg("--exec-root")
            .arg(self.dir.join("exec"))
            .arg("--pidfile")
            .arg(self.dir.join("pid"))
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start dockerd");
        // It outlives this call (stopped through its pid file); a thread reaps it when it ends.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !self.answers() {
            assert!(
                std::time::Instant::now() < deadline,
                "the daemon in {} did not answer within 60 s; its log:\n{}",
                self.netns,
                std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// Send `signal` and wait (at most `within`) until the process is gone.
    fn signal(&self, signal: &str, within: std::time::Duration) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args([signal, &pid.to_string()])
                .output();
            let deadline = std::time::Instant::now() + within;
            while Path::new(&format!("/proc/{pid}")).exists()
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }

    /// SIGKILL it, as a crash of the machine's Docker would (its containers' shims keep
    /// running until [`Dockerd::reap`]).
    pub fn kill(&self) {
        self.signal("-KILL", std::time::Duration::from_secs(20));
        let _ = std::fs::remove_file(self.dir.join("pid"));
    }

    /// Stop it (SIGTERM: it stops its containers, as at a shutdown; SIGKILL after
    /// `within`) and everything it left.
    pub fn stop(&self, within: std::time::Duration) {
        self.signal("-TERM", within);
        self.kill();
        self.reap();
    }

    /// What a killed daemon leaves: its containerd and shims (every process whose command
    /// line names its directory) and mounts under the directory.
    pub fn reap(&self) {
        let _ = Command::new("pkill")
            .args(["-KILL", "-f", &format!("{}/", self.dir.display())])
            .output();
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "grep -o ' {}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l",
                self.dir.display()
            ))
            .output();
    }
}

/// A Docker daemon of the test's own, in a network namespace of its own (never the host's:
/// a second daemon there takes the main daemon's bridge away), with its own data and exec
/// roots. `restart` stops and starts it like a reboot would; the guard kills it and removes
/// the namespace and its files, even when the test fails.
pub struct SecondDaemon {
    pub dir: TempDir,
    daemon: Dockerd,
}

/// Fail, saying how to install it, when a (command, Debian package) of `tools` is missing.
pub fn require_tools(tools: &[(&str, &str)], what: &str) {
    for (tool, package) in tools {
        assert!(
            Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {tool}"))
                .output()
                .is_ok_and(|o| o.status.success()),
            "{what} needs `{tool}`: apt-get install -y {package}"
        );
    }
}

impl SecondDaemon {
    pub fn start() -> SecondDaemon {
        require_tools(
            &[
                ("ip", "iproute2"),
                ("nsenter", "util-linux"),
                ("dockerd", "docker.io"),
                ("pkill", "procps"),
            ],
            "a second Docker daemon",
        );
        let dir = TempDir::new("dkd");
        let netns = unique("dkns");
        let out = Command::new("ip")
            .args(["netns", "add", &netns])
            .output()
            .unwrap();
        assert!(out.status.success(), "ip netns add: {}", stderr(&out));
        // Loopback up, so that the daemon's containers' published ports answer in there.
        let _ = Command::new("nsenter")
            .args([
                &format!("--net=/run/netns/{netns}"),
                "ip",
                "link",
                "set",
                "lo",
                "up",
            ])
            .output();
        std::fs::write(
            dir.path().join("daemon.json"),
            "{\"storage-driver\": \"fuse-overlayfs\", \"log-driver\": \"json-file\"}\n",
        )
        .unwrap();
        let daemon = Dockerd {
            netns,
            dir: dir.path().to_path_buf(),
        };
        let d = SecondDaemon { dir, daemon };
        d.daemon.launch();
        d
    }

    /// `unix://…/docker.sock`, for DOCKER_HOST.
    pub fn host(&self) -> String {
        self.daemon.host()
    }

    /// Stop and start again, like a reboot of the machine would.
    pub fn restart(&mut self) {
        self.daemon.stop(std::time::Duration::from_secs(60));
        self.daemon.launch();
    }

    /// Its network namespace (`/run/netns/<name>`).
    pub fn netns(&self) -> &str {
        &self.daemon.netns
    }

    /// Make it a single-node swarm manager (in its own namespace only: never the main
    /// daemon's). The swarm goes with the daemon's data when the guard drops it.
    pub fn swarm_init(&self) {
        let out = self.docker(&[
            "swarm",
            "init",
            "--advertise-addr",
            "127.0.0.1",
            "--listen-addr",
            "127.0.0.1:2377",
        ]);
        assert!(out.status.success(), "swarm init: {}", stderr(&out));
    }

    /// The docker CLI against this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        self.daemon.docker(args)
    }
}

impl Drop for SecondDaemon {
    fn drop(&mut self) {
        // Its containers first, so that nothing of it outlives the daemon.
        let out = self.docker(&["ps", "-aq"]);
        for id in stdout(&out).split_whitespace() {
            let _ = self.docker(&["rm", "-f", "-v", id]);
        }
        self.daemon.stop(std::time::Duration::from_secs(60));
        let _ = Command::new("ip")
            .args(["netns", "del", &self.daemon.netns])
            .output();
    }
}

/// A `docker-registry` (the CNCF distribution registry, Debian's package) on 127.0.0.1 at a
/// free port, its storage in a temporary directory, with htpasswd auth when `auth` names a
/// user and password. The guard stops it.
pub struct TestRegistry {
    /// Its storage and config, removed with it.
    _dir: TempDir,
    pub port: u16,
    child: std::process::Child,
    /// The network namespace it listens in (None: the host's).
    netns: Option<String>,
}

impl TestRegistry {
    pub fn start(auth: Option<(&str, &str)>) -> TestRegistry {
        TestRegistry::start_in(None, auth)
    }

    /// `cmd` run in `netns` (through nsenter) or here.
    fn command(netns: Option<&str>, cmd: &str) -> Command {
        match netns {
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/run/netns/{ns}")).arg(cmd);
                c
            }
            None => Command::new(cmd),
        }
    }

    /// A registry listening on 127.0.0.1 inside `netns` (a [`SecondDaemon`]'s), where
    /// that daemon pulls from it as from a loopback registry.
    pub fn start_in(netns: Option<&str>, auth: Option<(&str, &str)>) -> TestRegistry {
        let dir = TempDir::new("dkreg");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some((user, pass)) = auth {
            // Distribution takes bcrypt htpasswd entries only.
            let out = Command::new("python3")
                .args([
                    "-W",
                    "ignore",
                    "-c",
                    &format!("import crypt; print(crypt.crypt('{pass}', crypt.mksalt(crypt.METHOD_BLOWFISH)))"),
                ])
                .output()
                .expect("python3 makes the registry's bcrypt password");
            let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert!(
                hash.starts_with("$2"),
                "bcrypt from python3: {}",
                stderr(&out)
            );
            std::fs::write(dir.path().join("htpasswd"), format!("{user}:{hash}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: dk-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let child = TestRegistry::command(netns, "docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("log")).unwrap())
            .spawn()
            .expect(
                "the registry tests need `docker-registry`: apt-get install -y docker-registry",
            );
        let mut reg = TestRegistry {
            _dir: dir,
            port,
            child,
            netns: netns.map(String::from),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !reg.answers() {
            assert!(
                std::time::Instant::now() < deadline,
                "docker-registry did not listen on {port}"
            );
            assert!(
                reg.child.try_wait().ok().flatten().is_none(),
                "docker-registry exited: {}",
                std::fs::read_to_string(reg._dir.path().join("log")).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        reg
    }

    fn answers(&self) -> bool {
        TestRegistry::answers_at(self.netns.as_deref(), &self.url())
    }

    /// Does a registry answer at `url` in `netns` (None: the host's)?
    fn answers_at(netns: Option<&str>, url: &str) -> bool {
        TestRegistry::command(netns, "curl")
            .args(["-s", "-o", "/dev/null", &format!("http://{url}/v2/")])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Where it keeps blobs and manifests.
    pub fn storage(&self) -> PathBuf {
        self._dir.path().join("data")
    }

    pub fn url(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The tags of `repo`, as the registry lists them (`user:pass` when it has auth).
    pub fn tags(&self, repo: &str, auth: Option<&str>) -> Vec<String> {
        let mut c = TestRegistry::command(self.netns.as_deref(), "curl");
        c.args(["-s", &format!("http://{}/v2/{repo}/tags/list", self.url())]);
        if let Some(a) = auth {
            c.args(["-u", a]);
        }
        let out = c.output().expect("curl");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A second `docker-registry` serving a [`TestRegistry`]'s storage on the same port in
/// another network namespace: a daemon in there reaches the same registry at the same
/// loopback address (`127.0.0.1:PORT`) as the host's daemon does. Drop it before the
/// registry it mirrors.
pub struct RegistryMirror {
    child: std::process::Child,
}

impl TestRegistry {
    pub fn mirror_in(&self, netns: &str) -> RegistryMirror {
        let child = TestRegistry::command(Some(netns), "docker-registry")
            .arg("serve")
            .arg(self._dir.path().join("config.yml"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("docker-registry");
        let mirror = RegistryMirror { child };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !TestRegistry::answers_at(Some(netns), &self.url()) {
            assert!(
                std::time::Instant::now() < deadline,
                "the registry mirror did not listen on {} in {netns}",
                self.port
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        mirror
    }
}

impl Drop for RegistryMirror {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
