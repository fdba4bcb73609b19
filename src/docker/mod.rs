//! The Docker layer: the only code that talks to the daemon (through bollard).
//!
//! It knows nothing about workspaces or records; the engine hands it image references,
//! labels and tar streams, and gets back dk's own types (`ImageId`, `ImageFacts`,
//! `ContainerInfo`, build events). No bollard type leaves this module.
//!
//! Two client types make the version rule a type rule: `Lookup` can only read, and is made
//! before the API version is negotiated; `Daemon` comes only out of `Lookup::negotiate`,
//! which refuses an API older than 1.41, and is the only type with methods that change
//! anything.

mod build;
mod containers;
mod images;
mod networks;
mod registry;
mod session;
mod swarm;

pub use build::{BuildError, BuildEvent, BuildRequest, Builder, SecretFrom};
pub use containers::{
    Bind, ContainerInfo, ContainerSpec, FileInfo, Health, Healthcheck, LogOptions, SecretMount,
};
pub use images::{ImageEntry, ImageFacts, ImageSet};
pub use registry::{PushFailure, RegistryAuth};
pub use session::{ContextFile, FileKind, SessionFiles};
pub use swarm::{NodeInfo, SecretRef, ServiceInfo, ServiceSettings, TaskInfo};

use std::time::Duration;

use bollard::Docker;

use crate::error::{Error, Result};

/// Oldest Engine API dk supports (Docker 20.10).
pub const MIN_API: (u32, u32) = (1, 41);

/// A client for reads only (image, container and network lookups, logs, exports): it can
/// change nothing on the daemon. Made before the API version is negotiated, so a run that
/// only reads (a no-op build) never waits for `/version`.
#[derive(Debug, Clone)]
pub struct Lookup {
    api: Docker,
    /// Same client with a long timeout, for streams that may take a while (exports, logs).
    long: Docker,
    endpoint: String,
}

/// A connection that passed the version check: the only way to change anything on the
/// daemon (build, tag, create, start, stop, remove). Reads go through its `Lookup`
/// (`Deref`).
#[derive(Debug, Clone)]
pub struct Daemon {
    reads: Lookup,
    /// The negotiated API version.
    api_version: String,
}

impl std::ops::Deref for Daemon {
    type Target = Lookup;
    fn deref(&self) -> &Lookup {
        &self.reads
    }
}

/// A daemon named on the command line (`dk -H`), over DOCKER_HOST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `unix://…`, `tcp://…`, `http://…` or `ssh://user@host`.
    pub url: String,
    /// The SSH key to use (`ssh://` only); default: ssh's own choice.
    pub identity: Option<String>,
}

static ENDPOINT: std::sync::OnceLock<Endpoint> = std::sync::OnceLock::new();

/// Use `e` for every connection of this process (set once, before any).
pub fn use_endpoint(e: Endpoint) {
    let _ = ENDPOINT.set(e);
}

pub fn endpoint() -> String {
    match ENDPOINT.get() {
        Some(e) => e.url.clone(),
        None => std::env::var("DOCKER_HOST")
            .unwrap_or_else(|_| "unix:///var/run/docker.sock".to_string()),
    }
}

/// The client for an endpoint named with `dk -H`.
fn client_for(e: &Endpoint) -> std::result::Result<Docker, String> {
    let timeout = 120;
    let version = bollard::API_DEFAULT_VERSION;
    let url = e.url.as_str();
    if url.starts_with("ssh://") {
        Docker::connect_with_ssh(url, timeout, version, e.identity.clone())
            .map_err(|x| x.to_string())
    } else if let Some(path) = url.strip_prefix("unix://") {
        Docker::connect_with_unix(path, timeout, version).map_err(|x| x.to_string())
    } else if url.starts_with("tcp://") || url.starts_with("http://") {
        Docker::connect_with_http(url, timeout, version).map_err(|x| x.to_string())
    } else {
        Err(format!(
            "`{url}` is not unix://, tcp://, http:// or ssh:// (for TLS, set DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH)"
        ))
    }
}

const START_HELP: &str = "start the daemon (`sudo systemctl start docker`, or `sudo dockerd &` where there is no systemd), or point DOCKER_HOST at one that runs";

impl Lookup {
    /// A read client for the configured endpoint (DOCKER_HOST, DOCKER_TLS_VERIFY,
    /// DOCKER_CERT_PATH). Its requests carry no version prefix, so the daemon answers them
    /// at its own version: reads are the same at every supported version.
    pub fn connect() -> Result<Lookup> {
        let endpoint = endpoint();
        let api = match ENDPOINT.get() {
            Some(e) => client_for(e).map_err(|m| unreachable(&endpoint, m))?,
            None => Docker::connect_with_defaults()
                .map_err(|e| unreachable(&endpoint, e.to_string()))?,
        };
        Ok(Lookup::with_client(api, endpoint))
    }

    fn with_client(api: Docker, endpoint: String) -> Lookup {
        Lookup {
            long: api.clone().with_timeout(Duration::from_secs(6 * 3600)),
            api,
            endpoint,
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Negotiate the API version (one request, answered within 10 s) and refuse a daemon
    /// older than API 1.41: the only way to get a `Daemon`.
    pub async fn negotiate(self) -> Result<Daemon> {
        let endpoint = self.endpoint;
        // After negotiation the client speaks min(server, bollard): below 1.41 means the
        // server is older than dk supports.
        let api = match tokio::time::timeout(Duration::from_secs(10), self.api.negotiate_version())
            .await
        {
            Err(_) => return Err(unreachable(&endpoint, "no answer within 10s".into())),
            Ok(Err(e)) => return Err(unreachable(&endpoint, with_causes(&e))),
            Ok(Ok(api)) => api,
        };
        let v = api.client_version();
        let api_version = format!("{}.{}", v.major_version, v.minor_version);
        if (v.major_version as u32, v.minor_version as u32) < MIN_API {
            let server = match api.version().await {
                Ok(sv) => format!(" (Docker {})", sv.version.unwrap_or_default()),
                Err(_) => String::new(),
            };
            return Err(Error::Daemon {
                endpoint,
                detail: format!(
                    "the daemon speaks Engine API {api_version}{server}; dk needs API {}.{} or newer",
                    MIN_API.0, MIN_API.1
                ),
                help: "upgrade the Docker engine to 20.10 or newer".into(),
            });
        }
        Ok(Daemon {
            reads: Lookup::with_client(api, endpoint),
            api_version,
        })
    }

    /// Map a bollard error: lost connections become exit-3 daemon errors, the rest keep
    /// their context.
    fn err(&self, context: impl Into<String>, e: bollard::errors::Error) -> Error {
        if is_connection_error(&e) {
            unreachable(
                &self.endpoint,
                format!("{}: {}", context.into(), with_causes(&e)),
            )
        } else {
            Error::Docker {
                context: context.into(),
                detail: refusal(&e),
            }
        }
    }
}

impl Daemon {
    /// Connect and negotiate: `Lookup::connect()?.negotiate()`.
    pub async fn connect() -> Result<Daemon> {
        Lookup::connect()?.negotiate().await
    }

    pub fn api_version(&self) -> &str {
        &self.api_version
    }
}

/// What the daemon said when it refused a request (its message, not bollard's wrapper).
fn refusal(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => with_causes(other),
    }
}

/// The daemon at `endpoint` cannot be reached: exit 3, with how to start one.
fn unreachable(endpoint: &str, detail: String) -> Error {
    let help = match endpoint.strip_prefix("ssh://") {
        Some(dest) => format!(
            "dk reaches it as `ssh {dest} docker system dial-stdio`: check that `ssh {dest} docker version` works there (the key, the host key in known_hosts, docker on that machine)"
        ),
        None => START_HELP.to_string(),
    };
    Error::Daemon {
        endpoint: endpoint.to_string(),
        detail,
        help,
    }
}

/// An error with the chain of its causes (`client error (Connect): Connection refused`):
/// bollard's own message often leaves out the one that says what happened.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// `"1.41"` -> `(1, 41)`.
pub fn parse_api(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The connection to the daemon failed or broke (as opposed to the daemon refusing).
fn is_connection_error(e: &bollard::errors::Error) -> bool {
    use bollard::errors::Error as E;
    matches!(
        e,
        E::IOError { .. }
            | E::HyperResponseError { .. }
            | E::HyperLegacyError { .. }
            | E::SocketNotFoundError(_)
            | E::RequestTimeoutError
    )
}

/// 404 from the daemon.
fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The registries the daemon speaks plain HTTP to (its `insecure-registries`): by name,
/// and by address range.
#[derive(Debug, Clone, Default)]
pub struct InsecureRegistries {
    pub hosts: Vec<String>,
    pub cidrs: Vec<String>,
}

impl Lookup {
    /// `/info`.
    async fn info(&self) -> Result<bollard::models::SystemInfo> {
        self.api
            .info()
            .await
            .map_err(|e| self.err("reading daemon info", e))
    }

    /// The daemon's insecure registries: dk talks to a registry as the daemon does.
    pub async fn insecure_registries(&self) -> Result<InsecureRegistries> {
        let info = self.info().await?;
        let config = info.registry_config.unwrap_or_default();
        Ok(InsecureRegistries {
            hosts: config
                .index_configs
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, i)| i.secure == Some(false))
                .map(|(name, _)| name)
                .collect(),
            cidrs: config.insecure_registry_cidrs.unwrap_or_default(),
        })
    }

    /// Does the daemon run with user-namespace remapping (`name=userns` in its security
    /// options)?
    pub async fn userns_remapped(&self) -> Result<bool> {
        let info = self.info().await?;
        Ok(info
            .security_options
            .unwrap_or_default()
            .iter()
            .any(|o| o.contains("name=userns")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_compare() {
        assert!(parse_api("1.40").unwrap() < MIN_API);
        assert!(parse_api("1.41").unwrap() >= MIN_API);
        assert!(parse_api("1.50").unwrap() >= MIN_API);
        assert!(parse_api("garbage").is_none());
    }
}
