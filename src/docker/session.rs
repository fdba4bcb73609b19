//! A BuildKit session of dk's own, as the Docker CLI opens one: the build context and the
//! Dockerfile are served to the daemon over gRPC (fsutil's DiffCopy) instead of being
//! uploaded as a tar. BuildKit then applies `.dockerignore` itself, so a build sees what a
//! build from the CLI sees: an ignored `Dockerfile` or `.dockerignore` is not in the
//! context (a tar upload has to carry the Dockerfile, and BuildKit shows all of a tar).
//!
//! The session is one HTTP connection to the daemon (`POST /session`, upgraded to h2c) on
//! which dk is the gRPC server; a local socket or plain TCP only (other endpoints upload a
//! tar).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bollard::fsutil::types::{Packet, Stat, packet::PacketType};
use bollard::health::health_server::{Health, HealthServer};
use bollard::health::{HealthCheckRequest, HealthCheckResponse, health_check_response};
use bollard::moby::filesync::v1::file_sync_server::{FileSync, FileSyncServer};
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

/// What a context entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Symlink,
}

/// One entry of the build context, as dk scanned it (CLI semantics: an ignored Dockerfile
/// and `.dockerignore` are still listed; the session leaves them out when BuildKit's
/// patterns exclude them).
#[derive(Debug, Clone)]
pub struct ContextFile {
    /// Slash-separated, relative to the context directory.
    pub rel: String,
    pub kind: FileKind,
    pub mode: u32,
    pub size: u64,
    pub link: Option<String>,
    /// blake3 of a file's content: a file that changed since the scan fails the build.
    pub digest: Option<[u8; 32]>,
}

/// What the session serves: the context directory's listed entries, and the Dockerfile
/// (as dk sends it) on its own.
#[derive(Debug, Clone)]
pub struct SessionFiles {
    pub dir: PathBuf,
    pub entries: Vec<ContextFile>,
    pub dockerfile: Vec<u8>,
    /// The mtime every entry is given (dk's builds do not depend on when files were touched).
    pub mtime_secs: u64,
    /// Entries BuildKit leaves out by its own reading of `.dockerignore` where the CLI's
    /// reading keeps them: an ignored `Dockerfile` or `.dockerignore`.
    pub hidden: Vec<String>,
}

const GRPC_METHODS: [&str; 3] = [
    "/moby.filesync.v1.FileSync/DiffCopy",
    "/moby.filesync.v1.FileSync/TarStream",
    "/grpc.health.v1.Health/Check",
];

/// The upgraded connection, as tonic serves it.
struct Conn(hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>);

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// A running session; dropping it ends the session.
pub struct Session {
    pub id: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Where the daemon listens, when dk can open a raw connection to it: a local socket or
/// plain TCP (not TLS, not SSH).
pub(crate) enum RawEndpoint {
    Unix(String),
    Tcp(String),
}

pub(crate) fn raw_endpoint(url: &str) -> Option<RawEndpoint> {
    if let Some(path) = url.strip_prefix("unix://") {
        return Some(RawEndpoint::Unix(path.to_string()));
    }
    let tls = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty());
    let rest = url
        .strip_prefix("tcp://")
        .or_else(|| url.strip_prefix("http://"))?;
    (!tls).then(|| RawEndpoint::Tcp(rest.trim_end_matches('/').to_string()))
}

/// Open a session on the daemon at `url` serving `files`; `None` when dk cannot reach the
/// daemon that way (the caller uploads a tar instead), an error when the daemon refused.
pub async fn open(url: &str, id: String, files: SessionFiles) -> Result<Option<Session>, String> {
    let Some(endpoint) = raw_endpoint(url) else {
        return Ok(None);
    };
    let io: Box<dyn IoStream> = match endpoint {
        RawEndpoint::Unix(path) => Box::new(
            tokio::net::UnixStream::connect(&path)
                .await
                .map_err(|e| format!("connecting to {path}: {e}"))?,
        ),
        RawEndpoint::Tcp(addr) => Box::new(
            tokio::net::TcpStream::connect(&addr)
                .await
                .map_err(|e| format!("connecting to {addr}: {e}"))?,
        ),
    };
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(|e| format!("opening a session: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    let shared_key =
        blake3::hash(files.dir.to_string_lossy().as_bytes()).to_hex()[..25].to_string();
    let mut req = hyper::Request::builder()
        .method("POST")
        .uri("/session")
        .header("Host", "docker")
        .header("Connection", "Upgrade")
        .header("Upgrade", "h2c")
        .header("X-Docker-Expose-Session-Uuid", &id)
        .header("X-Docker-Expose-Session-Name", "dk")
        .header("X-Docker-Expose-Session-Sharedkey", &shared_key);
    for m in GRPC_METHODS {
        req = req.header("X-Docker-Expose-Session-Grpc-Method", m);
    }
    let req = req
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .map_err(|e| e.to_string())?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("opening a session: {e}"))?;
    if resp.status() != hyper::StatusCode::SWITCHING_PROTOCOLS {
        return Err(format!(
            "the daemon did not open a session ({})",
            resp.status()
        ));
    }
    let upgraded = hyper::upgrade::on(resp)
        .await
        .map_err(|e| format!("opening a session: {e}"))?;
    let conn = Conn(hyper_util::rt::TokioIo::new(upgraded));
    let sync = FileSyncServer::new(Provider {
        files: Arc::new(files),
    })
    .max_decoding_message_size(32 << 20)
    .max_encoding_message_size(32 << 20);
    let server = tokio::spawn(async move {
        let incoming = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(conn)]);
        if let Err(e) = tonic::transport::Server::builder()
            .add_service(HealthServer::new(Healthy))
            .add_service(sync)
            .serve_with_incoming(incoming)
            .await
        {
            tracing::debug!("the build session ended: {e}");
        }
    });
    Ok(Some(Session { id, server }))
}

trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> IoStream for T {}

/// The health check BuildKit polls to keep the session.
struct Healthy;

#[tonic::async_trait]
impl Health for Healthy {
    type WatchStream =
        Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send + 'static>>;

    async fn check(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            status: health_check_response::ServingStatus::Serving as i32,
        }))
    }

    async fn watch(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("watch"))
    }

    async fn list(
        &self,
        _request: Request<bollard::health::HealthListRequest>,
    ) -> Result<Response<bollard::health::HealthListResponse>, Status> {
        Err(Status::unimplemented("list"))
    }
}

struct Provider {
    files: Arc<SessionFiles>,
}

type PacketStream = Pin<Box<dyn Stream<Item = Result<Packet, Status>> + Send + 'static>>;

/// Where an entry's content comes from.
#[derive(Debug, Clone)]
enum Source {
    Disk(PathBuf, Option<[u8; 32]>),
    Bytes(Arc<Vec<u8>>),
    None,
}

/// Go's `os.FileMode` bits, which fsutil's Stat carries.
const GO_DIR: u32 = 1 << 31;
const GO_SYMLINK: u32 = 1 << 27;
const GO_SETUID: u32 = 1 << 23;
const GO_SETGID: u32 = 1 << 22;
const GO_STICKY: u32 = 1 << 20;

fn go_mode(kind: FileKind, mode: u32) -> u32 {
    let mut m = mode & 0o777;
    if mode & 0o4000 != 0 {
        m |= GO_SETUID;
    }
    if mode & 0o2000 != 0 {
        m |= GO_SETGID;
    }
    if mode & 0o1000 != 0 {
        m |= GO_STICKY;
    }
    match kind {
        FileKind::Dir => m | GO_DIR,
        FileKind::Symlink => m | GO_SYMLINK,
        FileKind::File => m,
    }
}

fn values(meta: &tonic::metadata::MetadataMap, key: &str) -> Vec<String> {
    meta.get_all(key)
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect()
}

impl Provider {
    /// The entries a request asks for, in fsutil's order (by path components, parents
    /// first), each with the source of its content.
    fn listing(&self, meta: &tonic::metadata::MetadataMap) -> Result<Vec<(Stat, Source)>, Status> {
        let dir = values(meta, "dir-name")
            .into_iter()
            .next()
            .unwrap_or_default();
        let mut wanted = values(meta, "followpaths");
        wanted.extend(values(meta, "include-patterns"));
        let f = &self.files;
        let mtime = (f.mtime_secs as i64) * 1_000_000_000;
        // BuildKit keeps what a session sent before and asks again only for what changed by
        // its stat (size, mtime): a file's mtime is dk's fixed one plus nanoseconds taken
        // from its content digest, so a change of content is a change of stat while the
        // same content always looks the same.
        let stamp = |digest: Option<&[u8; 32]>| {
            digest.map_or(0, |d| {
                i64::from(u32::from_le_bytes([d[0], d[1], d[2], d[3]]) % 1_000_000_000)
            })
        };
        let stat = |rel: &str,
                    kind: FileKind,
                    mode: u32,
                    size: u64,
                    link: Option<&str>,
                    digest: Option<&[u8; 32]>| Stat {
            path: rel.to_string(),
            mode: go_mode(kind, mode),
            uid: 0,
            gid: 0,
            size: if kind == FileKind::File {
                size as i64
            } else {
                0
            },
            mod_time: mtime + stamp(digest),
            linkname: link.unwrap_or_default().to_string(),
            devmajor: 0,
            devminor: 0,
            xattrs: HashMap::new(),
        };
        let mut out: BTreeMap<Vec<String>, (Stat, Source)> = BTreeMap::new();
        match dir.as_str() {
            "dockerfile" => {
                if wanted.is_empty() || wanted.iter().any(|w| w == "Dockerfile") {
                    out.insert(
                        vec!["Dockerfile".into()],
                        (
                            stat(
                                "Dockerfile",
                                FileKind::File,
                                0o644,
                                f.dockerfile.len() as u64,
                                None,
                                Some(blake3::hash(&f.dockerfile).as_bytes()),
                            ),
                            Source::Bytes(Arc::new(f.dockerfile.clone())),
                        ),
                    );
                }
            }
            "context" => {
                // What the request names (COPY sources, `.dockerignore`), with everything
                // below it; the two files BuildKit's own reading of .dockerignore leaves out
                // when the request carries its patterns.
                let include = (!wanted.is_empty())
                    .then(|| crate::ignore::Matcher::from_patterns(&wanted))
                    .transpose()
                    .map_err(|e| Status::invalid_argument(e.message))?;
                let excluding = !values(meta, "exclude-patterns").is_empty();
                for e in &f.entries {
                    let listed = include
                        .as_ref()
                        .is_none_or(|m| m.matches_or_parent_matches(&e.rel))
                        && !(excluding && f.hidden.contains(&e.rel));
                    if !listed {
                        continue;
                    }
                    let source = match e.kind {
                        FileKind::File => Source::Disk(f.dir.join(&e.rel), e.digest),
                        _ => Source::None,
                    };
                    out.insert(
                        e.rel.split('/').map(String::from).collect(),
                        (
                            stat(
                                &e.rel,
                                e.kind,
                                e.mode,
                                e.size,
                                e.link.as_deref(),
                                e.digest.as_ref(),
                            ),
                            source,
                        ),
                    );
                }
                // fsutil's receiver wants every parent directory before what is in it.
                let parents: Vec<Vec<String>> = out
                    .keys()
                    .flat_map(|k| (1..k.len()).map(|n| k[..n].to_vec()))
                    .collect();
                for p in parents {
                    if out.contains_key(&p) {
                        continue;
                    }
                    let rel = p.join("/");
                    let mode = std::fs::symlink_metadata(f.dir.join(&rel))
                        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()))
                        .unwrap_or(0o755);
                    out.insert(
                        p,
                        (stat(&rel, FileKind::Dir, mode, 0, None, None), Source::None),
                    );
                }
            }
            other => {
                return Err(Status::not_found(format!(
                    "dk serves no directory {other:?}"
                )));
            }
        }
        Ok(out.into_values().collect())
    }
}

/// Send `source` as DATA packets of `id`, then the empty packet that ends it.
async fn send_content(
    tx: &mpsc::Sender<Result<Packet, Status>>,
    id: u32,
    source: &Source,
) -> Result<(), String> {
    let data = |data: Vec<u8>| Packet {
        r#type: PacketType::PacketData as i32,
        stat: None,
        id,
        data,
    };
    match source {
        Source::Bytes(b) => {
            for chunk in b.chunks(32 * 1024) {
                tx.send(Ok(data(chunk.to_vec())))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Source::Disk(path, digest) => {
            use tokio::io::AsyncReadExt;
            let mut file = tokio::fs::File::open(path)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let mut hasher = blake3::Hasher::new();
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                let n = file
                    .read(&mut buf)
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                tx.send(Ok(data(buf[..n].to_vec())))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if digest.is_some_and(|d| &d != hasher.finalize().as_bytes()) {
                return Err(format!(
                    "{} changed while it was being sent to the daemon; run the build again",
                    path.display()
                ));
            }
        }
        Source::None => {}
    }
    tx.send(Ok(data(Vec::new())))
        .await
        .map_err(|e| e.to_string())
}

#[tonic::async_trait]
impl FileSync for Provider {
    type DiffCopyStream = PacketStream;
    type TarStreamStream = PacketStream;

    async fn diff_copy(
        &self,
        request: Request<Streaming<Packet>>,
    ) -> Result<Response<Self::DiffCopyStream>, Status> {
        let listing = self.listing(request.metadata())?;
        let mut incoming = request.into_inner();
        let (tx, rx) = mpsc::channel::<Result<Packet, Status>>(64);
        tokio::spawn(async move {
            let sources: Vec<Source> = listing.iter().map(|(_, s)| s.clone()).collect();
            for (stat, _) in listing {
                let p = Packet {
                    r#type: PacketType::PacketStat as i32,
                    stat: Some(stat),
                    id: 0,
                    data: Vec::new(),
                };
                if tx.send(Ok(p)).await.is_err() {
                    return;
                }
            }
            let end = Packet {
                r#type: PacketType::PacketStat as i32,
                stat: None,
                id: 0,
                data: Vec::new(),
            };
            if tx.send(Ok(end)).await.is_err() {
                return;
            }
            use futures_util::StreamExt;
            while let Some(Ok(p)) = incoming.next().await {
                match PacketType::try_from(p.r#type) {
                    Ok(PacketType::PacketReq) => {
                        let source = sources.get(p.id as usize).cloned().unwrap_or(Source::None);
                        if let Err(e) = send_content(&tx, p.id, &source).await {
                            let _ = tx
                                .send(Ok(Packet {
                                    r#type: PacketType::PacketErr as i32,
                                    stat: None,
                                    id: 0,
                                    data: e.into_bytes(),
                                }))
                                .await;
                            return;
                        }
                    }
                    Ok(PacketType::PacketFin) => {
                        let _ = tx
                            .send(Ok(Packet {
                                r#type: PacketType::PacketFin as i32,
                                stat: None,
                                id: 0,
                                data: Vec::new(),
                            }))
                            .await;
                        return;
                    }
                    Ok(PacketType::PacketErr) => {
                        tracing::debug!(
                            "the daemon's receiver failed: {}",
                            String::from_utf8_lossy(&p.data)
                        );
                        return;
                    }
                    _ => {}
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn tar_stream(
        &self,
        _request: Request<Streaming<Packet>>,
    ) -> Result<Response<Self::TarStreamStream>, Status> {
        Err(Status::unimplemented("dk serves its context with DiffCopy"))
    }
}
