//! Registry credentials, found the way the Docker CLI finds them: `$DOCKER_CONFIG/config.json`
//! (else `~/.docker/config.json`), a per-registry `credHelpers` entry, else `credsStore`,
//! else a base64 `auths` entry. Helpers are the `docker-credential-<name>` programs (not the
//! docker CLI). A secret found here only ever goes into the push's auth header.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::docker::RegistryAuth;
use crate::error::{Error, Result};
use crate::secret::Secret;

fn config_path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) => PathBuf::from(d).join("config.json"),
        None => {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker/config.json")
        }
    }
}

/// The registry host of a `host[:port][/path]` url.
pub fn host_of(url: &str) -> &str {
    url.split('/').next().unwrap_or(url)
}

/// Credentials for `url`'s host, if the Docker config has any.
pub fn for_registry(url: &str) -> Result<Option<RegistryAuth>> {
    let host = host_of(url);
    let path = config_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let cfg: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::io("parse", &path, std::io::Error::other(e.to_string())))?;
    let helper = cfg["credHelpers"][host]
        .as_str()
        .or_else(|| cfg["credsStore"].as_str());
    if let Some(h) = helper {
        return from_helper(h, host);
    }
    let Some(auth) = cfg["auths"][host]["auth"].as_str() else {
        return Ok(None);
    };
    let decoded = decode_base64(auth).ok_or_else(|| Error::Registry {
        registry: host.to_string(),
        message: format!(
            "the auth entry for {host} in {} is not base64",
            path.display()
        ),
        help: format!("log in again: `docker login {host}`"),
    })?;
    let (user, secret) = decoded.split_once(':').ok_or_else(|| Error::Registry {
        registry: host.to_string(),
        message: format!(
            "the auth entry for {host} in {} is not user:password",
            path.display()
        ),
        help: format!("log in again: `docker login {host}`"),
    })?;
    Ok(Some(RegistryAuth {
        username: user.to_string(),
        secret: Secret::new(secret),
        server: host.to_string(),
    }))
}

fn from_helper(helper: &str, host: &str) -> Result<Option<RegistryAuth>> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Registry {
            registry: host.to_string(),
            message: format!(
                "the Docker config names the credential helper {program}, which cannot run ({e})"
            ),
            help: format!("install {program}, or remove it from the Docker config"),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all(host.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::io("run", &program, e))?;
    if !out.status.success() {
        // "credentials not found" is no credentials, not an error.
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    match (v["Username"].as_str(), v["Secret"].as_str()) {
        (Some(u), Some(s)) => Ok(Some(RegistryAuth {
            username: u.to_string(),
            secret: Secret::new(s),
            server: host.to_string(),
        })),
        _ => Ok(None),
    }
}

fn decode_base64(s: &str) -> Option<String> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    // Padded or not, as Docker's own configs come.
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(s.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_hosts() {
        assert_eq!(decode_base64("dXNlcjpwYXNz").as_deref(), Some("user:pass"));
        assert_eq!(decode_base64("YQ==").as_deref(), Some("a"));
        assert_eq!(host_of("127.0.0.1:5000/team"), "127.0.0.1:5000");
    }
}
