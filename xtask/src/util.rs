//! Helpers shared by the xtask commands: running commands, timing, medians, machine facts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The release dk binary, wherever CARGO_TARGET_DIR puts it.
pub fn dk_bin() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|d| if d.is_absolute() { d } else { root().join(d) })
        .unwrap_or_else(|| root().join("target"))
        .join("release/dk")
}

/// Run a command, failing loudly with its output when it fails.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Time one run of a command that must succeed.
pub fn time(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    run(cmd);
    t.elapsed()
}

/// The median of `n` timed runs of `make()`.
pub fn median_of(n: usize, mut make: impl FnMut() -> Command) -> Duration {
    let mut v: Vec<Duration> = (0..n).map(|_| time(&mut make())).collect();
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let docker = Command::new("docker")
        .args([
            "version",
            "--format",
            "{{.Server.Version}} (API {{.Server.APIVersion}}, {{.Server.Os}}/{{.Server.Arch}})",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let storage = Command::new("docker")
        .args(["info", "--format", "{{.Driver}}"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "{cores} cores, {mem} RAM, Linux {kernel}, Docker Engine {docker}, storage driver {storage}"
    )
}

/// Extract the statically linked busybox from the pinned Debian package in vendor/fetch.
pub fn busybox(into: &Path) {
    let deb = root()
        .join("vendor/fetch/3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744");
    run(Command::new("sh").arg("-c").arg(format!(
        "dpkg-deb --fsys-tarfile '{}' | tar -xO ./bin/busybox > '{}' && chmod 755 '{}'",
        deb.display(),
        into.display(),
        into.display()
    )));
}

/// Remove every image whose repository starts with `prefix/`.
pub fn remove_images(prefix: &str) {
    let out = Command::new("docker")
        .args(["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .output()
        .expect("docker images");
    let refs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(&format!("{prefix}/")))
        .map(String::from)
        .collect();
    if !refs.is_empty() {
        let _ = Command::new("docker")
            .arg("rmi")
            .arg("-f")
            .args(&refs)
            .output();
    }
}

pub fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// A workspace with dk.toml (namespace, private subnets `10.<net>.<slot>.0/24` and
/// `10.<net+1>.<slot>.0/24`) and a busybox baseline ending with `baseline_tail`.
pub fn busybox_workspace(dir: &Path, ns: &str, net: u8, slot: u8, baseline_tail: &str) {
    write(
        dir,
        "dk.toml",
        &format!(
            "namespace = \"{ns}\"\n[network.live]\nsubnet = \"10.{net}.{slot}.0/24\"\n[network.test]\nsubnet = \"10.{}.{slot}.0/24\"\n",
            net + 1
        ),
    );
    std::fs::create_dir_all(dir.join("baseline")).unwrap();
    busybox(&dir.join("baseline/busybox"));
    write(
        dir,
        "baseline/Dockerfile",
        &format!(
            // busybox's package-manager applets would fail dk's image audit.
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox --install -s /bin && rm /bin/dpkg /bin/dpkg-deb /bin/rpm /bin/rpm2cpio\"]\n{baseline_tail}"
        ),
    );
    write(dir, "baseline/.dockerignore", "container.toml\n");
}

/// A daemon stand-in on 127.0.0.1 that answers the version handshake and reads each build
/// context to the end, then refuses the build: it measures what a client takes to send a
/// context, without what a builder does with it.
pub struct ContextSink {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl ContextSink {
    pub fn start() -> ContextSink {
        use std::io::{BufRead, BufReader, Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let Ok((conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                std::thread::spawn(move || {
                    conn.set_nonblocking(false).unwrap();
                    let mut out = conn.try_clone().unwrap();
                    let mut r = BufReader::with_capacity(1 << 20, conn);
                    for _ in 0..64 {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let (method, path) = {
                            let mut p = line.split_whitespace();
                            (
                                p.next().unwrap_or("").to_string(),
                                p.next().unwrap_or("").to_string(),
                            )
                        };
                        let (mut length, mut chunked) = (0u64, false);
                        loop {
                            let mut h = String::new();
                            if r.read_line(&mut h).unwrap_or(0) == 0 {
                                return;
                            }
                            let h = h.trim_end().to_ascii_lowercase();
                            if h.is_empty() {
                                break;
                            }
                            if let Some(v) = h.strip_prefix("content-length:") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                            chunked |= h.starts_with("transfer-encoding:") && h.contains("chunked");
                        }
                        let mut sink = std::io::sink();
                        if chunked {
                            loop {
                                let mut size = String::new();
                                r.read_line(&mut size).unwrap();
                                let n =
                                    u64::from_str_radix(size.trim().split(';').next().unwrap(), 16)
                                        .unwrap_or(0);
                                std::io::copy(&mut (&mut r).take(n + 2), &mut sink).unwrap();
                                if n == 0 {
                                    break;
                                }
                            }
                        } else {
                            std::io::copy(&mut (&mut r).take(length), &mut sink).unwrap();
                        }
                        let route = path.split('?').next().unwrap_or("");
                        let (status, body) = if route.ends_with("/_ping") {
                            ("200 OK", "OK")
                        } else if route.ends_with("/version") {
                            (
                                "200 OK",
                                r#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12"}"#,
                            )
                        } else if method == "POST" && route.ends_with("/build") {
                            (
                                "200 OK",
                                "{\"error\":\"read and dropped\",\"errorDetail\":{\"message\":\"read and dropped\"}}\n",
                            )
                        } else {
                            ("404 Not Found", r#"{"message":"not here"}"#)
                        };
                        let shown = if method == "HEAD" { "" } else { body };
                        let _ = write!(
                            out,
                            "HTTP/1.1 {status}\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{shown}",
                            body.len()
                        );
                        let _ = out.flush();
                    }
                });
            }
        });
        ContextSink { port, stop }
    }

    pub fn host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

impl Drop for ContextSink {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// What was on the daemon before a run (every image id, every volume), so that what the run
/// left (the Docker CLI's and docker-compose's intermediate images, anonymous volumes of
/// removed containers) can be removed afterwards without touching anything older.
pub struct DaemonSnapshot {
    images: std::collections::BTreeSet<String>,
    volumes: std::collections::BTreeSet<String>,
}

fn docker_lines(args: &[&str]) -> std::collections::BTreeSet<String> {
    let out = Command::new("docker").args(args).output().expect("docker");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}

impl DaemonSnapshot {
    pub fn take() -> DaemonSnapshot {
        DaemonSnapshot {
            images: docker_lines(&["images", "-a", "-q", "--no-trunc"]),
            volumes: docker_lines(&["volume", "ls", "-q"]),
        }
    }

    /// Remove the images and anonymous volumes that appeared since `take` and are no longer
    /// used (children before parents: a few passes, bounded).
    pub fn remove_new(&self) {
        for _ in 0..5 {
            // Untagged ones only: a tagged image is someone's (remove_images takes the run's).
            let out = Command::new("docker")
                .args([
                    "images",
                    "-a",
                    "--no-trunc",
                    "--format",
                    "{{.ID}} {{.Repository}}",
                ])
                .output()
                .expect("docker");
            let new: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.strip_suffix(" <none>"))
                .filter(|id| !self.images.contains(*id))
                .map(String::from)
                .collect();
            if new.is_empty() {
                break;
            }
            let _ = Command::new("docker").arg("rmi").args(&new).output();
        }
        let new: Vec<String> = docker_lines(&["volume", "ls", "-q", "--filter", "dangling=true"])
            .difference(&self.volumes)
            .filter(|v| v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()))
            .cloned()
            .collect();
        if !new.is_empty() {
            let _ = Command::new("docker")
                .args(["volume", "rm"])
                .args(&new)
                .output();
        }
    }
}
