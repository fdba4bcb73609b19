//! Registries, through the daemon: push a tag, and ask the registry which manifest digest a
//! reference has (`/distribution/{name}/json`). TLS trust is the daemon's.

use bollard::auth::DockerCredentials;
use futures_util::StreamExt;

use super::Daemon;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Credentials for one registry; the password or token is a `Secret` (never shown).
#[derive(Clone, Debug)]
pub struct RegistryAuth {
    pub username: String,
    pub secret: Secret,
    pub server: String,
}

impl RegistryAuth {
    /// The credentials as bollard sends them (the only place the secret leaves dk's types).
    pub(super) fn docker(&self) -> DockerCredentials {
        DockerCredentials {
            username: Some(self.username.clone()),
            password: Some(self.secret.expose_str()),
            serveraddress: Some(self.server.clone()),
            ..Default::default()
        }
    }
}

/// Why a push failed, as the next step sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushFailure {
    /// The registry refused the credentials (or wants some).
    Auth,
    /// The daemon does not trust the registry's certificate, or speaks TLS to plain HTTP.
    Tls,
    /// Anything else: the connection, the registry's storage, …; worth another try.
    Other,
}

impl PushFailure {
    pub fn of(message: &str) -> PushFailure {
        let m = message.to_ascii_lowercase();
        if m.contains("unauthorized")
            || m.contains("authentication required")
            || m.contains("denied")
            || m.contains("no basic auth credentials")
        {
            PushFailure::Auth
        } else if m.contains("x509")
            || m.contains("certificate")
            || m.contains("tls")
            || m.contains("server gave http response to https client")
        {
            PushFailure::Tls
        } else {
            PushFailure::Other
        }
    }
}

impl Daemon {
    /// Push `repo:tag`. `Err((failure, message))` when the daemon or the registry refuses.
    pub async fn push(
        &self,
        repo: &str,
        tag: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<std::result::Result<(), (PushFailure, String)>> {
        let mut stream = self.long.push_image(
            repo,
            Some(bollard::query_parameters::PushImageOptions {
                tag: Some(tag.to_string()),
                ..Default::default()
            }),
            auth.map(RegistryAuth::docker),
        );
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(e) = info.error_detail.and_then(|d| d.message) {
                        return Ok(Err((PushFailure::of(&e), e)));
                    }
                }
                Err(bollard::errors::Error::DockerResponseServerError { message, .. }) => {
                    return Ok(Err((PushFailure::of(&message), message)));
                }
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Ok(Err((PushFailure::of(&error), error)));
                }
                Err(e) => return Err(self.err(format!("pushing {repo}:{tag}"), e)),
            }
        }
        Ok(Ok(()))
    }

    /// Pull `reference` when the registry has it: Ok(false) when it has no such tag (or
    /// repository); an error for anything else (no answer, credentials, TLS).
    pub async fn pull_present(&self, reference: &str, auth: Option<&RegistryAuth>) -> Result<bool> {
        let mut stream = self.long.create_image(
            Some(bollard::query_parameters::CreateImageOptions {
                from_image: Some(reference.to_string()),
                ..Default::default()
            }),
            None,
            auth.map(RegistryAuth::docker),
        );
        let absent = |m: &str| {
            let m = m.to_ascii_lowercase();
            m.contains("manifest unknown") || m.contains("not found")
        };
        while let Some(item) = stream.next().await {
            let message = match item {
                Ok(_) => continue,
                Err(bollard::errors::Error::DockerResponseServerError { message, .. }) => message,
                Err(bollard::errors::Error::DockerStreamError { error }) => error,
                Err(e) => return Err(self.err(format!("pulling {reference}"), e)),
            };
            if absent(&message) {
                return Ok(false);
            }
            return Err(Error::Registry {
                registry: reference.to_string(),
                message: format!("pulling {reference}: {message}"),
                help: "check that the registry answers from the daemon's machine (`docker login` when it needs credentials)".into(),
            });
        }
        Ok(true)
    }

    /// Make `repo:tag` an image of one empty layer whose only content is `labels` (how a
    /// record travels through a registry beside the image it is about).
    pub async fn import_labelled(
        &self,
        repo: &str,
        tag: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        // An empty tar archive: two zero blocks.
        let empty = bytes::Bytes::from(vec![0u8; 1024]);
        let changes = labels
            .iter()
            .map(|(k, v)| format!("LABEL {k}={v}"))
            .collect();
        let mut stream = self.long.create_image(
            Some(bollard::query_parameters::CreateImageOptions {
                from_src: Some("-".into()),
                repo: Some(repo.to_string()),
                tag: Some(tag.to_string()),
                changes,
                ..Default::default()
            }),
            Some(bollard::body_full(empty)),
            None,
        );
        while let Some(item) = stream.next().await {
            item.map_err(|e| self.err(format!("making {repo}:{tag}"), e))?;
        }
        Ok(())
    }

    /// The manifest digest the registry has for `reference` (asked through the daemon).
    pub async fn registry_digest(
        &self,
        reference: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<String> {
        let d = self
            .api
            .inspect_registry_image(reference, auth.map(RegistryAuth::docker))
            .await
            .map_err(|e| match e {
                bollard::errors::Error::DockerResponseServerError { message, .. } => {
                    Error::Registry {
                        registry: reference.to_string(),
                        message: format!("the registry does not show what was pushed: {message}"),
                        help: "push again: `dk push`".into(),
                    }
                }
                other => self.err(format!("asking the registry about {reference}"), other),
            })?;
        d.descriptor.digest.ok_or_else(|| Error::Registry {
            registry: reference.to_string(),
            message: "the registry answered without a digest".into(),
            help: "push again: `dk push`".into(),
        })
    }
}
