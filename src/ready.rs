//! Readiness: when a started container counts as up. Used by test launches (the implicit
//! smoke check) and live starts (start waves). The rule, in order: a container with a
//! healthcheck is ready when healthy; else, with a declared port, when the port accepts a
//! connection (and, with an HTTP path, answers it with a status below 500); and in every
//! case it must have stayed up for the grace period. A one-shot is ready when it exited 0.
//! Everything is bounded by a timeout.

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

/// A container that became ready.
#[derive(Debug, Clone, Copy)]
pub struct Ready {
    /// When it first answered: its declared port when it has one, else its healthcheck
    /// (healthy). From then on it served, even while the healthcheck or grace period ran.
    pub answered: Option<Instant>,
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

/// Wait until container `id` is ready by `r`. `Ok(Err(why))` when it is not (exited,
/// unhealthy, timed out); `Err` only when the daemon fails.
pub async fn wait(
    reads: &Lookup,
    id: &str,
    r: &Readiness,
) -> Result<std::result::Result<Ready, NotReady>> {
    let started = Instant::now();
    let deadline = started + r.timeout.max(r.grace);
    let mut port_ready = r.port.is_none();
    let mut answered = None;
    loop {
        let c = reads
            .inspect_container(id)
            .await?
            .ok_or_else(|| Error::container(id, format!("container {id} disappeared")))?;
        if !c.running && !c.restarting {
            if r.one_shot && c.exit_code == 0 {
                return Ok(Ok(Ready { answered }));
            }
            return Ok(Err(NotReady {
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
        let health = c.health.unwrap_or(Health::None);
        if health == Health::Unhealthy {
            return Ok(Err(NotReady {
                reason: "the healthcheck reports unhealthy".into(),
                health_log: c.health_log.clone(),
                exit_code: None,
            }));
        }
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
            return Ok(Ok(Ready { answered }));
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
