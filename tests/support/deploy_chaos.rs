//! Seeded replacement chaos, shared by the suite's sample (`tests/dk/deploy.rs`) and the
//! long run (`cargo xtask chaos`, section "replacements"). Standard library only.
//!
//! One workspace holds one web service `svc` (busybox httpd) that is live. Each case makes
//! a new version of it with random settings — restart policy (`no`, `on-failure`,
//! `always`, `unless-stopped`), stop-first or start-first, a healthcheck or not, a
//! `[run.ready]` port or not — and, live only, a crash at a random moment (0 ms up to the
//! grace period + 2 s) or none; one case in six is instead a `dk rollback` to the previous
//! release (through the same switch); in some cases dk is SIGKILLed at a random moment of
//! the `dk up` or `dk rollback`, and the next `dk up` must settle it. After every case the
//! invariants are checked and counted:
//! - a container of the service serves, unless the new version went live and crashed
//!   afterwards (counted apart: dk's verdict was right when it gave it);
//! - `dk up`'s exit code says what happened: 0 = the new version serves (or crashed after
//!   going live), 1 = the old one serves and the message names the crash;
//! - once converged, exactly one live container and no `-next`/`-old` left, no intent
//!   record; `dk status --check` agrees with what runs; after a rollback that exits 0 the
//!   container runs the image `:live` names.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::rng::Rng;

pub const POLICIES: [&str; 4] = ["no", "on-failure", "always", "unless-stopped"];

/// One case, drawn from the seed.
#[derive(Debug, Clone)]
pub struct Case {
    pub version: u32,
    pub policy: &'static str,
    pub start_first: bool,
    pub healthcheck: bool,
    pub ready_port: bool,
    /// Live only: crash this many ms after starting (None: never).
    pub crash_ms: Option<u64>,
    /// SIGKILL dk this many ms into the `dk up` (None: let it finish).
    pub kill_ms: Option<u64>,
    /// Instead of a new version: `dk rollback` to the previous release (when there is one).
    pub rollback: bool,
}

/// What a case ended as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Replaced,
    Restored,
    CrashedAfterLive,
    /// Killed, then settled by the next `dk up` (to the new or the old version).
    KilledThenSettled,
    /// `dk rollback` put the previous release back live.
    RolledBack,
}

pub const GRACE_MS: u64 = 800;

impl Case {
    pub fn draw(g: &mut Rng, version: u32) -> Case {
        Case {
            version,
            policy: POLICIES[g.below(4)],
            start_first: g.below(2) == 0,
            healthcheck: g.below(3) == 0,
            ready_port: g.below(2) == 0,
            crash_ms: (g.below(3) != 0).then(|| g.below(GRACE_MS as usize + 2000) as u64),
            kill_ms: (g.below(4) == 0).then(|| g.below(4000) as u64),
            rollback: g.below(6) == 0,
        }
    }
}

/// The chaos workspace: dk.toml, a busybox baseline that runs as user 1000, the service.
pub struct Rig {
    pub root: PathBuf,
    pub ns: String,
    pub dk: PathBuf,
}

fn docker(args: &[&str]) -> (bool, String) {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

impl Rig {
    /// Write the workspace under `root` (which must exist). `slot` picks its subnets.
    pub fn new(root: &Path, ns: &str, slot: u32, busybox: &Path, dk: &Path) -> Rig {
        let w = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        w(
            "dk.toml",
            &format!(
                "namespace = \"{ns}\"\ndata_root = \"data\"\n[network.live]\nsubnet = \"10.215.{slot}.0/24\"\n[network.test]\nsubnet = \"10.216.{slot}.0/24\"\n"
            ),
        );
        std::fs::create_dir_all(root.join("baseline")).unwrap();
        std::fs::copy(busybox, root.join("baseline/busybox")).unwrap();
        w(
            "baseline/Dockerfile",
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox --install -s /bin && rm /bin/dpkg /bin/dpkg-deb /bin/rpm /bin/rpm2cpio\"]\nUSER 1000:1000\nCMD [\"sleep\", \"600\"]\n",
        );
        w("baseline/.dockerignore", "container.toml\n");
        std::fs::create_dir_all(root.join("data/svc/conf")).unwrap();
        Rig {
            root: root.to_path_buf(),
            ns: ns.to_string(),
            dk: dk.to_path_buf(),
        }
    }

    /// Write version `c.version` of the service with the case's settings; its crash (live
    /// only: the test launch gets an empty copy of /conf) is armed in the live data.
    pub fn write_version(&self, c: &Case) {
        let w = |rel: &str, text: &str| {
            let p = self.root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        let v = c.version;
        // Serves at once; when /conf/crash-<v> exists, exits 3 that many ms after starting
        // (each run, so a restart policy makes it a crash loop).
        w(
            "containers/svc/Dockerfile",
            &format!(
                "FROM baseline\nCOPY www /www\nCMD [\"sh\", \"-c\", \"if [ -f /conf/crash-{v} ]; then httpd -p 8080 -h /www; sleep $(cat /conf/crash-{v}); echo crashing on purpose >&2; exit 3; fi; exec httpd -f -p 8080 -h /www\"]\n"
            ),
        );
        w("containers/svc/www/index.html", &format!("v{v}\n"));
        w("containers/svc/.dockerignore", "container.toml\n");
        let mut m = String::from(
            "[[mount]]\nkind = \"persistent_test_copy\"\nsource = \"conf\"\ntarget = \"/conf\"\n\n[run]\n",
        );
        m.push_str(&format!(
            "replace = \"{}\"\n",
            if c.start_first {
                "start-first"
            } else {
                "stop-first"
            }
        ));
        m.push_str(&format!(
            "restart = {{ policy = \"{}\"{} }}\n",
            c.policy,
            if c.policy == "on-failure" {
                ", max_retries = 5"
            } else {
                ""
            }
        ));
        if c.healthcheck {
            m.push_str("[run.healthcheck]\ncommand = [\"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:8080/\"]\ninterval = \"300ms\"\ntimeout = \"1s\"\nretries = 2\n");
        }
        m.push_str(&format!(
            "[run.ready]\ngrace = \"{GRACE_MS}ms\"\ntimeout = \"8s\"\n"
        ));
        if c.ready_port {
            m.push_str("port = 8080\nhttp = \"/\"\n");
        }
        m.push_str("\n[[audit.waive]]\nrule = \"entrypoint-form\"\nreason = \"the fixture arms its crash in a shell first\"\n");
        w("containers/svc/container.toml", &m);
        let crash = self.root.join(format!("data/svc/conf/crash-{v}"));
        match c.crash_ms {
            Some(ms) => {
                std::fs::write(&crash, format!("{}.{:03}\n", ms / 1000, ms % 1000)).unwrap()
            }
            None => {
                let _ = std::fs::remove_file(&crash);
            }
        }
    }

    pub fn dk(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.dk);
        c.arg("-C")
            .arg(&self.root)
            .args(args)
            .env_remove("DK_NAMESPACE");
        c
    }

    /// Run dk to the end: (exit code, stdout + stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String) {
        let out = self.dk(args).output().expect("run dk");
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// Containers whose names start with `<ns>-svc` (the live one, `-next`, `-old`):
    /// (name, running).
    pub fn svc_containers(&self) -> Vec<(String, bool)> {
        let (_, out) = docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("name=^/{}-svc", self.ns),
            "--format",
            "{{.Names}} {{.State}}",
        ]);
        out.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, s)| (n.to_string(), s == "running"))
            .collect()
    }

    /// The page the live container serves, asked on its live-network address (None when
    /// nothing answers within a second).
    pub fn page(&self) -> Option<String> {
        let (ok, ip) = docker(&[
            "inspect",
            "--format",
            &format!(
                "{{{{with index .NetworkSettings.Networks \"{}-live\"}}}}{{{{.IPAddress}}}}{{{{end}}}}",
                self.ns
            ),
            &format!("{}-svc", self.ns),
        ]);
        if !ok || ip.is_empty() {
            return None;
        }
        http_get(&format!("{ip}:8080"))
    }

    /// The page, asked a few times over `within` (a restart between two asks is not down).
    pub fn serves(&self, within: Duration) -> Option<String> {
        let until = Instant::now() + within;
        loop {
            if let Some(p) = self.page() {
                return Some(p);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Make sure a good version serves (after a case that left a crashed one live).
    pub fn heal(&self, version: u32) -> Result<(), String> {
        let good = Case {
            version,
            policy: "on-failure",
            start_first: false,
            healthcheck: false,
            ready_port: true,
            crash_ms: None,
            kill_ms: None,
            rollback: false,
        };
        self.write_version(&good);
        let (code, out) = self.run(&["up", "--retry", "svc"]);
        if code != 0 {
            return Err(format!("healing with v{version} failed ({code}):\n{out}"));
        }
        match self.page() {
            Some(p) if p.trim() == format!("v{version}") => Ok(()),
            other => Err(format!("after healing, svc serves {other:?}")),
        }
    }

    /// Run dk with `args`, SIGKILLed after `kill_ms` when given; a killed run is settled by
    /// the next `dk up` (after a read-only `dk status`). (exit code, output, killed).
    fn attempt(&self, args: &[&str], kill_ms: Option<u64>) -> (i32, String, bool) {
        match kill_ms {
            None => {
                let (code, out) = self.run(args);
                (code, out, false)
            }
            Some(ms) => {
                // Piped: when dk ends before the kill, what it said is checked too (its
                // few lines fit in the pipes, so it never blocks on them).
                let mut child = self
                    .dk(args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn dk");
                let until = Instant::now() + Duration::from_millis(ms);
                let finished = loop {
                    match child.try_wait() {
                        Ok(Some(_)) => break true,
                        _ if Instant::now() >= until => {
                            let _ = child.kill();
                            break false;
                        }
                        _ => std::thread::sleep(Duration::from_millis(10)),
                    }
                };
                let out = child.wait_with_output().expect("wait for dk");
                match finished {
                    true => (
                        out.status.code().unwrap_or(-1),
                        format!(
                            "{}{}",
                            String::from_utf8_lossy(&out.stdout),
                            String::from_utf8_lossy(&out.stderr)
                        ),
                        false,
                    ),
                    false => {
                        // The repair: `dk status` reads, the next `dk up` settles it.
                        let (_, status) = self.run(&["status", "svc"]);
                        let (code, out) = self.run(&["up", "svc"]);
                        (code, format!("{status}{out}"), true)
                    }
                }
            }
        }
    }

    /// Exactly one live container, nothing left over (`-next`, `-old`), no intent record.
    fn converged(&self, code: i32, out: &str) -> Result<(), String> {
        let left = self.svc_containers();
        let names: Vec<&str> = left.iter().map(|(n, _)| n.as_str()).collect();
        if names != [format!("{}-svc", self.ns)] {
            return Err(format!(
                "containers after the case: {names:?} (exit {code}):\n{out}"
            ));
        }
        if self.root.join(".dk/intents/svc.json").exists() {
            return Err(format!("an intent record is left (exit {code}):\n{out}"));
        }
        Ok(())
    }

    /// Does the live container run the image `:live` names?
    fn runs_live(&self) -> bool {
        let (_, running) = docker(&[
            "inspect",
            "--format",
            "{{.Image}}",
            &format!("{}-svc", self.ns),
        ]);
        let (_, live) = docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            &format!("{}/svc:live", self.ns),
        ]);
        !running.is_empty() && running == live
    }

    /// `dk rollback svc` (maybe killed) from a serving `old` version. Err = a violation.
    pub fn rollback_case(&self, c: &Case, old: u32) -> Result<Outcome, String> {
        let (code, out, killed) = self.attempt(&["rollback", "svc"], c.kill_ms);
        self.converged(code, &out)?;
        let page = self
            .serves(Duration::from_secs(2))
            .map(|p| p.trim().to_string());
        match code {
            // The release it went back to runs; it serves unless that release crashes
            // after going live (then dk's verdict was right when it gave it).
            0 if !self.runs_live() => Err(format!(
                "rollback exit 0, but the container does not run :live:\n{out}"
            )),
            0 if page.is_some() && killed => Ok(Outcome::KilledThenSettled),
            0 if page.is_some() => Ok(Outcome::RolledBack),
            0 => Ok(Outcome::CrashedAfterLive),
            1 if page.as_deref() == Some(format!("v{old}").as_str()) => {
                if !killed && !says_old_is_back(&out) {
                    return Err(format!(
                        "rollback failed, but it does not say the old one is back:\n{out}"
                    ));
                }
                Ok(if killed {
                    Outcome::KilledThenSettled
                } else {
                    Outcome::Restored
                })
            }
            _ => Err(format!(
                "rollback exit {code} while svc serves {page:?} (it served v{old}):\n{out}"
            )),
        }
    }

    /// Run one case from a serving `old` version; check the invariants. Err = a violation.
    pub fn case(&self, c: &Case, old: u32) -> Result<Outcome, String> {
        self.write_version(c);
        let (new_page, old_page) = (format!("v{}", c.version), format!("v{old}"));
        let (code, out, killed) = self.attempt(&["up", "svc"], c.kill_ms);
        self.converged(code, &out)?;
        let page = self
            .serves(Duration::from_secs(2))
            .map(|p| p.trim().to_string());
        let crashes_live = c.crash_ms.is_some();
        // A crash this early falls inside the grace period: the gate must catch it.
        let must_catch = c.crash_ms.is_some_and(|ms| ms + 100 < GRACE_MS);
        let outcome = match code {
            0 if must_catch && !killed => {
                return Err(format!(
                    "a version that crashes {} ms after it starts went live (grace {GRACE_MS} ms):\n{out}",
                    c.crash_ms.unwrap_or(0)
                ));
            }
            // It went live and crashes later: dk's verdict was right when it gave it.
            0 if crashes_live => {
                if killed {
                    Outcome::KilledThenSettled
                } else {
                    Outcome::CrashedAfterLive
                }
            }
            0 if page.as_deref() == Some(new_page.as_str()) => {
                if killed {
                    Outcome::KilledThenSettled
                } else {
                    Outcome::Replaced
                }
            }
            1 if killed
                && (page.as_deref() == Some(old_page.as_str())
                    || page.as_deref() == Some(new_page.as_str())) =>
            {
                Outcome::KilledThenSettled
            }
            1 if crashes_live && page.as_deref() == Some(old_page.as_str()) => {
                if !out.contains("code 3") {
                    return Err(format!(
                        "restored, but the message does not name the crash (exit code 3):\n{out}"
                    ));
                }
                if !says_old_is_back(&out) {
                    return Err(format!("restored, but the message does not say so:\n{out}"));
                }
                Outcome::Restored
            }
            _ => {
                return Err(format!(
                    "exit {code} while svc serves {page:?} (old v{old}, new v{}):\n{out}",
                    c.version
                ));
            }
        };
        // `dk status --check` agrees with what runs.
        if page.is_some() && !crashes_live {
            let (check, status) = self.run(&["status", "--check", "svc"]);
            if check != 0 {
                return Err(format!(
                    "svc serves, but `dk status --check` says:\n{status}"
                ));
            }
        }
        Ok(outcome)
    }
}

/// Does dk's output say the old container is back (or never stopped)?
fn says_old_is_back(out: &str) -> bool {
    out.contains("put back") || out.contains("kept running")
}

/// GET / over plain HTTP/1.0 with a one-second bound; the body when the status is 200.
pub fn http_get(addr: &str) -> Option<String> {
    let addr: std::net::SocketAddr = addr.parse().ok()?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: svc\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.").then_some(())?;
    head.split_whitespace().nth(1).filter(|c| *c == "200")?;
    Some(body.to_string())
}

/// Counts of a run of cases.
#[derive(Debug, Default)]
pub struct Tally {
    pub cases: usize,
    pub replaced: usize,
    pub restored: usize,
    pub rolled_back: usize,
    pub crashed_after_live: usize,
    pub killed: usize,
    pub violations: Vec<String>,
}

/// Run `cases` cases from `seed` on a rig whose `svc` is not live yet.
pub fn run(
    rig: &Rig,
    seed: u64,
    cases: usize,
    mut progress: impl FnMut(usize, &Case, &Result<Outcome, String>),
) -> Tally {
    let mut g = Rng(seed.max(1));
    let mut t = Tally::default();
    let mut version = 1;
    if let Err(e) = rig.heal(version) {
        t.violations
            .push(format!("the first version did not go live: {e}"));
        return t;
    }
    let mut serving = version;
    // The versions armed to crash: a rollback may put one back live.
    let mut crashing = std::collections::BTreeSet::new();
    for n in 0..cases {
        version += 1;
        let c = Case::draw(&mut g, version);
        // A rollback needs a release before the first one (`:prev`): every case promotes.
        let c = Case {
            rollback: c.rollback && n >= 1,
            ..c
        };
        if c.crash_ms.is_some() && !c.rollback {
            crashing.insert(version);
        }
        let mut r = if c.rollback {
            rig.rollback_case(&c, serving)
        } else {
            rig.case(&c, serving)
        };
        // A rollback to a release that crashes after going live went live as it should; it
        // is then that release's crash (and the next case must not start from it).
        let now_serving = rig.page().and_then(|p| {
            p.trim()
                .strip_prefix('v')
                .and_then(|v| v.parse::<u32>().ok())
        });
        if c.rollback
            && now_serving.is_none_or(|v| crashing.contains(&v))
            && matches!(r, Ok(Outcome::RolledBack | Outcome::KilledThenSettled))
        {
            r = Ok(Outcome::CrashedAfterLive);
        }
        progress(n, &c, &r);
        t.cases += 1;
        match &r {
            Ok(Outcome::Replaced) => {
                t.replaced += 1;
                serving = version;
            }
            Ok(Outcome::RolledBack) => t.rolled_back += 1,
            Ok(Outcome::Restored) => t.restored += 1,
            Ok(Outcome::KilledThenSettled) => t.killed += 1,
            Ok(Outcome::CrashedAfterLive) => t.crashed_after_live += 1,
            Err(e) => t.violations.push(format!("case {n} {c:?}: {e}")),
        }
        // Every case starts from a version that serves and keeps serving.
        let crashed_live = matches!(r, Ok(Outcome::CrashedAfterLive))
            || (c.crash_ms.is_some() && matches!(r, Ok(Outcome::KilledThenSettled)));
        // What serves now (a rollback or a settled kill may have changed it).
        if let Some(v) = rig
            .page()
            .and_then(|p| p.trim().strip_prefix('v').and_then(|v| v.parse().ok()))
        {
            serving = v;
        }
        if crashed_live || rig.page().is_none() {
            version += 1;
            if let Err(e) = rig.heal(version) {
                t.violations.push(format!("after case {n}: {e}"));
                return t;
            }
            serving = version;
        }
    }
    t
}
