//! Loading a workspace: `dk.toml`, the nodes (`baseline/` and `containers/<name>/`), their
//! manifests and Dockerfiles. Every problem found is reported at once, each located.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{NetworkConfig, RunDefaults, WORKSPACE_FILE, WorkspaceFile};
use crate::docker::Builder;
use crate::dockerfile::Dockerfile;
use crate::error::{Diagnostic, Error, Result};
use crate::local::{Local, Origins};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::state::StateDir;
use crate::tomlfile;

pub const BASELINE: &str = "baseline";
pub const CONTAINERS_DIR: &str = "containers";

#[derive(Debug)]
pub struct Node {
    pub name: String,
    /// Absolute path of the node directory.
    pub dir: PathBuf,
    /// Workspace-relative path of the node directory (`baseline`, `containers/web`).
    pub rel_dir: String,
    pub dockerfile: Dockerfile,
    pub manifest: Manifest,
    /// Workspace-relative path of `container.toml`, when there is one.
    pub manifest_path: Option<String>,
    /// The build args of this node: dk.toml's, overridden by the manifest's.
    pub build_args: BTreeMap<String, String>,
    /// The manifest's `[build] builder`, else dk.toml's, else BuildKit.
    pub builder: Builder,
    /// The platform it is built for, when the manifest or dk.toml names one (a node built
    /// for several platforms: this one's).
    pub platform: Option<crate::dockerfile::Platform>,
    /// Every platform its directory is built for (`[build] platforms`, or `platform`; empty:
    /// the machine's). With several, each is a node of the workspace, this one `platform`'s.
    pub platforms: Vec<crate::dockerfile::Platform>,
    /// Where a `platforms` list was written (file, line), for errors about it.
    pub platforms_at: Option<(String, usize)>,
    /// A node built for one more platform of a directory is named `<name>@<arch>`
    /// (`web@arm64`): the name of the directory's own node (`web`), whose image runs.
    pub variant_of: Option<String>,
    /// How its container runs: `[defaults]` and `[run]`, resolved once here.
    pub run: crate::config::Run,
    /// Its `[[test.check]]`s, each with its probe.
    pub checks: Vec<crate::manifest::CheckSpec>,
}

impl Node {
    pub fn dockerfile_path(&self) -> String {
        format!("{}/Dockerfile", self.rel_dir)
    }

    pub fn is_baseline(&self) -> bool {
        self.base_name() == BASELINE
    }

    /// The directory's node name: `web` for `web` and for `web@arm64`.
    pub fn base_name(&self) -> &str {
        self.variant_of.as_deref().unwrap_or(&self.name)
    }

    /// Is it built for several platforms?
    pub fn multi_platform(&self) -> bool {
        self.platforms.len() > 1
    }

    /// The platform messages name it with: its own, when it is one of several.
    pub fn shown_platform(&self) -> Option<String> {
        self.platform
            .as_ref()
            .filter(|_| self.multi_platform())
            .map(|p| p.to_string())
    }

    /// How messages name it: `web`, or with several platforms `web (linux/arm64)`.
    pub fn shown(&self) -> String {
        shown(&self.name, self.shown_platform().as_deref())
    }
}

/// Node `name` as messages name it: with its `platform` when it has one of several
/// (`web@arm64`, `linux/arm64` → `web (linux/arm64)`).
pub fn shown(name: &str, platform: Option<&str>) -> String {
    match platform {
        Some(p) => format!("{} ({p})", split_variant(name).0),
        None => name.to_string(),
    }
}

/// The separator of a node built for another platform: `web@arm64` (never in a directory's
/// node name, which Docker's repository rules keep to `[a-z0-9._-]`).
pub const VARIANT_SEP: char = '@';

/// `web@arm64` → (`web`, Some(`arm64`)).
pub fn split_variant(name: &str) -> (&str, Option<&str>) {
    match name.split_once(VARIANT_SEP) {
        Some((base, arch)) => (base, Some(arch)),
        None => (name, None),
    }
}

#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    /// dk.toml's `id` (else the legacy hash of the root path): the `dk.workspace` label on
    /// every Docker object.
    pub id: String,
    /// Did the id come from dk.toml? (else `record_id` writes it there)
    pub id_in_file: bool,
    pub namespace: String,
    pub data_root: PathBuf,
    pub state: StateDir,
    pub fetch_cache: PathBuf,
    pub live_network: NetworkConfig,
    pub test_network: NetworkConfig,
    pub defaults: RunDefaults,
    pub jobs: Option<usize>,
    /// `[build] registry_cache`: BuildKit builds export their cache inline and start from
    /// the first registry's `:live` of the node.
    pub registry_cache: bool,
    /// dk.toml's `[deploy]`: what is kept of releases, by default.
    pub deploy: crate::manifest::DeploySection,
    /// `[[registry]]` entries of dk.toml, in order.
    pub registries: Vec<crate::config::RegistryFile>,
    /// dk.toml's `[hooks]` around `dk update`.
    pub update_hooks: crate::config::UpdateHooks,
    /// Where the values dk.local.toml set come from (`dk config`).
    pub origins: Origins,
    /// Is there a dk.local.toml?
    pub has_local: bool,
    /// Nodes sorted by name, the baseline first.
    pub nodes: Vec<Node>,
}

#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    /// Overrides `namespace` (the CLI passes `DK_NAMESPACE`).
    pub namespace: Option<String>,
}

/// Find the workspace root: `dir` itself when given, else the nearest ancestor of the
/// current directory holding `dk.toml`.
pub fn find_root(dir: Option<&Path>) -> Result<PathBuf> {
    match dir {
        Some(d) => {
            let root = d.canonicalize().map_err(|e| {
                Error::usage_help(
                    format!("workspace directory {}: {e}", d.display()),
                    "pass an existing directory to -C/--workspace",
                )
            })?;
            if !root.join(WORKSPACE_FILE).is_file() {
                return Err(Error::definition(
                    Diagnostic::new(
                        root.join(WORKSPACE_FILE).display().to_string(),
                        "no dk.toml: this directory is not a dk workspace",
                    )
                    .help("create dk.toml (even an empty one) at the workspace root"),
                ));
            }
            Ok(root)
        }
        None => {
            let cwd = std::env::current_dir().map_err(|e| Error::io("read", ".", e))?;
            let mut cur = Some(cwd.as_path());
            while let Some(d) = cur {
                if d.join(WORKSPACE_FILE).is_file() {
                    return Ok(d.to_path_buf());
                }
                cur = d.parent();
            }
            Err(Error::definition(
                Diagnostic::new(
                    cwd.display().to_string(),
                    "no dk.toml here or in any parent directory",
                )
                .help("run dk inside a workspace, or point at one with `dk -C DIR`"),
            ))
        }
    }
}

/// The id of a workspace whose dk.toml names none (made before `id` existed): a short
/// hash of the canonical root path, which is what its Docker objects carry.
pub fn legacy_workspace_id(root: &Path) -> String {
    blake3::hash(root.to_string_lossy().as_bytes()).to_hex()[..16].to_string()
}

/// A new workspace's id: 16 random hex digits.
pub fn new_workspace_id() -> Result<String> {
    let bytes: [u8; 8] = crate::ids::random_bytes()?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What an `id` may be: it goes into labels and filters.
fn valid_id(id: &str) -> bool {
    (4..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// `id = "…"` as dk.toml's first key: after the comments and blank lines that open the
/// file, before any other line (so it is a top-level key whatever tables follow).
pub fn with_id_line(text: &str, id: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut placed = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if !(placed || t.is_empty() || t.starts_with('#')) {
            out.push_str(&format!("id = \"{id}\"\n"));
            placed = true;
        }
        out.push_str(line);
    }
    if !placed {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("id = \"{id}\"\n"));
    }
    out
}

/// `.gitignore`'s text with a line for `name` added, or None when a line names it already.
pub fn gitignore_with(current: &str, name: &str) -> Option<String> {
    if current
        .lines()
        .any(|l| l.trim() == name || l.trim() == format!("/{name}"))
    {
        return None;
    }
    let mut text = current.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(name);
    text.push('\n');
    Some(text)
}

/// Docker's rule for a repository path component.
pub fn valid_image_component(name: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$").expect("regex")
    })
    .is_match(name)
}

impl Workspace {
    /// Write the id into dk.toml when it is not there (a workspace made before `id`
    /// existed keeps the id its objects carry, and from now on every checkout shares it).
    /// Returns the note to show, or None when there was nothing to do. A dk.toml that
    /// cannot be written is said, not an error: this checkout goes on with the same id.
    pub fn record_id(&self) -> Option<String> {
        if self.id_in_file {
            return None;
        }
        let path = self.root.join(WORKSPACE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e));
        if let Ok(t) = &text
            && t.parse::<toml::Table>().is_ok_and(|t| t.contains_key("id"))
        {
            // Written earlier in this run.
            return None;
        }
        let written = text.and_then(|text| {
            crate::state::write_atomic(&path, with_id_line(&text, &self.id).as_bytes())
        });
        Some(match written {
            Ok(()) => format!(
                "dk.toml: wrote `id = \"{}\"`, the identity this workspace's images, containers and services carry (it was the hash of this checkout's path); commit it, and every checkout of the workspace is the same workspace",
                self.id
            ),
            Err(e) => format!(
                "dk.toml has no `id` and could not be given one ({}); add `id = \"{}\"` at its top so that other checkouts share this workspace's Docker objects",
                e.render(),
                self.id
            ),
        })
    }

    pub fn load(root: &Path, opts: &LoadOptions) -> Result<Workspace> {
        let root = root
            .canonicalize()
            .map_err(|e| Error::io("open workspace", root, e))?;
        let mut diags = Vec::new();
        let ws_text = read_text(&root.join(WORKSPACE_FILE))?;
        let mut ws_file: WorkspaceFile = match tomlfile::parse_all(&ws_text, WORKSPACE_FILE) {
            Ok(f) => f,
            Err(d) => return Err(Error::Definition(d)),
        };
        // The site's values (dk.local.toml) over dk.toml's.
        let local = Local::load(&root).map_err(Error::Definition)?;
        let mut origins = Origins::new();
        if let Some(l) = &local {
            l.apply_to_workspace(&mut ws_file, &mut origins);
        }

        let namespace = match &opts.namespace {
            Some(n) => n.clone(),
            None => ws_file
                .namespace
                .as_ref()
                .map(|s| s.get_ref().clone())
                .unwrap_or_else(|| crate::config::DEFAULT_NAMESPACE.to_string()),
        };
        if !namespace.split('/').all(valid_image_component) {
            let mut d = Diagnostic::new(
                WORKSPACE_FILE,
                format!("namespace `{namespace}` is not a valid Docker repository name"),
            )
            .help("use lowercase letters, digits and single separators (`.`, `_`, `-`)");
            if opts.namespace.is_some() {
                d.message.push_str(" (from DK_NAMESPACE)");
            } else if let Some(s) = &ws_file.namespace {
                d = d.at_offset(&ws_text, s.span().start);
            }
            diags.push(d);
        }

        if let Some(id) = &ws_file.id
            && !valid_id(id.get_ref())
        {
            diags.push(
                Diagnostic::new(
                    WORKSPACE_FILE,
                    format!("id `{}` is not a workspace id", id.get_ref()),
                )
                .at_offset(&ws_text, id.span().start)
                .help("use 4 to 64 lowercase letters, digits, `-` or `_`; keep the id every checkout already shares, since Docker objects carry it"),
            );
        }

        let (live_network, test_network) =
            match ws_file.networks(&namespace, &ws_text, WORKSPACE_FILE) {
                Ok(n) => n,
                Err(mut d) => {
                    diags.append(&mut d);
                    return Err(Error::Definition(diags));
                }
            };
        for (name, h) in &ws_file.hosts {
            let scheme_ok = ["ssh://", "tcp://", "http://", "unix://"]
                .iter()
                .any(|s| h.endpoint.starts_with(s));
            if !scheme_ok {
                diags.push(
                    Diagnostic::new(
                        WORKSPACE_FILE,
                        format!("hosts.{name}.endpoint: `{}` is not ssh://, tcp://, http:// or unix://", h.endpoint),
                    )
                    .at_line(crate::tomlfile::line_of(&ws_text, &format!("hosts.{name}.endpoint")).unwrap_or(1))
                    .help("e.g. endpoint = \"ssh://me@nas\"; for TLS use DOCKER_HOST with DOCKER_TLS_VERIFY"),
                );
            }
        }
        for r in &ws_file.registries {
            let url = &r.get_ref().url;
            let valid = !url.is_empty()
                && !url.contains("://")
                && crate::dockerfile::valid_reference(&format!("{url}/x"));
            if !valid {
                diags.push(
                    Diagnostic::new(WORKSPACE_FILE, format!("registry.url: `{url}` is not host[:port][/path]"))
                        .at_offset(&ws_text, r.span().start)
                        .help("e.g. url = \"registry.example.com:5000/team\"; dk pushes through the daemon, which decides TLS (no http:// or https://)"),
                );
            }
        }
        if let Some(r) = &ws_file.defaults.restart {
            crate::manifest::validate_restart(r, "defaults.restart", WORKSPACE_FILE, &mut diags);
        }
        if let Some(l) = &ws_file.defaults.log {
            crate::manifest::validate_log(l, "defaults.log", WORKSPACE_FILE, &mut diags);
        }
        crate::manifest::validate_deploy(&ws_file.deploy, WORKSPACE_FILE, &mut diags);
        // dk.toml's platforms, with where they are written: every node's unless its own.
        let ws_platforms: Option<Platforms> = ws_file.build.platforms.as_ref().map(|list| {
            let line = tomlfile::line_of(&ws_text, "build.platforms").unwrap_or(1);
            crate::manifest::validate_platform_list(list, WORKSPACE_FILE, line, &mut diags);
            (
                crate::dockerfile::Platform::list(list),
                (WORKSPACE_FILE.to_string(), line),
            )
        });

        let abs = |p: &str| -> PathBuf {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                root.join(p)
            }
        };
        let state = StateDir::new(abs(ws_file.state_dir.as_deref().unwrap_or(".dk")));
        let data_root = abs(ws_file.data_root.as_deref().unwrap_or("data"));
        let fetch_cache = match &ws_file.stage.fetch_cache {
            Some(p) => abs(p),
            None => state.default_fetch_cache(),
        };

        let mut dirs: Vec<(String, String, PathBuf)> = Vec::new();
        let baseline_dir = root.join(BASELINE);
        if baseline_dir.is_dir() {
            dirs.push((BASELINE.into(), BASELINE.into(), baseline_dir));
        } else {
            diags.push(
                Diagnostic::new(BASELINE, "the workspace has no baseline/ directory")
                    .help("every workspace builds on one baseline: create baseline/Dockerfile"),
            );
        }
        let containers = root.join(CONTAINERS_DIR);
        match std::fs::read_dir(&containers) {
            Ok(rd) => {
                let mut found: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
                found.sort();
                let mut any = false;
                for p in found {
                    let name = p.file_name().unwrap().to_string_lossy().to_string();
                    if name.starts_with('.') || !p.is_dir() {
                        continue;
                    }
                    any = true;
                    let rel = format!("{CONTAINERS_DIR}/{name}");
                    if let Err(d) = check_inside(&root, &p, &rel) {
                        diags.push(d);
                        continue;
                    }
                    dirs.push((name, rel, p));
                }
                if !any {
                    diags.push(
                        Diagnostic::new(
                            format!("{CONTAINERS_DIR}/"),
                            "containers/ holds no container definitions",
                        )
                        .help("add containers/<name>/Dockerfile, or remove the empty directory"),
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("read", &containers, e)),
        }

        let mut nodes = Vec::new();
        for (name, rel, dir) in dirs {
            if !valid_image_component(&name) {
                diags.push(
                    Diagnostic::new(
                        format!("{rel}/"),
                        format!("`{name}` cannot be a node name: Docker rejects it in an image name"),
                    )
                    .help("rename the directory with lowercase letters, digits and single `.`, `_` or `-`"),
                );
                continue;
            }
            if name == BASELINE && rel != BASELINE {
                diags.push(
                    Diagnostic::new(
                        format!("{rel}/"),
                        format!(
                            "containers/baseline maps to the same image as baseline/ ({namespace}/baseline)"
                        ),
                    )
                    .help("rename the container directory"),
                );
                continue;
            }
            let ctx = (&ws_file.build, &ws_file.defaults, ws_platforms.as_ref());
            match load_dir(&name, &rel, &dir, ctx, local.as_ref(), &mut origins) {
                Ok(mut loaded) => nodes.append(&mut loaded),
                Err(mut d) => diags.append(&mut d),
            }
        }
        let names: Vec<&str> = nodes
            .iter()
            .filter(|n| n.variant_of.is_none())
            .map(|n| n.name.as_str())
            .collect();
        if let Some(l) = &local {
            diags.extend(l.unknown_containers(&names));
        }
        for node in &nodes {
            check_mount_from(node, &names, &mut diags);
        }
        for node in &nodes {
            check_static_ip(node, &live_network, &test_network, &mut diags);
        }

        if !diags.is_empty() {
            return Err(Error::Definition(diags));
        }
        nodes.sort_by(|a, b| {
            (!a.is_baseline(), a.name.as_str()).cmp(&(!b.is_baseline(), b.name.as_str()))
        });
        let (id, id_in_file) = match &ws_file.id {
            Some(id) => (id.get_ref().clone(), true),
            None => (legacy_workspace_id(&root), false),
        };
        Ok(Workspace {
            id,
            id_in_file,
            root,
            namespace,
            data_root,
            state,
            fetch_cache,
            live_network,
            test_network,
            defaults: ws_file.defaults,
            jobs: ws_file.build.jobs,
            registry_cache: ws_file.build.registry_cache,
            deploy: ws_file.deploy,
            update_hooks: ws_file.hooks.clone(),
            registries: ws_file
                .registries
                .into_iter()
                .map(|r| r.into_inner())
                .collect(),
            origins,
            has_local: local.is_some(),
            nodes,
        })
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.nodes.iter().map(|n| n.name.as_str()).collect()
    }

    /// The tag dk gives image `id` in `node`'s repository to name it in a Dockerfile it
    /// sends: `<namespace>/<node>:dk-<hex>`. BuildKit resolves such a local tag without a
    /// registry (it cannot take an image id), and the tag is derived from the id alone.
    pub fn pin_ref(&self, node: &str, id: &crate::ids::ImageId) -> (String, String) {
        (self.repo(node), format!("dk-{}", id.hex()))
    }

    /// `<namespace>/<name>`: one repository for every platform of a directory.
    pub fn repo(&self, node: &str) -> String {
        format!("{}/{}", self.namespace, split_variant(node).0)
    }

    /// The tag `tag` of node `node`: `live`, or `live-arm64` for `web@arm64`.
    pub fn tag(&self, node: &str, tag: &str) -> String {
        match split_variant(node).1 {
            Some(arch) => format!("{tag}-{arch}"),
            None => tag.to_string(),
        }
    }

    pub fn image(&self, node: &str, tag: &str) -> String {
        format!("{}:{}", self.repo(node), self.tag(node, tag))
    }

    /// Node `node`'s repository in registry `r`: `<url>/<namespace>/<node>`.
    pub fn registry_repo(&self, r: &crate::config::RegistryFile, node: &str) -> String {
        format!(
            "{}/{}/{}",
            r.url.trim_end_matches('/'),
            self.namespace,
            split_variant(node).0
        )
    }

    /// The nodes of node `i`'s directory, one per platform (the directory's own node
    /// first): a release is all of them together.
    pub fn platform_group(&self, i: usize) -> Vec<usize> {
        let base = self.nodes[i].base_name();
        let mut group: Vec<usize> = (0..self.nodes.len())
            .filter(|&j| self.nodes[j].base_name() == base)
            .collect();
        group.sort_by_key(|&j| (self.nodes[j].variant_of.is_some(), &self.nodes[j].name));
        group
    }

    /// A workspace-relative rendering of a path, for messages.
    pub fn rel<'a>(&self, p: &'a Path) -> std::borrow::Cow<'a, str> {
        match p.strip_prefix(&self.root) {
            Ok(r) => std::borrow::Cow::Owned(r.to_string_lossy().to_string()),
            Err(_) => p.to_string_lossy(),
        }
    }
}

/// A mount `from = "web:www"` must name a container of the workspace.
fn check_mount_from(node: &Node, names: &[&str], diags: &mut Vec<Diagnostic>) {
    for m in &node.manifest.mounts {
        if let crate::manifest::MountSource::From(other, _) = m.get_ref().source()
            && !names.contains(&other.as_str())
        {
            let path = node.manifest_path.clone().unwrap_or_default();
            let text = std::fs::read_to_string(node.dir.join(MANIFEST_FILE)).unwrap_or_default();
            let mut d = Diagnostic::new(
                &path,
                format!("mount.from: there is no container `{other}` in this workspace"),
            )
            .at_offset(&text, m.span().start);
            if let Some(near) = tomlfile::suggest(other, names.iter().copied()) {
                d = d.help(format!("did you mean `{near}`?"));
            }
            diags.push(d);
        }
    }
}

/// A static `ip` needs both subnets named in dk.toml (tests mirror it into the test subnet),
/// and must be a usable address of the live one.
fn check_static_ip(
    node: &Node,
    live: &NetworkConfig,
    test: &NetworkConfig,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(ip) = &node.manifest.run.ip else {
        return;
    };
    let path = node.manifest_path.clone().unwrap_or_default();
    let text = std::fs::read_to_string(node.dir.join(MANIFEST_FILE)).unwrap_or_default();
    let at = |msg: String, help: &str| {
        Diagnostic::new(&path, msg)
            .at_offset(&text, ip.span().start)
            .help(help)
    };
    match (live.subnet, test.subnet) {
        (Some(l), Some(_)) if !l.usable_host(*ip.get_ref().get()) => diags.push(at(
            format!("run.ip: {} is not a usable address of the live subnet {l}", ip.get_ref()),
            "choose a host address inside it (not the network, gateway or broadcast address)",
        )),
        (Some(_), Some(_)) => {}
        _ => diags.push(at(
            format!(
                "run.ip: a static address ({}) needs the live and test subnets named in dk.toml",
                ip.get_ref()
            ),
            "add [network.live] subnet = \"…\" and [network.test] subnet = \"…\" to dk.toml, or remove `ip` (containers reach each other by name)",
        )),
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))
}

fn check_inside(root: &Path, dir: &Path, rel: &str) -> Result<(), Diagnostic> {
    let real = dir.canonicalize().map_err(|e| {
        Diagnostic::new(
            format!("{rel}/"),
            format!("cannot resolve the directory: {e}"),
        )
    })?;
    if !real.starts_with(root) {
        return Err(Diagnostic::new(
            format!("{rel}/"),
            format!("is a symlink to {}, outside the workspace", real.display()),
        )
        .help("node directories must live inside the workspace; copy it in instead"));
    }
    Ok(())
}

/// The nodes of directory `dir`: its own, and one more per further platform (`web@arm64`),
/// its Dockerfile read for that platform (`TARGETARCH`).
fn load_dir(
    name: &str,
    rel: &str,
    dir: &Path,
    ctx: (
        &crate::config::BuildDefaults,
        &crate::config::RunDefaults,
        Option<&Platforms>,
    ),
    local: Option<&Local>,
    origins: &mut Origins,
) -> Result<Vec<Node>, Vec<Diagnostic>> {
    let node = load_node(name, rel, dir, ctx, local, origins, None)?;
    let others: Vec<_> = node
        .platforms
        .iter()
        .filter(|p| !node.platform.as_ref().is_some_and(|q| q.same(p)))
        .cloned()
        .collect();
    let mut nodes = vec![node];
    for p in others {
        nodes.push(load_node(name, rel, dir, ctx, local, origins, Some(&p))?);
    }
    Ok(nodes)
}

/// Load the node of directory `dir`; with `variant`, the node built for that further
/// platform of it (`web@arm64`).
fn load_node(
    name: &str,
    rel: &str,
    dir: &Path,
    (ws_build, ws_run, ws_platforms): (
        &crate::config::BuildDefaults,
        &crate::config::RunDefaults,
        Option<&Platforms>,
    ),
    local: Option<&Local>,
    origins: &mut Origins,
    variant: Option<&crate::dockerfile::Platform>,
) -> Result<Node, Vec<Diagnostic>> {
    let ws_args = &ws_build.args;
    let mut diags = Vec::new();
    let manifest_file = dir.join(MANIFEST_FILE);
    let manifest_rel = format!("{rel}/{MANIFEST_FILE}");
    let (mut manifest, manifest_path, manifest_text) = if manifest_file.is_file() {
        let text = std::fs::read_to_string(&manifest_file)
            .map_err(|e| vec![Diagnostic::new(&manifest_rel, format!("cannot read: {e}"))])?;
        match tomlfile::parse_all::<Manifest>(&text, &manifest_rel) {
            Ok(m) => {
                diags.extend(m.validate(&text, &manifest_rel));
                (m, Some(manifest_rel.clone()), text)
            }
            Err(d) => return Err(d),
        }
    } else {
        (Manifest::default(), None, String::new())
    };
    if let Some(l) = local {
        diags.extend(l.apply_to_node(name, &mut manifest, origins));
    }
    for m in &mut manifest.mounts {
        m.get_mut().resolve_source();
    }

    let mut build_args = ws_args.clone();
    build_args.extend(manifest.build.args.clone());

    let df_path = dir.join("Dockerfile");
    let df_rel = format!("{rel}/Dockerfile");
    let df_text = match std::fs::read_to_string(&df_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            diags.push(
                Diagnostic::new(format!("{rel}/"), "node directory has no Dockerfile").help(
                    format!("add {df_rel}, or move the directory out of {CONTAINERS_DIR}/"),
                ),
            );
            return Err(diags);
        }
        Err(e) => {
            diags.push(Diagnostic::new(&df_rel, format!("cannot read: {e}")));
            return Err(diags);
        }
    };
    let (platforms, platforms_at) =
        node_platforms(&manifest.build, &manifest_rel, &manifest_text, ws_platforms);
    let host = crate::dockerfile::Platform::host();
    // The directory's own node is built for the machine's platform where it is listed,
    // else for the first listed.
    let platform = match variant {
        Some(p) => Some(p.clone()),
        None => platforms
            .iter()
            .find(|p| p.same(&host))
            .or(platforms.first())
            .cloned(),
    };
    let dockerfile = match Dockerfile::parse_for(
        &df_text,
        &build_args,
        platform.as_ref().unwrap_or(&host),
    ) {
        Ok(d) => d,
        Err(e) => {
            let mut d = Diagnostic::new(&df_rel, e.message).at_line(e.line);
            if let Some(arg) = e.needs_arg {
                d = d.help(format!(
                    "set it in {manifest_rel}: `[build] args = {{ {arg} = \"…\" }}` (or in dk.toml's [build] args, for every node)"
                ));
            }
            diags.push(d);
            return Err(diags);
        }
    };
    let builder = manifest
        .build
        .builder
        .or(ws_build.builder)
        .unwrap_or(Builder::BuildKit);
    if builder == Builder::Classic {
        let from = if manifest.build.builder.is_some() {
            manifest_rel.clone()
        } else {
            WORKSPACE_FILE.to_string()
        };
        for f in dockerfile.features() {
            diags.push(
                Diagnostic::new(&df_rel, format!("{} needs BuildKit, but this node builds with the classic builder", f.what))
                    .at_line(f.line)
                    .help(format!("remove `builder = \"classic\"` from [build] in {from} (BuildKit is the default)")),
            );
        }
    }
    if let Some(t) = &manifest.build.target
        && dockerfile.final_stage(Some(t)).is_none()
    {
        diags.push(
            Diagnostic::new(
                manifest_rel.clone(),
                format!("build.target `{t}` is not a stage of {df_rel}"),
            )
            .help("name a stage with `FROM ... AS <name>`"),
        );
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let (name, variant_of) = match variant {
        Some(p) => (
            format!("{name}{VARIANT_SEP}{}", p.suffix()),
            Some(name.to_string()),
        ),
        None => (name.to_string(), None),
    };
    Ok(Node {
        name,
        variant_of,
        platforms,
        platforms_at,
        dir: dir.to_path_buf(),
        rel_dir: rel.to_string(),
        dockerfile,
        manifest_path,
        build_args,
        builder,
        platform,
        run: ws_run.resolve(&manifest.run),
        checks: crate::manifest::CheckSpec::all(&manifest),
        manifest,
    })
}

/// Platforms and where they are written (file, line).
type Platforms = (Vec<crate::dockerfile::Platform>, (String, usize));

/// A node's platforms: its manifest's `platforms` (or `platform`), else dk.toml's
/// `platforms`, else none (the machine's); with where a list was written.
fn node_platforms(
    build: &crate::manifest::BuildSection,
    manifest_rel: &str,
    manifest_text: &str,
    ws_platforms: Option<&Platforms>,
) -> (Vec<crate::dockerfile::Platform>, Option<(String, usize)>) {
    if let Some(list) = &build.platforms {
        let line = tomlfile::line_of(manifest_text, "build.platforms").unwrap_or(1);
        return (
            crate::dockerfile::Platform::list(list),
            Some((manifest_rel.to_string(), line)),
        );
    }
    if let Some(p) = &build.platform {
        return (vec![p.get().clone()], None);
    }
    match ws_platforms {
        Some((list, at)) => (list.clone(), Some(at.clone())),
        None => (Vec::new(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_line_goes_before_the_first_key_after_the_opening_comments() {
        assert_eq!(
            with_id_line("# ws\n\nnamespace = \"a\"\n[build]\n", "abcd"),
            "# ws\n\nid = \"abcd\"\nnamespace = \"a\"\n[build]\n"
        );
        assert_eq!(
            with_id_line("[build]\njobs = 2", "abcd"),
            "id = \"abcd\"\n[build]\njobs = 2"
        );
        assert_eq!(with_id_line("# only\n", "abcd"), "# only\nid = \"abcd\"\n");
        assert_eq!(with_id_line("", "abcd"), "id = \"abcd\"\n");
        let t: toml::Table = with_id_line("# c\n[network.live]\nsubnet = \"x\"\n", "abcd")
            .parse()
            .unwrap();
        assert_eq!(t["id"].as_str(), Some("abcd"));
    }

    #[test]
    fn a_gitignore_line_is_added_once() {
        assert_eq!(gitignore_with("", "k").as_deref(), Some("k\n"));
        assert_eq!(gitignore_with("a", "k").as_deref(), Some("a\nk\n"));
        assert_eq!(gitignore_with("a\n/k\n", "k"), None);
        assert_eq!(gitignore_with("k\n", "k"), None);
    }

    #[test]
    fn ids_are_label_safe() {
        assert!(valid_id("0123456789abcdef"));
        assert!(valid_id("shop-prod"));
        assert!(!valid_id("Shop"));
        assert!(!valid_id("a b"));
        assert!(!valid_id("abc"));
        assert_eq!(new_workspace_id().unwrap().len(), 16);
    }
}
