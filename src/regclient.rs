//! A small registry client (the distribution API over HTTP): what digest a tag has now, per
//! platform, and when its image was made. Credentials are the Docker CLI's (`credentials.rs`,
//! as `dk push` uses them); the token dance (`WWW-Authenticate: Bearer …`) and Basic auth are
//! done here. HTTPS with the system's roots; plain HTTP only for a loopback registry (what
//! the daemon itself allows without configuration).

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::Digest as _;

use crate::docker::RegistryAuth;
use crate::dockerfile::ImageRef;
use crate::error::{Error, Result};

/// An image reference, resolved as the Docker CLI does (`redis` is
/// `docker.io/library/redis:latest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`.
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(image: &str) -> Option<Reference> {
        let ImageRef { repo, tag, digest } = ImageRef::parse(image);
        let (registry, repository) = split_registry(&repo);
        if repository.is_empty() || repository.contains(char::is_whitespace) {
            return None;
        }
        let registry = registry.unwrap_or("docker.io").to_string();
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        Some(Reference {
            registry,
            repository,
            tag: tag.or_else(|| digest.is_none().then(|| "latest".to_string())),
            digest,
        })
    }

    /// `registry/repository:tag` (no digest).
    pub fn tagged(&self) -> String {
        format!(
            "{}/{}:{}",
            self.registry,
            self.repository,
            self.tag.as_deref().unwrap_or("latest")
        )
    }

    fn api_host(&self) -> &str {
        if self.registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// A registry on this machine's loopback speaks plain HTTP (the daemon allows that).
    fn loopback(&self) -> bool {
        let host = self
            .registry
            .rsplit_once(':')
            .map_or(self.registry.as_str(), |(h, _)| h);
        host == "localhost" || host.starts_with("127.") || host == "[::1]"
    }
}

/// A name's registry host and the rest, as the Docker CLI tells them apart: the first path
/// component is a host when it has a `.` or a `:`, or is `localhost` (`ghcr.io/o/app` →
/// (ghcr.io, o/app); `library/redis` → (none, library/redis)).
pub fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// What a tag points at now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The tag's digest: an index (manifest list) or one image manifest.
    pub digest: String,
    /// Is `digest` an index?
    pub index: bool,
    /// The image manifest for the platform: `digest` itself when it is no index.
    pub platform_digest: Option<String>,
}

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(20);

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

pub struct RegistryClient {
    http: Client<Https, Full<Bytes>>,
    /// Registries spoken to over plain HTTP besides loopback ones: the daemon's insecure
    /// registries (`with_insecure`).
    insecure: crate::docker::InsecureRegistries,
}

struct Response {
    status: u16,
    headers: hyper::HeaderMap,
    body: Bytes,
}

fn fail(what: &str, r: &Reference, message: impl std::fmt::Display) -> Error {
    Error::Registry {
        registry: r.registry.clone(),
        message: format!("cannot {what} {}: {message}", r.repository),
        help: format!(
            "check that {} answers from this machine (and `docker login {}` when it needs credentials)",
            r.registry, r.registry
        ),
    }
}

impl RegistryClient {
    pub fn new() -> Result<RegistryClient> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| Error::Registry {
                registry: "(any)".into(),
                message: format!("the system's TLS roots cannot be read: {e}"),
                help: "install the ca-certificates package".into(),
            })?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(RegistryClient {
            http: Client::builder(TokioExecutor::new()).build(https),
            insecure: Default::default(),
        })
    }

    /// Speak plain HTTP to the registries the daemon does (by name, or by address in one
    /// of its insecure ranges), as the daemon pushed to them.
    pub fn with_insecure(mut self, insecure: crate::docker::InsecureRegistries) -> Self {
        self.insecure = insecure;
        self
    }

    /// Plain HTTP for `r`? Loopback, or one of the daemon's insecure registries.
    fn plain_http(&self, r: &Reference) -> bool {
        if r.loopback() || self.insecure.hosts.contains(&r.registry) {
            return true;
        }
        let host = r
            .registry
            .rsplit_once(':')
            .map_or(r.registry.as_str(), |(h, _)| h);
        let Ok(ip) = host.parse::<std::net::Ipv4Addr>() else {
            return false;
        };
        self.insecure.cidrs.iter().any(|c| {
            c.parse::<crate::net::Subnet>()
                .is_ok_and(|subnet| subnet.contains(ip))
        })
    }

    async fn get(
        &self,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> std::result::Result<Response, String> {
        self.send(hyper::Method::GET, url, accept, None, authorization)
            .await
    }

    /// One request; `body` is (content type, bytes).
    async fn send(
        &self,
        method: hyper::Method,
        url: &str,
        accept: Option<&str>,
        body: Option<(&str, &[u8])>,
        authorization: Option<&str>,
    ) -> std::result::Result<Response, String> {
        let mut req = hyper::Request::builder().method(method).uri(url);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let bytes = match body {
            Some((content_type, b)) => {
                req = req.header("Content-Type", content_type);
                Bytes::copy_from_slice(b)
            }
            None => Bytes::new(),
        };
        let req = req.body(Full::new(bytes)).map_err(|e| e.to_string())?;
        let fut = async {
            let res = self.http.request(req).await.map_err(|e| {
                let mut m = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    m.push_str(&format!(": {s}"));
                    src = s.source();
                }
                m
            })?;
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let body = res
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok(Response {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(TIMEOUT, fut)
            .await
            .map_err(|_| format!("no answer within {}s", TIMEOUT.as_secs()))?
    }

    /// GET `path` of `r`'s repository, answering the registry's auth challenge once.
    async fn get_authorized(
        &self,
        r: &Reference,
        path: &str,
        accept: Option<&str>,
        auth: Option<&RegistryAuth>,
    ) -> Result<Response> {
        self.authorized(r, hyper::Method::GET, path, accept, None, auth)
            .await
    }

    /// A request for `path` of `r`'s repository, answering the registry's auth challenge
    /// once (a token for pulling; for pushing too when the request writes).
    async fn authorized(
        &self,
        r: &Reference,
        method: hyper::Method,
        path: &str,
        accept: Option<&str>,
        body: Option<(&str, &[u8])>,
        auth: Option<&RegistryAuth>,
    ) -> Result<Response> {
        let scheme = if self.plain_http(r) { "http" } else { "https" };
        let url = format!("{scheme}://{}/v2/{}/{path}", r.api_host(), r.repository);
        let scope = if method == hyper::Method::GET {
            "pull"
        } else {
            "pull,push"
        };
        let first = self
            .send(method.clone(), &url, accept, body, None)
            .await
            .map_err(|e| fail("ask", r, e))?;
        if first.status != 401 {
            return Ok(first);
        }
        let challenge = first
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let basic = auth.map(|a| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    a.username,
                    a.secret.expose_str()
                ))
            )
        });
        let authorization = if challenge.to_ascii_lowercase().starts_with("bearer") {
            let params = challenge_params(&challenge);
            let realm = params
                .iter()
                .find(|(k, _)| k == "realm")
                .map(|(_, v)| v.clone())
                .ok_or_else(|| fail("ask", r, "a Bearer challenge without a realm"))?;
            let mut token_url = format!("{realm}?scope=repository:{}:{scope}", r.repository);
            if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
                token_url.push_str(&format!("&service={service}"));
            }
            let t = self
                .get(&token_url, None, basic.as_deref())
                .await
                .map_err(|e| fail("get a token for", r, e))?;
            if t.status != 200 {
                return Err(fail(
                    "get a token for",
                    r,
                    format!("HTTP {} from {realm}", t.status),
                ));
            }
            let v: serde_json::Value =
                serde_json::from_slice(&t.body).map_err(|e| fail("get a token for", r, e))?;
            let token = v
                .get("token")
                .or_else(|| v.get("access_token"))
                .and_then(|t| t.as_str())
                .ok_or_else(|| fail("get a token for", r, "the answer has no token"))?;
            format!("Bearer {token}")
        } else {
            basic.ok_or_else(|| {
                fail(
                    "ask",
                    r,
                    format!(
                        "the registry wants credentials; log in with `docker login {}`",
                        r.registry
                    ),
                )
            })?
        };
        self.send(method, &url, accept, body, Some(&authorization))
            .await
            .map_err(|e| fail("ask", r, e))
    }

    /// A manifest (or index) and its digest.
    async fn manifest(
        &self,
        r: &Reference,
        at: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<(String, serde_json::Value)> {
        let m = self.manifest_raw(r, at, auth).await?;
        let json = serde_json::from_slice(&m.bytes)
            .map_err(|e| fail("read", r, format!("manifest {at} is not JSON: {e}")))?;
        Ok((m.digest, json))
    }

    /// A manifest as the registry keeps it: its bytes, media type and digest.
    pub async fn manifest_raw(
        &self,
        r: &Reference,
        at: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<RawManifest> {
        let res = self
            .get_authorized(r, &format!("manifests/{at}"), Some(ACCEPT), auth)
            .await?;
        match res.status {
            200 => {}
            401 | 403 => {
                return Err(fail(
                    "read",
                    r,
                    format!(
                        "HTTP {}: the credentials were refused (`docker login {}`)",
                        res.status, r.registry
                    ),
                ));
            }
            404 => return Err(fail("read", r, format!("{at} is not in the registry"))),
            s => return Err(fail("read", r, format!("HTTP {s} for manifest {at}"))),
        }
        let digest = res
            .headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| format!("sha256:{:x}", sha2::Sha256::digest(&res.body)));
        let media_type = res
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|t| t.split(';').next().unwrap_or(t).trim().to_string())
            .unwrap_or_default();
        Ok(RawManifest {
            digest,
            media_type,
            bytes: res.body.to_vec(),
        })
    }

    /// Write one index for `entries` (each image manifest already in `r`'s repository, with
    /// its platform) as tag `tag`: a Docker manifest list when every entry is a Docker image
    /// manifest, else an OCI index. Read back: the registry must serve exactly those bytes
    /// under that digest. Returns the index's digest.
    pub async fn put_index(
        &self,
        r: &Reference,
        tag: &str,
        entries: &[(RawManifest, crate::dockerfile::Platform)],
        auth: Option<&RegistryAuth>,
    ) -> Result<String> {
        let (bytes, media_type) = index_json(entries);
        let digest = format!("sha256:{:x}", sha2::Sha256::digest(&bytes));
        let res = self
            .authorized(
                r,
                hyper::Method::PUT,
                &format!("manifests/{tag}"),
                None,
                Some((media_type, &bytes)),
                auth,
            )
            .await?;
        if res.status != 201 {
            let body = String::from_utf8_lossy(&res.body);
            return Err(fail(
                "write the index of",
                r,
                format!("HTTP {} for {tag}: {}", res.status, body.trim()),
            ));
        }
        let back = self.manifest_raw(r, tag, auth).await?;
        if back.digest != digest || back.bytes != bytes {
            return Err(fail(
                "write the index of",
                r,
                format!(
                    "{tag} reads back as {}, not the index written ({digest})",
                    back.digest
                ),
            ));
        }
        Ok(digest)
    }

    /// What `at` (a tag or digest) of `r` is now, for `platform` (`linux/amd64`).
    pub async fn resolve(
        &self,
        r: &Reference,
        at: &str,
        platform: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<Resolved> {
        let (digest, json) = self.manifest(r, at, auth).await?;
        let entries = json.get("manifests").and_then(|m| m.as_array());
        let Some(entries) = entries else {
            return Ok(Resolved {
                platform_digest: Some(digest.clone()),
                digest,
                index: false,
            });
        };
        let platform_digest = entries
            .iter()
            .find(|m| platform_of(m).as_deref() == Some(platform))
            .and_then(|m| m.get("digest")?.as_str().map(str::to_string));
        Ok(Resolved {
            digest,
            index: true,
            platform_digest,
        })
    }

    /// When the image of manifest `digest` was made (its config's `created`), if it says.
    pub async fn created(
        &self,
        r: &Reference,
        digest: &str,
        auth: Option<&RegistryAuth>,
    ) -> Option<String> {
        let (_, m) = self.manifest(r, digest, auth).await.ok()?;
        let config = m.get("config")?.get("digest")?.as_str()?;
        let res = self
            .get_authorized(r, &format!("blobs/{config}"), None, auth)
            .await
            .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&res.body).ok()?;
        v.get("created")?.as_str().map(str::to_string)
    }
}

/// A manifest's bytes as the registry serves them, their media type and digest.
#[derive(Debug, Clone)]
pub struct RawManifest {
    pub digest: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// The bytes and media type of an index of `entries`.
fn index_json(entries: &[(RawManifest, crate::dockerfile::Platform)]) -> (Vec<u8>, &'static str) {
    let docker = entries.iter().all(|(m, _)| m.media_type == DOCKER_MANIFEST);
    let media_type = if docker { DOCKER_LIST } else { OCI_INDEX };
    let manifests: Vec<serde_json::Value> = entries
        .iter()
        .map(|(m, p)| {
            let mut platform = serde_json::json!({"architecture": p.arch, "os": p.os});
            let variant = match (&p.variant, p.arch.as_str()) {
                (Some(v), _) => Some(v.clone()),
                (None, "arm64") => Some("v8".to_string()),
                _ => None,
            };
            if let Some(v) = variant {
                platform["variant"] = serde_json::Value::String(v);
            }
            serde_json::json!({
                "mediaType": m.media_type,
                "size": m.bytes.len(),
                "digest": m.digest,
                "platform": platform,
            })
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": manifests,
    });
    (
        serde_json::to_vec_pretty(&index).expect("an index serializes"),
        media_type,
    )
}

/// `linux/arm64/v8` from an index entry's `platform`.
fn platform_of(m: &serde_json::Value) -> Option<String> {
    let p = m.get("platform")?;
    let os = p.get("os")?.as_str()?;
    let arch = p.get("architecture")?.as_str()?;
    Some(match p.get("variant").and_then(|v| v.as_str()) {
        Some(v) if !(arch == "arm64" && v == "v8") => format!("{os}/{arch}/{v}"),
        _ => format!("{os}/{arch}"),
    })
}

/// `Bearer realm="…",service="…"` → [(realm, …), (service, …)].
fn challenge_params(header: &str) -> Vec<(String, String)> {
    let rest = header.split_once(' ').map_or("", |(_, r)| r);
    let mut out = Vec::new();
    let mut s = rest;
    while let Some((key, after)) = s.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            match q.split_once('"') {
                Some((v, n)) => (v.to_string(), n),
                None => (q.to_string(), ""),
            }
        } else {
            match after.split_once(',') {
                Some((v, n)) => (v.to_string(), n),
                None => (after.to_string(), ""),
            }
        };
        out.push((key, value));
        s = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_as_the_docker_cli_reads_them() {
        let r = Reference::parse("redis").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/redis", Some("latest"))
        );
        let r = Reference::parse("127.0.0.1:5000/up/base:1@sha256:abc").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "up/base");
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert!(r.loopback());
        let r = Reference::parse("ghcr.io/o/app@sha256:abc").unwrap();
        assert_eq!(r.tag, None);
        assert!(!r.loopback());
        assert_eq!(
            Reference::parse("localhost:5000/x").unwrap().tagged(),
            "localhost:5000/x:latest"
        );
    }

    #[test]
    fn bearer_challenges_are_read() {
        let p = challenge_params(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull""#,
        );
        assert_eq!(
            p[0],
            ("realm".into(), "https://auth.docker.io/token".into())
        );
        assert_eq!(p[1], ("service".into(), "registry.docker.io".into()));
        assert_eq!(p.len(), 3);
    }
}
