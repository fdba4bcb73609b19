//! Containers: create from a `ContainerSpec`, start, stop, remove, inspect, list by label,
//! logs, exec, and reading files through the archive API.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerSummary, DeviceMapping,
    EndpointIpamConfig, EndpointSettings, ExecConfig, HealthConfig, HealthStatusEnum, HostConfig,
    HostConfigLogConfig, NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, DownloadFromContainerOptions, ListContainersOptions, LogsOptions,
    RemoveContainerOptions, StartContainerOptions, StopContainerOptions,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use super::{Daemon, Lookup, is_not_found};
use crate::error::{Error, Result};
use crate::ids::ImageId;

/// A bind mount: host path -> container path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bind {
    pub host: String,
    pub target: String,
    pub read_only: bool,
}

/// A run-time secret: the file `source` on the machine running dk, read-only at `target`.
/// Only its keyed fingerprint goes into the settings hash; never its content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretMount {
    pub name: String,
    pub source: String,
    pub target: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Healthcheck {
    pub command: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: i64,
    pub start_period: Duration,
}

/// Everything dk decides about a container, independent of bollard's types. Its JSON form
/// is hashed into the `dk.settings-hash` label to tell when a live container must be replaced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub labels: crate::labels::Labels,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    /// Network name and optional static IPv4 address.
    pub network: Option<(String, Option<String>)>,
    /// Names other containers on that network reach it by (besides its own name).
    pub aliases: Vec<String>,
    /// (container port "8080/tcp", host ip, host port) — host port 0 means "any free one".
    pub ports: Vec<(String, String, u16)>,
    pub binds: Vec<Bind>,
    /// Bind-mounted read-only here; Swarm secrets on Swarm.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretMount>,
    pub tmpfs: Vec<(String, String)>,
    pub cap_add: Vec<String>,
    pub read_only: bool,
    pub no_new_privileges: bool,
    pub memory: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub pids: Option<i64>,
    /// Restart policy name and retry limit.
    pub restart: Option<(String, i64)>,
    /// Log driver and its options.
    pub log: Option<(String, std::collections::BTreeMap<String, String>)>,
    pub init: bool,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    pub healthcheck: Option<Healthcheck>,
    pub devices: Vec<String>,
    pub extra_hosts: Vec<String>,
    /// More security options (besides `no-new-privileges`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    /// `host` to opt out of the daemon's user-namespace remapping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userns_mode: Option<String>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub sysctls: std::collections::BTreeMap<String, String>,
    /// (name, soft, hard).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ulimits: Vec<(String, i64, i64)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    /// Other networks it joins once created (with the same aliases).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_networks: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<i64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tty: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stdin_open: bool,
    /// Close stdin when the attached client disconnects (one-off containers).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stdin_once: bool,
}

impl Healthcheck {
    /// As the API takes it (containers and Swarm tasks alike).
    pub(super) fn config(&self) -> HealthConfig {
        HealthConfig {
            // An image's own test already starts with CMD or CMD-SHELL.
            test: Some(
                if self
                    .command
                    .first()
                    .is_some_and(|c| c == "CMD" || c == "CMD-SHELL")
                {
                    self.command.clone()
                } else {
                    std::iter::once("CMD".to_string())
                        .chain(self.command.clone())
                        .collect()
                },
            ),
            interval: Some(nanos(self.interval)),
            timeout: Some(nanos(self.timeout)),
            retries: Some(self.retries),
            start_period: Some(nanos(self.start_period)),
            start_interval: None,
        }
    }
}

/// (name, soft, hard) as the API takes them; None when there are none.
pub(super) fn ulimits(
    list: &[(String, i64, i64)],
) -> Option<Vec<bollard::models::ResourcesUlimits>> {
    (!list.is_empty()).then(|| {
        list.iter()
            .map(|(name, soft, hard)| bollard::models::ResourcesUlimits {
                name: Some(name.clone()),
                soft: Some(*soft),
                hard: Some(*hard),
            })
            .collect()
    })
}

pub(super) fn nanos(d: Duration) -> i64 {
    d.as_nanos() as i64
}

impl ContainerSpec {
    /// A spec with nothing set but its name, image and labels (labels come only from
    /// `labels.rs`, so there is no empty spec).
    pub fn bare(name: String, image: String, labels: crate::labels::Labels) -> ContainerSpec {
        ContainerSpec {
            name,
            image,
            labels,
            env: Default::default(),
            cmd: Default::default(),
            user: Default::default(),
            hostname: Default::default(),
            network: Default::default(),
            aliases: Default::default(),
            ports: Default::default(),
            binds: Default::default(),
            secrets: Default::default(),
            tmpfs: Default::default(),
            cap_add: Default::default(),
            read_only: Default::default(),
            no_new_privileges: Default::default(),
            memory: Default::default(),
            nano_cpus: Default::default(),
            pids: Default::default(),
            restart: Default::default(),
            log: Default::default(),
            init: Default::default(),
            stop_signal: Default::default(),
            stop_timeout: Default::default(),
            healthcheck: Default::default(),
            devices: Default::default(),
            extra_hosts: Default::default(),
            security_opt: Default::default(),
            userns_mode: Default::default(),
            sysctls: Default::default(),
            ulimits: Default::default(),
            dns: Default::default(),
            dns_search: Default::default(),
            extra_networks: Default::default(),
            entrypoint: Default::default(),
            working_dir: Default::default(),
            group_add: Default::default(),
            shm_size: Default::default(),
            tty: Default::default(),
            stdin_open: Default::default(),
            stdin_once: Default::default(),
        }
    }

    fn to_body(&self) -> ContainerCreateBody {
        let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
        for (cport, ip, hport) in &self.ports {
            port_bindings
                .entry(cport.clone())
                .or_default()
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: Some(ip.clone()),
                    host_port: Some(if *hport == 0 {
                        String::new()
                    } else {
                        hport.to_string()
                    }),
                });
        }
        let restart_policy = self.restart.as_ref().map(|(name, retries)| RestartPolicy {
            name: Some(match name.as_str() {
                "always" => RestartPolicyNameEnum::ALWAYS,
                "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
                "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
                _ => RestartPolicyNameEnum::NO,
            }),
            maximum_retry_count: (name == "on-failure").then_some(*retries),
        });
        let mut security_opt = Vec::new();
        if self.no_new_privileges {
            security_opt.push("no-new-privileges:true".to_string());
        }
        security_opt.extend(self.security_opt.iter().cloned());
        let host_config = HostConfig {
            binds: Some(
                self.binds
                    .iter()
                    .map(|b| {
                        format!(
                            "{}:{}:{}",
                            b.host,
                            b.target,
                            if b.read_only { "ro" } else { "rw" }
                        )
                    })
                    .chain(
                        self.secrets
                            .iter()
                            .map(|s| format!("{}:{}:ro", s.source, s.target)),
                    )
                    .collect(),
            ),
            port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
            tmpfs: (!self.tmpfs.is_empty()).then(|| self.tmpfs.iter().cloned().collect()),
            cap_drop: Some(vec!["ALL".to_string()]),
            cap_add: (!self.cap_add.is_empty()).then(|| self.cap_add.clone()),
            readonly_rootfs: Some(self.read_only),
            security_opt: Some(security_opt),
            memory: self.memory,
            nano_cpus: self.nano_cpus,
            pids_limit: self.pids,
            restart_policy,
            log_config: self.log.as_ref().map(|(driver, opts)| HostConfigLogConfig {
                typ: Some(driver.clone()),
                config: Some(opts.clone().into_iter().collect()),
            }),
            init: Some(self.init),
            network_mode: self.network.as_ref().map(|(n, _)| n.clone()),
            devices: (!self.devices.is_empty()).then(|| {
                self.devices
                    .iter()
                    .map(|d| {
                        let mut parts = d.splitn(3, ':');
                        let host = parts.next().unwrap_or_default().to_string();
                        let cont = parts
                            .next()
                            .map(String::from)
                            .unwrap_or_else(|| host.clone());
                        let perms = parts.next().unwrap_or("rwm").to_string();
                        DeviceMapping {
                            path_on_host: Some(host),
                            path_in_container: Some(cont),
                            cgroup_permissions: Some(perms),
                        }
                    })
                    .collect()
            }),
            extra_hosts: (!self.extra_hosts.is_empty()).then(|| self.extra_hosts.clone()),
            userns_mode: self.userns_mode.clone(),
            sysctls: (!self.sysctls.is_empty()).then(|| self.sysctls.clone().into_iter().collect()),
            ulimits: ulimits(&self.ulimits),
            dns: (!self.dns.is_empty()).then(|| self.dns.clone()),
            dns_search: (!self.dns_search.is_empty()).then(|| self.dns_search.clone()),
            group_add: (!self.group_add.is_empty()).then(|| self.group_add.clone()),
            shm_size: self.shm_size,
            ..Default::default()
        };
        let networking_config = self.network.as_ref().and_then(|(name, ip)| {
            if name == "none" || name == "host" || name == "bridge" {
                return None;
            }
            let mut endpoints = HashMap::new();
            endpoints.insert(
                name.clone(),
                EndpointSettings {
                    ipam_config: ip.as_ref().map(|ip| EndpointIpamConfig {
                        ipv4_address: Some(ip.clone()),
                        ..Default::default()
                    }),
                    aliases: (!self.aliases.is_empty()).then(|| self.aliases.clone()),
                    ..Default::default()
                },
            );
            Some(NetworkingConfig {
                endpoints_config: Some(endpoints),
            })
        });
        ContainerCreateBody {
            image: Some(self.image.clone()),
            labels: Some(self.labels.to_map().into_iter().collect()),
            env: Some(self.env.clone()),
            cmd: self.cmd.clone(),
            user: self.user.clone(),
            hostname: self.hostname.clone(),
            exposed_ports: (!self.ports.is_empty())
                .then(|| self.ports.iter().map(|(p, _, _)| p.clone()).collect()),
            stop_signal: self.stop_signal.clone(),
            stop_timeout: self.stop_timeout,
            entrypoint: self.entrypoint.clone(),
            working_dir: self.working_dir.clone(),
            tty: Some(self.tty),
            open_stdin: Some(self.stdin_open),
            stdin_once: Some(self.stdin_once),
            attach_stdin: Some(self.stdin_once),
            attach_stdout: Some(self.stdin_once),
            attach_stderr: Some(self.stdin_once),
            healthcheck: self.healthcheck.as_ref().map(Healthcheck::config),
            host_config: Some(host_config),
            networking_config,
            ..Default::default()
        }
    }
}

/// A container's health, as its healthcheck reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// No healthcheck.
    None,
    Starting,
    Healthy,
    Unhealthy,
}

impl Health {
    pub fn label(&self) -> &'static str {
        match self {
            Health::None => "none",
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

/// What dk reads back about a container.
#[derive(Debug, Clone, Default)]
pub struct ContainerInfo {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub image: ImageId,
    pub labels: BTreeMap<String, String>,
    /// The user its process runs as (`Config.User`; empty: the image's default, root).
    pub user: String,
    pub running: bool,
    pub restarting: bool,
    /// `created`, `running`, `exited`, …
    pub status: String,
    pub exit_code: i64,
    pub oom_killed: bool,
    pub health: Option<Health>,
    /// The last output of the healthcheck probe, when it has run.
    pub health_log: Option<String>,
    /// RFC 3339, when it has been started.
    pub started_at: Option<String>,
    pub restart_count: i64,
    pub stop_timeout: Option<i64>,
    /// Network name -> IPv4 address.
    pub ips: BTreeMap<String, String>,
    /// Every network it is attached to, with or without an address at the moment (a
    /// container its restart policy is starting again has none until it runs).
    pub networks: Vec<String>,
    /// (container port, host port) of published ports.
    pub published: Vec<(u16, u16)>,
}

impl ContainerInfo {
    fn from_inspect(c: ContainerInspectResponse) -> ContainerInfo {
        let state = c.state.unwrap_or_default();
        let cfg = c.config.unwrap_or_default();
        let net = c.network_settings.unwrap_or_default();
        let attached = net.networks.unwrap_or_default();
        let networks = attached.keys().cloned().collect();
        let ips = attached
            .into_iter()
            .filter_map(|(n, e)| Some((n, e.ip_address.filter(|ip| !ip.is_empty())?)))
            .collect();
        let mut published = Vec::new();
        for (cport, bindings) in net.ports.unwrap_or_default() {
            let cp: u16 = cport
                .split('/')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            if let Some(b) = bindings.as_ref().and_then(|b| b.first())
                && let Some(hp) = b.host_port.as_ref().and_then(|p| p.parse().ok())
            {
                published.push((cp, hp));
            }
        }
        let health = state
            .health
            .as_ref()
            .and_then(|h| h.status)
            .map(|s| match s {
                HealthStatusEnum::STARTING => Health::Starting,
                HealthStatusEnum::HEALTHY => Health::Healthy,
                HealthStatusEnum::UNHEALTHY => Health::Unhealthy,
                _ => Health::None,
            });
        let health_log = state
            .health
            .as_ref()
            .and_then(|h| h.log.as_ref())
            .and_then(|l| l.last())
            .map(|r| {
                format!(
                    "exit {}: {}",
                    r.exit_code.unwrap_or(-1),
                    r.output.clone().unwrap_or_default().trim()
                )
            });
        ContainerInfo {
            id: c.id.unwrap_or_default(),
            name: c
                .name
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            image: ImageId::new(c.image.unwrap_or_default()),
            labels: cfg.labels.unwrap_or_default().into_iter().collect(),
            user: cfg.user.unwrap_or_default(),
            running: state.running.unwrap_or(false),
            restarting: state.restarting.unwrap_or(false),
            status: state.status.map(|s| s.to_string()).unwrap_or_default(),
            exit_code: state.exit_code.unwrap_or(-1),
            oom_killed: state.oom_killed.unwrap_or(false),
            health,
            health_log,
            started_at: state.started_at.filter(|s| !s.starts_with("0001-")),
            restart_count: c.restart_count.unwrap_or(0),
            stop_timeout: cfg.stop_timeout,
            ips,
            networks,
            published,
        }
    }
}

/// A container found by a listing.
#[derive(Debug, Clone)]
pub struct ContainerRef {
    pub id: String,
    pub labels: BTreeMap<String, String>,
}

/// What an exec produced.
#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

/// A file read from a container through the archive API.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub is_dir: bool,
    /// Content of a regular file (capped at 1 MiB).
    pub content: Vec<u8>,
}

impl Daemon {
    /// Create the container, then join it to its extra networks (the create call takes one).
    pub async fn create_container(&self, spec: &ContainerSpec) -> Result<String> {
        let id = self.create_bare(spec).await?;
        for net in &spec.extra_networks {
            let joined = self
                .api
                .connect_network(
                    net,
                    bollard::models::NetworkConnectRequest {
                        container: id.clone(),
                        endpoint_config: Some(EndpointSettings {
                            aliases: (!spec.aliases.is_empty()).then(|| spec.aliases.clone()),
                            ..Default::default()
                        }),
                    },
                )
                .await;
            if let Err(e) = joined {
                let _ = self.remove_container(&id).await;
                return Err(self.err(format!("joining {} to network {net}", spec.name), e));
            }
        }
        Ok(id)
    }

    /// Put a container (back) on a network under `aliases`, at `ip` when it has a fixed one.
    pub async fn connect_network(
        &self,
        id: &str,
        network: &str,
        aliases: &[String],
        ip: Option<&str>,
    ) -> Result<()> {
        self.api
            .connect_network(
                network,
                bollard::models::NetworkConnectRequest {
                    container: id.to_string(),
                    endpoint_config: Some(EndpointSettings {
                        aliases: (!aliases.is_empty()).then(|| aliases.to_vec()),
                        ipam_config: ip.map(|ip| EndpointIpamConfig {
                            ipv4_address: Some(ip.to_string()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                },
            )
            .await
            .map_err(|e| self.err(format!("joining {id} to network {network}"), e))
    }

    /// Take a container off a network (its name there stops resolving to it at once). One
    /// that is not on it (a crashed container its restart policy is starting again) is
    /// already where this puts it.
    pub async fn disconnect_network(&self, id: &str, network: &str) -> Result<()> {
        match self
            .api
            .disconnect_network(
                network,
                bollard::models::NetworkDisconnectRequest {
                    container: id.to_string(),
                    force: Some(true),
                },
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError { message, .. })
                if message.contains("is not connected") =>
            {
                Ok(())
            }
            Err(e) => Err(self.err(format!("taking {id} off network {network}"), e)),
        }
    }

    async fn create_bare(&self, spec: &ContainerSpec) -> Result<String> {
        let r = self
            .api
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(spec.name.clone()),
                    ..Default::default()
                }),
                spec.to_body(),
            )
            .await
            .map_err(|e| self.err(format!("creating container {}", spec.name), e))?;
        Ok(r.id)
    }

    pub async fn start_container(&self, id: &str) -> Result<()> {
        self.api
            .start_container(id, None::<StartContainerOptions>)
            .await
            .map_err(|e| self.err(format!("starting container {id}"), e))
    }

    /// Stop with a grace period; a container that is gone or stopped is not an error.
    pub async fn stop_container(&self, id: &str, grace: Duration) -> Result<()> {
        match self
            .long
            .stop_container(
                id,
                Some(StopContainerOptions {
                    t: Some(grace.as_secs() as i32),
                    ..Default::default()
                }),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(self.err(format!("stopping container {id}"), e)),
        }
    }

    /// Remove (force, with anonymous volumes); a missing container is not an error.
    pub async fn remove_container(&self, id: &str) -> Result<()> {
        match self
            .long
            .remove_container(
                id,
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    link: false,
                }),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => {
                // Removal already in progress.
                Ok(())
            }
            Err(e) => Err(self.err(format!("removing container {id}"), e)),
        }
    }
}

impl Lookup {
    pub async fn inspect_container(&self, id: &str) -> Result<Option<ContainerInfo>> {
        match self.api.inspect_container(id, None).await {
            Ok(c) => Ok(Some(ContainerInfo::from_inspect(c))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.err(format!("inspecting container {id}"), e)),
        }
    }

    /// Containers (running or not) carrying every `key=value` label given.
    pub async fn containers_with_labels(
        &self,
        labels: &[(String, String)],
    ) -> Result<Vec<ContainerRef>> {
        let mut filters = HashMap::new();
        filters.insert(
            "label".to_string(),
            labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>(),
        );
        let list: Vec<ContainerSummary> = self
            .api
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(|e| self.err("listing containers", e))?;
        Ok(list
            .into_iter()
            .map(|c| ContainerRef {
                id: c.id.unwrap_or_default(),
                labels: c.labels.unwrap_or_default().into_iter().collect(),
            })
            .collect())
    }

    /// The exit codes of container `id`'s runs that ended since `since` (seconds since the
    /// epoch), oldest first, from the daemon's `die` events: a container that a restart
    /// policy started again no longer shows how its last run ended.
    pub async fn exits_since(&self, id: &str, since: f64) -> Result<Vec<i64>> {
        let now = crate::units::since_epoch().as_secs_f64();
        let filters = HashMap::from([
            ("type".to_string(), vec!["container".to_string()]),
            ("container".to_string(), vec![id.to_string()]),
            ("event".to_string(), vec!["die".to_string()]),
        ]);
        let mut stream = self
            .api
            .events(Some(bollard::query_parameters::EventsOptions {
                since: Some(format!("{since:.3}")),
                until: Some(format!("{:.3}", now + 0.001)),
                filters: Some(filters),
            }));
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            let ev =
                item.map_err(|e| self.err(format!("reading the daemon's events of {id}"), e))?;
            if let Some(code) = ev
                .actor
                .and_then(|a| a.attributes)
                .and_then(|a| a.get("exitCode").and_then(|c| c.parse().ok()))
            {
                out.push(code);
            }
        }
        Ok(out)
    }

    /// The filesystem of a container as a tar stream (`docker export`).
    pub fn export(&self, id: &str) -> impl Stream<Item = Result<Bytes>> + '_ {
        let id = id.to_string();
        self.long
            .export_container(&id)
            .map(move |r| r.map_err(|e| self.err(format!("exporting {id}"), e)))
    }

    /// The last `tail` lines of a container's output (stdout and stderr, interleaved).
    pub async fn logs_tail(&self, id: &str, tail: usize) -> Result<String> {
        let mut stream = self.api.logs(
            id,
            Some(LogsOptions {
                stdout: true,
                stderr: true,
                tail: tail.to_string(),
                ..Default::default()
            }),
        );
        let mut out = String::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(chunk) => out.push_str(&String::from_utf8_lossy(&chunk.into_bytes())),
                Err(e) if is_not_found(&e) => break,
                Err(e) => return Err(self.err(format!("reading logs of {id}"), e)),
            }
        }
        Ok(out)
    }

    /// A container's output by `opts`, calling `on_chunk` with each piece.
    pub async fn follow_logs(
        &self,
        id: &str,
        opts: &LogOptions,
        mut on_chunk: impl FnMut(&[u8]),
    ) -> Result<()> {
        let mut stream = self.long.logs(
            id,
            Some(LogsOptions {
                stdout: true,
                stderr: true,
                follow: opts.follow,
                tail: opts.tail.clone(),
                since: opts.since.unwrap_or(0).clamp(0, i32::MAX as i64) as i32,
                timestamps: opts.timestamps,
                ..Default::default()
            }),
        );
        while let Some(item) = stream.next().await {
            let chunk = item.map_err(|e| self.err(format!("reading logs of {id}"), e))?;
            on_chunk(&chunk.into_bytes());
        }
        Ok(())
    }
}

/// Which part of a container's output `follow_logs` reads.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub follow: bool,
    /// Unix time: only output after it.
    pub since: Option<i64>,
    /// Prefix each line with its RFC 3339 time.
    pub timestamps: bool,
    /// The last N lines, or `all`.
    pub tail: String,
}

impl Daemon {
    /// Run a command in a running container and collect its output and exit code.
    pub async fn exec(&self, id: &str, cmd: &[String], user: Option<&str>) -> Result<ExecOutput> {
        let created = self
            .api
            .create_exec(
                id,
                ExecConfig {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(cmd.to_vec()),
                    user: user.map(String::from),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| self.err(format!("exec in {id}"), e))?;
        let started = self
            .api
            .start_exec(&created.id, None)
            .await
            .map_err(|e| self.err(format!("exec in {id}"), e))?;
        let mut out = ExecOutput::default();
        if let bollard::exec::StartExecResults::Attached { mut output, .. } = started {
            while let Some(item) = output.next().await {
                match item.map_err(|e| self.err(format!("exec in {id}"), e))? {
                    bollard::container::LogOutput::StdOut { message } => {
                        out.stdout.push_str(&String::from_utf8_lossy(&message))
                    }
                    bollard::container::LogOutput::StdErr { message } => {
                        out.stderr.push_str(&String::from_utf8_lossy(&message))
                    }
                    _ => {}
                }
            }
        }
        let inspect = self
            .api
            .inspect_exec(&created.id)
            .await
            .map_err(|e| self.err(format!("exec in {id}"), e))?;
        out.exit_code = inspect.exit_code.unwrap_or(-1);
        Ok(out)
    }
}

impl Lookup {
    /// Read one path of a container's filesystem (`None` when it does not exist).
    pub async fn read_path(&self, id: &str, path: &str) -> Result<Option<FileInfo>> {
        let mut stream = self.api.download_from_container(
            id,
            Some(DownloadFromContainerOptions {
                path: path.to_string(),
            }),
        );
        let mut tar_bytes = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(b) => {
                    if tar_bytes.len() < 2 << 20 {
                        tar_bytes.extend_from_slice(&b);
                    }
                }
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(self.err(format!("reading {path} in {id}"), e)),
            }
        }
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let mut entries = archive.entries().map_err(|e| tar_error(path, id, e))?;
        // The first entry is the path itself (a directory's children follow it).
        if let Some(entry) = entries.next() {
            let mut entry = entry.map_err(|e| tar_error(path, id, e))?;
            let header = entry.header().clone();
            let mut content = Vec::new();
            if header.entry_type().is_file() {
                use std::io::Read;
                let _ = (&mut entry).take(1 << 20).read_to_end(&mut content);
            }
            return Ok(Some(FileInfo {
                mode: header.mode().unwrap_or(0) & 0o7777,
                uid: header.uid().unwrap_or(0),
                gid: header.gid().unwrap_or(0),
                is_dir: header.entry_type().is_dir(),
                content,
            }));
        }
        Ok(None)
    }
}

fn tar_error(path: &str, id: &str, e: std::io::Error) -> Error {
    Error::Docker {
        context: format!("reading {path} in {id}"),
        detail: format!("the daemon sent an unreadable archive: {e}"),
    }
}

impl Daemon {
    pub async fn rename_container(&self, id: &str, name: &str) -> Result<()> {
        self.api
            .rename_container(
                id,
                bollard::query_parameters::RenameContainerOptions {
                    name: name.to_string(),
                },
            )
            .await
            .map_err(|e| self.err(format!("renaming container {id} to {name}"), e))
    }

    /// Run `cmd` in a container with the caller's stdin and stdout attached (a TTY when
    /// `tty`), as `user` (default: the container's). Returns the exit code.
    pub async fn exec_interactive(
        &self,
        id: &str,
        cmd: &[String],
        user: Option<&str>,
        tty: bool,
    ) -> Result<i64> {
        let created = self
            .long
            .create_exec(
                id,
                ExecConfig {
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    tty: Some(tty),
                    cmd: Some(cmd.to_vec()),
                    user: user.map(String::from),
                    env: Some(vec![term()]),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| self.err(format!("exec in {id}"), e))?;
        let started = self
            .long
            .start_exec(
                &created.id,
                Some(bollard::exec::StartExecOptions {
                    detach: false,
                    tty,
                    output_capacity: None,
                }),
            )
            .await
            .map_err(|e| self.err(format!("exec in {id}"), e))?;
        if let bollard::exec::StartExecResults::Attached { output, input } = started {
            self.pump(id, output, input).await?;
        }
        let inspect = self
            .api
            .inspect_exec(&created.id)
            .await
            .map_err(|e| self.err(format!("exec in {id}"), e))?;
        Ok(inspect.exit_code.unwrap_or(-1))
    }

    /// Create a container from `spec` (which must have `stdin_open`), attach the caller's
    /// stdin, stdout and stderr, start it, and wait for it to exit. Returns its exit code.
    /// The container is removed on every path that returns (a signal is the caller's to
    /// handle: the container carries `spec.name`).
    pub async fn run_attached(&self, spec: &ContainerSpec) -> Result<i64> {
        let id = self.create_container(spec).await?;
        let result = self.attach_start_wait(&id, &spec.name).await;
        let removed = self.remove_container(&id).await;
        let code = result?;
        removed?;
        Ok(code)
    }

    async fn attach_start_wait(&self, id: &str, name: &str) -> Result<i64> {
        let attached = self
            .long
            .attach_container(
                id,
                Some(bollard::query_parameters::AttachContainerOptions {
                    stdin: true,
                    stdout: true,
                    stderr: true,
                    stream: true,
                    logs: false,
                    detach_keys: None,
                }),
            )
            .await
            .map_err(|e| self.err(format!("attaching to {name}"), e))?;
        self.start_container(id).await?;
        self.pump(name, attached.output, attached.input).await?;
        let mut wait = self
            .long
            .wait_container(id, None::<bollard::query_parameters::WaitContainerOptions>);
        match wait.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) => Err(self.err(format!("waiting for {name}"), e)),
            None => Err(Error::Docker {
                context: format!("waiting for {name}"),
                detail: "the daemon ended the wait without an exit code".into(),
            }),
        }
    }

    /// Copy the caller's stdin to `input` (closing it at end of input) while `output` goes
    /// to stdout and stderr, until the output ends.
    async fn pump(
        &self,
        what: &str,
        mut output: std::pin::Pin<
            Box<
                dyn Stream<
                        Item = std::result::Result<
                            bollard::container::LogOutput,
                            bollard::errors::Error,
                        >,
                    > + Send,
            >,
        >,
        mut input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>,
    ) -> Result<()> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let feed = tokio::spawn(async move {
            let mut stdin = tokio::io::stdin();
            let mut buf = [0u8; 4096];
            loop {
                match stdin.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if input.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        let _ = input.flush().await;
                    }
                }
            }
            let _ = input.shutdown().await;
        });
        let mut stdout = tokio::io::stdout();
        let mut stderr = tokio::io::stderr();
        while let Some(item) = output.next().await {
            match item.map_err(|e| self.err(format!("reading the output of {what}"), e))? {
                bollard::container::LogOutput::StdErr { message } => {
                    let _ = stderr.write_all(&message).await;
                    let _ = stderr.flush().await;
                }
                other => {
                    let _ = stdout.write_all(&other.into_bytes()).await;
                    let _ = stdout.flush().await;
                }
            }
        }
        feed.abort();
        Ok(())
    }
}

/// `TERM` for an interactive process: the caller's.
fn term() -> String {
    format!(
        "TERM={}",
        std::env::var("TERM").unwrap_or_else(|_| "xterm".into())
    )
}
