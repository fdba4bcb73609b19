//! `cargo xtask chaos [--runs N] [--seed S]`: fault injection, results in RELIABILITY.md.
//!
//! 1. SIGKILL of dk at random moments of build, test, promote and up (seeded, the seed
//!    printed): afterwards every record loads, no `:live` points at an image without a
//!    passing test record, a rerun converges, and no test container survives the next start.
//! 2. The daemon going away mid-build and mid-test (dk talks to it through a loopback proxy
//!    that is cut and restored): exit 3 naming the endpoint, no record for what did not finish.
//! 3. Concurrent dk invocations on one workspace: build+build, up+test, promote+promote.
//! 4. A full disk under the state directory (a small tmpfs): a clear error, old records intact.
//! 5. Replacements (`tests/support/deploy_chaos.rs`): new versions that crash at random
//!    moments under every restart policy, stop-first and start-first, with and without a
//!    healthcheck and a ready port, and SIGKILLs of dk mid-replacement; `--cases N`
//!    (default 200). `--only replacements` runs just this section and updates its part of
//!    RELIABILITY.md.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::deploy_chaos::{Rig, Tally};
use crate::rng::Rng;
use crate::util::{busybox, busybox_workspace, dk_bin, machine, remove_images, root, run, write};

/// A workspace with a slow build step and a slow check, so kills land mid-way.
fn workspace(dir: &Path, ns: &str, slot: u8) {
    let _ = std::fs::remove_dir_all(dir);
    busybox_workspace(dir, ns, 219, slot, "USER 1000\nCMD [\"sleep\", \"600\"]\n");
    let svc = |name: &str, from: &str, extra: &str| {
        write(
            dir,
            &format!("containers/{name}/Dockerfile"),
            &format!(
                "FROM {from}\nCOPY www /www\n{extra}EXPOSE 8080\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
            ),
        );
        write(
            dir,
            &format!("containers/{name}/www/index.html"),
            &format!("hello {name}\n"),
        );
        write(
            dir,
            &format!("containers/{name}/.dockerignore"),
            "container.toml\n",
        );
        write(
            dir,
            &format!("containers/{name}/container.toml"),
            "autostart = true\n[test]\nready_port = 8080\n[[test.check]]\nhttp = \"/index.html\"\nport = 8080\nbody_contains = \"hello\"\n[[test.check]]\nname = \"slow\"\nexec = [\"sleep\", \"1\"]\n",
        );
    };
    svc("a", "baseline", "RUN sleep 1\n");
    svc("b", "a", "RUN sleep 2\n");
    svc("c", "baseline", "");
}

fn dk(ws: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(dk_bin());
    c.arg("-C")
        .arg(ws)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Every JSON file under the records directory parses. Returns how many there are.
fn records_load(ws: &Path) -> Result<usize, String> {
    let mut n = 0;
    let mut stack = vec![ws.join(".dk/records")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .map_err(|e| format!("{} does not load: {e}", p.display()))?;
                n += 1;
            }
        }
    }
    Ok(n)
}

/// No `:live` of the workspace points at an image without a passing test record.
fn live_is_tested(ws: &Path, ns: &str) -> Result<(), String> {
    for node in ["baseline", "a", "b", "c"] {
        let out = docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            &format!("{ns}/{node}:live"),
        ]);
        let id = out.trim();
        if id.is_empty() {
            continue;
        }
        let hex = id.trim_start_matches("sha256:");
        let dir = ws.join(".dk/records/tests").join(node);
        let passed = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.file_name().to_string_lossy().starts_with(hex)
                    && std::fs::read(e.path())
                        .ok()
                        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                        .is_some_and(|v| v["passed"] == true)
            });
        if !passed {
            return Err(format!(
                "{ns}/{node}:live is {id}, which has no passing test record"
            ));
        }
    }
    Ok(())
}

fn test_containers(label: &str) -> usize {
    docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=dk.workspace={label}"),
        "--filter",
        "label=dk.role=test",
    ])
    .split_whitespace()
    .count()
}

/// The `dk.workspace` label of the workspace, read from an image dk built.
fn label_of(ns: &str) -> String {
    docker(&[
        "image",
        "inspect",
        "--format",
        "{{index .Config.Labels \"dk.workspace\"}}",
        &format!("{ns}/baseline:latest"),
    ])
    .trim()
    .to_string()
}

/// A TCP proxy on loopback in front of the daemon's socket; `cut` drops it and every
/// connection, as a daemon that stops would.
struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    fn start(port: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (s, c) = (stop.clone(), conns.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        tcp.set_nonblocking(false).unwrap();
                        let Ok(unix) = UnixStream::connect("/var/run/docker.sock") else {
                            continue;
                        };
                        c.lock().unwrap().push(tcp.try_clone().unwrap());
                        let (mut t1, mut u1) =
                            (tcp.try_clone().unwrap(), unix.try_clone().unwrap());
                        let (mut t2, mut u2) = (tcp, unix);
                        // Each direction passes its end on (a half-close), as the real
                        // socket would: an exec's output ends when the daemon closes it.
                        std::thread::spawn(move || {
                            pump(&mut t1, &mut u1);
                            let _ = u1.shutdown(std::net::Shutdown::Write);
                        });
                        std::thread::spawn(move || {
                            pump(&mut u2, &mut t2);
                            let _ = t2.shutdown(std::net::Shutdown::Write);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Proxy {
            port,
            stop,
            conns,
            thread: Some(thread),
        }
    }

    fn cut(mut self) -> u16 {
        self.stop.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.port
    }
}

fn pump(from: &mut impl Read, to: &mut impl Write) {
    let mut buf = [0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
}

fn converge(ws: &Path) -> Result<(), String> {
    let out = dk(ws, &["up"]).output().unwrap();
    if !out.status.success() {
        return Err(format!(
            "the rerun did not converge:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let out = dk(ws, &["up", "--json"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().unwrap_or("{}")).map_err(|e| e.to_string())?;
    let runs = last["summary"]["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if runs.iter().any(|r| r["action"] != "unchanged") {
        return Err(format!(
            "a second up after convergence still changed something: {runs:?}"
        ));
    }
    Ok(())
}

pub fn main(args: &[String]) {
    let mut runs = 50usize;
    let mut cases = 200usize;
    let mut only: Option<String> = None;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--seed" => seed = it.next().and_then(|v| v.parse().ok()).expect("--seed S"),
            "--cases" => cases = it.next().and_then(|v| v.parse().ok()).expect("--cases N"),
            "--only" => only = it.next().cloned(),
            other => panic!("unknown argument {other}"),
        }
    }
    println!("building dk (release)...");
    run(Command::new("cargo")
        .args(["build", "--release", "-p", "dk"])
        .current_dir(root()));
    if let Some(only) = only {
        assert_eq!(
            only, "replacements",
            "--only replacements is the one section run alone"
        );
        println!("chaos: replacements, seed {seed}, {cases} cases");
        let (section, failures) = replacements(seed, cases);
        splice_section(&section);
        println!("\n{section}");
        if !failures.is_empty() {
            std::process::exit(1);
        }
        return;
    }
    println!("chaos: seed {seed} (rerun with `cargo xtask chaos --seed {seed} --runs {runs}`)");
    let mut rng = Rng(seed);
    let pid = std::process::id();
    let mut md = String::new();
    let _ = writeln!(md, "# Reliability\n");
    let _ = writeln!(
        md,
        "Produced by `cargo xtask chaos --seed {seed} --runs {runs}`.\n\nMachine: {}.\n",
        machine()
    );
    let mut failures: Vec<String> = Vec::new();
    let mut namespaces = Vec::new();

    // 1. SIGKILL at random moments.
    let ns = format!("dkchaos{pid}");
    namespaces.push(ns.clone());
    let ws = std::env::temp_dir().join(format!("dk-chaos-{pid}"));
    workspace(&ws, &ns, 1);
    run(&mut dk(&ws, &["up"]));
    let label = label_of(&ns);
    let commands: [&[&str]; 4] = [&["build"], &["test"], &["promote"], &["up"]];
    let mut per_cmd = [0usize; 4];
    let mut records_seen = 0usize;
    let started = Instant::now();
    for r in 0..runs {
        // Give every run something to do: change one node's page.
        let node = ["a", "b", "c"][rng.below(3)];
        write(
            &ws,
            &format!("containers/{node}/www/index.html"),
            &format!("hello {node} {r} {seed}\n"),
        );
        let which = rng.below(4);
        if which == 2 {
            // Promotion needs something tested.
            let _ = dk(&ws, &["test"]).output();
        }
        per_cmd[which] += 1;
        let delay = Duration::from_millis(rng.below(4000) as u64);
        let mut child = dk(&ws, commands[which]).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let mut problems = Vec::new();
        match records_load(&ws) {
            Ok(n) => records_seen = records_seen.max(n),
            Err(e) => problems.push(e),
        }
        if let Err(e) = live_is_tested(&ws, &ns) {
            problems.push(e);
        }
        if let Err(e) = converge(&ws) {
            problems.push(e);
        }
        let left = test_containers(&label);
        if left > 0 {
            problems.push(format!("{left} test container(s) survived the next start"));
        }
        let line = format!(
            "run {r:2}: SIGKILL `dk {}` after {} ms: {}",
            commands[which].join(" "),
            delay.as_millis(),
            if problems.is_empty() {
                "ok".to_string()
            } else {
                problems.join("; ")
            }
        );
        println!("{line}");
        if !problems.is_empty() {
            failures.push(line);
        }
    }
    let _ = writeln!(md, "## 1. SIGKILL at random moments\n");
    let _ = writeln!(
        md,
        "{runs} runs in {:.0}s (build {}, test {}, promote {}, up {}), kill delay uniform in 0–4 s, each run after changing one node's page. After every kill: all records load (up to {records_seen} files), no `:live` points at an image without a passing test record, `dk up` converges and a second `dk up` changes nothing, and no test container survives the next start.\n",
        started.elapsed().as_secs_f64(),
        per_cmd[0],
        per_cmd[1],
        per_cmd[2],
        per_cmd[3]
    );
    let n1 = failures.len();
    let _ = writeln!(md, "Result: {} of {runs} runs violated an invariant.\n", n1);
    for f in &failures {
        let _ = writeln!(md, "- {f}");
    }

    // 2. The daemon goes away mid-build and mid-test.
    let _ = writeln!(md, "\n## 2. The daemon goes away mid-build and mid-test\n");
    let _ = writeln!(
        md,
        "dk reaches the daemon through a loopback TCP proxy (`DOCKER_HOST=tcp://127.0.0.1:PORT`); the proxy and all its connections are cut while dk works, then restored.\n"
    );
    for (what, args, wait_for) in [
        // b's build sleeps 2 s in a RUN; a's test has a 1 s check after readiness.
        ("mid-build", vec!["build", "b"], Duration::from_millis(1500)),
        (
            "mid-test",
            vec!["test", "--force", "a"],
            Duration::from_millis(3500),
        ),
    ] {
        write(
            &ws,
            "containers/b/www/index.html",
            &format!("hello b {what} {seed}\n"),
        );
        write(
            &ws,
            "containers/a/www/index.html",
            &format!("hello a {what} {seed}\n"),
        );
        if what == "mid-test" {
            run(&mut dk(&ws, &["build"]));
        }
        let before = records_load(&ws).unwrap_or(0);
        let proxy = Proxy::start(0);
        let port = proxy.port;
        let mut cmd = dk(&ws, &args);
        cmd.env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"))
            .arg("-v");
        let child = cmd.spawn().unwrap();
        // Cut after the work is under way (bounded wait), then restore.
        let t = Instant::now();
        std::thread::sleep(wait_for);
        proxy.cut();
        let out = child.wait_with_output().unwrap();
        let code = out.status.code();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let named = stderr.contains(&format!("tcp://127.0.0.1:{port}"));
        let after = records_load(&ws).unwrap_or(0);
        let proxy = Proxy::start(port);
        let mut ok = code == Some(3) && named;
        let mut detail = format!(
            "exit {:?} after {:.1}s, endpoint named: {named}, records {before} -> {after}",
            code,
            t.elapsed().as_secs_f64()
        );
        if what == "mid-build" {
            // The interrupted build left no record: b is still stale.
            let plan = dk(&ws, &["plan", "--json", "b"]).output().unwrap();
            let v: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap_or_default();
            let b_stale = v
                .as_array()
                .and_then(|a| a.iter().find(|n| n["name"] == "b"))
                .is_some_and(|n| n["action"] == "build");
            ok &= b_stale;
            let _ = write!(detail, ", b still stale (no false record): {b_stale}");
        }
        let mut rerun = dk(&ws, &args);
        rerun.env("DOCKER_HOST", format!("tcp://127.0.0.1:{}", proxy.port));
        let rerun_out = rerun.output().unwrap();
        let rerun_ok = rerun_out.status.success();
        ok &= rerun_ok;
        let _ = write!(
            detail,
            ", rerun after the daemon is back succeeds: {rerun_ok}"
        );
        if !rerun_ok {
            let _ = write!(
                detail,
                " (it said: `{}`)",
                String::from_utf8_lossy(&rerun_out.stderr)
                    .trim()
                    .replace('\n', " / ")
            );
        }
        // The rerun's start swept whatever the cut run could not remove.
        let swept = test_containers(&label) == 0;
        ok &= swept;
        let _ = write!(detail, ", no test container left: {swept}");
        proxy.cut();
        let first_line = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("")
            .to_string();
        let line = format!(
            "{what}: {} — {detail}; message: `{first_line}`",
            if ok { "ok" } else { "FAILED" }
        );
        println!("{line}");
        let _ = writeln!(md, "- {line}");
        if !ok {
            failures.push(line);
        }
    }

    // 3. Concurrent invocations.
    let _ = writeln!(md, "\n## 3. Concurrent invocations on one workspace\n");
    for (a, b) in [
        (vec!["build"], vec!["build"]),
        (vec!["up"], vec!["test"]),
        (vec!["promote"], vec!["promote"]),
    ] {
        write(
            &ws,
            "containers/c/www/index.html",
            &format!("hello c {} {} {seed}\n", a[0], b[0]),
        );
        if a[0] == "promote" {
            run(&mut dk(&ws, &["test"]));
        }
        let c1 = dk(&ws, &a).spawn().unwrap();
        let c2 = dk(&ws, &b).spawn().unwrap();
        let (o1, o2) = (
            c1.wait_with_output().unwrap(),
            c2.wait_with_output().unwrap(),
        );
        let waited = String::from_utf8_lossy(&o1.stderr).contains("waiting for the workspace lock")
            || String::from_utf8_lossy(&o2.stderr).contains("waiting for the workspace lock");
        let loads = records_load(&ws).is_ok();
        let tested = live_is_tested(&ws, &ns).is_ok();
        let conv = converge(&ws).is_ok();
        let ok = o1.status.success() && o2.status.success() && loads && tested && conv;
        let line = format!(
            "`dk {}` + `dk {}`: exits {:?}/{:?}, one waited for the other: {waited}, records load: {loads}, live tested: {tested}, converges: {conv} — {}",
            a.join(" "),
            b.join(" "),
            o1.status.code(),
            o2.status.code(),
            if ok { "ok" } else { "FAILED" }
        );
        println!("{line}");
        let _ = writeln!(md, "- {line}");
        if !ok {
            failures.push(line);
        }
    }

    // 4. A full disk under the state directory.
    let _ = writeln!(md, "\n## 4. A full disk under the state directory\n");
    let line = disk_full(&ws);
    println!("{line}");
    let _ = writeln!(md, "- {line}");
    if !line.contains(" ok") {
        failures.push(line);
    }

    let _ = dk(&ws, &["down", "--all"]).output();
    let _ = Command::new("docker")
        .args([
            "network",
            "rm",
            &format!("{ns}-live"),
            &format!("{ns}-test"),
        ])
        .output();
    for n in &namespaces {
        remove_images(n);
    }
    let _ = std::fs::remove_dir_all(&ws);

    // 5. Replacements.
    let (section, replaced) = replacements(seed, cases);
    md.push('\n');
    md.push_str(&section);
    failures.extend(replaced);

    let _ = writeln!(md, "\n## Fuzzing\n");
    let fuzz = root().join("fuzz/RESULTS.md");
    match std::fs::read_to_string(&fuzz) {
        Ok(t) => md.push_str(&t),
        Err(_) => md.push_str(
            "Run `cargo xtask fuzz` to fuzz the three parsers; its results are included here.\n",
        ),
    }
    let _ = writeln!(
        md,
        "\n## Summary\n\n{} violation(s) found by this run.",
        failures.len()
    );
    std::fs::write(root().join("RELIABILITY.md"), &md).unwrap();
    println!("\n{md}");
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

/// Fill a small tmpfs holding the state directory, then build a change.
fn disk_full(ws: &Path) -> String {
    let state = ws.join(".dk");
    let saved = ws.join(".dk-saved");
    let _ = std::fs::remove_dir_all(&saved);
    run(Command::new("cp").arg("-a").arg(&state).arg(&saved));
    std::fs::remove_dir_all(&state).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&state)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        let _ = std::fs::remove_dir_all(&state);
        run(Command::new("cp").arg("-a").arg(&saved).arg(&state));
        return "disk full: SKIPPED — mounting a tmpfs needs root".into();
    }
    // Copy what fits of the records and logs back, then fill the rest.
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cp -a '{}/.' '{}/' 2>/dev/null",
            saved.display(),
            state.display()
        ))
        .status();
    let before = records_load(ws);
    let filler = state.join("filler");
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "dd if=/dev/zero of='{}' bs=4k 2>/dev/null",
            filler.display()
        ))
        .status();
    write(
        ws,
        "containers/c/www/index.html",
        &format!("hello c disk {}\n", std::process::id()),
    );
    let out = dk(ws, &["build", "c"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let clear = stderr.contains("No space left on device");
    let after = records_load(ws);
    let _ = std::fs::remove_file(&filler);
    let recovered = dk(ws, &["build", "c"]).output().unwrap().status.success();
    let _ = Command::new("umount").arg(&state).status();
    let _ = std::fs::remove_dir_all(&state);
    run(Command::new("cp").arg("-a").arg(&saved).arg(&state));
    let _ = std::fs::remove_dir_all(&saved);
    let ok = out.status.code() == Some(1) && clear && before.is_ok() && after.is_ok() && recovered;
    let first = stderr
        .lines()
        .find(|l| l.contains("No space"))
        .unwrap_or("")
        .trim()
        .to_string();
    format!(
        "disk full: exit {:?}, message: `{first}`, records load before: {}, after: {}, a build after space is freed succeeds: {recovered} — {}",
        out.status.code(),
        before.is_ok(),
        after.is_ok(),
        if ok { "ok" } else { "FAILED" }
    )
}

const SECTION5: &str = "## 5. Replacements";

/// Section 5: `cases` seeded replacement cases on a workspace of their own. Returns the
/// section's Markdown and the violations.
fn replacements(seed: u64, cases: usize) -> (String, Vec<String>) {
    let pid = std::process::id();
    let ns = format!("dkchaosr{pid}");
    let dir = std::env::temp_dir().join(format!("dk-chaos-r-{pid}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bb = dir.join("busybox.bin");
    busybox(&bb);
    // Subnets of its own per run: a leftover of an earlier run never overlaps them.
    let rig = Rig::new(&dir, &ns, 60 + pid % 120, &bb, &dk_bin());
    let started = Instant::now();
    let t: Tally = crate::deploy_chaos::run(&rig, seed, cases, |n, c, r| {
        println!(
            "replacement case {n}: {c:?} -> {}",
            match r {
                Ok(o) => format!("{o:?}"),
                Err(e) => format!("VIOLATION: {e}"),
            }
        );
    });
    let elapsed = started.elapsed();
    let _ = rig.dk(&["down", "--all"]).output();
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("name=^/{ns}-")])
        .output()
        .unwrap();
    for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        let _ = Command::new("docker").args(["rm", "-f", "-v", id]).output();
    }
    let mut left = Vec::new();
    for net in [format!("{ns}-live"), format!("{ns}-test")] {
        // Bounded: a network can be busy for a moment after its last container goes.
        let mut gone = false;
        for _ in 0..10 {
            let _ = Command::new("docker")
                .args(["network", "rm", &net])
                .output();
            gone = Command::new("docker")
                .args(["network", "inspect", &net])
                .output()
                .is_ok_and(|o| !o.status.success());
            if gone {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        if !gone {
            left.push(net);
        }
    }
    remove_images(&ns);
    let _ = std::fs::remove_dir_all(&dir);
    let mut md = String::new();
    let _ = writeln!(md, "{SECTION5}\n");
    let _ = writeln!(
        md,
        "`cargo xtask chaos --only replacements --seed {seed} --cases {cases}` ({:.0} s). Each case \
         deploys a new version of a live web service with a random restart policy (no, on-failure, \
         always, unless-stopped), stop-first or start-first, a healthcheck or not, a ready port or \
         not; two in three versions crash (live only) at a random moment from 0 ms to the grace \
         period + 2 s; one case in six is a `dk rollback` to the previous release instead; in one \
         case of four dk is SIGKILLed at a random moment of the `dk up` or `dk rollback` and the \
         next `dk up` settles it. Invariants after every case: exactly one live container and no \
         `-next`/`-old` or intent record left; exit 0 only when the new version serves (or went \
         live and crashed later; after a rollback, the container runs `:live`), exit 1 only with the \
         old version serving and the crash's exit code named; a crash inside the grace period never \
         goes live; `dk status --check` agrees.\n",
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        md,
        "| cases | replaced | rolled back | restored (crash caught) | crashed after going live | killed, then settled | violations |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    let _ = writeln!(
        md,
        "| {} | {} | {} | {} | {} | {} | {} |",
        t.cases,
        t.replaced,
        t.rolled_back,
        t.restored,
        t.crashed_after_live,
        t.killed,
        t.violations.len()
    );
    for v in &t.violations {
        println!("VIOLATION (full): {v}");
        let _ = writeln!(md, "\n- violation: {}", v.lines().next().unwrap_or(""));
    }
    for net in &left {
        println!("chaos: could not remove network {net} (the daemon says it has active endpoints)");
        let _ = writeln!(
            md,
            "\n- left behind: network {net} (the daemon refuses to remove it: active endpoints, with no container attached)"
        );
    }
    (md, t.violations)
}

/// Put `section` (section 5) into RELIABILITY.md in place of the one there, or before
/// the fuzzing section.
fn splice_section(section: &str) {
    let path = root().join("RELIABILITY.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let out = match text.find(SECTION5) {
        Some(a) => {
            let b = text[a + SECTION5.len()..]
                .find("\n## ")
                .map(|b| a + SECTION5.len() + b + 1)
                .unwrap_or(text.len());
            format!("{}{section}\n{}", &text[..a], &text[b..])
        }
        None => match text.find("## Fuzzing") {
            Some(a) => format!("{}{section}\n{}", &text[..a], &text[a..]),
            None => format!("{text}\n{section}"),
        },
    };
    std::fs::write(&path, out).unwrap();
}
