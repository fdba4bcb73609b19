//! `dk.toml`: the workspace file. Every key is documented in `docs/manifest.md`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::error::Diagnostic;
use crate::manifest::{LogSettings, RestartSettings};
use crate::net::Subnet;
use crate::units::{DurationText, SizeText};

pub const WORKSPACE_FILE: &str = "dk.toml";
pub const DEFAULT_NAMESPACE: &str = "dk";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceFile {
    /// The workspace's identity on every Docker object it makes (`dk.workspace`), the same
    /// from every checkout. Absent in workspaces made before it existed: dk then uses the
    /// hash of the checkout's path and writes it here on the first writing command.
    pub id: Option<Spanned<String>>,
    /// Image namespace: images are `<namespace>/<node>:<tag>`. `DK_NAMESPACE` overrides it.
    pub namespace: Option<Spanned<String>>,
    /// Host directory holding each container's data (`<data_root>/<name>/…`).
    /// Relative paths are relative to the workspace root.
    pub data_root: Option<String>,
    /// Where records, logs and caches live (default `.dk`, relative to the workspace root).
    pub state_dir: Option<String>,
    #[serde(default)]
    pub network: NetworksFile,
    #[serde(default)]
    pub defaults: RunDefaults,
    #[serde(default)]
    pub build: BuildDefaults,
    #[serde(default)]
    pub stage: StageDefaults,
    #[serde(default)]
    pub deploy: crate::manifest::DeploySection,
    /// Named daemons for `dk -H NAME`.
    #[serde(default)]
    pub hosts: std::collections::BTreeMap<String, HostFile>,
    /// Registries `dk push` (and, with `push = "on-promote"`, `dk up`) sends live images to.
    #[serde(default, rename = "registry")]
    pub registries: Vec<Spanned<RegistryFile>>,
    /// Commands around `dk update`.
    #[serde(default)]
    pub hooks: UpdateHooks,
}

/// `[hooks]` of dk.toml: commands on the host after `dk update`, with the run report's path
/// in `DK_REPORT` and its text in `DK_REPORT_TEXT`, each bounded by `timeout` (default 60s).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateHooks {
    /// After a `dk update` that re-pinned something and every pin went through.
    pub after_update: Option<Vec<String>>,
    /// After a `dk update` in which a pin failed (and was written back) or an upstream could
    /// not be asked.
    pub on_update_failure: Option<Vec<String>>,
    pub timeout: Option<crate::units::DurationText>,
}

/// `[hosts.NAME]` in dk.toml: a daemon `dk -H NAME` talks to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostFile {
    /// `ssh://user@host`, `tcp://host:2375`, `unix:///path/docker.sock`.
    pub endpoint: String,
    /// For ssh://: the private key (default: ssh's own choice).
    pub identity: Option<String>,
}

/// `[[registry]]` in dk.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFile {
    /// `host[:port][/path]`: images go to `<url>/<namespace>/<node>`.
    pub url: String,
    /// `manual` (default: `dk push`) or `on-promote` (`dk up` pushes what it promotes).
    #[serde(default)]
    pub push: PushWhen,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PushWhen {
    #[default]
    Manual,
    OnPromote,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworksFile {
    pub live: Option<NetworkFile>,
    pub test: Option<NetworkFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    pub name: Option<String>,
    pub subnet: Option<Spanned<String>>,
}

/// Defaults for the live run settings of every container; a manifest's `[run]` overrides.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunDefaults {
    pub read_only: Option<bool>,
    pub memory: Option<SizeText>,
    pub cpus: Option<f64>,
    pub pids: Option<i64>,
    pub restart: Option<RestartSettings>,
    pub log: Option<LogSettings>,
    pub init: Option<bool>,
    pub stop_timeout: Option<DurationText>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildDefaults {
    /// Build arguments passed to every node (a manifest's `[build] args` override).
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    /// Parallel builds; default: the number of cores.
    pub jobs: Option<usize>,
    /// `buildkit` (default) or `classic`; a manifest's `[build] builder` overrides.
    pub builder: Option<crate::docker::Builder>,
    /// Share BuildKit's cache through the first `[[registry]]`: builds export their cache
    /// inline with the image and start from the registry's `:live` of each node (default
    /// false: a build never asks a registry).
    #[serde(default)]
    pub registry_cache: bool,
    /// Every node's platforms (`["linux/amd64", "linux/arm64"]`), unless its container.toml
    /// names its own; default: the machine's.
    pub platforms: Option<Vec<crate::units::Text<crate::dockerfile::Platform>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageDefaults {
    /// Content-addressed store of verified `[[stage.fetch]]` downloads (files named by their
    /// sha256). Default `<state_dir>/cache/fetch`. Commit it to build without the network.
    pub fetch_cache: Option<String>,
}

/// A network dk creates and manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    pub name: String,
    /// The subnet dk.toml names; `None`: Docker chooses a free one when it creates the
    /// network (two workspaces on one host never collide).
    pub subnet: Option<Subnet>,
}

impl WorkspaceFile {
    /// Resolve the network definitions with their defaults, validating the subnets.
    pub fn networks(
        &self,
        namespace: &str,
        text: &str,
        path: &str,
    ) -> Result<(NetworkConfig, NetworkConfig), Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let mut resolve = |net: &Option<NetworkFile>, role: &str| {
            let name = net
                .as_ref()
                .and_then(|n| n.name.clone())
                .unwrap_or_else(|| format!("{namespace}-{role}"));
            let subnet = match net.as_ref().and_then(|n| n.subnet.as_ref()) {
                Some(s) => match s.get_ref().parse::<Subnet>() {
                    Ok(v) => Some(v),
                    Err(e) => {
                        diags.push(
                            Diagnostic::new(path, format!("key `network.{role}.subnet`: {e}"))
                                .at_offset(text, s.span().start),
                        );
                        None
                    }
                },
                None => None,
            };
            NetworkConfig { name, subnet }
        };
        let live = resolve(&self.network.live, "live");
        let test = resolve(&self.network.test, "test");
        if diags.is_empty()
            && let (Some(l), Some(t)) = (&live.subnet, &test.subnet)
            && l.overlaps(t)
        {
            let at = self
                .network
                .test
                .as_ref()
                .and_then(|n| n.subnet.as_ref())
                .map(|s| s.span().start)
                .unwrap_or(0);
            diags.push(
                Diagnostic::new(
                    path,
                    format!("the test subnet {t} overlaps the live subnet {l}"),
                )
                .at_offset(text, at)
                .help("give the test network a subnet of its own, e.g. 172.31.0.0/24"),
            );
        }
        if live.name == test.name {
            diags.push(
                Diagnostic::new(path, "the live and test networks have the same name")
                    .help("tests must never share the live network; rename one of them"),
            );
        }
        if diags.is_empty() {
            Ok((live, test))
        } else {
            Err(diags)
        }
    }
}

/// `-H NAME`: the endpoint dk.toml's `[hosts.NAME]` names (an identity path relative to the
/// workspace root), or a usage error with the names there are.
pub fn host_endpoint(
    root: &std::path::Path,
    host: &str,
) -> crate::error::Result<crate::docker::Endpoint> {
    use crate::error::Error;
    let path = root.join(WORKSPACE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    #[derive(Deserialize)]
    struct Hosts {
        #[serde(default)]
        hosts: BTreeMap<String, HostFile>,
    }
    let hosts: Hosts = toml::from_str(&text).map_err(|e| {
        Error::definition(Diagnostic::new(
            WORKSPACE_FILE,
            format!("hosts: {}", e.message()),
        ))
    })?;
    match hosts.hosts.get(host) {
        Some(h) => Ok(crate::docker::Endpoint {
            url: h.endpoint.clone(),
            identity: h.identity.as_ref().map(|i| {
                let p = std::path::Path::new(i);
                if p.is_absolute() {
                    i.clone()
                } else {
                    root.join(p).display().to_string()
                }
            }),
        }),
        None => {
            let names: Vec<&str> = hosts.hosts.keys().map(String::as_str).collect();
            let help = match crate::tomlfile::suggest(host, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if names.is_empty() => "name one in dk.toml: [hosts.nas] endpoint = \"ssh://me@nas\", or give an endpoint: -H ssh://me@nas".to_string(),
                None => format!("dk.toml names: {}", names.join(", ")),
            };
            Err(Error::usage_help(
                format!("-H {host}: no such host in dk.toml"),
                help,
            ))
        }
    }
}

/// How a node's container runs, resolved once at load from dk.toml's `[defaults]` and the
/// manifest's `[run]` (after `dk.local.toml`): what launches (host and Swarm) and `dk
/// config` read.
#[derive(Debug, Clone)]
pub struct Run {
    pub read_only: bool,
    pub memory: Option<u64>,
    pub cpus: Option<f64>,
    pub pids: Option<i64>,
    pub restart: RestartSettings,
    pub log: LogSettings,
    /// Run an init as PID 1; `None`: unless the image's entrypoint is one.
    pub init: Option<bool>,
    pub stop_timeout: Option<std::time::Duration>,
}

impl RunDefaults {
    /// The manifest's `[run]` over these defaults, key by key (a log driver other than the
    /// defaults' drops the defaults' driver options).
    pub fn resolve(&self, run: &crate::manifest::RunSettings) -> Run {
        let mut restart = self.restart.clone().unwrap_or_default();
        if let Some(o) = &run.restart {
            if o.policy.is_some() {
                restart.policy = o.policy.clone();
            }
            if o.max_retries.is_some() {
                restart.max_retries = o.max_retries;
            }
        }
        // dk's own default: on failure, at most 5 times.
        let policy = restart.policy.get_or_insert_with(|| "on-failure".into());
        if policy == "on-failure" && restart.max_retries.is_none() {
            restart.max_retries = Some(5);
        }
        let mut log = self.log.clone().unwrap_or_default();
        if let Some(o) = &run.log {
            if o.driver.is_some() && o.driver != log.driver {
                log.driver = o.driver.clone();
                log.options.clear();
            }
            log.options.extend(o.options.clone());
            if o.max_size.is_some() {
                log.max_size = o.max_size.clone();
            }
            if o.max_files.is_some() {
                log.max_files = o.max_files;
            }
        }
        Run {
            read_only: run.read_only.or(self.read_only).unwrap_or(true),
            memory: run
                .memory
                .as_ref()
                .or(self.memory.as_ref())
                .map(|m| m.get().0),
            cpus: run.cpus.or(self.cpus),
            pids: run.pids.or(self.pids),
            restart,
            log,
            init: run.init.or(self.init),
            stop_timeout: run
                .stop_timeout
                .as_ref()
                .or(self.stop_timeout.as_ref())
                .map(|t| *t.get()),
        }
    }
}
