//! The build context against the Docker CLI as reference, big contexts, and robustness:
//! SIGKILL mid-build and concurrent runs.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TestWs, docker, stderr, stdout};

const LISTING: &str = "RUN find /ctx -exec stat -c '%n|%a|%F' {} + | sort > /list.txt \
    && find /ctx -type f -exec md5sum {} + | sort >> /list.txt \
    && find /ctx -type l -exec readlink {} + | sort >> /list.txt";

/// A context full of cases where `.dockerignore` is not `.gitignore`.
fn tricky(ws: &TestWs, node: &str) {
    let d = format!("containers/{node}");
    for (rel, content) in [
        ("a.txt", "a"),
        ("README.md", "readme"),
        ("CHANGES.md", "changes"),
        ("docs/guide.md", "guide"),
        ("docs/keep.txt", "keep"),
        ("dir/sub/x.log", "x"),
        ("dir/keep.log", "keep"),
        ("top.log", "top"),
        ("build/out.o", "o"),
        ("build/keep/k.txt", "k"),
        ("build/keep/deeper/k2.txt", "k2"),
        (".git/config", "cfg"),
        ("node_modules/m/index.js", "js"),
        ("foo", "root foo"),
        ("a/foo", "nested foo"),
        ("deep/a/b/c/d.txt", "d"),
        ("deep/a/b/c/e.txt", "e"),
        ("name with spaces.txt", "s"),
        ("q1.tmp", "q"),
        ("qq.tmp", "qq"),
        ("special+chars (1).txt", "p"),
        ("exec.sh", "#!/bin/sh\n"),
    ] {
        ws.write(&format!("{d}/{rel}"), content);
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        ws.path(&format!("{d}/exec.sh")),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    std::fs::set_permissions(
        ws.path(&format!("{d}/docs")),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", ws.path(&format!("{d}/link-abs"))).unwrap();
    std::os::unix::fs::symlink("../../../outside", ws.path(&format!("{d}/link-escape"))).unwrap();
    std::os::unix::fs::symlink("a.txt", ws.path(&format!("{d}/link-in"))).unwrap();
    ws.write(
        &format!("{d}/.dockerignore"),
        "# comment line\n\
         *.md\n\
         !README.md\n\
         **/*.log\n\
         !dir/keep.log\n\
         build\n\
         !build/keep\n\
         .git\n\
         node_modules/\n\
         /foo\n\
         deep/**/d.txt\n\
         ?1.tmp\n\
         Dockerfile\n\
         \x20 docs/*.txt  \n\
         special+chars*\n",
    );
}

fn listing(image: &str) -> String {
    let out = docker(&[
        "run",
        "--rm",
        "--label",
        "dk.test=1",
        image,
        "cat",
        "/list.txt",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn the_context_equals_what_the_docker_cli_sends() {
    let ws = TestWs::with_baseline();
    // The reference: the Docker CLI building the same directory.
    let out = ws.dk().args(["build", "baseline"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let base = ws.image("baseline", "latest");
    ws.container("ctx", &format!("FROM {base}\nCOPY . /ctx\n{LISTING}\n"));
    tricky(&ws, "ctx");
    let reference = format!("{}/reference:cli", ws.ns);
    ws.track_image(&reference);
    let out = Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "--label", "dk.test=1", "-t", &reference])
        .arg(ws.path("containers/ctx"))
        .output()
        .unwrap();
    assert!(out.status.success(), "docker build: {}", stderr(&out));
    let want = listing(&reference);

    let out = ws.dk().args(["build", "ctx"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got = listing(&ws.image("ctx", "latest"));
    // The Dockerfile differs by design (dk sends it with the parent pinned to an id), so
    // compare everything else line by line.
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("/ctx/Dockerfile"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&got), strip(&want), "dk:\n{got}\ndocker:\n{want}");
    // The cases that matter are really there (the test would be vacuous otherwise).
    // `*.md` is anchored at the root: docs/guide.md stays (gitignore would drop it).
    for must in [
        "/ctx/docs/guide.md|",
        "/ctx/README.md|",
        "/ctx/dir/keep.log|",
        "/ctx/build/keep/k.txt|",
        "/ctx/a/foo|",
        "/ctx/qq.tmp|",
    ] {
        assert!(got.contains(must), "missing {must}:\n{got}");
    }
    for never in [
        "CHANGES.md",
        "x.log",
        "out.o",
        ".git",
        "node_modules",
        "/ctx/foo|",
        "d.txt",
        "q1.tmp",
        "docs/keep.txt",
        "special",
    ] {
        assert!(!got.contains(never), "{never} must be excluded:\n{got}");
    }
    assert!(got.contains("/ctx/exec.sh|750|regular file"), "{got}");
    assert!(got.contains("/ctx/docs|700|directory"), "{got}");
}

#[test]
fn symlinks_are_sent_as_links_never_followed() {
    let ws = TestWs::with_baseline();
    ws.container("links", "FROM baseline\nCOPY . /ctx\nRUN readlink /ctx/out > /out.txt && readlink /ctx/up >> /out.txt\n");
    let secret = tempfile::tempdir().unwrap();
    std::fs::write(secret.path().join("secret"), "do not send").unwrap();
    std::os::unix::fs::symlink(
        secret.path().join("secret"),
        ws.path("containers/links/out"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../../..", ws.path("containers/links/up")).unwrap();
    let out = ws.dk().args(["build", "links"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let image = ws.image("links", "latest");
    let out = docker(&[
        "run",
        "--rm",
        "--label",
        "dk.test=1",
        &image,
        "cat",
        "/out.txt",
    ]);
    assert_eq!(
        stdout(&out),
        format!("{}\n../../..\n", secret.path().join("secret").display())
    );
    let out = docker(&[
        "run",
        "--rm",
        "--label",
        "dk.test=1",
        &image,
        "sh",
        "-c",
        "grep -r 'do not send' /ctx; echo $?",
    ]);
    assert_eq!(
        stdout(&out).trim(),
        "1",
        "the link target's content must not be in the image"
    );
}

/// Poll the peak resident set (VmHWM) of a running process until it exits.
fn run_measuring_peak(mut cmd: Command) -> (std::process::Output, u64) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak_kb = 0u64;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let poller = std::thread::spawn(move || {
        let mut peak = 0u64;
        while !stop2.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                for l in s.lines() {
                    if let Some(v) = l.strip_prefix("VmHWM:") {
                        let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                        peak = peak.max(kb);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    let out = child.wait_with_output().unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    peak_kb = peak_kb.max(poller.join().unwrap());
    (out, peak_kb)
}

#[test]
fn a_one_gib_context_streams_in_bounded_memory() {
    let ws = TestWs::with_baseline();
    ws.container("big", "FROM baseline\nRUN echo context received\n");
    // Sparse: cheap to create, but every byte is read, hashed and sent.
    let f = std::fs::File::create(ws.path("containers/big/blob.bin")).unwrap();
    f.set_len(1 << 30).unwrap();
    let mut cmd = ws.process();
    cmd.args(["build", "big"]);
    let (out, peak_kb) = run_measuring_peak(cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    eprintln!("peak RSS of dk building a 1 GiB context: {} KiB", peak_kb);
    assert!(peak_kb > 0, "the measurement must have seen the process");
    assert!(peak_kb < 64 * 1024, "peak RSS {peak_kb} KiB is over 64 MiB");
}

#[test]
fn sigkill_mid_build_leaves_readable_records_and_the_next_run_is_correct() {
    let ws = TestWs::with_baseline();
    ws.container("slow", "FROM baseline\nRUN sleep 3 && echo slow done\n");
    ws.container("quick", "FROM baseline\nRUN echo quick\n");
    let out = ws.dk().args(["build", "baseline"]).output().unwrap();
    assert!(out.status.success());
    let mut child = ws
        .process()
        .args(["build", "-j", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) until the slow build is running, then kill -9.
    let started = Instant::now();
    while !ws.path(".dk/logs/slow").exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();

    // Every record parses; no temp file is left where readers look.
    for entry in walkdir::WalkDir::new(ws.path(".dk/records")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(entry.path()).unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", entry.path().display()));
        }
    }
    let out = ws.dk().args(["build"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = ws.dk().args(["build", "--json"]).output().unwrap();
    let last: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    for n in last["summary"]["nodes"].as_array().unwrap() {
        assert_eq!(n["status"], "fresh", "{n}");
    }
    let out = docker(&[
        "run",
        "--rm",
        "--label",
        "dk.test=1",
        &ws.image("slow", "latest"),
        "true",
    ]);
    assert!(out.status.success());
}

#[test]
fn concurrent_builds_queue_on_the_lock_and_agree() {
    let ws = TestWs::with_baseline();
    ws.container("one", "FROM baseline\nRUN sleep 1 && echo one\n");
    let spawn = |extra: &[&str]| {
        ws.process()
            .arg("build")
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn(&[]);
    // Give the first one time to take the lock.
    let t = Instant::now();
    // The holder writes its name into the lock file once it has the lock.
    let held = || std::fs::metadata(ws.path(".dk/lock")).is_ok_and(|m| m.len() > 0);
    while !held() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let c = spawn(&["--no-wait"]);
    let b = spawn(&[]);
    let (a, b, c) = (
        a.wait_with_output().unwrap(),
        b.wait_with_output().unwrap(),
        c.wait_with_output().unwrap(),
    );
    assert!(a.status.success(), "{}", stderr(&a));
    assert!(b.status.success(), "{}", stderr(&b));
    assert!(
        stderr(&b).contains("waiting for the workspace lock held by `dk build`"),
        "{}",
        stderr(&b)
    );
    assert!(
        stderr(&b).contains("2 fresh"),
        "the second build found the first one's work: {}",
        stderr(&b)
    );
    assert_eq!(c.status.code(), Some(1), "{}", stderr(&c));
    assert!(
        stderr(&c).contains("the workspace is in use by `dk build`"),
        "{}",
        stderr(&c)
    );
}
