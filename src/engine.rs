//! The engine: a loaded workspace with its graph and records, a (lazily connected) daemon,
//! and a reporter. Commands are methods in `build.rs`, `plan.rs`, `test.rs`, ... so that
//! tests can drive everything without the CLI.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::docker::Daemon;
use crate::docker::images::ImageSet;
use crate::error::Result;
use crate::graph::Graph;
use crate::lock::{self, WorkspaceLock};
use crate::names;
use crate::records::Records;
use crate::report::{Reporter, ReporterExt};
use crate::workspace::{LoadOptions, Workspace};

pub struct Engine {
    pub ws: Arc<Workspace>,
    pub graph: Arc<Graph>,
    pub records: Records,
    pub reporter: Arc<dyn Reporter>,
    /// The negotiated daemon: every call that changes something goes through it.
    daemon: OnceCell<Daemon>,
}

impl Engine {
    pub fn load(root: &Path, opts: &LoadOptions, reporter: Arc<dyn Reporter>) -> Result<Engine> {
        let ws = Workspace::load(root, opts)?;
        let graph = Graph::build(&ws)?;
        let records = Records::new(&ws.state_dir);
        Ok(Engine {
            ws: Arc::new(ws),
            graph: Arc::new(graph),
            records,
            reporter,
            daemon: OnceCell::new(),
        })
    }

    /// The daemon connection, made on first use: only a daemon that passed the version
    /// check comes out of here.
    pub async fn daemon(&self) -> Result<&Daemon> {
        self.daemon.get_or_try_init(Daemon::connect).await
    }

    /// A snapshot of where `tags` point. Before the first `daemon()` call the lookup goes
    /// out on a client whose API version is not negotiated yet (the negotiation's
    /// `/version` costs the daemon several times a lookup): reads are the same at every
    /// API version. The client is not handed out: whatever changes something goes through
    /// `daemon()`, which checks the version first.
    pub async fn image_snapshot(&self, tags: &[String]) -> Result<ImageSet> {
        let daemon = match self.daemon.get() {
            Some(d) => d.clone(),
            None => Daemon::unnegotiated()?,
        };
        match daemon.lookup_tags(tags).await {
            Ok(set) => Ok(set),
            // A daemon that fails the version check says so better than the lookup.
            Err(e) => {
                self.daemon().await?;
                Err(e)
            }
        }
    }

    /// Resolve names (exact, then unique prefix); no names means every node.
    pub fn select(&self, wanted: &[String]) -> Result<Vec<usize>> {
        if wanted.is_empty() {
            return Ok(self.graph.order.clone());
        }
        names::resolve(wanted, &self.ws.names())
    }

    pub fn name(&self, i: usize) -> &str {
        &self.ws.nodes[i].name
    }

    /// Take the workspace lock for a writing command, telling the user when it waits.
    pub fn lock(&self, command: &str, wait: bool) -> Result<WorkspaceLock> {
        let reporter = self.reporter.clone();
        lock::acquire(&self.ws.state_dir, command, wait, |who| {
            reporter.note(format!("waiting for the workspace lock held by {who}..."));
        })
    }

    /// Default parallelism: dk.toml's `build.jobs`, else the number of cores.
    pub fn default_jobs(&self) -> usize {
        self.ws.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
    }
}
