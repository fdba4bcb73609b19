//! `.dockerignore` against the Docker CLI of this machine, on random trees and patterns:
//! what dk sends must be exactly what `docker build` sends.
//!
//! Both send their context to a fake daemon on 127.0.0.1 that answers the version
//! handshake and keeps each build's tar (and then refuses the build), so a case costs two
//! process runs and no image. `DK_IGNORE_CASES` sets how many cases run (CI: the default;
//! `DK_IGNORE_CASES=600 cargo xtask test -- ignore_diff` for the full run); `DK_IGNORE_SEED`
//! replays one seed. A failing case prints its seed, tree, patterns and the difference.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::buildsees::{compare, corpus_case, corpus_files, dockerignore, random_case, tree};
use crate::common::{Rng, TestWs, stderr};

/// A daemon that only takes build contexts: `/_ping`, `/version` and image lookups are
/// answered, `POST /build` bodies are kept (and the build refused), the rest is a 404.
struct FakeDaemon {
    port: u16,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
}

impl FakeDaemon {
    fn start() -> FakeDaemon {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (bodies.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let b = b.clone();
                        std::thread::spawn(move || serve(conn, &b));
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        FakeDaemon { port, bodies, stop }
    }

    fn host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.bodies.lock().unwrap())
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Serve one connection (keep-alive), for at most 64 requests.
fn serve(conn: TcpStream, bodies: &Mutex<Vec<Vec<u8>>>) {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    conn.set_nonblocking(false).unwrap();
    let mut out = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    for _ in 0..64 {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let (mut length, mut chunked) = (0usize, false);
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let mut size = String::new();
                r.read_line(&mut size).unwrap();
                let n =
                    usize::from_str_radix(size.trim().split(';').next().unwrap(), 16).unwrap_or(0);
                let mut chunk = vec![0u8; n + 2];
                r.read_exact(&mut chunk).unwrap();
                body.extend_from_slice(&chunk[..n]);
                if n == 0 {
                    break;
                }
            }
        } else if length > 0 {
            body.resize(length, 0);
            r.read_exact(&mut body).unwrap();
        }
        let route = path
            .split('?')
            .next()
            .unwrap()
            .trim_start_matches(|c: char| c != '/');
        let route = match route.strip_prefix("/v1.") {
            Some(rest) => rest.split_once('/').map(|(_, r)| format!("/{r}")).unwrap(),
            None => route.to_string(),
        };
        let (status, json) = if route == "/_ping" {
            ("200 OK", "OK".to_string())
        } else if route == "/version" {
            (
                "200 OK",
                r#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}"#.to_string(),
            )
        } else if method == "POST" && route == "/build" {
            bodies.lock().unwrap().push(body);
            (
                "200 OK",
                "{\"errorDetail\":{\"message\":\"kept by the test\"},\"error\":\"kept by the test\"}\n"
                    .to_string(),
            )
        } else {
            ("404 Not Found", r#"{"message":"not here"}"#.to_string())
        };
        let head = if method == "HEAD" { "" } else { json.as_str() };
        let _ = write!(
            out,
            "HTTP/1.1 {status}\r\nApi-Version: 1.41\r\nDocker-Experimental: false\r\nOstype: linux\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
            if method == "HEAD" {
                json.len()
            } else {
                head.len()
            }
        );
        let _ = out.flush();
    }
}

/// The paths of a context tar, with `/` after directories.
fn paths(tar_bytes: &[u8]) -> BTreeSet<String> {
    let mut a = tar::Archive::new(tar_bytes);
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let p = e
                .path()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches('/')
                .to_string();
            if e.header().entry_type().is_dir() {
                format!("{p}/")
            } else {
                p
            }
        })
        .collect()
}

/// One case: a tree and a .dockerignore from `seed`; the paths the CLI and dk send.
fn case(seed: u64, daemon: &FakeDaemon) -> Result<(), String> {
    let mut rng = Rng::seeded(seed);
    let ws = TestWs::empty();
    let toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    ws.write(
        "dk.toml",
        &format!("{toml}[build]\nbuilder = \"classic\"\n"),
    );
    ws.write("baseline/Dockerfile", "FROM scratch\nCOPY . /ctx\n");
    let dir = ws.path("baseline");
    let mut files = Vec::new();
    tree(&mut rng, &dir, 0, "", &mut files);
    let ignore = dockerignore(&mut rng, &files);
    std::fs::write(dir.join(".dockerignore"), &ignore).unwrap();

    daemon.take();
    let cli = std::process::Command::new("docker")
        .args(["build", "-q", "."])
        .current_dir(&dir)
        .env("DOCKER_HOST", daemon.host())
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    let cli_bodies = daemon.take();
    let dk = ws
        .dk()
        .env("DOCKER_HOST", daemon.host())
        .args(["build", "baseline"])
        .output()
        .unwrap();
    let dk_bodies = daemon.take();
    let describe = || {
        format!(
            "seed {seed} (replay: DK_IGNORE_SEED={seed})\nfiles: {files:?}\n.dockerignore:\n{ignore}"
        )
    };
    let (Some(cli_tar), Some(dk_tar)) = (cli_bodies.first(), dk_bodies.first()) else {
        // A pattern both reject (a syntax error) is agreement too.
        let cli_err = !cli.status.success() && cli_bodies.is_empty();
        let dk_err = dk.status.code() == Some(2) && dk_bodies.is_empty();
        if cli_err && dk_err {
            return Ok(());
        }
        return Err(format!(
            "{}\nonly one side sent a context; cli: {}\ndk: {}",
            describe(),
            stderr(&cli),
            stderr(&dk)
        ));
    };
    let (want, got) = (paths(cli_tar), paths(dk_tar));
    if want != got {
        return Err(format!(
            "{}\nonly the CLI sent: {:?}\nonly dk sent: {:?}",
            describe(),
            want.difference(&got).collect::<Vec<_>>(),
            got.difference(&want).collect::<Vec<_>>()
        ));
    }
    Ok(())
}

#[test]
fn random_dockerignore_cases_send_exactly_what_the_docker_cli_sends() {
    let cli = std::process::Command::new("docker")
        .arg("--version")
        .output();
    assert!(
        cli.is_ok_and(|o| o.status.success()),
        "this test compares dk with the Docker CLI: install it (`apt-get install -y docker.io`)"
    );
    let daemon = FakeDaemon::start();
    let seeds: Vec<u64> = match std::env::var("DK_IGNORE_SEED") {
        Ok(s) => vec![s.parse().expect("DK_IGNORE_SEED is a number")],
        Err(_) => {
            let n: u64 = crate::common::env_number("DK_IGNORE_CASES", 120);
            (1..=n).collect()
        }
    };
    let mut failures = Vec::new();
    for &seed in &seeds {
        if let Err(e) = case(seed, &daemon) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n\n{}",
        failures.len(),
        seeds.len(),
        failures.join("\n\n")
    );
    eprintln!("{} cases, no difference", seeds.len());
}

/// What a build sees, dk (classic and BuildKit) against today's CLI: random cases and every
/// `DK_CORPUS_STEP`th real `.dockerignore` of the corpus. Where the BuildKit CLI here (its
/// own, older fsutil) sees something else while dk agrees with today's CLI, the case is
/// counted as a difference of that reference, and printed.
#[test]
fn a_build_sees_what_a_build_from_the_cli_sees() {
    let n: u64 = crate::common::env_number("DK_SEES_CASES", 30);
    // `DK_SEES_FIRST=471 DK_SEES_CASES=1` replays one seed.
    let first: u64 = crate::common::env_number("DK_SEES_FIRST", 1);
    let step: usize = crate::common::env_number("DK_CORPUS_STEP", 2);
    let mut cases: Vec<_> = (first..first + n).map(random_case).collect();
    cases.extend(
        corpus_files()
            .iter()
            .step_by(step.max(1))
            .map(|p| corpus_case(p)),
    );
    let ns = crate::common::unique("dksees");
    let out = compare(&crate::common::dk_path(), &cases, &ns);
    let mut failures = out.classic.clone();
    failures.extend(out.buildkit.iter().cloned());
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    eprintln!(
        "{} cases, no difference with today's CLI (classic and BuildKit); the BuildKit CLI here differs from both on {}:\n{}",
        cases.len(),
        out.reference_only.len(),
        out.reference_only.join("\n\n")
    );
}

/// A limit of the reference, shown: the BuildKit client of the Docker CLI here (20.10, with
/// the fsutil of its day) re-includes what a `!` pattern names below a directory another
/// pattern excluded by a parent's match, where today's CLI (and BuildKit's walker since
/// `MatchesUsingParentResults`) keeps it out. dk follows today's rule with both builders.
#[test]
fn the_buildkit_cli_here_re_includes_by_an_older_rule() {
    let case = crate::buildsees::Case {
        origin: "fixed case".into(),
        files: vec!["b/a.txt/keep".into(), "b/x.txt".into(), "a.txt".into()],
        dockerignore: "a*\n*/*/*\n!/b/a.txt\n".into(),
    };
    let out = compare(
        &crate::common::dk_path(),
        &[case],
        &crate::common::unique("dksees"),
    );
    assert!(out.classic.is_empty() && out.buildkit.is_empty(), "{out:?}");
    assert_eq!(out.reference_only.len(), 1, "{out:?}");
    assert!(
        out.reference_only[0].contains("only the BuildKit CLI here saw: [\"b/a.txt/keep\"]"),
        "{out:?}"
    );
}
