//! Container specs for test and live launches, from a node's manifest and the workspace
//! defaults. Both roles share the same security defaults: non-root (refused unless the
//! manifest says why), every capability dropped but those added back, no-new-privileges,
//! read-only root filesystem with a tmpfs /tmp.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::docker::{Bind, ContainerSpec, Healthcheck, ImageFacts};
use crate::error::{Diagnostic, Result};
use crate::labels::{self, Role};
use crate::manifest::LogSettings;
use crate::workspace::{Node, Workspace};

/// `<namespace>-<name>` for live, `<namespace>-test-<name>` for tests ('/' in a namespace
/// becomes '-', the `@` of another platform's node `.`: `web.arm64`).
pub fn container_name(ws: &Workspace, node: &str, role: Role) -> String {
    let ns = ws.namespace.replace('/', "-");
    let node = name_part(node);
    match role {
        Role::Test => format!("{ns}-test-{node}"),
        Role::Job => format!("{ns}-job-{node}"),
        _ => format!("{ns}-{node}"),
    }
}

/// A node's name as part of a container name: the `@` of another platform's node (which
/// Docker refuses there) becomes `.`.
pub fn name_part(node: &str) -> String {
    node.replace(crate::workspace::VARIANT_SEP, ".")
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

fn log_config(l: &LogSettings) -> (String, BTreeMap<String, String>) {
    let driver = match l.driver.as_deref().unwrap_or("json") {
        "json" => "json-file",
        other => other,
    };
    let mut opts = l.options.clone();
    if driver == "json-file" || driver == "local" {
        opts.insert(
            "max-size".into(),
            l.max_size
                .as_ref()
                .map(|s| s.text().to_string())
                .unwrap_or_else(|| "5m".into()),
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
    let eff = &node.run;
    let test = &node.manifest.test;
    let user = run.user.clone().unwrap_or_else(|| input.image.user.clone());
    if is_root_user(&user) && run.allow_root.is_none() {
        // A definition problem: the manifest (or the Dockerfile's USER) must change.
        return Err(crate::error::Error::definition(
            Diagnostic::new(
                node.manifest_path
                    .clone()
                    .unwrap_or_else(|| format!("{}/container.toml", node.rel_dir)),
                format!(
                    "{} would run as root (user `{}`), which dk refuses",
                    node.name,
                    if user.is_empty() { "root" } else { &user },
                ),
            )
            .help(
                "set USER in the Dockerfile or `user` in [run]; or, if it must, `allow_root = \"<why>\"`",
            ),
        ));
    }

    let mut labels = labels::container(&ws.id, input.role, &node.name, &input.image.id);
    for (k, v) in &run.labels {
        labels.insert_missing(k, v);
    }

    let mut env: Vec<String> = run.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut binds = input.binds;
    if let Some(tz) = &run.tz {
        let (bind, var) = time_zone(tz)?;
        binds.push(bind);
        env.push(var);
    }
    if input.role == Role::Test {
        env.extend(test.env.iter().map(|(k, v)| format!("{k}={v}")));
    }

    let live_net = &ws.live_network;
    let network = match run.network.as_deref() {
        None | Some("live") => {
            let ip = run.ip.as_ref().map(|s| *s.get_ref().get());
            match input.role {
                // A static address needs both subnets (checked when the workspace loads).
                Role::Test => Some((
                    ws.test_network.name.clone(),
                    ip.and_then(|ip| {
                        Some(
                            live_net
                                .subnet?
                                .mirror(ip, &ws.test_network.subnet?)
                                .to_string(),
                        )
                    }),
                )),
                // A job runs beside the service: never on its address.
                Role::Job => Some((live_net.name.clone(), None)),
                _ => Some((live_net.name.clone(), ip.map(|ip| ip.to_string()))),
            }
        }
        Some("none") => Some(("none".to_string(), None)),
        Some(other) => match input.role {
            Role::Test => Some((ws.test_network.name.clone(), None)),
            _ => Some((other.to_string(), None)),
        },
    };

    let ports = match input.role {
        Role::Test => input
            .publish_loopback
            .iter()
            .map(|p| (format!("{p}/tcp"), "127.0.0.1".to_string(), 0))
            .collect(),
        // The service holds its ports.
        Role::Job => Vec::new(),
        _ => run
            .ports
            .iter()
            .map(|p| {
                let m = p.get_ref().get();
                (
                    format!("{}/{}", m.container_port, m.proto),
                    m.host_ip.clone().unwrap_or_else(|| "0.0.0.0".into()),
                    m.host_port,
                )
            })
            .collect(),
    };

    let read_only = eff.read_only;
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

    let memory = eff.memory.map(|m| m as i64);
    let stop_timeout = eff.stop_timeout.map(|t| t.as_secs() as i64);
    let healthcheck = match &run.healthcheck {
        Some(h) => {
            let d = |v: &Option<crate::units::DurationText>, default: u64| {
                v.as_ref()
                    .map(|t| *t.get())
                    .unwrap_or(Duration::from_secs(default))
            };
            Some(Healthcheck {
                command: h.command.clone(),
                interval: d(&h.interval, 10),
                timeout: d(&h.timeout, 5),
                retries: h.retries.unwrap_or(3),
                start_period: d(&h.start_period, 0),
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
        Role::Live | Role::Build => {
            let r = eff.restart.clone();
            (
                Some((
                    r.policy.unwrap_or_else(|| "on-failure".into()),
                    r.max_retries.unwrap_or(5),
                )),
                Some(log_config(&eff.log)),
            )
        }
        // A job's output is streamed to the caller, and logged like the service's.
        Role::Job => (None, Some(log_config(&eff.log))),
        Role::Test => (
            None,
            Some(log_config(&LogSettings {
                driver: Some("json".into()),
                max_size: Some(crate::units::Text::parse("1m").expect("a valid size")),
                max_files: Some(1),
                options: Default::default(),
            })),
        ),
    };
    let cmd = match input.role {
        Role::Test => test.command.clone().or_else(|| run.command.clone()),
        _ => run.command.clone(),
    };

    // Tests and jobs see the secrets the live container sees.
    let secrets = match input.role {
        Role::Build => Vec::new(),
        _ => crate::secrets::mounts(ws, node)?,
    };

    Ok(ContainerSpec {
        secrets,
        name: container_name(ws, &node.name, input.role),
        image: input.image.id.to_string(),
        labels,
        env,
        cmd,
        user: run.user.clone(),
        // The old system's behaviour: a container's hostname is its name.
        hostname: Some(
            run.hostname
                .clone()
                .unwrap_or_else(|| container_name(ws, &node.name, input.role)),
        ),
        // On the live network a container is reached by its node's name, so that a new one
        // started beside it (start-first) answers to the same name.
        aliases: match (input.role, &network) {
            (Role::Live, Some((net, _))) if *net == ws.live_network.name => {
                std::iter::once(node.name.clone())
                    .chain(run.network_aliases.iter().cloned())
                    .collect()
            }
            _ => Vec::new(),
        },
        extra_networks: match input.role {
            Role::Test => Vec::new(),
            _ => run.networks.clone(),
        },
        network,
        ports,
        binds,
        tmpfs,
        cap_add: run.cap_add.clone(),
        read_only,
        no_new_privileges: true,
        memory,
        nano_cpus: eff.cpus.map(|c| (c * 1e9) as i64),
        pids: eff.pids,
        restart,
        log,
        init: eff
            .init
            .unwrap_or(!entrypoint_is_init(&input.image.entrypoint)),
        stop_signal: run.stop_signal.clone(),
        stop_timeout,
        healthcheck,
        devices: run.devices.clone(),
        extra_hosts: run.extra_hosts.clone(),
        security_opt: run.security_opt.clone(),
        userns_mode: run.userns.clone(),
        sysctls: run.sysctls.clone(),
        ulimits: run
            .ulimits
            .iter()
            .map(|(name, l)| {
                let (soft, hard) = l.soft_hard();
                (name.clone(), soft, hard)
            })
            .collect(),
        dns: run.dns.clone(),
        dns_search: run.dns_search.clone(),
        entrypoint: run.entrypoint.clone(),
        working_dir: run.working_dir.clone(),
        group_add: run.group_add.clone(),
        shm_size: run.shm_size.as_ref().map(|s| s.get().0 as i64),
        tty: run.tty,
        stdin_open: run.stdin_open,
        stdin_once: false,
    })
}

/// `[run] tz`: the host's zoneinfo, read-only, and `TZ`. The zone must exist on the host.
fn time_zone(tz: &str) -> Result<(Bind, String)> {
    let zoneinfo = std::path::Path::new("/usr/share/zoneinfo");
    if !zoneinfo.join(tz).is_file() {
        return Err(crate::error::Error::host(
            format!(
                "the time zone {tz} is not in the host's {}",
                zoneinfo.display()
            ),
            Some("install the tzdata package on the host, or check `[run] tz`".into()),
        ));
    }
    Ok((
        Bind {
            host: zoneinfo.display().to_string(),
            target: zoneinfo.display().to_string(),
            read_only: true,
        },
        format!("TZ={tz}"),
    ))
}

/// Hash of everything that decides how a live container runs; stored as the
/// `dk.settings-hash` label so `dk up` knows when to replace it.
pub fn settings_hash(spec: &ContainerSpec) -> String {
    let mut s = spec.clone();
    s.labels.remove(labels::SETTINGS_HASH);
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
