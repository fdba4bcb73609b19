//! `cargo xtask bench`: dk side by side with what users would pick instead, medians of
//! several runs, written to BENCHMARKS.md with the command and the machine.
//!
//! 1. No-op: dk vs a Makefile with stamp files calling `docker build` (the system dk
//!    replaces) vs `docker-compose build` vs one cached `docker build` of one node; on the
//!    example workspace and a generated 100-node workspace.
//! 2. One change deep in the graph: dk vs make (also after a mere `touch`) vs compose.
//! 3. Parallel: 8 independent nodes with `RUN sleep 3`, `dk -j 8` vs one node.
//! 4. A 1 GiB context: dk's peak memory and throughput vs the Docker CLI.
//! 5. `dk up`: no-op on the example workspace; time to a replaced live container, downtime.
//! 6. Registries and 7. Swarm: see `cluster.rs`.
//! 9. `dk outdated` on 100 image pins against a loopback registry.
//! 10. A thousand nodes: no-op `dk build`, `dk plan` and a no-op `dk up` (20 services
//!     among the 1000) against make's stamp check of the same graph; peak memory.
//! 11. Several platforms (`examples/multiarch`): first build and no-op for two platforms
//!     against one; an arm64 build and test under QEMU against the native amd64 ones.
//! 8. Pictures: a 1000-node workspace's `dk graph --format svg` and the report of its
//!    `dk build`, rendered by headless Chromium.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{
    ContextSink, DaemonSnapshot, busybox_workspace, dk_bin, machine, median_of, ms, remove_images,
    root, run, time, write,
};

pub const RUNS: usize = 7;

struct Row {
    what: String,
    value: String,
    note: String,
}

#[derive(Default)]
pub struct Report {
    sections: Vec<(String, Vec<Row>, Vec<String>)>,
}

impl Report {
    pub fn section(&mut self, title: &str) {
        self.sections
            .push((title.to_string(), Vec::new(), Vec::new()));
    }
    pub fn row(
        &mut self,
        what: impl Into<String>,
        value: impl Into<String>,
        note: impl Into<String>,
    ) {
        let r = Row {
            what: what.into(),
            value: value.into(),
            note: note.into(),
        };
        println!("  {} | {} | {}", r.what, r.value, r.note);
        self.sections.last_mut().unwrap().1.push(r);
    }
    pub fn verdict(&mut self, text: String) {
        println!("  => {text}");
        self.sections.last_mut().unwrap().2.push(text);
    }
}

pub fn verdict(ok: bool) -> &'static str {
    if ok { "target met" } else { "TARGET MISSED" }
}

pub fn tmp(prefix: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn dk(ws: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(dk_bin());
    c.arg("-C").arg(ws).args(args);
    c
}

/// A generated workspace: a busybox baseline, then `n - 1` containers in 5 layers, each
/// built FROM a node of the layer above, each with 5 files. Returns (node, parent) pairs.
/// The generated workspace: a busybox baseline (`baseline_tail` appended to its Dockerfile)
/// and `n - 1` nodes in five layers.
pub fn generate(
    dir: &Path,
    n: usize,
    namespace: &str,
    slot: u8,
    baseline_tail: &str,
) -> Vec<(String, String)> {
    busybox_workspace(dir, namespace, 215, slot, baseline_tail);
    let layer = (n - 1).div_ceil(5).max(1);
    let mut nodes = vec![("baseline".to_string(), String::new())];
    for i in 1..n {
        let name = format!("c{i:03}");
        let parent = if i <= layer {
            "baseline".to_string()
        } else {
            format!("c{:03}", i - layer)
        };
        write(
            dir,
            &format!("containers/{name}/Dockerfile"),
            &format!("FROM {parent}\nCOPY files/ /srv/{name}/\n"),
        );
        for f in 0..5 {
            write(
                dir,
                &format!("containers/{name}/files/f{f}.txt"),
                &format!("{name} file {f}\n"),
            );
        }
        nodes.push((name, parent));
    }
    nodes
}

/// Node directories of a workspace, parents first: (name, dir, node parent or "").
fn node_dirs(ws: &Path, nodes: &[(String, String)]) -> Vec<(String, PathBuf, String)> {
    nodes
        .iter()
        .map(|(n, p)| {
            let dir = if n == "baseline" {
                ws.join("baseline")
            } else {
                ws.join("containers").join(n)
            };
            (n.clone(), dir, p.clone())
        })
        .collect()
}

/// A copy of `ws` for a tool that does not know the graph: each `FROM <node>` is rewritten
/// to `FROM <ns>/<node>:latest`.
fn plain_copy(
    ws: &Path,
    nodes: &[(String, String)],
    ns: &str,
    into: &Path,
) -> Vec<(String, PathBuf, String)> {
    let _ = std::fs::remove_dir_all(into);
    run(Command::new("cp").arg("-a").arg(ws).arg(into));
    let names: Vec<&str> = nodes.iter().map(|(n, _)| n.as_str()).collect();
    let dirs = node_dirs(into, nodes);
    for (_, dir, _) in &dirs {
        let path = dir.join("Dockerfile");
        let text = std::fs::read_to_string(&path).unwrap();
        let rewritten: String = text
            .lines()
            .map(|l| {
                let mut words: Vec<String> = l.split_whitespace().map(String::from).collect();
                if words
                    .first()
                    .is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
                {
                    for w in words.iter_mut().skip(1) {
                        if names.contains(&w.as_str()) {
                            *w = format!("{ns}/{w}:latest");
                        }
                    }
                    words.join(" ")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&path, rewritten + "\n").unwrap();
        let _ = std::fs::remove_file(dir.join(".dockerignore"));
    }
    dirs
}

/// The old system: a Makefile with one stamp per node, depending on the parent's stamp and
/// on every file of the node, calling `docker build`.
fn write_makefile(dir: &Path, dirs: &[(String, PathBuf, String)], ns: &str) {
    let mut mk = String::from(".PHONY: all\n");
    let _ = writeln!(
        mk,
        "all: {}",
        dirs.iter()
            .map(|(n, _, _)| format!(".stamps/{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (name, d, parent) in dirs {
        let mut files = Vec::new();
        for e in walk(d) {
            files.push(e.strip_prefix(dir).unwrap().to_string_lossy().to_string());
        }
        let dep = if parent.is_empty() {
            String::new()
        } else {
            format!(".stamps/{parent} ")
        };
        let rel = d.strip_prefix(dir).unwrap().to_string_lossy().to_string();
        let _ = writeln!(
            mk,
            ".stamps/{name}: {dep}{}\n\t@mkdir -p .stamps\n\tDOCKER_BUILDKIT=0 docker build -q -t {ns}/{name}:latest {rel} >/dev/null\n\t@touch $@",
            files.join(" ")
        );
    }
    std::fs::write(dir.join("Makefile"), mk).unwrap();
}

fn write_compose(dir: &Path, dirs: &[(String, PathBuf, String)], ns: &str) {
    let mut y = String::from("version: \"3\"\nservices:\n");
    for (name, d, parent) in dirs {
        let rel = d.strip_prefix(dir).unwrap().to_string_lossy().to_string();
        let _ = writeln!(
            y,
            "  {name}:\n    build: ./{rel}\n    image: {ns}/{name}:latest"
        );
        if !parent.is_empty() {
            // Build order: compose sorts services by their dependencies.
            let _ = writeln!(y, "    depends_on: [\"{parent}\"]");
        }
    }
    std::fs::write(dir.join("docker-compose.yml"), y).unwrap();
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![d.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn make(dir: &Path) -> Command {
    let mut c = Command::new("make");
    c.arg("-s").arg("-C").arg(dir);
    c
}

fn compose(dir: &Path) -> Command {
    let mut c = Command::new("docker-compose");
    c.env("DOCKER_BUILDKIT", "0")
        .env("COMPOSE_DOCKER_CLI_BUILD", "0")
        .arg("-f")
        .arg(dir.join("docker-compose.yml"))
        .args(["build", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// The example workspace copied under a private namespace, subnets and ports.
pub fn example_copy(ns: &str) -> PathBuf {
    let dir = tmp("dk-bench-example");
    let src = root();
    for d in ["baseline", "containers", "services", "docs", "vendor"] {
        run(Command::new("cp").arg("-a").arg(src.join(d)).arg(&dir));
    }
    let toml = std::fs::read_to_string(src.join("dk.toml"))
        .unwrap()
        .replace("namespace = \"dk\"", &format!("namespace = \"{ns}\""))
        // A copy is a workspace of its own (its id: the hash of its path).
        .replace("id = \"dk-example\"\n", "")
        .replace("172.30.0.0/24", "10.217.0.0/24")
        .replace("172.31.0.0/24", "10.218.0.0/24");
    std::fs::write(dir.join("dk.toml"), toml).unwrap();
    for e in std::fs::read_dir(dir.join("containers")).unwrap() {
        let p = e.unwrap().path().join("container.toml");
        if let Ok(t) = std::fs::read_to_string(&p) {
            let t = t
                .replace("127.0.0.1:1808", "127.0.0.1:2808")
                .replace("172.30.0.", "10.217.0.");
            std::fs::write(&p, t).unwrap();
        }
    }
    let _ = std::fs::remove_dir_all(dir.join(".dk"));
    dir
}

/// A copy of `examples/multiarch` under namespace `ns`, built for `platforms` (a TOML list)
/// with the repository's fetch cache.
fn multiarch_copy(ns: &str, platforms: &str) -> PathBuf {
    let dir = tmp(&format!("dk-bench-{ns}"));
    let src = root().join("examples/multiarch");
    for d in ["baseline", "containers"] {
        run(Command::new("cp").arg("-a").arg(src.join(d)).arg(&dir));
    }
    let toml = std::fs::read_to_string(src.join("dk.toml"))
        .unwrap()
        .replace(
            "namespace = \"dk-multiarch\"",
            &format!("namespace = \"{ns}\""),
        )
        .replace("id = \"dk-multiarch\"\n", "")
        .replace(
            "platforms = [\"linux/amd64\", \"linux/arm64\"]",
            &format!("platforms = {platforms}"),
        )
        .replace(
            "\"../../vendor/fetch\"",
            &format!("\"{}\"", root().join("vendor/fetch").display()),
        );
    std::fs::write(dir.join("dk.toml"), toml).unwrap();
    for d in ["arch", "dl"] {
        let _ = std::fs::remove_dir_all(dir.join("baseline").join(d));
    }
    let _ = std::fs::remove_dir_all(dir.join(".dk"));
    dir
}

/// Section 11, several platforms: the two-node example of `examples/multiarch` built from nothing
/// (no image, no record, no BuildKit cache for its steps: each run changes a file the
/// baseline copies first) and then again with nothing changed; for two platforms against
/// one, and for arm64 alone (under QEMU) against amd64 alone (native), with `dk test`.
fn multiarch_rows(report: &mut Report, pid: u32, namespaces: &mut Vec<String>) {
    report.section("Several platforms (examples/multiarch: baseline + web)");
    const COLD: usize = 3;
    let cold = |ws: &Path, ns: &str, run_no: usize| -> (Duration, Duration) {
        remove_images(ns);
        let _ = std::fs::remove_dir_all(ws.join(".dk"));
        write(
            ws,
            "baseline/files/etc/bench-run",
            // Unique to the section too: no section finds another's steps cached.
            &format!("{ns} {run_no}\n"),
        );
        let build = time(&mut dk(ws, &["build"]));
        (build, time(&mut dk(ws, &["test"])))
    };
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut rows = Vec::new();
    for (label, platforms, tag) in [
        ("one platform (amd64)", "[\"linux/amd64\"]", "n"),
        (
            "two platforms (amd64 + arm64)",
            "[\"linux/amd64\", \"linux/arm64\"]",
            "t",
        ),
        ("arm64 alone, under QEMU", "[\"linux/arm64\"]", "a"),
    ] {
        let ns = format!("dkbenchm{tag}{pid}");
        namespaces.push(ns.clone());
        let ws = multiarch_copy(&ns, platforms);
        let (mut builds, mut tests) = (Vec::new(), Vec::new());
        for k in 0..COLD {
            let (b, t) = cold(&ws, &ns, k);
            builds.push(b);
            tests.push(t);
        }
        let noop = median_of(RUNS, || dk(&ws, &["build"]));
        let noop_test = median_of(RUNS, || dk(&ws, &["test"]));
        let (b, t) = (median(builds), median(tests));
        report.row(
            format!("{label}: first `dk build`"),
            ms(b),
            format!("median of {COLD}, nothing cached"),
        );
        report.row(
            format!("{label}: then `dk test`"),
            ms(t),
            "every image tested",
        );
        report.row(
            format!("{label}: no-op `dk build` / `dk test`"),
            format!("{} / {}", ms(noop), ms(noop_test)),
            format!("median of {RUNS}"),
        );
        rows.push((b, t, noop));
        tear_down(&ws, &ns);
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    report.verdict(format!(
        "two platforms against one: first build {:.2}×, tests {:.2}×, no-op build {:.2}×; arm64 under QEMU against native amd64: build {:.2}×, tests {:.2}×",
        ratio(rows[1].0, rows[0].0),
        ratio(rows[1].1, rows[0].1),
        ratio(rows[1].2, rows[0].2),
        ratio(rows[2].0, rows[0].0),
        ratio(rows[2].1, rows[0].1),
    ));
}

/// The nodes of the example workspace with their node parent.
fn example_nodes() -> Vec<(String, String)> {
    vec![
        ("baseline".into(), String::new()),
        ("filewatch".into(), "baseline".into()),
        ("web".into(), "baseline".into()),
        ("site".into(), "web".into()),
    ]
}

/// Run a command, polling the peak resident set (VmHWM) of the process.
fn run_peak(mut cmd: Command) -> (Duration, u64) {
    let t = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            for l in s.lines() {
                if let Some(v) = l.strip_prefix("VmHWM:") {
                    peak = peak.max(v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0));
                }
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (t.elapsed(), peak)
}

/// A client asking an HTTP server for `/` every 20 ms in a thread of its own: counts the
/// answers with status 200, the others (errors, timeouts after 10 s), and the slowest.
struct Poller {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<(usize, usize, Duration)>,
}

impl Poller {
    fn start(addr: &str) -> Poller {
        use std::io::{Read, Write};
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let addr: std::net::SocketAddr = addr.parse().unwrap();
        let thread = std::thread::spawn(move || {
            let (mut ok, mut bad, mut slowest) = (0, 0, Duration::ZERO);
            // Bounded: at most 15 minutes of polling.
            for _ in 0..45_000 {
                if s.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let t = Instant::now();
                let answer = (|| -> std::io::Result<bool> {
                    let mut c =
                        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
                    c.set_read_timeout(Some(Duration::from_secs(10)))?;
                    c.write_all(b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n")?;
                    let mut buf = Vec::new();
                    c.read_to_end(&mut buf)?;
                    Ok(buf.starts_with(b"HTTP/1.1 200") || buf.starts_with(b"HTTP/1.0 200"))
                })();
                slowest = slowest.max(t.elapsed());
                if matches!(answer, Ok(true)) {
                    ok += 1;
                } else {
                    bad += 1;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (ok, bad, slowest)
        });
        Poller { stop, thread }
    }

    fn stop(self) -> (usize, usize, Duration) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.join().unwrap()
    }
}

pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

pub fn main(args: &[String]) {
    println!("building dk (release)...");
    run(Command::new("cargo")
        .args(["build", "--release", "-p", "dk"])
        .current_dir(root()));
    // One section alone, its rows printed (BENCHMARKS.md is left as it is).
    type Rows = fn(&mut Report, u32, &mut Vec<String>);
    let only: Option<Rows> = match args.first().map(String::as_str) {
        Some("up") => Some(up_rows),
        Some("pictures") => Some(picture_rows),
        Some("thousand") => Some(thousand_rows),
        Some("outdated") => Some(|report, pid, _| outdated_rows(report, pid)),
        Some("cache") => Some(|report, pid, _| crate::cluster::cache_rows(report, pid)),
        Some("multiarch") => Some(multiarch_rows),
        _ => None,
    };
    if let Some(rows) = only {
        let before = DaemonSnapshot::take();
        let mut report = Report::default();
        let mut namespaces = Vec::new();
        rows(&mut report, std::process::id(), &mut namespaces);
        for ns in &namespaces {
            remove_images(ns);
        }
        before.remove_new();
        return;
    }
    if args.first().map(String::as_str) == Some("cluster") {
        // Only the registry and Swarm rows, printed (BENCHMARKS.md is left as it is).
        let before = DaemonSnapshot::take();
        let pid = std::process::id();
        let mut report = Report::default();
        crate::cluster::push_rows(&mut report, &format!("dkbenchp{pid}"));
        crate::cluster::swarm_rows(&mut report, &format!("dkbenchs{pid}"));
        before.remove_new();
        return;
    }
    let machine = machine();
    println!("machine: {machine}");
    let before = DaemonSnapshot::take();
    let pid = std::process::id();
    let mut report = Report::default();
    let mut namespaces = Vec::new();

    // 1. No-op builds.
    report.section("No-op build (nothing changed)");
    for (label, ws, nodes, ns) in [
        {
            let ns = format!("dkbenchx{pid}");
            let ws = example_copy(&ns);
            ("example workspace (4 nodes)", ws, example_nodes(), ns)
        },
        {
            let ns = format!("dkbenchg{pid}");
            let ws = tmp("dk-bench-100");
            let nodes = generate(&ws, 100, &ns, 1, "");
            ("generated workspace (100 nodes)", ws, nodes, ns)
        },
    ] {
        println!("{label}: first builds (dk, make, compose)...");
        namespaces.extend([ns.clone(), format!("{ns}m"), format!("{ns}c")]);
        run(&mut dk(&ws, &["build", "-j", "4"]));
        let dk_noop = median_of(RUNS, || dk(&ws, &["build"]));
        let make_dir = ws.with_extension("make");
        let dirs = plain_copy(&ws, &nodes, &format!("{ns}m"), &make_dir);
        write_makefile(&make_dir, &dirs, &format!("{ns}m"));
        run(&mut make(&make_dir));
        let make_noop = median_of(RUNS, || make(&make_dir));
        let compose_dir = ws.with_extension("compose");
        let dirs = plain_copy(&ws, &nodes, &format!("{ns}c"), &compose_dir);
        write_compose(&compose_dir, &dirs, &format!("{ns}c"));
        run(&mut compose(&compose_dir));
        let compose_noop = median_of(3, || compose(&compose_dir));
        let (_, single_dir, _) = &dirs[dirs.len() - 1];
        let single = |tag: &str| {
            let mut c = Command::new("docker");
            c.env("DOCKER_BUILDKIT", "0")
                .args(["build", "-q", "-t", tag])
                .arg(single_dir)
                .stdout(Stdio::null());
            c
        };
        let tag = format!("{ns}c/single:cached");
        run(&mut single(&tag));
        let docker_cached = median_of(RUNS, || single(&tag));
        report.row(format!("{label}: `dk build`"), ms(dk_noop), "");
        report.row(
            format!("{label}: `make` (stamp files)"),
            ms(make_noop),
            format!("dk = {:.2}× make", ratio(dk_noop, make_noop)),
        );
        report.row(
            format!("{label}: `docker-compose build`"),
            ms(compose_noop),
            format!("dk is {:.0}× faster", ratio(compose_noop, dk_noop)),
        );
        report.row(
            format!("{label}: one cached `docker build` of one node"),
            ms(docker_cached),
            format!("dk is {:.1}× faster", ratio(docker_cached, dk_noop)),
        );
        // The "whole no-op under half of one cached build" target is the example
        // workspace's; the 100-node workspace's is the absolute 150 ms below (its ratio to
        // one cached build is still shown in the table).
        let half_build = if nodes.len() == 100 {
            String::new()
        } else {
            format!(
                "; whole no-op < half of one cached docker build: {:.2} of it ({})",
                dk_noop.as_secs_f64() / docker_cached.as_secs_f64(),
                verdict(dk_noop * 2 < docker_cached)
            )
        };
        report.verdict(format!(
            "{label}: dk ≤ 2× make's stamp check: {:.2}× ({}); ≥ 20× faster than compose: {:.0}× ({}){half_build}",
            ratio(dk_noop, make_noop),
            verdict(dk_noop <= make_noop * 2),
            ratio(compose_noop, dk_noop),
            verdict(compose_noop >= dk_noop * 20),
        ));
        if nodes.len() == 100 {
            report.verdict(format!(
                "100-node no-op under 150 ms: {} ({})",
                ms(dk_noop),
                verdict(dk_noop < Duration::from_millis(150))
            ));

            // 2. One change deep in the graph: a layer-2 node with three layers below it.
            report.section("One change deep in the graph (100-node workspace)");
            let victim = "c021";
            let affected = 4;
            let file = |base: &Path| base.join("containers").join(victim).join("files/f0.txt");
            let mut dk_times = Vec::new();
            let mut make_times = Vec::new();
            let mut compose_times = Vec::new();
            let mut make_touch = Vec::new();
            let mut dk_touch = Vec::new();
            for round in 0..3 {
                let content = format!("changed {round} {pid}\n");
                std::fs::write(file(&ws), &content).unwrap();
                let out = dk(&ws, &["build", "--json"]).output().unwrap();
                let summary: serde_json::Value = serde_json::from_str(
                    String::from_utf8_lossy(&out.stdout).lines().last().unwrap(),
                )
                .unwrap();
                let built = summary["summary"]["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|n| n["status"] == "built")
                    .count();
                assert_eq!(built, affected, "dk rebuilt exactly the affected nodes");
                dk_times.push(Duration::from_millis(
                    summary["summary"]["elapsed_ms"].as_u64().unwrap(),
                ));
                std::fs::write(file(&make_dir), &content).unwrap();
                make_times.push(time(&mut make(&make_dir)));
                std::fs::write(file(&compose_dir), &content).unwrap();
                compose_times.push(time(&mut compose(&compose_dir)));
                // A touch: make rebuilds, dk does not.
                let now = std::time::SystemTime::now() + Duration::from_secs(5 + round);
                for base in [&ws, &make_dir] {
                    std::fs::File::options()
                        .write(true)
                        .open(file(base))
                        .unwrap()
                        .set_modified(now)
                        .unwrap();
                }
                make_touch.push(time(&mut make(&make_dir)));
                dk_touch.push(time(&mut dk(&ws, &["build"])));
            }
            let med = |mut v: Vec<Duration>| {
                v.sort();
                v[v.len() / 2]
            };
            let (d, m, c, mt, dt) = (
                med(dk_times),
                med(make_times),
                med(compose_times),
                med(make_touch),
                med(dk_touch),
            );
            report.row(
                format!("`dk build` after a change to {victim} ({affected} nodes affected)"),
                ms(d),
                "rebuilds exactly the 4 affected nodes",
            );
            report.row(
                "`make` after the same change",
                ms(m),
                "rebuilds the 4 stamps",
            );
            report.row(
                "`docker-compose build` after the same change",
                ms(c),
                "sends all 100 contexts",
            );
            report.row(
                format!("`make` after `touch` of {victim}/files/f0.txt"),
                ms(mt),
                "rebuilds 4 nodes for nothing",
            );
            report.row(
                "`dk build` after the same `touch`",
                ms(dt),
                "rebuilds nothing",
            );
            report.verdict(format!("dk vs make on a real change: {:.2}×; vs compose: {:.1}× faster; on a touch dk does nothing ({}) while make rebuilds ({})", ratio(d, m), ratio(c, d), ms(dt), ms(mt)));

            report.verdict(format!(
                "real change: dk ≤ 1.1× make: {:.2}× ({})",
                ratio(d, m),
                verdict(d.as_secs_f64() <= m.as_secs_f64() * 1.1)
            ));
        }
        let _ = std::fs::remove_dir_all(&make_dir);
        let _ = std::fs::remove_dir_all(&compose_dir);
        let _ = std::fs::remove_dir_all(&ws);
    }

    // 3. Parallel builds.
    report.section("Parallel: 8 independent nodes, each `RUN sleep 3`");
    let ws = tmp("dk-bench-parallel");
    let ns = format!("dkbenchp{pid}");
    namespaces.push(ns.clone());
    generate(&ws, 1, &ns, 2, "");
    for i in 0..8 {
        write(
            &ws,
            &format!("containers/p{i}/Dockerfile"),
            &format!("FROM baseline\nCOPY n.txt /n.txt\nRUN sleep 3 && echo {i}\n"),
        );
    }
    let bump = |round: usize| {
        for i in 0..8 {
            write(
                &ws,
                &format!("containers/p{i}/n.txt"),
                &format!("{round}\n"),
            );
        }
    };
    bump(0);
    run(&mut dk(&ws, &["build", "-j", "8"]));
    let mut singles = Vec::new();
    let mut eights = Vec::new();
    for round in 1..=3 {
        bump(round * 10);
        singles.push(time(&mut dk(&ws, &["build", "p0"])));
        bump(round * 10 + 1);
        eights.push(time(&mut dk(&ws, &["build", "-j", "8"])));
    }
    singles.sort();
    eights.sort();
    let (one, eight) = (singles[1], eights[1]);
    report.row("one node, `dk build p0`", ms(one), "");
    report.row(
        "eight nodes, `dk build -j 8`",
        ms(eight),
        format!("{:.2}× one node", ratio(eight, one)),
    );
    report.row(
        "scheduling overhead per node",
        ms(eight.saturating_sub(one) / 8),
        "(wall of 8 − wall of 1) / 8",
    );
    report.verdict(format!(
        "-j 8 within 1.2× of one node: {:.2}× ({})",
        ratio(eight, one),
        verdict(eight.as_secs_f64() <= one.as_secs_f64() * 1.2)
    ));
    let _ = std::fs::remove_dir_all(&ws);

    // 3b. dk lint beside Hadolint over the same 100 Dockerfiles.
    report.section("`dk lint` beside Hadolint: 100 Dockerfiles");
    {
        let ws = tmp("dk-bench-lint");
        write(&ws, "dk.toml", "namespace = \"dkbenchlint\"\n");
        write(&ws, "baseline/Dockerfile", "FROM scratch\nUSER 1000\n");
        let mut files = Vec::new();
        for i in 0..100 {
            let text = format!(
                "FROM debian:12-slim AS build{i}\nARG VERSION={i}\nRUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10 make \\\n    && rm -rf /var/lib/apt/lists/*\nRUN cd /src && make VERSION=$VERSION | tee /tmp/log\nFROM alpine:3.20\nRUN apk add --no-cache ca-certificates=20240226-r0 && wget -q https://example.com/{i}.tgz\nCOPY --from=build{i} /src/out /usr/local/bin/app\nADD app.conf /etc/app.conf\nUSER 1000\nEXPOSE 8080\nCMD app --serve\n"
            );
            write(&ws, &format!("containers/n{i:03}/Dockerfile"), &text);
            files.push(ws.join(format!("containers/n{i:03}/Dockerfile")));
        }
        // Findings make both exit non-zero: time the process, whatever its status.
        let timed = |make: &dyn Fn() -> Command| {
            let mut v: Vec<Duration> = (0..RUNS)
                .map(|_| {
                    let mut c = make();
                    c.stdout(Stdio::null()).stderr(Stdio::null());
                    let t = Instant::now();
                    let _ = c.status();
                    t.elapsed()
                })
                .collect();
            v.sort();
            v[v.len() / 2]
        };
        let dk_no_sc = timed(&|| {
            let mut c = dk(&ws, &["lint"]);
            c.env("PATH", "/nonexistent");
            c
        });
        let dk_sc = timed(&|| dk(&ws, &["lint"]));
        let hadolint = timed(&|| {
            let mut c = Command::new("hadolint");
            c.arg("--no-fail").args(&files);
            c
        });
        report.row(
            "`dk lint` (Hadolint's rules and dk's, no ShellCheck)",
            ms(dk_no_sc),
            "",
        );
        report.row(
            "`dk lint` with ShellCheck on every RUN",
            ms(dk_sc),
            "the machine's shellcheck, scripts batched over the cores",
        );
        report.row(
            "`hadolint` over the same 100 files (one process)",
            ms(hadolint),
            "Hadolint 2.15 always runs its embedded ShellCheck",
        );
        report.verdict(format!(
            "dk lint (without ShellCheck) no slower than Hadolint's total: {:.2}× ({})",
            ratio(dk_no_sc, hadolint),
            verdict(dk_no_sc <= hadolint)
        ));
        let _ = std::fs::remove_dir_all(&ws);
    }

    // 4. A 1 GiB context.
    report.section("A 1 GiB context");
    let ws = tmp("dk-bench-context");
    let ns = format!("dkbenchc{pid}");
    namespaces.push(ns.clone());
    generate(&ws, 1, &ns, 3, "");
    run(&mut dk(&ws, &["build"]));
    write(
        &ws,
        "containers/big/Dockerfile",
        "FROM baseline\nRUN echo received\n",
    );
    write(
        &ws,
        "containers/big/.dockerignore",
        "container.toml\nDockerfile.cli\n",
    );
    std::fs::File::create(ws.join("containers/big/blob.bin"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    // The CLI cannot resolve `FROM baseline`: give it the image name.
    write(
        &ws,
        "containers/big/Dockerfile.cli",
        &format!("FROM {ns}/baseline:latest\nRUN echo received\n"),
    );
    let gib = 1024.0;
    let rate = |d: Duration| gib / d.as_secs_f64();

    // Sending alone: to a stand-in daemon that reads the context and drops it. The context
    // for this is a node of its own, FROM scratch (no parent to look up there).
    let send_ws = tmp("dk-bench-send");
    write(
        &send_ws,
        "dk.toml",
        &format!("namespace = \"{ns}s\"\n[build]\nbuilder = \"classic\"\n"),
    );
    write(
        &send_ws,
        "baseline/Dockerfile",
        "FROM scratch\nCOPY . /ctx\n",
    );
    std::fs::File::create(send_ws.join("baseline/blob.bin"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let sink = ContextSink::start();
    let send = |warm: bool| {
        let mut c = dk(&send_ws, &["build", "baseline"]);
        c.env("DOCKER_HOST", sink.host()).env("RUST_LOG", "off");
        if !warm {
            let _ = std::fs::remove_dir_all(send_ws.join(".dk"));
        }
        let t = Instant::now();
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "the sink refuses every build");
        t.elapsed()
    };
    let dk_first = send(false);
    let dk_send = {
        let mut v: Vec<Duration> = (0..3).map(|_| send(true)).collect();
        v.sort();
        v[1]
    };
    let cli_send = {
        let mut v: Vec<Duration> = (0..3)
            .map(|_| {
                let t = Instant::now();
                let out = Command::new("docker")
                    .env("DOCKER_HOST", sink.host())
                    .env("DOCKER_BUILDKIT", "0")
                    .args(["build", "-q", "."])
                    .current_dir(send_ws.join("baseline"))
                    .output()
                    .unwrap();
                assert!(!out.status.success(), "the sink refuses every build");
                t.elapsed()
            })
            .collect();
        v.sort();
        v[1]
    };
    drop(sink);
    let _ = std::fs::remove_dir_all(&send_ws);
    report.row(
        "sending it: `dk build` (digests known: the usual case)",
        ms(dk_send),
        format!("{:.0} MiB/s (tar + re-hash while streaming)", rate(dk_send)),
    );
    report.row(
        "sending it: `dk build`, first time (digests computed)",
        ms(dk_first),
        format!("{:.0} MiB/s", rate(dk_first)),
    );
    report.row(
        "sending it: `docker build` (Docker CLI)",
        ms(cli_send),
        format!("{:.0} MiB/s", rate(cli_send)),
    );
    report.verdict(format!(
        "sending throughput ≥ 0.9× the Docker CLI's: {:.2}× ({})",
        cli_send.as_secs_f64() / dk_send.as_secs_f64(),
        verdict(dk_send.as_secs_f64() <= cli_send.as_secs_f64() / 0.9)
    ));

    // Whole builds on the real daemon.
    let (dk_time, dk_peak) = run_peak({
        let mut c = dk(&ws, &["build", "--force", "big"]);
        c.env("RUST_LOG", "off");
        c
    });
    write(
        &ws,
        "containers/big/container.toml",
        "[build]\nbuilder = \"classic\"\n",
    );
    run(&mut dk(&ws, &["build", "big"]));
    let (dk_classic, _) = run_peak({
        let mut c = dk(&ws, &["build", "--force", "big"]);
        c.env("RUST_LOG", "off");
        c
    });
    let mut cli = Command::new("docker");
    cli.env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", &format!("{ns}/cli:big"), "-f"])
        .arg(ws.join("containers/big/Dockerfile.cli"))
        .arg(ws.join("containers/big"));
    let (cli_time, cli_peak) = run_peak(cli);
    report.row(
        "whole build: `dk build --force` (BuildKit)",
        ms(dk_time),
        format!(
            "{:.0} MiB/s, peak RSS {} MiB; BuildKit copies the received context into a snapshot",
            rate(dk_time),
            dk_peak / 1024
        ),
    );
    report.row(
        "whole build: `dk build --force` (classic builder)",
        ms(dk_classic),
        format!("{:.0} MiB/s", rate(dk_classic)),
    );
    report.row(
        "whole build: `docker build` (Docker CLI, classic builder)",
        ms(cli_time),
        format!(
            "{:.0} MiB/s, peak RSS {} MiB",
            rate(cli_time),
            cli_peak / 1024
        ),
    );
    report.verdict(format!(
        "dk's peak memory ≤ 64 MiB: {} MiB ({})",
        dk_peak / 1024,
        verdict(dk_peak <= 64 * 1024)
    ));
    let _ = std::fs::remove_dir_all(&ws);

    // 5. dk up on the example workspace.
    up_rows(&mut report, pid, &mut namespaces);
    picture_rows(&mut report, pid, &mut namespaces);
    thousand_rows(&mut report, pid, &mut namespaces);
    outdated_rows(&mut report, pid);
    multiarch_rows(&mut report, pid, &mut namespaces);

    // 6, 7. Registries and Swarm (cluster.rs).
    crate::cluster::push_rows(&mut report, &format!("dkbenchp{pid}"));
    crate::cluster::swarm_rows(&mut report, &format!("dkbenchs{pid}"));
    crate::cluster::cache_rows(&mut report, pid);

    for ns in &namespaces {
        remove_images(ns);
    }
    before.remove_new();

    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Produced by `cargo xtask bench` (medians of {RUNS} runs unless noted, wall time of the whole process).\n"
    );
    let _ = writeln!(md, "Machine: {machine}.\n");
    for (title, rows, verdicts) in &report.sections {
        let _ = writeln!(md, "## {title}\n");
        let _ = writeln!(md, "| what | time | note |");
        let _ = writeln!(md, "|---|---|---|");
        for r in rows {
            let _ = writeln!(md, "| {} | {} | {} |", r.what, r.value, r.note);
        }
        md.push('\n');
        for v in verdicts {
            let _ = writeln!(md, "- {v}");
        }
        md.push('\n');
    }
    std::fs::write(root().join("BENCHMARKS.md"), &md).unwrap();
    println!("\n{md}");
}

/// Section 5: `dk up` on a copy of the example workspace — first up, no-op up, and
/// replacements of web (start-first through the proxy, stop-first outage) beside
/// docker-compose.
fn up_rows(report: &mut Report, pid: u32, namespaces: &mut Vec<String>) {
    report.section("`dk up` on the example workspace");
    let ns = format!("dkbenchu{pid}");
    namespaces.push(ns.clone());
    namespaces.push(format!("{ns}c"));
    let ws = example_copy(&ns);
    run(&mut dk(&ws, &["prep"]));
    write(&ws, "data/web/www/index.html", "<p>served</p>\n");
    let first = time(&mut dk(&ws, &["up"]));
    let noop = median_of(RUNS, || dk(&ws, &["up"]));
    let page = ws.join("containers/web/files/srv/www/index.html");
    // Rounds of `dk up web` after a change, with a client asking the proxy (Caddy, which
    // publishes the site on 127.0.0.1:28080) for the page every 20 ms.
    let rounds = |label: &str, n: usize| {
        let mut times = Vec::new();
        let mut downtimes = Vec::new();
        let (mut total, mut failed, mut slowest) = (0usize, 0usize, Duration::ZERO);
        for round in 0..n {
            std::fs::write(&page, format!("<p>{label} {round}</p>\n")).unwrap();
            let poll = Poller::start("127.0.0.1:28080");
            std::thread::sleep(Duration::from_millis(300));
            let t = Instant::now();
            let out = run(&mut dk(&ws, &["up", "--json", "web"]));
            times.push(t.elapsed());
            std::thread::sleep(Duration::from_millis(300));
            let (ok, bad, worst) = poll.stop();
            total += ok + bad;
            failed += bad;
            slowest = slowest.max(worst);
            let last: serde_json::Value =
                serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap())
                    .unwrap();
            let d = last["summary"]["runs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == "web")
                .and_then(|r| r["downtime_ms"].as_u64())
                .expect("web was replaced");
            downtimes.push(Duration::from_millis(d));
        }
        times.sort();
        downtimes.sort();
        (times[n / 2], downtimes[n / 2], total, failed, slowest)
    };
    let (start_first, _, sf_total, sf_failed, sf_slowest) = rounds("start-first", 5);
    let web_manifest = ws.join("containers/web/container.toml");
    let m = std::fs::read_to_string(&web_manifest).unwrap();
    std::fs::write(
        &web_manifest,
        m.replace("replace = \"start-first\"", "replace = \"stop-first\""),
    )
    .unwrap();
    let (stop_first, sf_down, st_total, st_failed, st_slowest) = rounds("stop-first", 3);

    // The same replacement by docker-compose (1.29): build and recreate, no readiness gate.
    let compose_dir = ws.join("compose-web");
    run(Command::new("cp")
        .arg("-a")
        .arg(ws.join("containers/web"))
        .arg(&compose_dir));
    let df = std::fs::read_to_string(compose_dir.join("Dockerfile")).unwrap();
    std::fs::write(
        compose_dir.join("Dockerfile"),
        df.replace("FROM baseline", &format!("FROM {ns}/baseline:live")),
    )
    .unwrap();
    write(
        &compose_dir,
        "docker-compose.yml",
        &format!(
            "version: \"2.4\"\nservices:\n  web:\n    build: .\n    image: {ns}c/web:compose\n"
        ),
    );
    let compose_up = || {
        let mut c = Command::new("docker-compose");
        c.args([
            "-p",
            &format!("{ns}c"),
            "up",
            "-d",
            "--build",
            "--quiet-pull",
        ])
        .env("DOCKER_BUILDKIT", "0")
        .env("COMPOSE_DOCKER_CLI_BUILD", "0")
        .current_dir(&compose_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        c
    };
    run(&mut compose_up());
    let mut compose_times = Vec::new();
    for round in 0..3 {
        write(
            &compose_dir,
            "files/srv/www/index.html",
            &format!("<p>compose {round}</p>\n"),
        );
        compose_times.push(time(&mut compose_up()));
    }
    compose_times.sort();
    let _ = Command::new("docker-compose")
        .args(["-p", &format!("{ns}c"), "down", "-v"])
        .current_dir(&compose_dir)
        .output();

    report.row(
        "first `dk up` (build, test, promote, start 4 containers)",
        ms(first),
        "",
    );
    report.row("`dk up` with nothing changed", ms(noop), "touches nothing");
    report.row(
        "`dk up web` after a change, start-first (median of 5)",
        ms(start_first),
        format!(
            "build + test + promote + ready replacement; through the proxy every 20 ms: {sf_total} requests, {sf_failed} failed, slowest {}",
            ms(sf_slowest)
        ),
    );
    report.row(
        "`dk up web` after a change, stop-first (median of 3)",
        ms(stop_first),
        format!(
            "down for {} (old stopped → new answering); through the proxy: {st_total} requests, {st_failed} failed, slowest {} (Caddy holds them while web is down)",
            ms(sf_down),
            ms(st_slowest)
        ),
    );
    report.row(
        "`docker-compose up -d --build` after the same change to web (median of 3)",
        ms(compose_times[1]),
        "build + recreate, no test, no readiness gate",
    );
    report.verdict(format!(
        "start-first through the proxy: 0 failed requests: {sf_failed} ({}); stop-first outage ≤ 600 ms: {} ({})",
        verdict(sf_failed == 0),
        ms(sf_down),
        verdict(sf_down <= Duration::from_millis(600))
    ));
    tear_down(&ws, &ns);
}

/// What a bench workspace left running: its containers (`dk down --all`), its networks,
/// its directory.
fn tear_down(ws: &Path, ns: &str) {
    run(&mut dk(ws, &["down", "--all"]));
    remove_networks(ns);
    let _ = std::fs::remove_dir_all(ws);
}

/// The live and test networks of namespace `ns` on the main daemon.
pub fn remove_networks(ns: &str) {
    let _ = Command::new("docker")
        .args([
            "network",
            "rm",
            &format!("{ns}-live"),
            &format!("{ns}-test"),
        ])
        .output();
}

/// Section 10: the generated workspace at 1000 nodes (a busybox baseline, 5 layers of 200),
/// 20 of its leaves services that `dk up` starts. Its no-op `dk build` and `dk plan` beside
/// make's stamp check of the same graph (the Makefile of section 1 in the workspace, its
/// stamps made current: make builds nothing), a no-op `dk up` beside the no-op build, dk's
/// peak memory, and what the first build spent outside node builds. Medians of 7.
fn thousand_rows(report: &mut Report, pid: u32, namespaces: &mut Vec<String>) {
    report.section("A thousand nodes: no-op cost against make's stamp check");
    let ns = format!("dkbencht{pid}");
    namespaces.push(ns.clone());
    let ws = tmp("dk-bench-thousand");
    // Services run as a user (dk refuses root without a reason) and stay up.
    let nodes = generate(
        &ws,
        1000,
        &ns,
        4,
        "USER 1000:1000\nCMD [\"sleep\", \"86400\"]\n",
    );
    // The last 20 nodes run: a process that stays up, started by a bare `dk up`.
    for (name, parent) in nodes.iter().rev().take(20) {
        write(
            &ws,
            &format!("containers/{name}/Dockerfile"),
            &format!(
                "FROM {parent}\nCOPY files/ /srv/{name}/\nUSER 1000\nCMD [\"sleep\", \"86400\"]\n"
            ),
        );
        write(
            &ws,
            &format!("containers/{name}/container.toml"),
            "autostart = true\n",
        );
    }
    println!("1000 nodes: first build...");
    let jobs = 4;
    let t = Instant::now();
    let out = run(&mut dk(&ws, &["build", "-j", &jobs.to_string(), "--json"]));
    let first = t.elapsed();
    let summary: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or("{}"),
    )
    .unwrap_or_default();
    let busy: u64 = summary["summary"]["nodes"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["duration_ms"].as_u64()).sum())
        .unwrap_or(0);
    let idle_per_node =
        (first.as_millis() as u64 * jobs as u64).saturating_sub(busy) as f64 / nodes.len() as f64;
    let noop = median_of(7, || dk(&ws, &["build"]));
    let plan = median_of(7, || dk(&ws, &["plan"]));
    let (_, peak) = run_peak(dk(&ws, &["build"]));
    // make's stamp check of the same graph, every stamp current (parents older than
    // children), so that it decides "nothing to do" as after a complete build.
    let dirs = node_dirs(&ws, &nodes);
    write_makefile(&ws, &dirs, &ns);
    std::fs::create_dir_all(ws.join(".stamps")).unwrap();
    let base = std::time::SystemTime::now();
    for (k, (name, _)) in nodes.iter().enumerate() {
        let stamp = std::fs::File::create(ws.join(".stamps").join(name)).unwrap();
        stamp
            .set_modified(base + Duration::from_millis(k as u64))
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(1100));
    let make_noop = median_of(7, || make(&ws));
    println!("1000 nodes: dk up of the 20 services...");
    let first_up = time(&mut dk(&ws, &["up"]));
    let noop_up = median_of(7, || dk(&ws, &["up"]));
    tear_down(&ws, &ns);

    report.row(
        "first `dk build -j 4` of 1000 nodes",
        format!("{:.0} s", first.as_secs_f64()),
        format!(
            "{idle_per_node:.0} ms per node with a job slot and no node build in it (scheduling, waiting for parents)"
        ),
    );
    report.row("no-op `dk build`", ms(noop), "");
    report.row(
        "`make` (stamp files, all current)",
        ms(make_noop),
        format!("dk = {:.2}× make", ratio(noop, make_noop)),
    );
    report.row(
        "`dk plan`",
        ms(plan),
        format!("{:.2}× make", ratio(plan, make_noop)),
    );
    report.row(
        "first `dk up` (20 services among the 1000)",
        format!("{:.1} s", first_up.as_secs_f64()),
        "",
    );
    report.row(
        "no-op `dk up` (20 running)",
        ms(noop_up),
        format!("{:.2}× the no-op build", ratio(noop_up, noop)),
    );
    report.row(
        "dk's peak memory (no-op build)",
        format!("{} MiB", peak / 1024),
        "",
    );
    report.verdict(format!(
        "1000 nodes: no-op build ≤ 0.5× make: {:.2}× ({}); plan ≤ make: {:.2}× ({}); no-op up ≤ 1.5× no-op build: {:.2}× ({}); peak memory ≤ 100 MiB: {} MiB ({})",
        ratio(noop, make_noop),
        verdict(noop * 2 <= make_noop),
        ratio(plan, make_noop),
        verdict(plan <= make_noop),
        ratio(noop_up, noop),
        verdict(noop_up * 2 <= noop * 3),
        peak / 1024,
        verdict(peak <= 100 * 1024)
    ));
}

/// Section 8: pictures of a 1000-node workspace, rendered as a person would look at them:
/// `dk graph --format svg` and the report of its first `dk build`, each loaded by headless
/// Chromium to a screenshot (medians of 3; the target: under 5 s each).
fn picture_rows(report: &mut Report, pid: u32, namespaces: &mut Vec<String>) {
    report.section("Pictures: 1000 nodes in headless Chromium");
    let ns = format!("dkbenchr{pid}");
    namespaces.push(ns.clone());
    let ws = tmp("dk-bench-1000");
    generate(&ws, 1000, &ns, 3, "");
    println!("1000 nodes: first build...");
    let built = time(&mut dk(&ws, &["build", "-j", "4"]));
    report.row(
        "first `dk build -j 4` of 1000 nodes",
        format!("{:.0} s", built.as_secs_f64()),
        "the run the report shows",
    );
    let svg = run(&mut dk(&ws, &["graph", "--format", "svg"])).stdout;
    let graph = ws.join("graph.svg");
    std::fs::write(&graph, &svg).unwrap();
    let report_path = String::from_utf8(run(&mut dk(&ws, &["report"])).stdout).unwrap();
    let report_path = PathBuf::from(report_path.trim());
    let shot = ws.join("shot.png");
    for (what, page, size) in [
        ("`dk graph --format svg` (1000 boxes)", &graph, &svg.len()),
        (
            "run report of the 1000-node build",
            &report_path,
            &std::fs::metadata(&report_path)
                .unwrap()
                .len()
                .try_into()
                .unwrap(),
        ),
    ] {
        let profile = ws.join("chromium-profile");
        let took = median_of(3, || {
            let mut c = Command::new("timeout");
            c.args([
                "120",
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--window-size=1600,1200",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", page.display()))
            .stderr(Stdio::null());
            c
        });
        report.row(
            format!("{what}: load and screenshot in headless Chromium"),
            ms(took),
            format!("{:.1} MB file", *size as f64 / 1e6),
        );
        report.verdict(format!(
            "{what} renders in under 5 s: {}",
            verdict(took < Duration::from_secs(5))
        ));
    }
    let _ = std::fs::remove_dir_all(&ws);
}

/// Section 9: `dk outdated` on an up-to-date workspace of 100 image pins (100 repositories
/// of a loopback `docker-registry`, each pinned by digest). Target: under 2 s.
fn outdated_rows(report: &mut Report, pid: u32) {
    report.section("`dk outdated`: 100 image pins, loopback registry");
    let reg = crate::parts::TestRegistry::start(None);
    let ws = tmp("dk-bench-outdated");
    let ns = format!("dkbencho{pid}");
    busybox_workspace(&ws, &ns, 217, 4, "");
    write(&ws, "up/f", "upstream\n");
    write(&ws, "up/Dockerfile", "FROM scratch\nCOPY f /f\n");
    let base = format!("{}/up/base:1", reg.url());
    run(Command::new("docker")
        .args(["build", "-q", "-t", &base])
        .arg(ws.join("up")));
    println!("pushing 100 repositories...");
    for k in 0..100 {
        let repo = format!("{}/up/b{k:03}:1", reg.url());
        run(Command::new("docker").args(["tag", &base, &repo]));
        run(Command::new("docker").args(["push", "-q", &repo]));
        let out = run(Command::new("docker").args([
            "inspect",
            "--format",
            "{{range .RepoDigests}}{{.}} {{end}}",
            &repo,
        ]));
        let digests = String::from_utf8_lossy(&out.stdout).to_string();
        let prefix = format!("{}/up/b{k:03}@", reg.url());
        let digest = digests
            .split_whitespace()
            .find_map(|d| d.strip_prefix(&prefix))
            .expect("a registry digest")
            .to_string();
        write(
            &ws,
            &format!("containers/n{k:03}/Dockerfile"),
            &format!("FROM {}/up/b{k:03}:1@{digest}\n", reg.url()),
        );
        run(Command::new("docker").args(["rmi", &repo]));
    }
    let _ = Command::new("docker").args(["rmi", &base]).output();
    let took = median_of(RUNS, || dk(&ws, &["outdated"]));
    report.row(
        "`dk outdated`, 100 pins up to date (one registry question each, 8 in flight)",
        ms(took),
        "median of 7",
    );
    report.verdict(format!(
        "`dk outdated` on 100 pins under 2 s: {}",
        verdict(took < Duration::from_secs(2))
    ));
    let _ = std::fs::remove_dir_all(&ws);
}
