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
