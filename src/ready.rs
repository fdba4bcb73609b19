//! Readiness: when a started container counts as up. Used by test launches (the implicit
//! smoke check) and live starts (start waves). The rule, in order: a container with a
//! healthcheck is ready when healthy; else, with a declared port, when the port accepts a
//! connection (and, with an HTTP path, answers it with a status below 500); and in every
//! case it must have stayed up for the grace period — one continuous run: a restart
//! policy that starts a crashed container again makes a new run, and a new run during the
//! gate is a crash, named with the exit code the daemon saw. A one-shot is ready when it
//! exited 0. Everything is bounded by a timeout. `verify` checks, at the moment of a
//! switch, that the run found ready is still the one running.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::docker::{ContainerInfo, Health, Lookup};
use crate::error::{Error, Result};
use crate::units::human_duration;

/// What "ready" means for one container.
#[derive(Debug, Clone)]
pub struct Readiness {
    /// Wait until this port accepts a connection on the container's address on `network`.
    pub port: Option<u16>,
    /// With `port`: also GET this path, and want a status below 500.
    pub http: Option<String>,
    /// The network whose address the port is probed on.
    pub network: String,
    /// It must stay up at least this long.
    pub grace: Duration,
    /// Give up after this long.
    pub timeout: Duration,
    /// A one-shot: exiting 0 is success.
    pub one_shot: bool,
}

/// One run of a container: when it started and its restart count. Docker's restart policy
/// starts a crashed container again as a new run (an explicit start resets the count to 0).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunId {
    pub started_at: String,
    pub restarts: i64,
}

impl RunId {
    pub fn of(c: &ContainerInfo) -> Option<RunId> {
        Some(RunId {
            started_at: c.started_at.clone()?,
            restarts: c.restart_count,
        })
    }
}

/// Which run the gate holds a container to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// dk has just started it: its first run (restart count 0).
    Start,
    /// The run that is current when the wait begins.
    Now,
}

/// A container that became ready.
#[derive(Debug, Clone)]
pub struct Ready {
    /// When it first answered: its declared port when it has one, else its healthcheck
    /// (healthy). From then on it served, even while the healthcheck or grace period ran.
    pub answered: Option<Instant>,
    /// The run that was ready (what `verify` holds it to).
    pub run: Option<RunId>,
}

/// Why a container did not become ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    pub reason: String,
    /// The last output of its healthcheck, when it has one.
    pub health_log: Option<String>,
    pub exit_code: Option<i64>,
}

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)?;
        if let Some(l) = &self.health_log {
            write!(f, " (last health probe: {l})")?;
        }
        Ok(())
    }
}

/// Seconds since the epoch (the daemon's event filter takes them).
fn epoch_secs() -> f64 {
    crate::units::since_epoch().as_secs_f64()
}

/// Why the container `c` is not ready as of one inspection, whatever it is waiting for:
/// exited, restarted (another run than `run`, or restarting now), or unhealthy.
async fn broken(
    reads: &Lookup,
    c: &ContainerInfo,
    run: Option<&RunId>,
    since: f64,
    one_shot: bool,
) -> Result<Option<NotReady>> {
    let restarted =
        !one_shot && (c.restarting || run.is_some_and(|r| RunId::of(c).as_ref() != Some(r)));
    if restarted {
        // Docker started it again: how the crashed run ended is in the daemon's events.
        let codes = reads.exits_since(&c.id, since).await.unwrap_or_default();
        let code = codes
            .last()
            .copied()
            .or(c.restarting.then_some(c.exit_code));
        return Ok(Some(NotReady {
            reason: format!(
                "it crashed and its restart policy started it again (restart {}{}): ready means one run that stays up",
                c.restart_count,
                code.map(|c| format!("; the crashed run exited with code {c}"))
                    .unwrap_or_default()
            ),
            health_log: c.health_log.clone(),
            exit_code: code,
        }));
    }
    if !c.running {
        if one_shot && c.exit_code == 0 {
            return Ok(None);
        }
        return Ok(Some(NotReady {
            reason: format!(
                "the container exited with code {}{}",
                c.exit_code,
                if c.oom_killed {
                    " (killed: out of memory)"
                } else {
                    ""
                }
            ),
            health_log: c.health_log.clone(),
            exit_code: Some(c.exit_code),
        }));
    }
    if c.health == Some(Health::Unhealthy) {
        return Ok(Some(NotReady {
            reason: "the healthcheck reports unhealthy".into(),
            health_log: c.health_log.clone(),
            exit_code: None,
        }));
    }
    Ok(None)
}

/// Wait until container `id` is ready by `r`, in one run (`since`). `Ok(Err(why))` when it
/// is not (exited, restarted, unhealthy, timed out); `Err` only when the daemon fails.
pub async fn wait(
    reads: &Lookup,
    id: &str,
    r: &Readiness,
    since: Since,
) -> Result<std::result::Result<Ready, NotReady>> {
    let started = Instant::now();
    let since_epoch = epoch_secs() - 1.0;
    let deadline = started + r.timeout.max(r.grace);
    let mut port_ready = r.port.is_none();
    let mut answered = None;
    let mut run: Option<RunId> = None;
    loop {
        let c = reads
            .inspect_container(id)
            .await?
            .ok_or_else(|| Error::container(id, format!("container {id} disappeared")))?;
        if run.is_none() && c.running && !c.restarting {
            // Held to its first run when dk just started it: a restart before this first
            // look is a crash too.
            run = RunId::of(&c).map(|r| match since {
                Since::Start => RunId { restarts: 0, ..r },
                Since::Now => r,
            });
        }
        if let Some(why) = broken(reads, &c, run.as_ref(), since_epoch, r.one_shot).await? {
            return Ok(Err(why));
        }
        if !c.running {
            // A one-shot that exited 0.
            return Ok(Ok(Ready { answered, run }));
        }
        let health = c.health.unwrap_or(Health::None);
        if !port_ready && let Some(port) = r.port {
            port_ready = probe(&c, &r.network, port, r.http.as_deref()).await;
        }
        // A container has a health state exactly when it has a healthcheck.
        let health_ready = c.health.is_none() || health == Health::Healthy;
        // It serves from the moment its declared port answers (its healthcheck may run
        // only every few seconds); without a port, from when it is healthy.
        let serving = match r.port {
            Some(_) => port_ready,
            None => c.health.is_some() && health_ready,
        };
        if c.running && serving && answered.is_none() {
            answered = Some(Instant::now());
        }
        let graced = started.elapsed() >= r.grace;
        if c.running && health_ready && port_ready && graced && !r.one_shot {
            return Ok(Ok(Ready { answered, run }));
        }
        if Instant::now() >= deadline {
            let what = if !health_ready {
                format!("the healthcheck is still `{}`", health.label())
            } else if !port_ready {
                match &r.http {
                    Some(path) => format!(
                        "port {} does not answer GET {path} with a status below 500",
                        r.port.unwrap_or(0)
                    ),
                    None => format!("port {} does not accept connections", r.port.unwrap_or(0)),
                }
            } else if r.one_shot {
                "the one-shot container is still running".to_string()
            } else {
                "the container is restarting".to_string()
            };
            return Ok(Err(NotReady {
                reason: format!("not ready within {}: {what}", human_duration(r.timeout)),
                health_log: c.health_log.clone(),
                exit_code: None,
            }));
        }
        // Poll closely at first (a replaced service is down until its port answers), then
        // back off: a slow starter is not worth more than five inspections a second.
        let pause = if started.elapsed() < Duration::from_secs(3) {
            50
        } else {
            200
        };
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}

/// At the moment of a switch: is the run found ready (`run`) still the one running, still
/// healthy and, with a declared port, still answering? `Ok(Err(why))` when not.
pub async fn verify(
    reads: &Lookup,
    id: &str,
    run: Option<&RunId>,
    r: &Readiness,
) -> Result<std::result::Result<(), NotReady>> {
    let Some(c) = reads.inspect_container(id).await? else {
        return Ok(Err(NotReady {
            reason: format!("container {id} disappeared"),
            health_log: None,
            exit_code: None,
        }));
    };
    if let Some(why) = broken(reads, &c, run, epoch_secs() - 60.0, false).await? {
        return Ok(Err(why));
    }
    if c.health == Some(Health::Starting) {
        return Ok(Err(NotReady {
            reason: "its healthcheck is `starting` again".into(),
            health_log: c.health_log.clone(),
            exit_code: None,
        }));
    }
    if let Some(port) = r.port
        && !probe(&c, &r.network, port, r.http.as_deref()).await
    {
        return Ok(Err(NotReady {
            reason: format!("port {port} stopped answering"),
            health_log: None,
            exit_code: None,
        }));
    }
    Ok(Ok(()))
}

/// Does `port` of the container answer (a connection, or an HTTP status below 500)?
async fn probe(c: &ContainerInfo, network: &str, port: u16, http: Option<&str>) -> bool {
    let Some(ip) = c.ips.get(network) else {
        return false;
    };
    let Ok(addr) = format!("{ip}:{port}").parse::<SocketAddr>() else {
        return false;
    };
    let limit = Duration::from_millis(500);
    match http {
        None => tokio::time::timeout(limit, tokio::net::TcpStream::connect(addr))
            .await
            .is_ok_and(|r| r.is_ok()),
        Some(path) => tokio::time::timeout(limit * 4, crate::checks::http_get(addr, path))
            .await
            .is_ok_and(|r| r.is_ok_and(|(status, _)| status < 500)),
    }
}
