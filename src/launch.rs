//! Container specs for test and live launches, from a node's manifest and the workspace
//! defaults. Both roles share the same security defaults: non-root (refused unless the
//! manifest says why), every capability dropped but those added back, no-new-privileges,
//! read-only root filesystem with a tmpfs /tmp.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::config::RunDefaults;
use crate::docker::containers::{Bind, ContainerSpec, Healthcheck};
use crate::error::{Error, Result};
use crate::manifest::{LogSettings, PortMapping, RestartSettings, RunSettings};
use crate::units::{parse_duration, parse_size};
use crate::workspace::{Node, Workspace};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Test,
    Live,
}

impl Role {
    pub fn label(&self) -> &'static str {
        match self {
            Role::Test => "test",
            Role::Live => "live",
        }
    }
}

/// `<namespace>-<name>` for live, `<namespace>-test-<name>` for tests ('/' in a namespace
/// becomes '-').
pub fn container_name(ws: &Workspace, node: &str, role: Role) -> String {
    let ns = ws.namespace.replace('/', "-");
    match role {
        Role::Live => format!("{ns}-{node}"),
        Role::Test => format!("{ns}-test-{node}"),
    }
}

/// What dk needs to know about an image to launch it.
#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    pub id: String,
    pub user: String,
    pub entrypoint: Vec<String>,
    pub has_healthcheck: bool,
    /// The image's HEALTHCHECK command (exec form, or `["CMD-SHELL", ...]`) and timeout.
    pub healthcheck: Option<(Vec<String>, Duration, i64)>,
}

impl ImageFacts {
    pub fn from_inspect(i: &bollard::models::ImageInspect) -> ImageFacts {
        let cfg = i.config.clone().unwrap_or_default();
        let hc = cfg.healthcheck.clone().filter(|h| {
            h.test
                .as_ref()
                .is_some_and(|t| !t.is_empty() && t[0] != "NONE")
        });
        ImageFacts {
            id: i.id.clone().unwrap_or_default(),
            user: cfg.user.unwrap_or_default(),
            entrypoint: cfg.entrypoint.unwrap_or_default(),
            has_healthcheck: hc.is_some(),
            healthcheck: hc.map(|h| {
                (
                    h.test.unwrap_or_default(),
                    Duration::from_nanos(h.timeout.unwrap_or(0).max(0) as u64),
                    h.retries.unwrap_or(3),
                )
            }),
        }
    }
}

/// A user string that means uid 0.
pub fn is_root_user(user: &str) -> bool {
    let u = user.split(':').next().unwrap_or("");
    u.is_empty() || u == "root" || u == "0"
}

const INITS: [&str; 5] = [
    "tini",
    "tini-static",
    "dumb-init",
    "docker-init",
    "s6-svscan",
];

fn entrypoint_is_init(entrypoint: &[String]) -> bool {
    entrypoint.first().is_some_and(|e| {
        let base = e.rsplit('/').next().unwrap_or(e);
        INITS.contains(&base) || e == "/init"
    })
}

/// Run settings with the workspace defaults filled in.
pub struct Effective<'a> {
    pub run: &'a RunSettings,
    pub defaults: &'a RunDefaults,
}

impl Effective<'_> {
    pub fn read_only(&self) -> bool {
        self.run
            .read_only
            .or(self.defaults.read_only)
            .unwrap_or(true)
    }
    fn memory(&self) -> Option<String> {
        self.run
            .memory
            .clone()
            .or_else(|| self.defaults.memory.clone())
    }
    fn cpus(&self) -> Option<f64> {
        self.run.cpus.or(self.defaults.cpus)
    }
    fn pids(&self) -> Option<i64> {
        self.run.pids.or(self.defaults.pids)
    }
    fn restart(&self) -> RestartSettings {
        let mut r = self.defaults.restart.clone().unwrap_or_default();
        if let Some(o) = &self.run.restart {
            if o.policy.is_some() {
                r.policy = o.policy.clone();
            }
            if o.max_retries.is_some() {
                r.max_retries = o.max_retries;
            }
        }
        r
    }
    fn log(&self) -> LogSettings {
        let mut l = self.defaults.log.clone().unwrap_or_default();
        if let Some(o) = &self.run.log {
            if o.driver.is_some() {
                l.driver = o.driver.clone();
            }
            if o.max_size.is_some() {
                l.max_size = o.max_size.clone();
            }
            if o.max_files.is_some() {
                l.max_files = o.max_files;
            }
        }
        l
    }
    fn init(&self) -> Option<bool> {
        self.run.init.or(self.defaults.init)
    }
    fn stop_timeout(&self) -> Option<String> {
        self.run
            .stop_timeout
            .clone()
            .or_else(|| self.defaults.stop_timeout.clone())
    }
}

fn log_config(l: &LogSettings) -> (String, BTreeMap<String, String>) {
    let driver = match l.driver.as_deref().unwrap_or("json") {
        "json" => "json-file",
        other => other,
    };
    let mut opts = BTreeMap::new();
    if driver == "json-file" || driver == "local" {
        opts.insert(
            "max-size".into(),
            l.max_size.clone().unwrap_or_else(|| "5m".into()),
        );
        opts.insert("max-file".into(), l.max_files.unwrap_or(3).to_string());
    }
    (driver.to_string(), opts)
}

/// Everything a launch needs besides the node.
pub struct LaunchInput<'a> {
    pub role: Role,
    pub image: &'a ImageFacts,
    pub binds: Vec<Bind>,
    /// Test only: container ports to publish on 127.0.0.1 (any free host port).
    pub publish_loopback: Vec<u16>,
}

pub fn spec(ws: &Workspace, node: &Node, input: LaunchInput<'_>) -> Result<ContainerSpec> {
    let run = &node.manifest.run;
    let eff = Effective {
        run,
        defaults: &ws.defaults,
    };
    let test = &node.manifest.test;
    let user = run.user.clone().unwrap_or_else(|| input.image.user.clone());
    if is_root_user(&user) && run.allow_root.is_none() {
        return Err(Error::Failed(format!(
            "{} would run as root (user `{}`), which dk refuses\n  help: set USER in the Dockerfile or `user` in [run] of {}; or, if it must, `allow_root = \"<why>\"`",
            node.name,
            if user.is_empty() { "root" } else { &user },
            node.manifest_path
                .clone()
                .unwrap_or_else(|| format!("{}/container.toml", node.rel_dir))
        )));
    }

    let mut labels = BTreeMap::new();
    labels.insert("dk.workspace".to_string(), ws.id.clone());
    labels.insert("dk.role".to_string(), input.role.label().to_string());
    labels.insert("dk.node".to_string(), node.name.clone());
    labels.insert("dk.image".to_string(), input.image.id.clone());

    let mut env: Vec<String> = run.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if input.role == Role::Test {
        env.extend(test.env.iter().map(|(k, v)| format!("{k}={v}")));
    }

    let live_net = &ws.live_network;
    let network = match run.network.as_deref() {
        None | Some("live") => {
            let ip = run.ip.as_ref().map(|s| s.get_ref().clone());
            match input.role {
                Role::Live => Some((live_net.name.clone(), ip)),
                Role::Test => Some((
                    ws.test_network.name.clone(),
                    ip.and_then(|ip| ip.parse::<Ipv4Addr>().ok()).map(|ip| {
                        live_net
                            .subnet
                            .mirror(ip, &ws.test_network.subnet)
                            .to_string()
                    }),
                )),
            }
        }
        Some("none") => Some(("none".to_string(), None)),
        Some(other) => match input.role {
            Role::Live => Some((other.to_string(), None)),
            Role::Test => Some((ws.test_network.name.clone(), None)),
        },
    };

    let ports = match input.role {
        Role::Live => run
            .ports
            .iter()
            .map(|p| {
                let m = PortMapping::parse(p.get_ref()).map_err(Error::Failed)?;
                Ok((
                    format!("{}/{}", m.container_port, m.proto),
                    m.host_ip.unwrap_or_else(|| "0.0.0.0".into()),
                    m.host_port,
                ))
            })
            .collect::<Result<Vec<_>>>()?,
        Role::Test => input
            .publish_loopback
            .iter()
            .map(|p| (format!("{p}/tcp"), "127.0.0.1".to_string(), 0))
            .collect(),
    };

    let read_only = eff.read_only();
    let mut tmpfs: Vec<(String, String)> = run
        .tmpfs
        .iter()
        .map(|t| match t.split_once(':') {
            Some((p, o)) => (p.to_string(), o.to_string()),
            None => (t.clone(), String::new()),
        })
        .collect();
    if read_only && !tmpfs.iter().any(|(p, _)| p == "/tmp") {
        tmpfs.push(("/tmp".into(), "rw,noexec,nosuid,size=16m".into()));
    }

    let memory = match eff.memory() {
        Some(m) => Some(parse_size(&m).map_err(Error::Failed)? as i64),
        None => None,
    };
    let stop_timeout = match eff.stop_timeout() {
        Some(t) => Some(parse_duration(&t).map_err(Error::Failed)?.as_secs() as i64),
        None => None,
    };
    let healthcheck = match &run.healthcheck {
        Some(h) => {
            let d = |v: &Option<String>, default: u64| -> Result<Duration> {
                match v {
                    Some(s) => parse_duration(s).map_err(Error::Failed),
                    None => Ok(Duration::from_secs(default)),
                }
            };
            Some(Healthcheck {
                command: h.command.clone(),
                interval: d(&h.interval, 10)?,
                timeout: d(&h.timeout, 5)?,
                retries: h.retries.unwrap_or(3),
                start_period: d(&h.start_period, 0)?,
            })
        }
        // Tests wait for the image's own healthcheck: probe it every second instead of
        // at the image's interval, so a test does not sit idle until the first probe.
        None => match (&input.image.healthcheck, input.role) {
            (Some((cmd, timeout, retries)), Role::Test) => Some(Healthcheck {
                command: cmd.clone(),
                interval: Duration::from_secs(1),
                timeout: if timeout.is_zero() {
                    Duration::from_secs(5)
                } else {
                    *timeout
                },
                retries: *retries,
                start_period: Duration::ZERO,
            }),
            _ => None,
        },
    };
    let (restart, log) = match input.role {
        Role::Live => {
            let r = eff.restart();
            (
                Some((
                    r.policy.unwrap_or_else(|| "on-failure".into()),
                    r.max_retries.unwrap_or(5),
                )),
                Some(log_config(&eff.log())),
            )
        }
        Role::Test => (
            None,
            Some(log_config(&LogSettings {
                driver: Some("json".into()),
                max_size: Some("1m".into()),
                max_files: Some(1),
            })),
        ),
    };
    let cmd = match input.role {
        Role::Test => test.command.clone().or_else(|| run.command.clone()),
        Role::Live => run.command.clone(),
    };

    Ok(ContainerSpec {
        name: container_name(ws, &node.name, input.role),
        image: input.image.id.clone(),
        labels,
        env,
        cmd,
        user: run.user.clone(),
        hostname: run.hostname.clone(),
        network,
        ports,
        binds: input.binds,
        tmpfs,
        cap_add: run.cap_add.clone(),
        read_only,
        no_new_privileges: true,
        memory,
        nano_cpus: eff.cpus().map(|c| (c * 1e9) as i64),
        pids: eff.pids(),
        restart,
        log,
        init: eff
            .init()
            .unwrap_or(!entrypoint_is_init(&input.image.entrypoint)),
        stop_signal: run.stop_signal.clone(),
        stop_timeout,
        healthcheck,
        devices: run.devices.clone(),
        extra_hosts: run.extra_hosts.clone(),
    })
}

/// Hash of everything that decides how a live container runs; stored as the
/// `dk.settings-hash` label so `dk up` knows when to replace it.
pub fn settings_hash(spec: &ContainerSpec) -> String {
    let mut s = spec.clone();
    s.labels.remove("dk.settings-hash");
    let json = serde_json::to_vec(&s).expect("serialize spec");
    blake3::hash(&json).to_hex()[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_users() {
        assert!(is_root_user(""));
        assert!(is_root_user("root"));
        assert!(is_root_user("0:0"));
        assert!(!is_root_user("app"));
        assert!(!is_root_user("1000:1000"));
    }

    #[test]
    fn inits_are_recognised() {
        assert!(entrypoint_is_init(&["/usr/bin/tini".into(), "--".into()]));
        assert!(!entrypoint_is_init(&["/bin/httpd".into()]));
        assert!(!entrypoint_is_init(&[]));
    }
}
