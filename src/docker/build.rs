//! Image builds: the context arrives as a stream of tar chunks, progress comes back as
//! events, and the result is the image id.
//!
//! Two builders: BuildKit (the default: `/build` with `version=2` and a session, progress
//! from its status stream, labels as parameters) and the classic builder (progress as
//! text). Builds that need build secrets go through a BuildKit solve over the daemon's gRPC
//! session instead, because only that session serves secrets; its context is uploaded in
//! one piece.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;

use bollard::grpc::build::{ImageBuildFrontendOptions, ImageBuildLoadInput, SecretSource};
use bollard::grpc::driver::Build as _;
use bollard::grpc::driver::moby::Moby;
use bollard::models::BuildInfoAux;
use bollard::query_parameters::{BuildImageOptions, BuilderVersion};
use bytes::Bytes;
use futures_util::StreamExt;

use super::Daemon;
use crate::error::Error;
use crate::ids::ImageId;

/// Which of the daemon's builders runs a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Builder {
    #[serde(rename = "buildkit")]
    BuildKit,
    Classic,
}

/// Where a build secret comes from. dk never reads it: the daemon's session asks for it
/// while the build runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretFrom {
    File(PathBuf),
    Env(String),
}

#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// `repo:tag` given to the result.
    pub tag: String,
    pub labels: HashMap<String, String>,
    pub build_args: HashMap<String, String>,
    pub target: Option<String>,
    /// Run every step again (`--no-cache`).
    pub no_cache: bool,
    pub builder: Builder,
    /// `os/arch[/variant]` to build for.
    pub platform: Option<String>,
    /// `RUN --mount=type=secret,id=…` sources, by id (BuildKit only).
    pub secrets: Vec<(String, SecretFrom)>,
    /// Registry references whose inline cache BuildKit may start from; when any, the
    /// result carries its own cache inline too (BuildKit only).
    pub cache_from: Vec<String>,
}

/// Progress of a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildEvent<'a> {
    /// A step began (`Step 2/5 : RUN …`, `[2/5] RUN …`).
    Step(&'a str),
    /// A line of output.
    Line(&'a str),
}

/// Why a build did not produce an image.
#[derive(Debug)]
pub enum BuildError {
    /// The Dockerfile failed (a step returned non-zero, a file was missing...): the step,
    /// the daemon's message, and the step's last lines of output.
    Step {
        step: Option<String>,
        message: String,
        tail: Vec<String>,
    },
    /// Talking to the daemon failed.
    Daemon(Error),
}

/// Lines kept per step for the failure message.
const TAIL: usize = 30;

/// The last lines of one step's output.
#[derive(Debug, Default)]
struct Tail(VecDeque<String>);

impl Tail {
    fn push(&mut self, line: &str) {
        self.0.push_back(line.to_string());
        if self.0.len() > TAIL {
            self.0.pop_front();
        }
    }
}

/// What bollard sends as a request body (its own alias is not public).
type Body = http_body_util::Either<
    http_body_util::Full<Bytes>,
    http_body_util::StreamBody<
        std::pin::Pin<
            Box<
                dyn futures_util::Stream<
                        Item = std::result::Result<hyper::body::Frame<Bytes>, std::io::Error>,
                    > + Send,
            >,
        >,
    >,
>;

/// A fresh id for a BuildKit session.
fn session_id() -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let seed = format!(
        "{}-{}-{:?}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        std::time::SystemTime::now()
    );
    blake3::hash(seed.as_bytes()).to_hex()[..25].to_string()
}

impl Daemon {
    /// Build from `context` (a stream of tar chunks), reporting progress to `on_event`.
    /// Returns the image id.
    pub async fn build(
        &self,
        req: &BuildRequest,
        context: impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
        on_event: impl FnMut(BuildEvent<'_>),
    ) -> std::result::Result<ImageId, BuildError> {
        if !req.secrets.is_empty() {
            return self.build_with_session(req, context, on_event).await;
        }
        let opts = self.build_options(req, None);
        self.run_build(req, opts, bollard::body_try_stream(context), on_event)
            .await
    }

    /// Can a build context be served to this daemon through a session of dk's own (a local
    /// socket or plain TCP)?
    pub fn serves_sessions(&self) -> bool {
        super::session::raw_endpoint(&self.endpoint).is_some()
    }

    /// Build with BuildKit, serving the context and the Dockerfile through a session of
    /// dk's own (`remote=client-session`), as the Docker CLI does. Returns the image id.
    pub async fn build_served(
        &self,
        req: &BuildRequest,
        files: super::session::SessionFiles,
        on_event: impl FnMut(BuildEvent<'_>),
    ) -> std::result::Result<ImageId, BuildError> {
        let session = super::session::open(&self.endpoint, session_id(), files)
            .await
            .map_err(|message| BuildError::Step {
                step: None,
                message,
                tail: Vec::new(),
            })?
            .ok_or_else(|| BuildError::Step {
                step: None,
                message: format!("dk cannot open a build session on {}", self.endpoint),
                tail: Vec::new(),
            })?;
        let opts = self.build_options(req, Some(session.id.clone()));
        // The body is empty: the daemon reads the context through the session. (bollard
        // tries to open a session of its own with the same id, for credentials; the daemon
        // refuses a second session of an id, and dk's is already there.)
        let empty = bollard::body_full(Bytes::new());
        let result = self.run_build(req, opts, empty, on_event).await;
        drop(session);
        result
    }

    fn build_options(&self, req: &BuildRequest, session: Option<String>) -> BuildImageOptions {
        let buildkit = req.builder == Builder::BuildKit;
        let shared_cache = buildkit && !req.cache_from.is_empty();
        let mut buildargs = req.build_args.clone();
        if shared_cache {
            // The image carries its cache (BuildKit's inline cache), so that a builder that
            // later starts from it in the registry can reuse its steps.
            buildargs.insert("BUILDKIT_INLINE_CACHE".into(), "1".into());
        }
        BuildImageOptions {
            dockerfile: "Dockerfile".to_string(),
            t: Some(req.tag.clone()),
            rm: true,
            forcerm: true,
            pull: None,
            labels: Some(req.labels.clone()),
            buildargs: Some(buildargs),
            cachefrom: shared_cache.then(|| req.cache_from.clone()),
            target: req.target.clone().unwrap_or_default(),
            nocache: req.no_cache,
            platform: req.platform.clone().unwrap_or_default(),
            version: if buildkit {
                BuilderVersion::BuilderBuildKit
            } else {
                BuilderVersion::BuilderV1
            },
            remote: session.is_some().then(|| "client-session".to_string()),
            session: session.or_else(|| buildkit.then(session_id)),
            ..Default::default()
        }
    }

    /// Run a build and follow its progress.
    async fn run_build(
        &self,
        req: &BuildRequest,
        opts: BuildImageOptions,
        body: Body,
        mut on_event: impl FnMut(BuildEvent<'_>),
    ) -> std::result::Result<ImageId, BuildError> {
        let buildkit = req.builder == Builder::BuildKit;
        let mut stream = self.long.build_image(opts, None, Some(body));
        let mut id = None;
        let mut classic = ClassicProgress::default();
        let mut kit = KitProgress::default();
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(s) = info.stream {
                        classic.text(&s, &mut on_event);
                    }
                    if let Some(status) = info.status {
                        on_event(BuildEvent::Line(&status));
                    }
                    match info.aux {
                        Some(BuildInfoAux::BuildKit(status)) => kit.status(&status, &mut on_event),
                        Some(BuildInfoAux::Default(image)) => id = image.id.or(id),
                        None => {}
                    }
                }
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    classic.flush(&mut on_event);
                    let message = strip_ansi(error.trim());
                    return Err(if buildkit {
                        kit.failure(message)
                    } else {
                        classic.failure(message)
                    });
                }
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code,
                    message,
                }) if status_code < 500 || message.contains("dockerfile") => {
                    return Err(BuildError::Step {
                        step: None,
                        message,
                        tail: Vec::new(),
                    });
                }
                Err(e) => {
                    // Seen on a second daemon (fuse-overlayfs) in 2 of 100 builds: the progress
                    // stream broke off ("bytes remaining on stream"). When that happens after
                    // the daemon reported the built image and has it, that image is the
                    // result; before, it is the daemon error it was.
                    if let Some(found) = &id
                        && matches!(self.image_id(found).await, Ok(Some(_)))
                    {
                        break;
                    }
                    return Err(BuildError::Daemon(self.err("building", e)));
                }
            }
        }
        classic.flush(&mut on_event);
        id.map(ImageId::new).ok_or_else(|| BuildError::Step {
            step: None,
            message: "the daemon reported no image id".into(),
            tail: Vec::new(),
        })
    }

    /// A BuildKit solve over the daemon's gRPC session, which serves the build secrets.
    /// The context is uploaded whole; progress arrives only as the result.
    async fn build_with_session(
        &self,
        req: &BuildRequest,
        context: impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
        mut on_event: impl FnMut(BuildEvent<'_>),
    ) -> std::result::Result<ImageId, BuildError> {
        let mut body = Vec::new();
        let mut context = std::pin::pin!(context);
        while let Some(chunk) = context.next().await {
            let chunk = chunk.map_err(|e| BuildError::Step {
                step: None,
                message: format!("sending the context: {e}"),
                tail: Vec::new(),
            })?;
            body.extend_from_slice(&chunk);
        }
        let mut opts = ImageBuildFrontendOptions::builder()
            .dockerfile(std::path::Path::new("Dockerfile"))
            .nocache(req.no_cache);
        if let Some(t) = &req.target {
            opts = opts.target(t);
        }
        for (k, v) in &req.build_args {
            opts = opts.buildarg(k, v);
        }
        for (k, v) in &req.labels {
            opts = opts.label(k, v);
        }
        if let Some(p) = &req.platform {
            let parts: Vec<&str> = p.split('/').collect();
            opts = opts.platforms(&bollard::grpc::build::ImageBuildPlatform {
                os: parts.first().copied().unwrap_or("linux").into(),
                architecture: parts.get(1).copied().unwrap_or_default().into(),
                variant: parts.get(2).map(|v| v.to_string()),
            });
        }
        for (id, from) in &req.secrets {
            let source = match from {
                SecretFrom::File(p) => SecretSource::File(p.clone()),
                SecretFrom::Env(v) => SecretSource::Env(v.clone()),
            };
            opts = opts.set_secret(id, &source);
        }
        on_event(BuildEvent::Step(
            "BuildKit session build (serves the build secrets)",
        ));
        let driver = Moby::new(&self.long);
        let result = driver
            .docker_build(
                &req.tag,
                opts.build(),
                ImageBuildLoadInput::Upload(Bytes::from(body)),
                None,
                None,
            )
            .await;
        if let Err(e) = result {
            let message = match &e {
                bollard::grpc::error::GrpcError::TonicStatus { err } => err.message().to_string(),
                other => other.to_string(),
            };
            return Err(BuildError::Step {
                step: None,
                message: strip_ansi(&message),
                tail: Vec::new(),
            });
        }
        match self.image_id(&req.tag).await {
            Ok(Some(id)) => Ok(id),
            Ok(None) => Err(BuildError::Step {
                step: None,
                message: format!("the build finished but {} does not exist", req.tag),
                tail: Vec::new(),
            }),
            Err(e) => Err(BuildError::Daemon(e)),
        }
    }
}

/// The classic builder's progress: text lines, `Step N/M : …` starting each step.
#[derive(Debug, Default)]
struct ClassicProgress {
    pending: String,
    step: Option<String>,
    tail: Tail,
}

impl ClassicProgress {
    fn text(&mut self, s: &str, on_event: &mut impl FnMut(BuildEvent<'_>)) {
        self.pending.push_str(s);
        while let Some(pos) = self.pending.find('\n') {
            let raw: String = self.pending.drain(..=pos).collect();
            self.line(&strip_ansi(raw.trim_end_matches(['\n', '\r'])), on_event);
        }
    }

    fn line(&mut self, line: &str, on_event: &mut impl FnMut(BuildEvent<'_>)) {
        if line.starts_with("Step ") {
            self.step = Some(line.to_string());
            self.tail = Tail::default();
            on_event(BuildEvent::Step(line));
        }
        self.tail.push(line);
        on_event(BuildEvent::Line(line));
    }

    fn flush(&mut self, on_event: &mut impl FnMut(BuildEvent<'_>)) {
        if !self.pending.is_empty() {
            let rest = strip_ansi(&std::mem::take(&mut self.pending));
            self.line(&rest, on_event);
        }
    }

    fn failure(self, message: String) -> BuildError {
        BuildError::Step {
            step: self.step,
            message,
            tail: self.tail.0.into(),
        }
    }
}

/// BuildKit's progress: vertexes (steps) that start and complete, possibly cached or
/// failed, and log chunks per vertex.
#[derive(Debug, Default)]
struct KitProgress {
    names: HashMap<String, String>,
    started: HashSet<String>,
    done: HashSet<String>,
    /// Output per vertex, and the unfinished last line of each.
    logs: HashMap<String, (Tail, String)>,
    failed: Option<(String, String)>,
}

impl KitProgress {
    fn status(
        &mut self,
        status: &bollard::moby::buildkit::v1::StatusResponse,
        on_event: &mut impl FnMut(BuildEvent<'_>),
    ) {
        for v in &status.vertexes {
            self.names.insert(v.digest.clone(), v.name.clone());
            let internal = v.name.starts_with("[internal]");
            if v.started.is_some() && self.started.insert(v.digest.clone()) && !internal {
                on_event(BuildEvent::Step(&v.name));
                on_event(BuildEvent::Line(&format!(
                    "#{} {}",
                    self.started.len(),
                    v.name
                )));
            }
            if v.completed.is_some() && self.done.insert(v.digest.clone()) {
                if !v.error.is_empty() {
                    self.failed = Some((v.digest.clone(), v.error.clone()));
                    on_event(BuildEvent::Line(&format!("ERROR: {}", v.error)));
                } else if v.cached && !internal {
                    on_event(BuildEvent::Line(&format!("{} CACHED", v.name)));
                }
            }
        }
        for l in &status.logs {
            let (tail, partial) = self.logs.entry(l.vertex.clone()).or_default();
            partial.push_str(&String::from_utf8_lossy(&l.msg));
            while let Some(pos) = partial.find('\n') {
                let raw: String = partial.drain(..=pos).collect();
                let line = strip_ansi(raw.trim_end_matches(['\n', '\r']));
                tail.push(&line);
                on_event(BuildEvent::Line(&line));
            }
        }
    }

    fn failure(mut self, message: String) -> BuildError {
        let (step, tail) = match self.failed.take() {
            Some((digest, _)) => {
                let tail = self
                    .logs
                    .remove(&digest)
                    .map(|(mut t, partial)| {
                        if !partial.is_empty() {
                            t.push(&partial);
                        }
                        t.0.into()
                    })
                    .unwrap_or_default();
                (self.names.remove(&digest), tail)
            }
            None => (None, Vec::new()),
        };
        BuildError::Step {
            step,
            message,
            tail,
        }
    }
}

impl Daemon {
    /// Remove the daemon's build cache (BuildKit's cache mounts and layers no image uses);
    /// never images. Returns the bytes freed.
    pub async fn prune_build_cache(&self) -> crate::error::Result<u64> {
        self.prune_build(true).await
    }

    /// Remove the dangling build cache only (what no image or cache mount refers to).
    /// Returns the bytes freed.
    pub async fn prune_dangling_build_cache(&self) -> crate::error::Result<u64> {
        self.prune_build(false).await
    }

    async fn prune_build(&self, all: bool) -> crate::error::Result<u64> {
        let r = self
            .long
            .prune_build(Some(bollard::query_parameters::PruneBuildOptions {
                all: Some(all),
                ..Default::default()
            }))
            .await
            .map_err(|e| self.err("pruning the build cache", e))?;
        Ok(r.space_reclaimed.unwrap_or(0).max(0) as u64)
    }
}

/// Remove ANSI escape sequences (builders colour their output).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colour_codes() {
        assert_eq!(strip_ansi("\u{1b}[91mchown: x\u{1b}[0m"), "chown: x");
        assert_eq!(strip_ansi("plain"), "plain");
    }

    #[test]
    fn classic_failure_keeps_the_step_and_its_last_lines() {
        let mut p = ClassicProgress::default();
        let mut steps = Vec::new();
        p.text(
            "Step 1/2 : FROM x\n ---> abc\nStep 2/2 : RUN false\n out",
            &mut |e| {
                if let BuildEvent::Step(s) = e {
                    steps.push(s.to_string())
                }
            },
        );
        p.flush(&mut |_| {});
        assert_eq!(steps, ["Step 1/2 : FROM x", "Step 2/2 : RUN false"]);
        let BuildError::Step { step, tail, .. } = p.failure("boom".into()) else {
            panic!()
        };
        assert_eq!(step.as_deref(), Some("Step 2/2 : RUN false"));
        assert_eq!(tail, ["Step 2/2 : RUN false", " out"]);
    }
}
