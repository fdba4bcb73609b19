//! Shared helpers for the integration tests.
//!
//! Every test workspace lives in a temporary directory with a unique namespace; every
//! Docker object dk creates for it carries its `dk.workspace` label, and objects the tests
//! create themselves carry `dk.test=1` plus a unique name. A guard (`Drop`) removes all of
//! them even when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use dk::engine::Engine;
use dk::report::Silent;
use dk::workspace::{LoadOptions, legacy_workspace_id};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Fail loudly (never skip) when no daemon answers.
fn require_daemon() {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    let r = CHECKED.get_or_init(|| {
        let out = Command::new("docker")
            .args(["version", "--format", "{{.Server.APIVersion}}"])
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).to_string()),
            Err(e) => Err(format!("cannot run the docker CLI: {e}")),
        }
    });
    if let Err(e) = r {
        panic!(
            "these tests need a running Docker daemon and none answers ({e}).\n\
             Start one: `sudo systemctl start docker`, or as root `dockerd &` \
             (install it with `apt-get install -y docker.io`), then run the tests again."
        );
    }
}

/// A statically linked busybox, taken from the workspace's own pinned Debian package, kept
/// in cargo's scratch directory for integration tests (wherever CARGO_TARGET_DIR points).
pub fn busybox() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        extract_busybox(
            "3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744",
            "test-busybox",
        )
    })
    .clone()
}

/// `os/arch` of an image.
pub fn platform_of(image: &str) -> String {
    let out = docker(&[
        "image",
        "inspect",
        "--format",
        "{{.Os}}/{{.Architecture}}",
        image,
    ]);
    assert!(out.status.success(), "{image}: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Fails, naming the fix, when this machine has no QEMU for arm64 registered.
pub fn require_emulation() {
    let h = std::path::Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64");
    let text = std::fs::read_to_string(h).unwrap_or_default();
    assert!(
        text.starts_with("enabled")
            && text
                .lines()
                .any(|l| l.starts_with("flags:") && l.contains('F')),
        "this test runs arm64 programs under QEMU: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc, then apt-get install -y qemu-user-static binfmt-support (`cargo xtask test` does both)"
    );
}

/// The arm64 build of the same busybox (Debian's busybox-static:arm64, in the fetch cache).
pub fn busybox_arm64() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        extract_busybox(
            "732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5",
            "test-busybox-arm64",
        )
    })
    .clone()
}

/// `./bin/busybox` of the busybox-static package `vendor/fetch/<sha256>`, as `name` in
/// cargo's scratch directory.
fn extract_busybox(sha256: &str, name: &str) -> PathBuf {
    {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(scratch).unwrap();
        let out = scratch.join(name);
        if out.is_file() {
            return out;
        }
        let deb = root.join("vendor/fetch").join(sha256);
        let tmp = out.with_extension(format!("tmp{}", std::process::id()));
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "dpkg-deb --fsys-tarfile '{}' | tar -xO ./bin/busybox > '{}' && chmod 755 '{}'",
                deb.display(),
                tmp.display(),
                tmp.display()
            ))
            .status()
            .expect("run dpkg-deb");
        assert!(
            status.success(),
            "extracting busybox from {} failed",
            deb.display()
        );
        std::fs::rename(&tmp, &out).unwrap();
        out
    }
}

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

pub struct TestWs {
    pub dir: tempfile::TempDir,
    pub ns: String,
    /// Extra images the test created itself (removed by the guard).
    pub extra_images: std::sync::Mutex<Vec<String>>,
}

impl TestWs {
    /// An empty workspace that will use the daemon: checks that one answers (a test that
    /// needs a daemon fails, saying how to start one, rather than skipping).
    pub fn docker() -> TestWs {
        require_daemon();
        TestWs::empty()
    }

    /// An empty workspace: dk.toml with a unique namespace, nothing else (no daemon needed).
    pub fn empty() -> TestWs {
        let dir = tempfile::Builder::new()
            .prefix("dk-test-")
            .tempdir()
            .unwrap();
        let ns = unique("dktest");
        let ws = TestWs {
            dir,
            ns,
            extra_images: Default::default(),
        };
        // Subnets of its own, so that parallel tests never collide on a network.
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let slot = (std::process::id() as usize * 7 + n * 13) % 250 + 1;
        ws.write(
            "dk.toml",
            &format!(
                "namespace = \"{}\"\n[network.live]\nsubnet = \"10.213.{slot}.0/24\"\n[network.test]\nsubnet = \"10.214.{slot}.0/24\"\n",
                ws.ns
            ),
        );
        ws
    }

    /// A workspace whose baseline is busybox on scratch (no registry needed).
    pub fn with_baseline() -> TestWs {
        let ws = TestWs::docker();
        std::fs::create_dir_all(ws.path("baseline")).unwrap();
        std::fs::copy(busybox(), ws.path("baseline/busybox")).unwrap();
        ws.write(
            "baseline/Dockerfile",
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCMD [\"sh\"]\n",
        );
        ws
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Append `text` to the file `rel` (made when missing); returns its whole new content.
    pub fn append(&self, rel: &str, text: &str) -> String {
        let mut content = std::fs::read_to_string(self.path(rel)).unwrap_or_default();
        content.push_str(text);
        self.write(rel, &content);
        content
    }

    /// Add `containers/<name>/Dockerfile` with `dockerfile`.
    pub fn container(&self, name: &str, dockerfile: &str) {
        self.write(&format!("containers/{name}/Dockerfile"), dockerfile);
    }

    /// A workspace for launching containers: a non-root busybox baseline that stays up, and
    /// live/test subnets of its own (so that parallel tests never collide).
    pub fn for_services() -> TestWs {
        TestWs::for_services_on(&busybox())
    }

    /// The same with `busybox` (another architecture's build) in the baseline.
    pub fn for_services_on(busybox: &Path) -> TestWs {
        let ws = TestWs::docker();
        std::fs::create_dir_all(ws.path("baseline")).unwrap();
        std::fs::copy(busybox, ws.path("baseline/busybox")).unwrap();
        ws.write(
            "baseline/Dockerfile",
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox --install -s /bin && rm /bin/dpkg /bin/dpkg-deb /bin/rpm /bin/rpm2cpio\"]\nUSER 1000:1000\nCMD [\"sleep\", \"600\"]\n",
        );
        ws.write("baseline/.dockerignore", "container.toml\n");
        ws
    }

    /// A web service on the baseline: busybox httpd on 8080 serving /www.
    pub fn web_service(&self, name: &str, page: &str, manifest: &str) {
        self.container(
            name,
            "FROM baseline\nCOPY www /www\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
        );
        self.write(&format!("containers/{name}/www/index.html"), page);
        self.write(
            &format!("containers/{name}/.dockerignore"),
            "container.toml\ntest-data\n",
        );
        self.write(&format!("containers/{name}/container.toml"), manifest);
    }

    /// Run dk here; it must succeed. Returns stdout and stderr together.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.dk().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "dk {args:?} failed:\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
        format!("{}{}", stdout(&out), stderr(&out))
    }

    /// Run dk here; it must exit 1 (a build, test or promotion failed).
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.dk().args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "dk {args:?}:\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
        format!("{}{}", stdout(&out), stderr(&out))
    }

    /// The dk binary, run in this workspace.
    pub fn dk(&self) -> assert_cmd::Command {
        let mut c = dk_bare();
        c.arg("-C").arg(self.root());
        c
    }

    /// `dk ls --json`'s entry for node `name` (it must load).
    pub fn ls_node(&self, name: &str) -> serde_json::Value {
        let out = self.dk().args(["ls", "--json"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .unwrap_or_else(|| panic!("no node {name} in {v}"))
            .clone()
    }

    /// The dk binary as a std `Command` in this workspace, for a test that spawns it and
    /// kills it or measures it.
    pub fn process(&self) -> Command {
        let mut c = Command::new(dk_path());
        c.arg("-C").arg(self.root()).env_remove("DK_NAMESPACE");
        c
    }

    pub fn engine(&self) -> Engine {
        Engine::load(
            self.root(),
            &LoadOptions::default(),
            Arc::new(Silent::default()),
        )
        .unwrap_or_else(|e| panic!("loading {}: {}", self.root().display(), e.render()))
    }

    pub fn image(&self, node: &str, tag: &str) -> String {
        format!("{}/{}:{}", self.ns, node, tag)
    }

    /// The id of an image reference, or None.
    pub fn image_id(&self, reference: &str) -> Option<String> {
        let out = docker(&["image", "inspect", "--format", "{{.Id}}", reference]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The workspace id (the `dk.workspace` label value).
    /// The ids of this workspace's containers of `role` (`test`, `live`, `job`), any state.
    pub fn containers(&self, role: &str) -> Vec<String> {
        let out = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=dk.workspace={}", self.id()),
            "--filter",
            &format!("label=dk.role={role}"),
        ]);
        stdout(&out).split_whitespace().map(String::from).collect()
    }

    pub fn id(&self) -> String {
        self.engine().ws.id.clone()
    }

    pub fn track_image(&self, reference: &str) {
        self.extra_images
            .lock()
            .unwrap()
            .push(reference.to_string());
    }
}

impl Drop for TestWs {
    fn drop(&mut self) {
        let root = match self.dir.path().canonicalize() {
            Ok(r) => r,
            Err(_) => return,
        };
        // dk.toml's id (a test may set one), else the hash of the path dk writes there.
        let id = std::fs::read_to_string(root.join("dk.toml"))
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
            .and_then(|t| t.get("id").and_then(|v| v.as_str()).map(String::from))
            .unwrap_or_else(|| legacy_workspace_id(&root));
        let label = format!("label=dk.workspace={id}");
        for (what, list) in [("container", vec!["ps", "-aq", "--filter", &label])] {
            let out = docker(&list);
            for obj in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = docker(&[what, "rm", "-f", "-v", obj]);
            }
        }
        // Containers other tools made from this workspace's images (container-structure-test).
        let out = docker(&["ps", "-a", "--format", "{{.ID}} {{.Image}}"]);
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((id, image)) = line.split_once(' ')
                && image.starts_with(&format!("{}/", self.ns))
            {
                let _ = docker(&["rm", "-f", "-v", id]);
            }
        }
        let mut images: Vec<String> = Vec::new();
        let out = docker(&["images", "-q", "--no-trunc", "--filter", &label]);
        images.extend(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(String::from),
        );
        let out = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        images.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.starts_with(&format!("{}/", self.ns)))
                .map(String::from),
        );
        images.extend(self.extra_images.lock().unwrap().iter().cloned());
        for img in images {
            let _ = docker(&["rmi", "-f", &img]);
        }
        let out = docker(&["network", "ls", "-q", "--filter", &label]);
        for n in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let _ = docker(&["network", "rm", n]);
        }
        // Named volumes dk made for this workspace (dk itself never removes them).
        let out = docker(&["volume", "ls", "-q", "--filter", &label]);
        for v in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let _ = docker(&["volume", "rm", "-f", v]);
        }
        // Whatever is left under this workspace's names was made without its labels: a
        // bug in dk (every object it creates is labelled), which this guard must not hide.
        let mut unlabelled = Vec::new();
        for (kind, list) in [
            ("container", vec!["ps", "-a", "--format", "{{.Names}}"]),
            ("network", vec!["network", "ls", "--format", "{{.Name}}"]),
            ("volume", vec!["volume", "ls", "--format", "{{.Name}}"]),
        ] {
            let out = docker(&list);
            for name in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if name.starts_with(&format!("{}-", self.ns)) {
                    unlabelled.push(format!("{kind} {name}"));
                    let rm: &[&str] = match kind {
                        "container" => &["rm", "-f", "-v"],
                        "network" => &["network", "rm"],
                        _ => &["volume", "rm", "-f"],
                    };
                    let _ = docker(&[rm, &[name]].concat());
                }
            }
        }
        if !unlabelled.is_empty() && !std::thread::panicking() {
            panic!(
                "objects named for this workspace were left without its dk.workspace label: {unlabelled:?}"
            );
        }
    }
}

/// A number from the environment (a seed, a case count), else `default`: how a seeded test
/// is rerun or lengthened (`DK_CHAOS_SEED=7 cargo xtask test -- deploy::seeded`).
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Where the dk binary under test is (for a test that puts it on PATH or hands it on).
pub fn dk_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("dk")
}

/// dk outside any test workspace (`--help`, a directory without dk.toml, the repository's
/// own example).
pub fn dk_bare() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("dk").unwrap();
    c.env_remove("DK_NAMESPACE");
    c
}

/// Run `f`, then remove the anonymous volumes that became dangling meanwhile: tools like
/// container-structure-test remove their containers without their `VOLUME`s.
pub fn removing_new_dangling_volumes<T>(f: impl FnOnce() -> T) -> T {
    let dangling = || -> std::collections::BTreeSet<String> {
        let out = docker(&["volume", "ls", "-q", "--filter", "dangling=true"]);
        stdout(&out).split_whitespace().map(String::from).collect()
    };
    let before = dangling();
    let r = f();
    for v in dangling().difference(&before) {
        // Anonymous volumes have 64-hex names; a named volume is never touched.
        if v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()) {
            let _ = docker(&["volume", "rm", v]);
        }
    }
    r
}

/// Run the docker CLI (tests only: dk itself never does).
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A tokio runtime for driving the engine from sync tests.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A TCP proxy on 127.0.0.1 in front of the local daemon's socket that keeps every byte
/// clients send, so a test can see which API calls dk made. Its threads stop when it is
/// dropped (the accept loop polls a flag; connections end with their peers).
pub struct RecordingProxy {
    pub port: u16,
    sent: Arc<std::sync::Mutex<Vec<u8>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl RecordingProxy {
    pub fn start() -> RecordingProxy {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (sent2, stop2) = (sent.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let daemon = std::os::unix::net::UnixStream::connect("/var/run/docker.sock")
                    .expect("the daemon's socket");
                let (mut c_read, mut c_write) = (client.try_clone().unwrap(), client);
                let (mut d_read, mut d_write) = (daemon.try_clone().unwrap(), daemon);
                let sent = sent2.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 || d_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        sent.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    let _ = d_write.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut d_read, &mut c_write);
                    let _ = c_write.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        RecordingProxy { port, sent, stop }
    }

    pub fn host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// Everything clients sent so far, as text.
    pub fn sent(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).to_string()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

pub use crate::parts::{SecondDaemon, TestRegistry};

/// An sshd on 127.0.0.1 (a free port) that lets root in with a throwaway key, reachable as
/// `ssh://root@<alias>` through an `/etc/ssh/ssh_config.d` drop-in of its own (port, no
/// host key checking) — bollard's ssh transport takes no port. The guard stops sshd and
/// removes the drop-in (and /run/sshd when it made it).
pub struct TestSshd {
    pub dir: tempfile::TempDir,
    pub alias: String,
    child: std::process::Child,
    drop_in: PathBuf,
    made_run_dir: bool,
}

impl TestSshd {
    pub fn start() -> TestSshd {
        let dir = tempfile::Builder::new()
            .prefix("dksshd-")
            .tempdir()
            .unwrap();
        let p = dir.path();
        for (name, what) in [("host_key", "the host key"), ("key", "the client key")] {
            let out = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(p.join(name))
                .output()
                .unwrap_or_else(|e| {
                    panic!("ssh-keygen makes {what} ({e}): apt-get install -y openssh-client")
                });
            assert!(out.status.success(), "{}", stderr(&out));
        }
        std::fs::copy(p.join("key.pub"), p.join("authorized_keys")).unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        std::fs::write(
            p.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n",
                p.join("host_key").display(),
                p.join("authorized_keys").display(),
                p.join("sshd.pid").display()
            ),
        )
        .unwrap();
        let run_dir = Path::new("/run/sshd");
        let made_run_dir = !run_dir.exists();
        if made_run_dir {
            std::fs::create_dir_all(run_dir).unwrap();
        }
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(p.join("sshd_config"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(p.join("sshd.log")).unwrap())
            .spawn()
            .expect("the ssh test needs sshd: apt-get install -y openssh-server");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "sshd did not listen: {}",
                std::fs::read_to_string(p.join("sshd.log")).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let alias = unique("dk-test-ssh");
        let drop_in = PathBuf::from(format!("/etc/ssh/ssh_config.d/{alias}.conf"));
        std::fs::write(
            &drop_in,
            format!(
                "Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
            ),
        )
        .unwrap();
        TestSshd {
            dir,
            alias,
            child,
            drop_in,
            made_run_dir,
        }
    }

    pub fn key(&self) -> PathBuf {
        self.dir.path().join("key")
    }
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.drop_in);
        if self.made_run_dir {
            let _ = std::fs::remove_dir("/run/sshd");
        }
    }
}

pub use crate::rng::Rng;
