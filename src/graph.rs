//! The build graph: edges from `FROM` and `COPY --from=` lines that name another node,
//! a deterministic topological order, cycles reported with their whole path, and the start
//! order (waves) from the manifests' `after` lists.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use crate::dockerfile::{ImageRef, Pinning};
use crate::error::{Diagnostic, Error, Result};
use crate::tomlfile::suggest;
use crate::workspace::Workspace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    From,
    CopyFrom,
}

impl EdgeKind {
    pub fn label(&self) -> &'static str {
        match self {
            EdgeKind::From => "FROM",
            EdgeKind::CopyFrom => "COPY --from",
        }
    }
}

/// `child` builds on `parent` through the Dockerfile line `line`.
#[derive(Debug, Clone)]
pub struct Edge {
    pub child: usize,
    pub parent: usize,
    pub kind: EdgeKind,
    pub line: usize,
    /// Byte span of the image reference in the child's Dockerfile.
    pub span: Range<usize>,
}

/// A reference to an image that is not a node (`alpine:3.20`, an image id, ...).
#[derive(Debug, Clone)]
pub struct External {
    pub node: usize,
    pub image: String,
    pub kind: EdgeKind,
    pub line: usize,
    pub span: Range<usize>,
}

#[derive(Debug)]
pub struct Graph {
    pub edges: Vec<Edge>,
    pub externals: Vec<External>,
    /// Distinct parents per node, sorted.
    pub parents: Vec<Vec<usize>>,
    /// Distinct children per node, sorted.
    pub children: Vec<Vec<usize>>,
    /// All nodes, parents before children; ties broken by the workspace order (baseline
    /// first, then by name).
    pub order: Vec<usize>,
    /// Things worth telling that stop nothing (e.g. an external base pinned by no version).
    pub warnings: Vec<Diagnostic>,
}

/// Does `image` (as written after ARG expansion) name a node of the workspace?
pub fn node_ref(ws: &Workspace, image: &str) -> Option<usize> {
    if ImageRef::is_image_id(image) {
        return None;
    }
    let r = ImageRef::parse(image);
    if r.digest.is_some() {
        return None;
    }
    let prefix = format!("{}/", ws.namespace);
    let name = r.repo.strip_prefix(&prefix).unwrap_or(&r.repo);
    ws.nodes.iter().position(|n| n.name == name)
}

/// The node of parent `pi`'s directory that child `ci`'s stage builds on: the one of the
/// stage's platform (its `--platform`, else the child's own). A child whose `platforms` list
/// names one its parent is not built for is an error at that list; a single `platform` keeps
/// the parent's own node (the build says what is wrong, with the parent image's platform).
fn platform_parent(
    ws: &Workspace,
    ci: usize,
    pi: usize,
    stage_platform: Option<&str>,
    line: usize,
) -> std::result::Result<usize, Box<Diagnostic>> {
    use crate::dockerfile::Platform;
    let child = &ws.nodes[ci];
    let parent = &ws.nodes[pi];
    if stage_platform.is_none() && parent.platforms.is_empty() && child.platforms.is_empty() {
        // Both the machine's (the common case): nothing to choose.
        return Ok(pi);
    }
    let host = Platform::host();
    let wanted = match stage_platform.map(Platform::parse) {
        Some(Ok(p)) => p,
        _ => child.platform.clone().unwrap_or_else(|| host.clone()),
    };
    let group = ws.platform_group(pi);
    let of = |j: &usize| {
        ws.nodes[*j]
            .platform
            .clone()
            .unwrap_or_else(|| host.clone())
    };
    if let Some(j) = group.iter().find(|j| of(j).same(&wanted)) {
        return Ok(*j);
    }
    match &child.platforms_at {
        Some((path, at)) if stage_platform.is_none() => {
            let parent = parent.base_name();
            let has: Vec<String> = group.iter().map(|j| of(j).to_string()).collect();
            Err(Box::new(
                Diagnostic::new(
                    path,
                    format!(
                        "build.platforms: {} builds for {wanted}, but its parent {parent} ({}:{line}) is built only for {}",
                        child.base_name(),
                        child.dockerfile_path(),
                        has.join(", ")
                    ),
                )
                .at_line(*at)
                .help(format!(
                    "add {wanted} to the platforms of {parent} (its container.toml's, or dk.toml's [build] platforms), or remove it from this list"
                )),
            ))
        }
        _ => Ok(pi),
    }
}

impl Graph {
    pub fn build(ws: &Workspace) -> Result<Graph> {
        let n = ws.nodes.len();
        let mut edges = Vec::new();
        let mut externals = Vec::new();
        let mut warnings = Vec::new();
        for (ci, node) in ws.nodes.iter().enumerate() {
            let df = &node.dockerfile;
            // Every image reference of the Dockerfile that is not one of its own stages.
            let froms = df
                .stages
                .iter()
                .filter(|s| s.image != "scratch" && !df.is_stage_ref(&s.image, s.index))
                .map(|s| (EdgeKind::From, &s.image, s.line, &s.image_span, &s.platform));
            let copies = df
                .copy_froms
                .iter()
                .filter(|c| !df.is_stage_ref(&c.value, c.stage))
                .map(|c| (EdgeKind::CopyFrom, &c.value, c.line, &c.span, &None));
            for (kind, image, line, span, stage_platform) in froms.chain(copies) {
                // A node naming its own name with a tag or a digest (a service `redis`
                // with `FROM redis:7-alpine`, as Compose files have it) means the upstream
                // image: a node's own image is never named so.
                let own_upstream = |pi: &usize| {
                    let r = crate::dockerfile::ImageRef::parse(image);
                    ws.nodes[*pi].base_name() == node.base_name()
                        && (r.tag.is_some() || r.digest.is_some())
                };
                let found = node_ref(ws, image).filter(|pi| !own_upstream(pi));
                // A node built for a platform builds on its parent's node of that
                // platform (a stage's own `--platform` says which).
                let found = match found {
                    Some(pi) => Some(
                        platform_parent(ws, ci, pi, stage_platform.as_deref(), line)
                            .map_err(|d| Error::definition(*d))?,
                    ),
                    None => None,
                };
                match found {
                    Some(pi) => edges.push(Edge {
                        child: ci,
                        parent: pi,
                        kind,
                        line,
                        span: span.clone(),
                    }),
                    None => {
                        if let Some(w) = pin_warning(&node.dockerfile_path(), line, image) {
                            warnings.push(w);
                        }
                        externals.push(External {
                            node: ci,
                            image: image.clone(),
                            kind,
                            line,
                            span: span.clone(),
                        });
                    }
                }
            }
        }

        let mut parents = vec![BTreeSet::new(); n];
        let mut children = vec![BTreeSet::new(); n];
        for e in &edges {
            if e.child == e.parent {
                let node = &ws.nodes[e.child];
                return Err(Error::definition(
                    Diagnostic::new(
                        node.dockerfile_path(),
                        format!(
                            "dependency cycle: {0} -> {0} ({0} {1} itself)",
                            node.name,
                            e.kind.label()
                        ),
                    )
                    .at_line(e.line)
                    .help(format!(
                        "a node cannot build on its own image; name its base instead (for the upstream image of the same name, qualify it, `docker.io/library/{0}`, or give its tag, `{0}:<version>`)",
                        node.name
                    )),
                ));
            }
            parents[e.child].insert(e.parent);
            children[e.parent].insert(e.child);
        }
        let parents: Vec<Vec<usize>> = parents
            .into_iter()
            .map(|s| s.into_iter().collect())
            .collect();
        let children: Vec<Vec<usize>> = children
            .into_iter()
            .map(|s| s.into_iter().collect())
            .collect();

        // Kahn's algorithm with an ordered ready set: deterministic.
        let mut indegree: Vec<usize> = parents.iter().map(|p| p.len()).collect();
        let mut ready: BTreeSet<usize> = (0..n).filter(|i| indegree[*i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &c in &children[i] {
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    ready.insert(c);
                }
            }
        }
        if order.len() < n {
            let remaining: Vec<usize> = (0..n).filter(|i| indegree[*i] > 0).collect();
            return Err(cycle_error(ws, &edges, &parents, &remaining));
        }

        let graph = Graph {
            edges,
            externals,
            parents,
            children,
            order,
            warnings,
        };
        graph.check_after(ws)?;
        Ok(graph)
    }

    /// Every `after` entry names a node.
    fn check_after(&self, ws: &Workspace) -> Result<()> {
        let mut diags = Vec::new();
        for node in &ws.nodes {
            for a in &node.manifest.after {
                if ws.node(a.get_ref()).is_none() {
                    let path = node.manifest_path.clone().unwrap_or_default();
                    let text = std::fs::read_to_string(ws.root.join(&path)).unwrap_or_default();
                    let mut d = Diagnostic::new(
                        path,
                        format!("after: `{}` is not a node of this workspace", a.get_ref()),
                    )
                    .at_offset(&text, a.span().start);
                    if let Some(s) = suggest(a.get_ref(), ws.names()) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                }
            }
        }
        if diags.is_empty() {
            Ok(())
        } else {
            Err(Error::Definition(diags))
        }
    }

    /// `selected` with every node they build on, in build order.
    pub fn with_dependencies(&self, selected: &[usize]) -> Vec<usize> {
        let mut keep = vec![false; self.order.len()];
        let mut stack: Vec<usize> = selected.to_vec();
        while let Some(i) = stack.pop() {
            if !keep[i] {
                keep[i] = true;
                stack.extend(&self.parents[i]);
            }
        }
        self.order.iter().copied().filter(|i| keep[*i]).collect()
    }

    /// Where node `i` stands in the build order.
    pub fn position(&self, i: usize) -> usize {
        self.order
            .iter()
            .position(|o| *o == i)
            .unwrap_or(usize::MAX)
    }

    /// Start waves over `selected` from the manifests' `after` lists (only among the
    /// selected): wave 0 has no `after`, wave k waits for wave k-1.
    pub fn start_waves(&self, ws: &Workspace, selected: &[usize]) -> Result<Vec<Vec<usize>>> {
        let index: HashMap<&str, usize> = ws
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();
        let sel: BTreeSet<usize> = selected.iter().copied().collect();
        let mut wave_of: HashMap<usize, usize> = HashMap::new();
        let mut remaining: Vec<usize> = sel.iter().copied().collect();
        let mut waves: Vec<Vec<usize>> = Vec::new();
        while !remaining.is_empty() {
            let mut this = Vec::new();
            for &i in &remaining {
                let deps: Vec<usize> = ws.nodes[i]
                    .manifest
                    .after
                    .iter()
                    .filter_map(|a| index.get(a.get_ref().as_str()).copied())
                    .filter(|d| sel.contains(d))
                    .collect();
                if deps.iter().all(|d| wave_of.contains_key(d)) {
                    this.push(i);
                }
            }
            if this.is_empty() {
                let names: Vec<&str> = remaining
                    .iter()
                    .map(|i| ws.nodes[*i].name.as_str())
                    .collect();
                return Err(Error::definition(
                    Diagnostic::new(
                        "container.toml",
                        format!("`after` lists form a cycle among: {}", names.join(", ")),
                    )
                    .help("start order must be acyclic; remove one `after` entry"),
                ));
            }
            for &i in &this {
                wave_of.insert(i, waves.len());
            }
            remaining.retain(|i| !this.contains(i));
            waves.push(this);
        }
        Ok(waves)
    }
}

fn pin_warning(path: &str, line: usize, image: &str) -> Option<Diagnostic> {
    if ImageRef::is_image_id(image) {
        return None;
    }
    let r = ImageRef::parse(image);
    let why = match r.pinning() {
        Pinning::Digest | Pinning::VersionTag => return None,
        Pinning::NoTag => "has no tag (it means `latest`, which moves)",
        Pinning::Latest => "uses the moving `latest` tag",
        Pinning::MovingTag => "uses a tag without a version, which moves",
    };
    Some(
        Diagnostic::new(path, format!("warning: base image `{image}` {why}"))
            .at_line(line)
            .help(format!(
                "pin it by digest (`{}@sha256:...`) or at least an explicit version tag, so builds are reproducible",
                r.repo
            )),
    )
}

fn cycle_error(
    ws: &Workspace,
    edges: &[Edge],
    parents: &[Vec<usize>],
    remaining: &[usize],
) -> Error {
    // Walk parent links from the first remaining node until a node repeats.
    let in_cycle: BTreeSet<usize> = remaining.iter().copied().collect();
    let mut path = vec![remaining[0]];
    let mut seen: HashMap<usize, usize> = HashMap::from([(remaining[0], 0)]);
    loop {
        let cur = *path.last().unwrap();
        let next = parents[cur]
            .iter()
            .copied()
            .find(|p| in_cycle.contains(p))
            .expect("a node left by Kahn's algorithm has a parent left too");
        if let Some(&at) = seen.get(&next) {
            let mut cycle: Vec<usize> = path[at..].to_vec();
            cycle.push(next);
            // `a -> b` reads "a builds on b".
            let names: Vec<&str> = cycle.iter().map(|i| ws.nodes[*i].name.as_str()).collect();
            let mut lines = Vec::new();
            for pair in cycle.windows(2) {
                let (child, parent) = (pair[0], pair[1]);
                let e = edges
                    .iter()
                    .find(|e| e.parent == parent && e.child == child)
                    .expect("edge of the cycle");
                lines.push(format!(
                    "  {}:{}: {} {} {}",
                    ws.nodes[child].dockerfile_path(),
                    e.line,
                    ws.nodes[child].name,
                    e.kind.label(),
                    ws.nodes[parent].name
                ));
            }
            let first_child = cycle[0];
            let first = edges
                .iter()
                .find(|e| e.child == first_child && e.parent == cycle[1])
                .unwrap();
            return Error::definition(
                Diagnostic::new(
                    ws.nodes[first_child].dockerfile_path(),
                    format!(
                        "dependency cycle: {}\n{}",
                        names.join(" -> "),
                        lines.join("\n")
                    ),
                )
                .at_line(first.line)
                .help("break the cycle: one of these images must not build on the other"),
            );
        }
        seen.insert(next, path.len());
        path.push(next);
    }
}
