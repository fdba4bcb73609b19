//! `dk build`: stage, hash, skip what is fresh, build what is stale, dependencies first and
//! independent nodes in parallel.
//!
//! A node is fresh when a build record exists for its input hash and the recorded image is
//! still tagged `:latest`; then nothing is sent to the daemon. The input hash covers the
//! context entries (paths, modes, link targets, bytes), the Dockerfile as sent (node parents
//! and external bases pinned to image ids), build args, target, and the parent image ids.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::context::{self, Context, DigestCache, Kind};
use crate::docker::{
    BuildError, BuildEvent, BuildRequest, Builder, ContextFile, FileKind, ImageSet, SecretFrom,
    SessionFiles,
};
use crate::engine::{Engine, RunOptions, Selection};
use crate::error::{Diagnostic, Error, Result};
use crate::freshness::{Freshness, Stale};
use crate::graph::EdgeKind;
use crate::ids::ImageId;
use crate::labels;
use crate::lock::WorkspaceLock;
use crate::records::{BuildRecord, Inputs};
use crate::report::ReporterExt;
use crate::scheduler::{self, Cancel, Outcome};
use crate::stage;
use crate::units::now_unix;
use crate::workspace::Workspace;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum NodeStatus {
    /// Inputs unchanged and the image still tagged: nothing sent to the daemon.
    Fresh {
        image_id: ImageId,
    },
    Built {
        image_id: ImageId,
    },
    /// Built elsewhere from the same inputs, taken instead of built (`adopt.rs`).
    Taken {
        image_id: ImageId,
        from: String,
    },
    Failed {
        message: String,
    },
    /// Not built because a node it builds on failed.
    Blocked {
        by: String,
    },
    Cancelled,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeReport {
    /// The node's index in the workspace (what the next step keys on).
    #[serde(skip)]
    pub node: usize,
    pub name: String,
    #[serde(flatten)]
    pub status: NodeStatus,
    pub duration_ms: u64,
}

/// What `build_step` produced: one report per node of the selection's order.
#[derive(Debug, Clone, Serialize)]
pub struct BuildSummary {
    pub nodes: Vec<NodeReport>,
    pub elapsed_ms: u64,
}

impl BuildSummary {
    pub fn ok(&self) -> bool {
        self.nodes.iter().all(|n| {
            matches!(
                n.status,
                NodeStatus::Fresh { .. } | NodeStatus::Built { .. } | NodeStatus::Taken { .. }
            )
        })
    }

    pub fn count(&self, f: impl Fn(&NodeStatus) -> bool) -> usize {
        self.nodes.iter().filter(|n| f(&n.status)).count()
    }

    pub fn get(&self, node: usize) -> Option<&NodeReport> {
        self.nodes.iter().find(|n| n.node == node)
    }

    /// The image node `node` has now (built or fresh).
    pub fn image(&self, node: usize) -> Option<&ImageId> {
        self.get(node).and_then(|n| match &n.status {
            NodeStatus::Fresh { image_id }
            | NodeStatus::Built { image_id }
            | NodeStatus::Taken { image_id, .. } => Some(image_id),
            _ => None,
        })
    }

    /// One line: `3 built, 5 fresh, 1 failed, 1 blocked in 12.3s`.
    pub fn line(&self) -> String {
        let counts = [
            (
                "built",
                self.count(|s| matches!(s, NodeStatus::Built { .. })),
            ),
            (
                "taken",
                self.count(|s| matches!(s, NodeStatus::Taken { .. })),
            ),
            (
                "fresh",
                self.count(|s| matches!(s, NodeStatus::Fresh { .. })),
            ),
            (
                "failed",
                self.count(|s| matches!(s, NodeStatus::Failed { .. })),
            ),
            (
                "blocked",
                self.count(|s| matches!(s, NodeStatus::Blocked { .. })),
            ),
            (
                "cancelled",
                self.count(|s| matches!(s, NodeStatus::Cancelled)),
            ),
        ];
        crate::units::summary_line(&counts, Duration::from_millis(self.elapsed_ms))
    }
}

/// How a node came to have its image in a build.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Made {
    Fresh,
    Built,
    /// Taken from where it was built (`the daemon`, a registry's url).
    Taken(String),
}

/// Everything a build of one node consumes, ready to hash or send.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub context: Context,
    /// The Dockerfile as sent: node parents and external bases pinned to image ids.
    pub dockerfile: Vec<u8>,
    pub input_hash: String,
    pub inputs: Inputs,
}

/// Scan and hash a node's inputs. `parents` maps node index -> image id; `externals` maps
/// external image reference -> local image id. Blocking (file I/O).
///
/// What is hashed is what is sent: the context entries, the Dockerfile as sent, build
/// args, target, parent ids and every label the image gets (but `dk.input-hash`, which is
/// this hash).
pub fn prepare(
    ws: &Workspace,
    graph: &crate::graph::Graph,
    i: usize,
    parents: &HashMap<usize, ImageId>,
    externals: &HashMap<String, ImageId>,
    save_cache: bool,
) -> Result<Prepared> {
    let node = &ws.nodes[i];
    let ignore = context::load_ignore(&node.dir, &node.rel_dir)?;
    let cache_path = ws.state.digest_cache(&node.name);
    let mut cache = DigestCache::load(&cache_path);
    let ctx = context::scan(&node.dir, &ignore, &mut cache)?;
    if save_cache {
        cache.save(&cache_path)?;
    }
    if !ctx.entries.iter().any(|e| e.rel == "Dockerfile") {
        return Err(Error::definition(
            Diagnostic::new(
                format!("{}/.dockerignore", node.rel_dir),
                "excludes the Dockerfile itself",
            )
            .help("remove the line that matches `Dockerfile`, or re-include it with `!Dockerfile`"),
        ));
    }

    // Parents are named by tags derived from their ids (`Workspace::pin_ref`): a node
    // parent in its own repository, an external base in this node's.
    let pinned = |repo_node: &str, id: &ImageId| {
        let (repo, tag) = ws.pin_ref(repo_node, id);
        format!("{repo}:{tag}")
    };
    let mut replacements = Vec::new();
    let mut parent_ids = BTreeMap::new();
    for e in graph.edges.iter().filter(|e| e.child == i) {
        // The scheduler starts a node only once every parent has an image.
        let id = &parents[&e.parent];
        let parent = &ws.nodes[e.parent].name;
        replacements.push((e.span.clone(), pinned(parent, id)));
        parent_ids.insert(parent.clone(), id.clone());
    }
    let mut external_ids = BTreeMap::new();
    for x in graph.externals.iter().filter(|x| x.node == i) {
        let id = externals
            .get(&x.image)
            .cloned()
            .unwrap_or_else(|| ImageId::new("unknown"));
        if x.kind == EdgeKind::From || x.kind == EdgeKind::CopyFrom {
            replacements.push((x.span.clone(), pinned(&node.name, &id)));
        }
        external_ids.insert(x.image.clone(), id);
    }
    let dockerfile = node.dockerfile.rewrite(&replacements).into_bytes();
    let df_digest = blake3::hash(&dockerfile);
    let image_labels = labels::image(
        &ws.id,
        &node.name,
        &node.rel_dir,
        node.manifest.description.as_deref(),
    );

    let mut h = blake3::Hasher::new();
    h.update(b"dk-input-v3\0");
    let mut files = BTreeMap::new();
    for e in &ctx.entries {
        files.insert(e.rel.clone(), e.fingerprint());
        if e.rel == "Dockerfile" {
            // What the daemon sees is the rewritten Dockerfile.
            h.update(b"Dockerfile\0");
            h.update(&e.mode.to_le_bytes());
            h.update(df_digest.as_bytes());
        } else {
            e.hash_into(&mut h);
        }
    }
    let mut section = |name: &str, pairs: &mut dyn Iterator<Item = (&str, &str)>| {
        h.update(b"\0");
        h.update(name.as_bytes());
        h.update(b"\0");
        for (k, v) in pairs {
            h.update(k.as_bytes());
            h.update(b"=");
            h.update(v.as_bytes());
            h.update(b"\0");
        }
    };
    section(
        "args",
        &mut node
            .build_args
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    section(
        "target",
        &mut node
            .manifest
            .build
            .target
            .iter()
            .map(|t| ("target", t.as_str())),
    );
    section(
        "parents",
        &mut parent_ids
            .iter()
            .chain(external_ids.iter())
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    section(
        "labels",
        &mut image_labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    // The builder and the platform make different images of the same inputs.
    let platform = node.platform.as_ref().map(|p| p.to_string());
    section(
        "builder",
        &mut [
            ("builder", builder_name(node.builder)),
            ("platform", platform.as_deref().unwrap_or("")),
        ]
        .into_iter(),
    );
    let input_hash = h.finalize().to_hex().to_string();
    Ok(Prepared {
        context: ctx,
        dockerfile,
        input_hash,
        inputs: Inputs {
            files,
            dockerfile: df_digest.to_hex()[..16].to_string(),
            args: node.build_args.clone(),
            target: node.manifest.build.target.clone(),
            parents: parent_ids,
            externals: external_ids,
            labels: image_labels.to_map(),
        },
    })
}

/// `Write` into a bounded channel of chunks: memory stays bounded whatever the context size.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 256 * 1024;

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(Ok(Bytes::from(chunk))).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the daemon stopped reading the context",
            )
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Stream `prepared` as a tar through a bounded channel (4 chunks of 256 KiB in flight).
pub fn stream_context(
    prepared: &Prepared,
    dockerfile: Vec<u8>,
) -> (
    ReceiverStream<io::Result<Bytes>>,
    tokio::task::JoinHandle<io::Result<()>>,
) {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(4);
    let ctx = prepared.context.clone();
    let task = tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let result = ctx
            .write_tar(&dockerfile, writer)
            .and_then(|mut w| w.flush());
        if let Err(e) = &result {
            let _ = tx.blocking_send(Err(io::Error::new(e.kind(), e.to_string())));
        }
        result
    });
    (ReceiverStream::new(rx), task)
}

/// What a build session serves of `prepared`: its context entries and the Dockerfile as
/// sent.
fn session_files(prepared: &Prepared, dockerfile: Vec<u8>) -> SessionFiles {
    let ctx = &prepared.context;
    SessionFiles {
        dir: ctx.dir.clone(),
        entries: ctx
            .entries
            .iter()
            .map(|e| ContextFile {
                rel: e.rel.clone(),
                kind: match e.kind {
                    Kind::File => FileKind::File,
                    Kind::Dir => FileKind::Dir,
                    Kind::Symlink => FileKind::Symlink,
                },
                mode: e.mode,
                size: e.size,
                link: e.link.clone(),
                digest: e.digest,
            })
            .collect(),
        dockerfile,
        mtime_secs: crate::context::TAR_MTIME,
        hidden: ctx.kept_anyway.clone(),
    }
}

impl Engine {
    /// `dk build`: build the selection (with what it builds on), skipping what is fresh.
    pub async fn build(
        &self,
        _lock: &WorkspaceLock,
        names: &[String],
        opts: &RunOptions,
    ) -> Result<BuildSummary> {
        let sel = self.select(names)?;
        self.build_step(&sel, opts).await
    }

    /// Build `sel.order`; with `opts.rebuild`, the selected nodes are rebuilt (without the
    /// layer cache) even when fresh, but not the dependencies pulled in.
    pub async fn build_step(&self, sel: &Selection, opts: &RunOptions) -> Result<BuildSummary> {
        let started = Instant::now();
        self.announce(sel);
        // One lookup per node's :latest rather than the daemon's full listing, whose cost
        // grows with every image the daemon holds (at least one per node). Measured on a
        // 100-node no-op against a daemon with 150 images: 42 ms with lookups, 57 ms with
        // the listing (the listing alone: 40 ms).
        let tags: Vec<String> = sel
            .order
            .iter()
            .map(|&n| self.ws.image(self.name(n), "latest"))
            .collect();
        let images = Arc::new(self.image_snapshot(&tags).await?);
        let revision = crate::vcs::git_revision(&self.ws.root);
        let durations = std::sync::Mutex::new(HashMap::<usize, Duration>::new());
        let graph = self.graph.clone();
        let outcomes = scheduler::run(
            &sel.order,
            |n| graph.parents[n].clone(),
            opts.jobs,
            opts.fail_fast,
            |n, done, cancel| {
                let parents: HashMap<usize, ImageId> = graph.parents[n]
                    .iter()
                    .filter_map(|p| done.get(p).map(|v: &(ImageId, Made)| (*p, v.0.clone())))
                    .collect();
                let images = images.clone();
                let revision = revision.clone();
                let durations = &durations;
                let force = opts.rebuild && sel.contains(n);
                async move {
                    let t = Instant::now();
                    let r = self
                        .build_node(n, parents, &images, revision, force, &cancel)
                        .await;
                    durations.lock().unwrap().insert(n, t.elapsed());
                    if let Err(e) = &r
                        && !matches!(e, Error::Cancelled)
                    {
                        // Every failure is reported here, once, whatever stage it came from
                        // (a definition problem is the command's error, printed at the end).
                        let detail = (!matches!(e, Error::Definition(_))).then(|| e.render());
                        self.reporter.finish(
                            self.name(n),
                            "build",
                            "failed",
                            false,
                            t.elapsed(),
                            detail,
                        );
                    }
                    r
                }
            },
        )
        .await;

        let durations = durations.into_inner().unwrap();
        let mut nodes = Vec::new();
        let mut lost = None;
        let mut definition = Vec::new();
        for &n in &sel.order {
            let name = self.name(n).to_string();
            let duration_ms = durations.get(&n).map(|d| d.as_millis() as u64).unwrap_or(0);
            if let Some(Outcome::Failed(Error::Definition(d))) = outcomes.get(&n) {
                definition.extend(d.iter().cloned());
            }
            let status = match outcomes.get(&n) {
                Some(Outcome::Done((id, Made::Built))) => NodeStatus::Built {
                    image_id: id.clone(),
                },
                Some(Outcome::Done((id, Made::Taken(from)))) => NodeStatus::Taken {
                    image_id: id.clone(),
                    from: from.clone(),
                },
                Some(Outcome::Done((id, Made::Fresh))) => NodeStatus::Fresh {
                    image_id: id.clone(),
                },
                Some(Outcome::Failed(e)) => {
                    if let Error::Daemon { detail, help, .. } = e
                        && lost.is_none()
                    {
                        lost = Some((detail.clone(), help.clone()));
                    }
                    NodeStatus::Failed {
                        message: e.render(),
                    }
                }
                Some(&Outcome::Blocked { by }) => {
                    let by = self.name(by).to_string();
                    self.reporter.finish(
                        &name,
                        "build",
                        &format!("blocked by {by}"),
                        false,
                        Duration::ZERO,
                        None,
                    );
                    NodeStatus::Blocked { by }
                }
                Some(Outcome::Cancelled) | None => NodeStatus::Cancelled,
            };
            nodes.push(NodeReport {
                node: n,
                name,
                status,
                duration_ms,
            });
        }
        if !definition.is_empty() {
            // A definition problem found while building (a platform mismatch, a missing
            // secret…) is exit 2 like one found while loading.
            return Err(Error::Definition(definition));
        }
        if let Some((detail, help)) = lost {
            // The daemon went away or failed the version check: that is exit 3, whatever
            // else happened.
            return Err(Error::Daemon {
                endpoint: crate::docker::endpoint(),
                detail,
                help: format!(
                    "{help}; then run the build again (nothing was recorded for the builds that did not finish)"
                ),
            });
        }
        Ok(BuildSummary {
            nodes,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Resolve the external images a node uses to local image ids. Lookups are reads (no
    /// version negotiation); a missing image is pulled when a registry answers, and said
    /// clearly when none does.
    async fn external_ids(&self, i: usize) -> Result<HashMap<String, ImageId>> {
        let node = &self.ws.nodes[i];
        let mut out = HashMap::new();
        for x in self.graph.externals.iter().filter(|x| x.node == i) {
            if out.contains_key(&x.image) {
                continue;
            }
            if let Some(id) = self.reads()?.image_id(&x.image).await? {
                out.insert(x.image.clone(), id);
                continue;
            }
            let daemon = self.daemon().await?;
            self.reporter
                .step(&node.name, format!("pulling {}", x.image));
            let pulled =
                tokio::time::timeout(Duration::from_secs(300), daemon.pull(&x.image)).await;
            let why = match pulled {
                Ok(Ok(())) => "the pull reported success but left no image".to_string(),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "no answer within 300s".to_string(),
            };
            let Some(id) = daemon.image_id(&x.image).await? else {
                return Err(Error::MissingImage {
                    node: node.name.clone(),
                    image: x.image.clone(),
                    message: format!(
                        "{}:{}: base image `{}` is not in the local daemon, and pulling it failed: {why}",
                        node.dockerfile_path(),
                        x.line,
                        x.image
                    ),
                    help: "load it (`docker load -i image.tar`) or pull it where a registry is reachable; or build FROM a node of this workspace".into(),
                });
            };
            out.insert(x.image.clone(), id);
        }
        Ok(out)
    }

    /// What must hold before a build is sent, checked on the daemon that will build: the
    /// pin tags of its parents exist, a `# syntax=` frontend is in the local store, the
    /// daemon's built-in frontend has what the Dockerfile uses, and its build secrets are
    /// there (returned as the request's sources; dk never reads them).
    async fn before_sending(
        &self,
        i: usize,
        daemon: &crate::docker::Daemon,
        prepared: &Prepared,
        parents: &[(String, ImageId)],
    ) -> Result<Vec<(String, SecretFrom)>> {
        let node = &self.ws.nodes[i];
        for (parent, id) in parents {
            let holder = if parent.is_empty() {
                &node.name
            } else {
                parent
            };
            let (repo, tag) = self.ws.pin_ref(holder, id);
            daemon.tag(id.as_str(), &repo, &tag).await?;
        }
        let df = node.dockerfile_path();
        self.check_platforms(i, daemon).await?;
        self.check_emulation(i, daemon)?;
        if node.builder == Builder::BuildKit {
            match &node.dockerfile.syntax {
                Some((image, line)) if daemon.image_id(image).await?.is_none() => {
                    return Err(Error::MissingImage {
                        node: node.name.clone(),
                        image: image.clone(),
                        message: format!(
                            "{df}:{line}: `# syntax={image}` names a Dockerfile frontend that is not in the local daemon (BuildKit would try a registry)"
                        ),
                        help: "load the frontend image (`docker load`), or remove the line to use the daemon's built-in frontend".into(),
                    });
                }
                Some(_) => {}
                None if crate::docker::parse_api(daemon.api_version()) <= Some((1, 41)) => {
                    let diags: Vec<Diagnostic> = node
                        .dockerfile
                        .features()
                        .into_iter()
                        .filter(|f| f.needs == crate::dockerfile::Needs::Frontend14)
                        .map(|f| {
                            Diagnostic::new(
                                &df,
                                format!(
                                    "{} needs Dockerfile frontend 1.4 or newer; the one built into this daemon (Engine API {}) does not have it",
                                    f.what,
                                    daemon.api_version()
                                ),
                            )
                            .at_line(f.line)
                            .help("upgrade the Docker engine to 23.0 or newer, or load a newer frontend image and name it with `# syntax=`")
                        })
                        .collect();
                    if !diags.is_empty() {
                        return Err(Error::Definition(diags));
                    }
                }
                None => {}
            }
        }
        let manifest = node
            .manifest_path
            .clone()
            .unwrap_or_else(|| format!("{}/container.toml", node.rel_dir));
        let mut sources = Vec::new();
        for s in &node.manifest.build.secrets {
            let secret = s.get_ref();
            let missing = |what: String| {
                Error::definition(
                    Diagnostic::new(
                        &manifest,
                        format!("{}: build secret `{}`: {what}", node.name, secret.id),
                    )
                    .help("create it, or change `build.secrets` (the secret is never stored in the image)"),
                )
            };
            let from = match (&secret.file, &secret.env) {
                (Some(file), _) => {
                    let path = self.ws.root.join(file);
                    if !path.is_file() {
                        return Err(missing(format!(
                            "the file {} does not exist",
                            path.display()
                        )));
                    }
                    let inside = path
                        .canonicalize()
                        .ok()
                        .and_then(|p| p.strip_prefix(&node.dir).ok().map(|r| r.to_path_buf()));
                    if let Some(rel) = inside
                        && prepared
                            .context
                            .entries
                            .iter()
                            .any(|e| std::path::Path::new(&e.rel) == rel)
                    {
                        return Err(missing(format!(
                            "the file is in the build context ({}), so it would be sent to the daemon; exclude it in {}/.dockerignore",
                            rel.display(),
                            node.rel_dir
                        )));
                    }
                    SecretFrom::File(path)
                }
                (None, Some(var)) => {
                    if std::env::var_os(var).is_none() {
                        return Err(missing(format!(
                            "the environment variable {var} is not set"
                        )));
                    }
                    SecretFrom::Env(var.clone())
                }
                (None, None) => unreachable!("validated when the manifest was loaded"),
            };
            sources.push((secret.id.clone(), from));
        }
        Ok(sources)
    }

    /// A node built for a platform its machine does not run natively needs QEMU through
    /// binfmt_misc (its RUN steps, its tests). Checked on a local daemon's machine before
    /// anything is sent; a remote daemon's refusal (`exec format error`) is said the same way
    /// when the build meets it.
    fn check_emulation(&self, i: usize, daemon: &crate::docker::Daemon) -> Result<()> {
        let node = &self.ws.nodes[i];
        let Some(p) = &node.platform else {
            return Ok(());
        };
        let local = daemon.endpoint().starts_with("unix://");
        let host = crate::dockerfile::Platform::host();
        if !local || crate::emulation::native(&host.arch, &p.arch) {
            return Ok(());
        }
        match crate::emulation::check(&crate::emulation::binfmt_root(), &p.arch) {
            Ok(()) => Ok(()),
            Err(m) => Err(cannot_run(
                node,
                &format!("this machine ({host}) cannot run {p} programs: {}", m.say()),
            )),
        }
    }

    /// Every stage must find its base for the platform it builds for: BuildKit looks for a
    /// missing platform variant in a registry, which here means a DNS error, or worse, a
    /// pull. Checked against the local images before anything is sent.
    async fn check_platforms(&self, i: usize, daemon: &crate::docker::Daemon) -> Result<()> {
        let node = &self.ws.nodes[i];
        let host = crate::dockerfile::Platform::host();
        let target = node.platform.as_ref().unwrap_or(&host).to_string();
        let refs = self
            .graph
            .edges
            .iter()
            .filter(|e| e.child == i && e.kind == EdgeKind::From)
            .map(|e| (e.line, self.ws.image(self.name(e.parent), "latest")))
            .chain(
                self.graph
                    .externals
                    .iter()
                    .filter(|x| x.node == i && x.kind == EdgeKind::From)
                    .map(|x| (x.line, x.image.clone())),
            );
        for (line, image) in refs {
            let Some(stage) = node.dockerfile.stages.iter().find(|s| s.line == line) else {
                continue;
            };
            let wanted = stage.platform.clone().unwrap_or_else(|| target.clone());
            let Some(facts) = daemon.inspect_image(&image).await? else {
                continue;
            };
            let same = |a: &str, b: &str| {
                let (a, b): (Vec<&str>, Vec<&str>) =
                    (a.split('/').collect(), b.split('/').collect());
                a.len() >= 2
                    && b.len() >= 2
                    && a[..2] == b[..2]
                    && (a.len() < 3 || b.len() < 3 || a[2] == b[2])
            };
            if !same(&wanted, &facts.platform) {
                return Err(Error::definition(
                    Diagnostic::new(
                        node.dockerfile_path(),
                        format!(
                            "this stage builds for {wanted}, but its base `{}` ({}) is {}: BuildKit would look for a {wanted} variant in a registry",
                            stage.image,
                            facts.id.short(),
                            facts.platform
                        ),
                    )
                    .at_line(line)
                    .help("build the base for the same platform (`[build] platform` in its container.toml), or choose this node's platform to match it"),
                ));
            }
        }
        Ok(())
    }

    /// Build one node if stale. Returns (image id, whether it was built).
    async fn build_node(
        &self,
        i: usize,
        parents: HashMap<usize, ImageId>,
        images: &ImageSet,
        revision: Option<String>,
        force: bool,
        cancel: &Cancel,
    ) -> Result<(ImageId, Made)> {
        let ws = self.ws.clone();
        let graph = self.graph.clone();
        let name = self.name(i).to_string();
        let reporter = self.reporter.clone();

        // Staging may fetch or run commands: it is announced as part of the build.
        if stage::has_steps(&ws.nodes[i]) {
            let ws2 = ws.clone();
            let report =
                tokio::task::spawn_blocking(move || stage::stage(&ws2, &ws2.nodes[i], false))
                    .await
                    .expect("staging task")?;
            for a in report.actions {
                reporter.note(format!("{name}: staged: {a}"));
            }
        }
        let externals = self.external_ids(i).await?;
        let prepared = {
            let ws = ws.clone();
            tokio::task::spawn_blocking(move || prepare(&ws, &graph, i, &parents, &externals, true))
                .await
                .expect("prepare task")?
        };

        let mut announced = false;
        match self
            .freshness(i, &prepared.input_hash, Some(images), force)
            .await?
        {
            Freshness::Fresh(id) => {
                reporter.finish(&name, "build", "fresh", true, Duration::ZERO, None);
                return Ok((id, Made::Fresh));
            }
            Freshness::Retag(id) => {
                // Same inputs, image still there, tag moved away: put it back, no build.
                self.daemon()
                    .await?
                    .tag(id.as_str(), &ws.repo(&name), &ws.tag(&name, "latest"))
                    .await?;
                reporter.note(format!(
                    "{name}: :latest re-pointed to the recorded {}",
                    id.short()
                ));
                reporter.finish(&name, "build", "fresh", true, Duration::ZERO, None);
                return Ok((id, Made::Fresh));
            }
            Freshness::Stale(Stale::NoRecord | Stale::ImageGone(_)) => {
                // Built from these inputs by another checkout (or before `.dk/` was emptied)?
                reporter.start(&name, "build");
                announced = true;
                if let Some(adopted) = self.adopt(i, &prepared, revision.clone()).await? {
                    reporter.finish(&name, "build", &adopted.said(), true, Duration::ZERO, None);
                    return Ok((adopted.id().clone(), Made::Taken(adopted.source())));
                }
            }
            Freshness::Unverified(_) | Freshness::Stale(_) => {}
        }
        if cancel.is_raised() {
            return Err(Error::Cancelled);
        }

        let started = Instant::now();
        if !announced {
            reporter.start(&name, "build");
        }
        let log_path = ws.state.new_log(&name, "build")?;
        let mut log = io::BufWriter::new(
            std::fs::File::create(&log_path).map_err(|e| Error::io("create", &log_path, e))?,
        );
        let node = &ws.nodes[i];
        let daemon = self.daemon().await?;
        let secrets = self
            .before_sending(i, daemon, &prepared, &parents_of(&prepared))
            .await?;
        let mut image_labels = prepared.inputs.labels.clone();
        image_labels.insert(labels::INPUT_HASH.to_string(), prepared.input_hash.clone());
        // BuildKit takes labels as a parameter. The classic builder would add one step per
        // label that way, so labels go into the sent Dockerfile as one LABEL instruction;
        // with a non-final target they cannot, so the parameter is used.
        let final_target = node.manifest.build.target.as_deref().is_none_or(|t| {
            node.dockerfile
                .stages
                .last()
                .and_then(|s| s.alias.as_deref())
                == Some(t)
        });
        let (sent, api_labels) = if node.builder == Builder::Classic && final_target {
            (
                with_labels(&prepared.dockerfile, &image_labels, node.dockerfile.escape),
                BTreeMap::new(),
            )
        } else {
            (prepared.dockerfile.clone(), image_labels)
        };
        let req = BuildRequest {
            tag: ws.image(&name, "latest"),
            labels: api_labels.into_iter().collect(),
            build_args: node.build_args.clone().into_iter().collect(),
            target: node.manifest.build.target.clone(),
            no_cache: force,
            builder: node.builder,
            platform: node.platform.as_ref().map(|p| p.to_string()),
            secrets,
            // `[build] registry_cache`: the first registry's `:live` of the node.
            cache_from: match ws.registries.first() {
                Some(r) if ws.registry_cache && node.builder == Builder::BuildKit => {
                    vec![format!("{}:live", ws.registry_repo(r, &name))]
                }
                _ => Vec::new(),
            },
        };
        let on_event = |event: BuildEvent<'_>| match event {
            BuildEvent::Step(step) => reporter.step(&name, step),
            BuildEvent::Line(line) => {
                let _ = writeln!(log, "{line}");
                reporter.line(&name, line);
            }
        };
        // BuildKit builds read the context through a session of dk's own where the daemon
        // can be reached that way, so that BuildKit applies .dockerignore itself (as for
        // the CLI); otherwise, and for the classic builder, the context is a tar upload.
        let served =
            req.builder == Builder::BuildKit && req.secrets.is_empty() && daemon.serves_sessions();
        let (result, writer) = if served {
            let files = session_files(&prepared, sent);
            let result = cancel
                .or_cancelled(async { Ok(daemon.build_served(&req, files, on_event).await) })
                .await;
            (result, None)
        } else {
            let (body, writer) = stream_context(&prepared, sent);
            let result = cancel
                .or_cancelled(async { Ok(daemon.build(&req, body, on_event).await) })
                .await;
            (result, Some(writer))
        };
        let _ = log.flush();
        // Dropping the request (cancelled) ends the upload: the writer stops on its own.
        let send_result = match writer {
            Some(w) => w.await.expect("context writer task"),
            None => Ok(()),
        };
        let log_rel = ws.rel(&log_path).to_string();
        match result? {
            Ok(id) => {
                send_result.map_err(|e| Error::Build {
                    node: name.clone(),
                    step: None,
                    message: format!("sending the context: {e}"),
                    tail: Vec::new(),
                    log: log_rel.clone(),
                })?;
                let duration = started.elapsed();
                self.records.put_build(&BuildRecord {
                    node: name.clone(),
                    input_hash: prepared.input_hash.clone(),
                    image_id: id.clone(),
                    built_at: now_unix(),
                    built_at_ms: Some(crate::units::since_epoch().as_millis() as u64),
                    duration_ms: duration.as_millis() as u64,
                    log: Some(log_rel),
                    inputs: prepared.inputs.clone(),
                    revision,
                })?;
                reporter.finish(
                    &name,
                    "build",
                    &format!("built {}", id.short()),
                    true,
                    duration,
                    None,
                );
                Ok((id, Made::Built))
            }
            Err(err) => {
                // Losing the daemon is what happened even when the context upload broke too.
                let (step, message, tail) = match (err, send_result) {
                    (BuildError::Daemon(e), _) => return Err(e),
                    (_, Err(e)) => (None, format!("{e}"), Vec::new()),
                    (BuildError::Step { message, .. }, _)
                        if message.contains("exec format error") && node.platform.is_some() =>
                    {
                        return Err(cannot_run(
                            node,
                            &format!(
                                "the daemon's machine refused to run a step's program ({})",
                                message.trim()
                            ),
                        ));
                    }
                    (
                        BuildError::Step {
                            step,
                            message,
                            tail,
                        },
                        _,
                    ) => (step, message, tail),
                };
                Err(Error::Build {
                    node: name,
                    step,
                    message,
                    tail,
                    log: log_rel,
                })
            }
        }
    }
}

/// The parent and base images a prepared build names, with the node whose repository
/// holds their pin tag.
fn parents_of(prepared: &Prepared) -> Vec<(String, ImageId)> {
    let inputs = &prepared.inputs;
    inputs
        .parents
        .iter()
        .map(|(name, id)| (name.clone(), id.clone()))
        .chain(
            inputs
                .externals
                .values()
                .map(|id| (String::new(), id.clone())),
        )
        .collect()
}

fn builder_name(b: Builder) -> &'static str {
    match b {
        Builder::BuildKit => "buildkit",
        Builder::Classic => "classic",
    }
}

/// The error for a node whose platform its builder cannot run (exit 2, with the fix), at
/// the key that names the platform.
fn cannot_run(node: &crate::workspace::Node, why: &str) -> Error {
    let p = node
        .platform
        .as_ref()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let (path, line, key) = match &node.platforms_at {
        Some((file, line)) => (
            file.clone(),
            Some(*line),
            format!("`[build] platforms` includes \"{p}\""),
        ),
        None => (
            node.manifest_path
                .clone()
                .unwrap_or_else(|| format!("{}/container.toml", node.rel_dir)),
            None,
            format!("`[build] platform = \"{p}\"`"),
        ),
    };
    let mut d = Diagnostic::new(path, format!("{}: {key}: {why}", node.shown())).help(format!(
        "on the daemon's machine, {}; or build for the daemon's own platform",
        crate::emulation::FIX
    ));
    if let Some(line) = line {
        d = d.at_line(line);
    }
    Error::definition(d)
}

/// Append one `LABEL` instruction carrying `labels` to a Dockerfile's text.
pub fn with_labels(dockerfile: &[u8], labels: &BTreeMap<String, String>, escape: char) -> Vec<u8> {
    let quote = |s: &str| {
        let mut q = String::from("\"");
        for c in s.chars() {
            if c == '"' || c == '$' || c == escape {
                q.push(escape);
            }
            if c == '\n' {
                q.push(' ');
                continue;
            }
            q.push(c);
        }
        q.push('"');
        q
    };
    let mut out = dockerfile.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(b"LABEL");
    for (k, v) in labels {
        out.extend_from_slice(format!(" {}={}", quote(k), quote(v)).as_bytes());
    }
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_quoted_instruction() {
        let mut l = BTreeMap::new();
        l.insert("b".to_string(), "say \"$HOME\"".to_string());
        l.insert("a".to_string(), "1".to_string());
        let out = String::from_utf8(with_labels(b"FROM x", &l, '\\')).unwrap();
        assert_eq!(
            out,
            "FROM x\nLABEL \"a\"=\"1\" \"b\"=\"say \\\"\\$HOME\\\"\"\n"
        );
    }
}
