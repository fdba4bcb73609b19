//! The engine: a loaded workspace with its graph and records, the daemon (connected on first
//! use), and a reporter. The verbs are methods in their own files (`build.rs`, `testrun.rs`,
//! `promote.rs`, `live.rs`, …) so that tests drive everything without the CLI.
//!
//! `dk up` is one straight pipeline over a `Selection` resolved once:
//! `build_step` → `test_step` → `promote_step` → `run_step`, each taking the previous step's
//! typed result.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::docker::{Daemon, ImageSet, Lookup};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::labels::{self, Role};
use crate::lock::{self, WorkspaceLock};
use crate::names;
use crate::records::Records;
use crate::report::{Reporter, ReporterExt};
use crate::workspace::{LoadOptions, Workspace};

pub struct Engine {
    pub ws: Arc<Workspace>,
    pub graph: Arc<Graph>,
    pub(crate) records: Records,
    pub(crate) reporter: Arc<dyn Reporter>,
    /// The reporter as given, before `Renamed`: what a reload renames again.
    given: Arc<dyn Reporter>,
    /// The read client, made without a round trip.
    lookup: std::sync::OnceLock<Lookup>,
    /// The negotiated daemon: every call that changes something goes through it.
    daemon: OnceCell<Daemon>,
}

/// How the build → test → promote → run steps run, resolved once from the command line.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Parallel jobs (at least 1).
    pub jobs: usize,
    /// Stop at the first failure (running jobs clean up and finish).
    pub fail_fast: bool,
    /// Rebuild the named nodes without the layer cache, even when fresh.
    pub rebuild: bool,
    /// Test the named nodes again even when a passing record exists.
    pub retest: bool,
    /// Start an (image, settings) pair again that failed its live start before.
    pub retry: bool,
    /// Leave a failing test container and its mount copies in place (`dk test --keep`).
    pub keep_failed: bool,
}

impl RunOptions {
    pub fn new(jobs: usize) -> RunOptions {
        RunOptions {
            jobs: jobs.max(1),
            fail_fast: false,
            rebuild: false,
            retest: false,
            retry: false,
            keep_failed: false,
        }
    }
}

/// What a command works on: the nodes named (or implied), and those with everything they
/// build on, in build order. Resolved once per command.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The nodes asked for, in build order.
    pub selected: Vec<usize>,
    /// `selected` plus what it builds on, in build order.
    pub order: Vec<usize>,
}

impl Selection {
    pub fn contains(&self, i: usize) -> bool {
        self.selected.contains(&i)
    }
}

impl Engine {
    /// Tell the reporter which nodes this run may touch, in build order, with their depth
    /// (the longest path to them from a root of the selection): the live view's tree.
    pub(crate) fn announce(&self, sel: &Selection) {
        let mut depth: HashMap<usize, usize> = HashMap::new();
        let mut nodes = Vec::with_capacity(sel.order.len());
        for &i in &sel.order {
            let d = self.graph.parents[i]
                .iter()
                .filter_map(|p| depth.get(p).map(|d| d + 1))
                .max()
                .unwrap_or(0);
            depth.insert(i, d);
            nodes.push(crate::report::NodeDepth {
                name: self.name(i).to_string(),
                depth: d,
            });
        }
        self.reporter.emit(crate::report::Event::Nodes { nodes });
    }

    pub fn load(root: &Path, opts: &LoadOptions, reporter: Arc<dyn Reporter>) -> Result<Engine> {
        let ws = Workspace::load(root, opts)?;
        let graph = Graph::build(&ws)?;
        let records = Records::new(&ws.state);
        let shown = ws
            .nodes
            .iter()
            .filter(|n| n.multi_platform())
            .map(|n| (n.name.clone(), n.shown()))
            .collect();
        let given = reporter;
        let reporter = crate::report::Renamed::wrap(given.clone(), shown);
        Ok(Engine {
            given,
            ws: Arc::new(ws),
            graph: Arc::new(graph),
            records,
            reporter,
            lookup: std::sync::OnceLock::new(),
            daemon: OnceCell::new(),
        })
    }

    /// The same workspace read again from disk (after dk changed one of its files), with
    /// the same reporter.
    pub fn reload(&self) -> Result<Engine> {
        let opts = LoadOptions {
            namespace: Some(self.ws.namespace.clone()),
        };
        Engine::load(&self.ws.root, &opts, self.given.clone())
    }

    /// The daemon connection, made on first use: only a daemon that passed the version
    /// check comes out of here.
    pub async fn daemon(&self) -> Result<&Daemon> {
        self.daemon
            .get_or_try_init(|| async { self.reads()?.clone().negotiate().await })
            .await
    }

    /// The read client: the negotiated daemon's once there is one, else one made without a
    /// round trip (a no-op run never waits for `/version`).
    pub fn reads(&self) -> Result<&Lookup> {
        if let Some(d) = self.daemon.get() {
            return Ok(&**d);
        }
        if let Some(l) = self.lookup.get() {
            return Ok(l);
        }
        let l = Lookup::connect()?;
        Ok(self.lookup.get_or_init(|| l))
    }

    /// A snapshot of where `tags` point, read without negotiating. A lookup that fails is
    /// retried through `daemon()`, whose version check says better what is wrong.
    pub async fn image_snapshot(&self, tags: &[String]) -> Result<ImageSet> {
        match self.reads()?.lookup_tags(tags).await {
            Ok(set) => Ok(set),
            Err(e) => {
                self.daemon().await?;
                Err(e)
            }
        }
    }

    /// Resolve names (exact, then unique prefix); no names means every node. A directory
    /// built for several platforms is selected with all of them (a release is all together).
    pub fn select(&self, wanted: &[String]) -> Result<Selection> {
        let selected = if wanted.is_empty() {
            self.graph.order.clone()
        } else {
            let mut s: Vec<usize> = names::resolve(wanted, &self.ws.names())?
                .into_iter()
                .flat_map(|i| self.ws.platform_group(i))
                .collect();
            s.sort_by_key(|i| self.graph.position(*i));
            s.dedup();
            s
        };
        Ok(self.selection(selected))
    }

    /// A selection of node indexes, with what they build on.
    pub fn selection(&self, selected: Vec<usize>) -> Selection {
        let order = self.graph.with_dependencies(&selected);
        Selection { selected, order }
    }

    /// One node per directory: `nodes` without other platforms' nodes (`web@arm64`), which
    /// share their directory's files and are never run on this host.
    pub fn directories(&self, nodes: &[usize]) -> Vec<usize> {
        nodes
            .iter()
            .copied()
            .filter(|&i| self.ws.nodes[i].variant_of.is_none())
            .collect()
    }

    pub fn name(&self, i: usize) -> &str {
        &self.ws.nodes[i].name
    }

    /// Take the workspace lock for a writing command, telling the user when it waits.
    /// A workspace made before dk.toml had an `id` is given its id here, on its first
    /// writing command.
    pub fn lock(&self, command: &str, wait: bool) -> Result<WorkspaceLock> {
        let reporter = self.reporter.clone();
        let lock = lock::acquire(&self.ws.state, command, wait, |who| {
            reporter.note(format!("waiting for the workspace lock held by {who}..."));
        })?;
        if let Some(note) = self.ws.record_id() {
            self.reporter.note(note);
        }
        Ok(lock)
    }

    /// Resolve `-j`: dk.toml's `build.jobs`, else the number of cores; 0 is a usage error.
    pub fn jobs(&self, asked: Option<usize>) -> Result<usize> {
        match asked {
            Some(0) => Err(Error::usage("-j/--jobs must be at least 1")),
            Some(n) => Ok(n),
            None => Ok(self.ws.jobs.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            })),
        }
    }
}

impl Engine {
    /// Make sure the network of `role` (live or test) exists with its configured subnet. An
    /// overlap with another network is reported before the daemon would refuse.
    pub async fn ensure_network(&self, role: Role) -> Result<()> {
        let net = match role {
            Role::Test => &self.ws.test_network,
            _ => &self.ws.live_network,
        };
        let all = self.reads()?.networks().await?;
        let Some(subnet) = net.subnet else {
            // No subnet named: whatever Docker chose for it is right.
            if all.iter().any(|n| n.name == net.name) {
                return Ok(());
            }
            return self
                .daemon()
                .await?
                .create_network(&net.name, None, labels::owned(&self.ws.id, role))
                .await;
        };
        let want = subnet.to_string();
        if let Some(existing) = all.iter().find(|n| n.name == net.name) {
            if !existing.subnets.contains(&want) {
                return Err(Error::Network {
                    name: net.name.clone(),
                    message: format!(
                        "network {} exists with subnet {}, but dk.toml says {want}",
                        net.name,
                        existing.subnets.join(", "),
                    ),
                    help: format!(
                        "remove it (`docker network rm {}`) once nothing uses it, or change the subnet in dk.toml",
                        net.name
                    ),
                });
            }
            return Ok(());
        }
        for other in &all {
            for s in &other.subnets {
                if let Ok(sub) = s.parse::<crate::net::Subnet>()
                    && sub.overlaps(&subnet)
                {
                    return Err(Error::Network {
                        name: net.name.clone(),
                        message: format!(
                            "the {} network's subnet {want} (dk.toml) overlaps network `{}` ({s})",
                            role.label(),
                            other.name,
                        ),
                        help: format!(
                            "choose another subnet for network.{} in dk.toml",
                            role.label()
                        ),
                    });
                }
            }
        }
        self.daemon()
            .await?
            .create_network(
                &net.name,
                Some((want.as_str(), subnet.gateway().to_string().as_str())),
                labels::owned(&self.ws.id, role),
            )
            .await
    }
}

impl Engine {
    /// `dk config`: the effective values a site would change, each with its origin; with
    /// names, only those nodes' values.
    pub fn config(&self, names: &[String]) -> Result<Vec<crate::settings::ConfigEntry>> {
        let selected: Vec<&str> = self
            .select(names)?
            .selected
            .iter()
            .map(|&i| self.name(i))
            .collect();
        Ok(crate::settings::config_entries(&self.ws)
            .into_iter()
            .filter(|e| {
                names.is_empty() || selected.iter().any(|n| e.key.starts_with(&format!("{n}.")))
            })
            .collect())
    }

    /// One node by name (exact, then a unique prefix).
    pub fn resolve_one(&self, name: &str) -> Result<usize> {
        names::resolve_one(name, &self.ws.names())
    }
}

/// `-H`: use `host` (an endpoint as given, or a name from the workspace's `[hosts]`) for
/// every daemon connection of this process.
pub fn use_host(workspace: Option<&Path>, host: &str) -> Result<()> {
    let endpoint = if host.contains("://") {
        crate::docker::Endpoint {
            url: host.to_string(),
            identity: None,
        }
    } else {
        let root = crate::workspace::find_root(workspace)?;
        crate::config::host_endpoint(&root, host)?
    };
    crate::docker::use_endpoint(endpoint);
    Ok(())
}
