//! The Docker layer: the only code that talks to the daemon (through bollard).
//!
//! It knows nothing about workspaces or records; the engine hands it image references,
//! labels and tar streams, and gets back ids and events.

pub mod build;
pub mod containers;
pub mod images;
pub mod networks;

use std::time::Duration;

use bollard::Docker;

use crate::error::{Error, Result};

/// Oldest Engine API dk supports (Docker 20.10).
pub const MIN_API: (u32, u32) = (1, 41);

/// Connection to the daemon: a client for quick calls and one with a long timeout for
/// builds, imports and stops (bollard's timeout covers upload + response headers).
#[derive(Debug, Clone)]
pub struct Daemon {
    pub api: Docker,
    pub long: Docker,
    pub endpoint: String,
    /// The negotiated API version.
    pub api_version: String,
}

pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_string())
}

const START_HELP: &str = "start the daemon (`sudo systemctl start docker`, or `sudo dockerd &` where there is no systemd), or point DOCKER_HOST at one that runs";

impl Daemon {
    /// Connect (honouring DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), negotiate the
    /// API version with one request answered within 10 s, and refuse a daemon older than
    /// API 1.41.
    pub async fn connect() -> Result<Daemon> {
        Daemon::unnegotiated()?.negotiated().await
    }

    /// A client for the configured endpoint whose API version is not negotiated yet. Its
    /// requests carry no version prefix, so the daemon answers them at its own version:
    /// good for reads while `negotiated` runs, but nothing may be changed on the daemon's
    /// behalf before the version check has passed.
    pub fn unnegotiated() -> Result<Daemon> {
        let endpoint = endpoint();
        let api = Docker::connect_with_defaults().map_err(|e| Error::Daemon {
            endpoint: endpoint.clone(),
            detail: e.to_string(),
            help: START_HELP.to_string(),
        })?;
        Ok(Daemon {
            long: api.clone().with_timeout(Duration::from_secs(6 * 3600)),
            api,
            endpoint,
            api_version: String::new(),
        })
    }

    /// Negotiate the API version (one request, answered within 10 s) and refuse a daemon
    /// older than API 1.41.
    pub async fn negotiated(self) -> Result<Daemon> {
        let endpoint = self.endpoint;
        let unreachable = |detail: String| Error::Daemon {
            endpoint: endpoint.clone(),
            detail,
            help: START_HELP.to_string(),
        };
        // After negotiation the client speaks min(server, bollard): below 1.41 means the
        // server is older than dk supports.
        let api = match tokio::time::timeout(Duration::from_secs(10), self.api.negotiate_version())
            .await
        {
            Err(_) => return Err(unreachable("no answer within 10s".into())),
            Ok(Err(e)) => return Err(unreachable(with_causes(&e))),
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
        let long = api.clone().with_timeout(Duration::from_secs(6 * 3600));
        Ok(Daemon {
            api,
            long,
            endpoint,
            api_version,
        })
    }

    /// Map a bollard error: lost connections become exit-3 daemon errors, the rest keep
    /// their context.
    pub fn err(&self, context: impl Into<String>, e: bollard::errors::Error) -> Error {
        if is_connection_error(&e) {
            Error::Daemon {
                endpoint: self.endpoint.clone(),
                detail: format!("{}: {}", context.into(), with_causes(&e)),
                help: START_HELP.to_string(),
            }
        } else {
            Error::docker(context, e)
        }
    }
}

/// An error with the chain of its causes (`client error (Connect): Connection refused`):
/// bollard's own message often leaves out the one that says what happened.
pub fn with_causes(e: &dyn std::error::Error) -> String {
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

pub fn parse_api(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The connection to the daemon failed or broke (as opposed to the daemon refusing).
pub fn is_connection_error(e: &bollard::errors::Error) -> bool {
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
pub fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl Daemon {
    /// Does the daemon run with user-namespace remapping (`name=userns` in its security
    /// options)?
    pub async fn userns_remapped(&self) -> Result<bool> {
        let info = self
            .api
            .info()
            .await
            .map_err(|e| self.err("reading daemon info", e))?;
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
