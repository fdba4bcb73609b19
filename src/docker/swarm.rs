//! Swarm services: a live container's spec as one Swarm service (an overlay network per
//! workspace, host-mode ports, DNS round robin), created or updated with an update policy
//! that keeps dk's guarantees (one task at a time, health-gated, rolled back by Swarm on
//! failure), and read back (version, update state, tasks).

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    EndpointPortConfig, EndpointPortConfigPublishModeEnum, EndpointSpec, EndpointSpecModeEnum,
    Limit, Mount, MountType, NetworkAttachmentConfig, ServiceSpec, ServiceSpecMode,
    ServiceSpecModeReplicated, ServiceSpecRollbackConfig,
    ServiceSpecRollbackConfigFailureActionEnum, ServiceSpecRollbackConfigOrderEnum,
    ServiceSpecUpdateConfig, ServiceSpecUpdateConfigFailureActionEnum,
    ServiceSpecUpdateConfigOrderEnum, TaskSpec, TaskSpecContainerSpec, TaskSpecPlacement,
    TaskSpecPlacementPreferences, TaskSpecPlacementSpread, TaskSpecResources,
    TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};

use super::containers::{nanos, ulimits};
use super::{ContainerSpec, Daemon, Lookup, RegistryAuth, is_not_found};
use crate::error::Result;

/// What a service needs besides its container spec.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServiceSettings {
    /// The image by registry digest (`host:port/ns/node@sha256:…`).
    pub image: String,
    pub replicas: u64,
    pub constraints: Vec<String>,
    /// Placement preferences: spread over the values of each (`node.labels.zone`).
    pub spread: Vec<String>,
    /// At most this many tasks on one node.
    pub max_per_node: Option<u64>,
    /// The overlay network of the workspace, then any other (swarm-scoped) ones it joins.
    pub networks: Vec<String>,
    /// New tasks before old ones stop (no host port in the way).
    pub start_first: bool,
    /// How long a new task must stay up (and healthy) before the next one is updated.
    pub monitor: Duration,
    /// Swarm secrets the tasks get as files.
    pub secrets: Vec<SecretRef>,
}

/// A Swarm secret given to a service's tasks.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SecretRef {
    pub id: String,
    /// Versioned by content: `<service>-<name>-<fingerprint>`.
    pub name: String,
    /// The file in the container.
    pub target: String,
    pub uid: String,
    pub gid: String,
    pub mode: u32,
}

/// A service as Swarm has it.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub id: String,
    pub version: u64,
    pub labels: HashMap<String, String>,
    /// `updating`, `completed`, `rollback_started`, `rollback_completed`, `paused`, …
    pub update_state: Option<String>,
    pub update_message: Option<String>,
    /// When the last update started (tells a finished old update from the new one).
    pub update_started: Option<String>,
    pub image: Option<String>,
    pub replicas: u64,
    /// The names of the Swarm secrets its spec references.
    pub secrets: Vec<String>,
}

/// One task of a service.
#[derive(Debug, Clone)]
pub struct TaskInfo {
    pub state: String,
    pub desired: String,
    pub image: Option<String>,
    pub error: Option<String>,
    /// The swarm node it is assigned to (its id), once assigned.
    pub node: Option<String>,
}

/// A swarm node as the manager sees it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub id: String,
    pub hostname: String,
    /// Its address in the swarm.
    pub addr: String,
    /// `ready`, `down`, `unknown`, `disconnected`.
    pub state: String,
    /// `active`, `pause`, `drain`.
    pub availability: String,
}

impl NodeInfo {
    /// How a person finds it: `host (10.0.0.2)`, plus its state when not ready/active.
    pub fn shown(&self) -> String {
        let mut s = format!("{} ({})", self.hostname, self.addr);
        if self.state != "ready" {
            s.push_str(&format!(", {}", self.state));
        }
        if self.availability != "active" {
            s.push_str(&format!(", {}", self.availability));
        }
        s
    }
}

fn body(spec: &ContainerSpec, s: &ServiceSettings, labels: HashMap<String, String>) -> ServiceSpec {
    let mounts = spec
        .binds
        .iter()
        .map(|b| Mount {
            target: Some(b.target.clone()),
            source: Some(b.host.clone()),
            // A bind's source is a path; anything else is a named volume.
            typ: Some(if b.host.starts_with('/') {
                MountType::BIND
            } else {
                MountType::VOLUME
            }),
            read_only: Some(b.read_only),
            ..Default::default()
        })
        .chain(spec.tmpfs.iter().map(|(path, _)| Mount {
            target: Some(path.clone()),
            typ: Some(MountType::TMPFS),
            ..Default::default()
        }))
        .collect();
    let container = TaskSpecContainerSpec {
        image: Some(s.image.clone()),
        labels: Some(labels.clone()),
        command: spec.entrypoint.clone(),
        args: spec.cmd.clone(),
        hostname: spec.hostname.clone(),
        env: Some(spec.env.clone()),
        dir: spec.working_dir.clone(),
        user: spec.user.clone(),
        groups: (!spec.group_add.is_empty()).then(|| spec.group_add.clone()),
        tty: Some(spec.tty),
        open_stdin: Some(spec.stdin_open),
        read_only: Some(spec.read_only),
        mounts: Some(mounts),
        stop_signal: spec.stop_signal.clone(),
        stop_grace_period: spec
            .stop_timeout
            .map(|t| nanos(Duration::from_secs(t as u64))),
        health_check: spec.healthcheck.as_ref().map(super::Healthcheck::config),
        hosts: (!spec.extra_hosts.is_empty()).then(|| {
            spec.extra_hosts
                .iter()
                .map(|h| match h.split_once(':') {
                    Some((name, ip)) => format!("{ip} {name}"),
                    None => h.clone(),
                })
                .collect()
        }),
        init: Some(spec.init),
        sysctls: (!spec.sysctls.is_empty()).then(|| spec.sysctls.clone().into_iter().collect()),
        capability_drop: Some(vec!["ALL".to_string()]),
        capability_add: (!spec.cap_add.is_empty()).then(|| spec.cap_add.clone()),
        secrets: (!s.secrets.is_empty()).then(|| {
            s.secrets
                .iter()
                .map(|r| bollard::models::TaskSpecContainerSpecSecrets {
                    file: Some(bollard::models::TaskSpecContainerSpecFile {
                        name: Some(r.target.clone()),
                        uid: Some(r.uid.clone()),
                        gid: Some(r.gid.clone()),
                        mode: Some(r.mode),
                    }),
                    secret_id: Some(r.id.clone()),
                    secret_name: Some(r.name.clone()),
                })
                .collect()
        }),
        ulimits: ulimits(&spec.ulimits),
        ..Default::default()
    };
    let ports: Vec<EndpointPortConfig> = spec
        .ports
        .iter()
        .map(|(cport, _ip, host)| {
            let (num, proto) = cport.split_once('/').unwrap_or((cport, "tcp"));
            EndpointPortConfig {
                protocol: Some(match proto {
                    "udp" => bollard::models::EndpointPortConfigProtocolEnum::UDP,
                    "sctp" => bollard::models::EndpointPortConfigProtocolEnum::SCTP,
                    _ => bollard::models::EndpointPortConfigProtocolEnum::TCP,
                }),
                target_port: num.parse().ok(),
                published_port: Some(i64::from(*host)),
                publish_mode: Some(EndpointPortConfigPublishModeEnum::HOST),
                ..Default::default()
            }
        })
        .collect();
    let (order, rollback_order) = if s.start_first {
        (
            ServiceSpecUpdateConfigOrderEnum::START_FIRST,
            ServiceSpecRollbackConfigOrderEnum::START_FIRST,
        )
    } else {
        (
            ServiceSpecUpdateConfigOrderEnum::STOP_FIRST,
            ServiceSpecRollbackConfigOrderEnum::STOP_FIRST,
        )
    };
    ServiceSpec {
        name: Some(spec.name.clone()),
        labels: Some(labels),
        task_template: Some(TaskSpec {
            container_spec: Some(container),
            resources: Some(TaskSpecResources {
                limits: Some(Limit {
                    nano_cpus: spec.nano_cpus,
                    memory_bytes: spec.memory,
                    pids: spec.pids,
                }),
                ..Default::default()
            }),
            restart_policy: Some(TaskSpecRestartPolicy {
                condition: Some(TaskSpecRestartPolicyConditionEnum::ANY),
                delay: Some(nanos(Duration::from_secs(2))),
                ..Default::default()
            }),
            placement: (!s.constraints.is_empty()
                || !s.spread.is_empty()
                || s.max_per_node.is_some())
            .then(|| TaskSpecPlacement {
                constraints: (!s.constraints.is_empty()).then(|| s.constraints.clone()),
                preferences: (!s.spread.is_empty()).then(|| {
                    s.spread
                        .iter()
                        .map(|d| TaskSpecPlacementPreferences {
                            spread: Some(TaskSpecPlacementSpread {
                                spread_descriptor: Some(d.clone()),
                            }),
                        })
                        .collect()
                }),
                max_replicas: s.max_per_node.map(|m| m as i64),
                ..Default::default()
            }),
            networks: Some(
                s.networks
                    .iter()
                    .map(|n| NetworkAttachmentConfig {
                        target: Some(n.clone()),
                        aliases: Some(spec.aliases.clone()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(s.replicas as i64),
            }),
            ..Default::default()
        }),
        update_config: Some(ServiceSpecUpdateConfig {
            parallelism: Some(1),
            delay: Some(0),
            failure_action: Some(ServiceSpecUpdateConfigFailureActionEnum::ROLLBACK),
            monitor: Some(nanos(s.monitor)),
            max_failure_ratio: Some(0.0),
            order: Some(order),
        }),
        rollback_config: Some(ServiceSpecRollbackConfig {
            parallelism: Some(1),
            delay: Some(0),
            failure_action: Some(ServiceSpecRollbackConfigFailureActionEnum::PAUSE),
            monitor: Some(nanos(s.monitor)),
            max_failure_ratio: Some(0.0),
            order: Some(rollback_order),
        }),
        // No IPVS needed: names resolve to the tasks themselves.
        endpoint_spec: Some(EndpointSpec {
            mode: Some(EndpointSpecModeEnum::DNSRR),
            ports: (!ports.is_empty()).then_some(ports),
        }),
        ..Default::default()
    }
}

impl Lookup {
    /// Is this daemon a manager of an active swarm?
    pub async fn swarm_manager(&self) -> Result<bool> {
        let info = self
            .api
            .info()
            .await
            .map_err(|e| self.err("asking the daemon about its swarm", e))?;
        let swarm = info.swarm.unwrap_or_default();
        Ok(swarm.control_available.unwrap_or(false))
    }

    pub async fn service(&self, name: &str) -> Result<Option<ServiceInfo>> {
        match self.api.inspect_service(name, None).await {
            Ok(s) => {
                let spec = s.spec.unwrap_or_default();
                let status = s.update_status.unwrap_or_default();
                let container = spec
                    .task_template
                    .as_ref()
                    .and_then(|t| t.container_spec.clone())
                    .unwrap_or_default();
                Ok(Some(ServiceInfo {
                    id: s.id.unwrap_or_default(),
                    version: s.version.and_then(|v| v.index).unwrap_or(0),
                    labels: spec.labels.unwrap_or_default(),
                    update_state: status.state.map(|x| x.to_string()),
                    update_message: status.message,
                    update_started: status.started_at.map(|t| t.to_string()),
                    image: container.image,
                    secrets: container
                        .secrets
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|r| r.secret_name)
                        .collect(),
                    replicas: spec
                        .mode
                        .and_then(|m| m.replicated)
                        .and_then(|r| r.replicas)
                        .unwrap_or(0) as u64,
                }))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.err(format!("inspecting service {name}"), e)),
        }
    }

    pub async fn service_tasks(&self, service: &str) -> Result<Vec<TaskInfo>> {
        let mut filters = HashMap::new();
        filters.insert("service".to_string(), vec![service.to_string()]);
        let tasks = self
            .api
            .list_tasks(Some(bollard::query_parameters::ListTasksOptions {
                filters: Some(filters),
            }))
            .await
            .map_err(|e| self.err(format!("listing the tasks of {service}"), e))?;
        Ok(tasks
            .into_iter()
            .map(|t| {
                let status = t.status.unwrap_or_default();
                TaskInfo {
                    state: status.state.map(|s| s.to_string()).unwrap_or_default(),
                    desired: t.desired_state.map(|s| s.to_string()).unwrap_or_default(),
                    image: t.spec.and_then(|s| s.container_spec).and_then(|c| c.image),
                    error: status.err,
                    node: t.node_id,
                }
            })
            .collect())
    }
}

impl Lookup {
    /// The swarm's nodes (a manager's view).
    pub async fn swarm_nodes(&self) -> Result<Vec<NodeInfo>> {
        let nodes = self
            .api
            .list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
            .await
            .map_err(|e| self.err("listing the swarm's nodes", e))?;
        Ok(nodes
            .into_iter()
            .map(|n| {
                let status = n.status.unwrap_or_default();
                NodeInfo {
                    id: n.id.unwrap_or_default(),
                    hostname: n.description.and_then(|d| d.hostname).unwrap_or_default(),
                    addr: status.addr.unwrap_or_default(),
                    state: status.state.map(|s| s.to_string()).unwrap_or_default(),
                    availability: n
                        .spec
                        .and_then(|s| s.availability)
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                }
            })
            .collect())
    }

    /// The Swarm secrets carrying all of `labels`: (id, name).
    pub async fn secrets_with_labels(
        &self,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<Vec<(String, String)>> {
        let mut filters = HashMap::new();
        filters.insert(
            "label".to_string(),
            labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        );
        let list = self
            .api
            .list_secrets(Some(bollard::query_parameters::ListSecretsOptions {
                filters: Some(filters),
            }))
            .await
            .map_err(|e| self.err("listing Swarm secrets", e))?;
        Ok(list
            .into_iter()
            .map(|s| {
                (
                    s.id.unwrap_or_default(),
                    s.spec.and_then(|s| s.name).unwrap_or_default(),
                )
            })
            .collect())
    }
}

impl Daemon {
    /// The Swarm secret `name` holding `data`, created with `labels` when missing (a name
    /// is versioned by content, so an existing one holds the same). Returns its id.
    pub async fn ensure_secret(
        &self,
        name: &str,
        data: &crate::secret::Secret,
        labels: crate::labels::Labels,
    ) -> Result<String> {
        match self.api.inspect_secret(name).await {
            Ok(s) => return Ok(s.id.unwrap_or_default()),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(self.err(format!("inspecting Swarm secret {name}"), e)),
        }
        use base64::Engine as _;
        let r = self
            .api
            .create_secret(bollard::models::SecretSpec {
                name: Some(name.to_string()),
                labels: Some(labels.to_map().into_iter().collect()),
                data: Some(base64::engine::general_purpose::STANDARD.encode(data.expose())),
                ..Default::default()
            })
            .await
            .map_err(|e| self.err(format!("creating Swarm secret {name}"), e))?;
        Ok(r.id)
    }

    /// Remove a Swarm secret; false when a service still uses it (Swarm refuses).
    pub async fn remove_secret(&self, id: &str) -> Result<bool> {
        match self.api.delete_secret(id).await {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 400, ..
            }) => Ok(false),
            Err(e) => Err(self.err(format!("removing Swarm secret {id}"), e)),
        }
    }

    /// Create the service of `spec` with `settings`; its labels carry `labels`.
    pub async fn create_service(
        &self,
        spec: &ContainerSpec,
        settings: &ServiceSettings,
        labels: HashMap<String, String>,
        auth: Option<&RegistryAuth>,
    ) -> Result<String> {
        let r = self
            .api
            .create_service(body(spec, settings, labels), auth.map(RegistryAuth::docker))
            .await
            .map_err(|e| self.err(format!("creating service {}", spec.name), e))?;
        Ok(r.id.unwrap_or_default())
    }

    /// Update the service `current` to `spec` with `settings` (Swarm rolls it out).
    pub async fn update_service(
        &self,
        current: &ServiceInfo,
        spec: &ContainerSpec,
        settings: &ServiceSettings,
        labels: HashMap<String, String>,
        auth: Option<&RegistryAuth>,
    ) -> Result<()> {
        self.api
            .update_service(
                &current.id,
                body(spec, settings, labels),
                bollard::query_parameters::UpdateServiceOptions {
                    version: current.version as i32,
                    ..Default::default()
                },
                auth.map(RegistryAuth::docker),
            )
            .await
            .map_err(|e| self.err(format!("updating service {}", spec.name), e))?;
        Ok(())
    }

    /// Put the service back to its previous spec (Swarm's own rollback).
    pub async fn rollback_service(&self, current: &ServiceInfo, name: &str) -> Result<()> {
        let svc = self
            .api
            .inspect_service(&current.id, None)
            .await
            .map_err(|e| self.err(format!("inspecting service {name}"), e))?;
        self.api
            .update_service(
                &current.id,
                svc.spec.unwrap_or_default(),
                bollard::query_parameters::UpdateServiceOptions {
                    version: current.version as i32,
                    rollback: Some("previous".into()),
                    ..Default::default()
                },
                None,
            )
            .await
            .map_err(|e| self.err(format!("rolling back service {name}"), e))?;
        Ok(())
    }

    /// Remove a service (`dk down`).
    pub async fn remove_service(&self, name: &str) -> Result<bool> {
        match self.api.delete_service(name).await {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.err(format!("removing service {name}"), e)),
        }
    }

    /// An attachable overlay network (created with `labels` when missing).
    pub async fn ensure_overlay(&self, name: &str, labels: crate::labels::Labels) -> Result<()> {
        match self
            .api
            .inspect_network(
                name,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(self.err(format!("inspecting network {name}"), e)),
        }
        self.api
            .create_network(bollard::models::NetworkCreateRequest {
                name: name.to_string(),
                driver: Some("overlay".into()),
                attachable: Some(true),
                labels: Some(labels.to_map().into_iter().collect()),
                ..Default::default()
            })
            .await
            .map_err(|e| self.err(format!("creating overlay network {name}"), e))?;
        Ok(())
    }
}
