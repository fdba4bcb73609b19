//! The probes of `[[test.check]]`: exec, tcp, http, file, not_root. Each returns whether the
//! probe succeeded and, when it did not, what was expected and what came. Negative checks
//! (`expect = "fail"`) invert the verdict in `run`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::docker::Daemon;
use crate::error::Result;
use crate::manifest::{Check, CheckSpec, Probe as ProbeKind};
use crate::records::CheckResult;

/// Where the container under test can be reached.
#[derive(Debug, Clone)]
pub struct Target {
    pub container: String,
    pub ip: Option<String>,
    /// Container port -> host port published on 127.0.0.1.
    pub loopback: Vec<(u16, u16)>,
}

/// The outcome of a probe: Ok(()) when every expectation held, Err(why) otherwise.
type Probe = std::result::Result<(), String>;

pub async fn run(
    daemon: &Daemon,
    target: &Target,
    spec: &CheckSpec,
    timeout: Duration,
) -> Result<CheckResult> {
    let started = Instant::now();
    let check = &spec.check;
    let name = check.display_name();
    let probe = match tokio::time::timeout(timeout, probe(daemon, target, spec)).await {
        Ok(r) => r?,
        Err(_) => Err(format!(
            "no result within {}",
            crate::units::human_duration(timeout)
        )),
    };
    let (passed, detail) = match (probe, check.negative()) {
        (Ok(()), false) => (true, None),
        (Err(why), false) => (false, Some(why)),
        (Err(why), true) => (true, Some(format!("failed as expected: {why}"))),
        (Ok(()), true) => (
            false,
            Some("expected this probe to fail, but it succeeded".to_string()),
        ),
    };
    Ok(CheckResult {
        name,
        passed,
        duration_ms: started.elapsed().as_millis() as u64,
        detail,
    })
}

async fn probe(daemon: &Daemon, target: &Target, spec: &CheckSpec) -> Result<Probe> {
    let check = &spec.check;
    Ok(match &spec.probe {
        ProbeKind::Exec(cmd) => exec(daemon, target, cmd, check).await?,
        ProbeKind::Tcp(port) => tcp(target, *port).await,
        ProbeKind::Http {
            path,
            port,
            loopback,
        } => http(target, path, *port, *loopback, check).await,
        ProbeKind::File(path) => file(daemon, target, path, check).await?,
        ProbeKind::NotRoot => not_root(daemon, target).await?,
    })
}

fn shorten(s: &str) -> String {
    let s = s.trim_end();
    if s.chars().count() > 400 {
        format!("{}…", s.chars().take(400).collect::<String>())
    } else {
        s.to_string()
    }
}

fn expect_text(
    what: &str,
    got: &str,
    equals: &Option<String>,
    contains: &Option<String>,
    matches: &Option<String>,
) -> Probe {
    if let Some(e) = equals
        && got != e
    {
        return Err(format!(
            "{what}: expected exactly {e:?}, got {:?}",
            shorten(got)
        ));
    }
    if let Some(c) = contains
        && !got.contains(c.as_str())
    {
        return Err(format!(
            "{what}: expected to contain {c:?}, got {:?}",
            shorten(got)
        ));
    }
    if let Some(m) = matches {
        let re = regex::Regex::new(m).map_err(|e| format!("{what}: bad regex: {e}"))?;
        if !re.is_match(got) {
            return Err(format!(
                "{what}: expected to match /{m}/, got {:?}",
                shorten(got)
            ));
        }
    }
    Ok(())
}

async fn exec(daemon: &Daemon, target: &Target, cmd: &[String], check: &Check) -> Result<Probe> {
    let out = daemon.exec(&target.container, cmd, None).await?;
    let want = check.exit_code.unwrap_or(0);
    if out.exit_code != want {
        let mut why = format!("expected exit code {want}, got {}", out.exit_code);
        if !out.stdout.trim().is_empty() {
            why.push_str(&format!("; stdout: {:?}", shorten(&out.stdout)));
        }
        if !out.stderr.trim().is_empty() {
            why.push_str(&format!("; stderr: {:?}", shorten(&out.stderr)));
        }
        return Ok(Err(why));
    }
    Ok(expect_text(
        "stdout",
        &out.stdout,
        &check.stdout_equals,
        &check.stdout_contains,
        &check.stdout_matches,
    )
    .and_then(|()| {
        expect_text(
            "stderr",
            &out.stderr,
            &check.stderr_equals,
            &check.stderr_contains,
            &check.stderr_matches,
        )
    }))
}

fn address(
    target: &Target,
    port: u16,
    via_loopback: bool,
) -> std::result::Result<SocketAddr, String> {
    if via_loopback {
        let host_port = target
            .loopback
            .iter()
            .find(|(c, _)| *c == port)
            .map(|(_, h)| *h)
            .ok_or_else(|| format!("port {port} is not published on 127.0.0.1"))?;
        return Ok(SocketAddr::from(([127, 0, 0, 1], host_port)));
    }
    let ip = target
        .ip
        .as_ref()
        .ok_or_else(|| "the container has no address on the test network".to_string())?;
    format!("{ip}:{port}")
        .parse()
        .map_err(|e| format!("bad address {ip}:{port}: {e}"))
}

async fn tcp(target: &Target, port: u16) -> Probe {
    let addr = address(target, port, false)?;
    tokio::net::TcpStream::connect(addr)
        .await
        .map(|_| ())
        .map_err(|e| format!("connecting to {addr}: {e}"))
}

/// One HTTP/1.0 GET; returns (status, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> std::result::Result<(u16, String), String> {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    let req = format!(
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: dk-test\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| format!("sending to {addr}: {e}"))?;
    let mut buf = Vec::new();
    s.take(4 << 20)
        .read_to_end(&mut buf)
        .await
        .map_err(|e| format!("reading from {addr}: {e}"))?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {:?}", shorten(head)))?;
    Ok((status, body.to_string()))
}

async fn http(target: &Target, path: &str, port: u16, loopback: bool, check: &Check) -> Probe {
    let addr = address(target, port, loopback)?;
    let (status, body) = http_get(addr, path).await?;
    let want = check.status.unwrap_or(200);
    if status != want {
        return Err(format!(
            "GET {path}: expected status {want}, got {status}; body: {:?}",
            shorten(&body)
        ));
    }
    if let Some(c) = &check.body_contains
        && !body.contains(c.as_str())
    {
        return Err(format!(
            "GET {path}: expected the body to contain {c:?}, got {:?}",
            shorten(&body)
        ));
    }
    Ok(())
}

async fn file(daemon: &Daemon, target: &Target, path: &str, check: &Check) -> Result<Probe> {
    let info = daemon.read_path(&target.container, path).await?;
    let want_exists = check.exists.unwrap_or(true);
    let Some(info) = info else {
        return Ok(if want_exists {
            Err(format!("{path} does not exist"))
        } else {
            Ok(())
        });
    };
    if !want_exists {
        return Ok(Err(format!("{path} exists (mode {:o})", info.mode)));
    }
    if let Some(want) = check.mode.as_ref().map(|t| t.get().0)
        && info.mode != want
    {
        return Ok(Err(format!(
            "{path}: expected mode {want:04o}, got {:04o}",
            info.mode
        )));
    }
    if let Some(owner) = &check.owner {
        let uid = match owner.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => lookup_uid(daemon, target, owner).await?,
        };
        match uid {
            Some(u) if u == info.uid => {}
            Some(u) => {
                return Ok(Err(format!(
                    "{path}: expected owner {owner} ({u}), got uid {}",
                    info.uid
                )));
            }
            None => {
                return Ok(Err(format!(
                    "{path}: user `{owner}` is not in the image's /etc/passwd"
                )));
            }
        }
    }
    if let Some(c) = &check.contains {
        let text = String::from_utf8_lossy(&info.content);
        if !text.contains(c.as_str()) {
            return Ok(Err(format!(
                "{path}: expected to contain {c:?}, got {:?}",
                shorten(&text)
            )));
        }
    }
    Ok(Ok(()))
}

async fn lookup_uid(daemon: &Daemon, target: &Target, user: &str) -> Result<Option<u64>> {
    let Some(passwd) = daemon.read_path(&target.container, "/etc/passwd").await? else {
        return Ok(None);
    };
    Ok(String::from_utf8_lossy(&passwd.content)
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            (name == user).then_some(uid)
        }))
}

async fn not_root(daemon: &Daemon, target: &Target) -> Result<Probe> {
    // The main process's effective uid, read inside the container.
    let out = daemon
        .exec(
            &target.container,
            &["cat".into(), "/proc/1/status".into()],
            None,
        )
        .await?;
    if out.exit_code == 0
        && let Some(line) = out.stdout.lines().find(|l| l.starts_with("Uid:"))
    {
        let ids: Vec<&str> = line.split_whitespace().skip(1).collect();
        let effective = ids.get(1).copied().unwrap_or("?");
        return Ok(if effective == "0" {
            Err("the main process runs as uid 0".to_string())
        } else {
            Ok(())
        });
    }
    // No `cat` in the image: fall back to the configured user.
    let user = daemon
        .inspect_container(&target.container)
        .await?
        .map(|c| c.user)
        .unwrap_or_default();
    Ok(if crate::launch::is_root_user(&user) {
        Err(format!(
            "the container runs as `{}`",
            if user.is_empty() { "root" } else { &user }
        ))
    } else {
        Ok(())
    })
}
