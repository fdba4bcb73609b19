//! What the pictures show: each node's state for `dk graph --format svg` (from the plan,
//! the daemon and the records, or from the records alone when no daemon answers), the
//! facts a run report adds (release history, Swarm tasks), and the kept reports under
//! `.dk/reports/` (the last `KEEP_REPORTS`).

use std::collections::HashMap;
use std::path::PathBuf;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::PlanAction;
use crate::promote::Release;
use crate::swarm::ServiceStatus;

/// How many run reports `.dk/reports/` keeps.
pub const KEEP_REPORTS: usize = 20;

/// A node's state in a picture, most urgent first: the first that applies is its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Its last test, or its last live start, failed (or its container keeps restarting).
    Failed,
    /// The last release move was a `dk rollback`.
    RolledBack,
    /// Its container (or service) runs.
    Running,
    /// It has a `:live` image, and nothing runs it.
    Live,
    /// `dk build` would build it (the reasons are its `why`).
    Stale,
    /// Built and unchanged.
    Fresh,
}

impl Look {
    pub const ALL: [Look; 6] = [
        Look::Fresh,
        Look::Stale,
        Look::Failed,
        Look::Live,
        Look::Running,
        Look::RolledBack,
    ];

    pub fn word(self) -> &'static str {
        match self {
            Look::Failed => "failed",
            Look::RolledBack => "rolled back",
            Look::Running => "running",
            Look::Live => "live",
            Look::Stale => "stale",
            Look::Fresh => "fresh",
        }
    }

    /// The CSS class of its colour.
    pub fn class(self) -> &'static str {
        match self {
            Look::Failed => "failed",
            Look::RolledBack => "rolledback",
            Look::Running => "running",
            Look::Live => "live",
            Look::Stale => "stale",
            Look::Fresh => "fresh",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NodeLook {
    pub look: Look,
    /// The words under its name (`running, stale`).
    pub words: String,
    /// Why: the plan's reasons, the failure (shown on hover).
    pub why: Vec<String>,
}

/// Every node's look, in workspace order.
#[derive(Debug, Clone)]
pub struct Looks {
    pub nodes: Vec<NodeLook>,
    /// Set when no daemon answered: the colours are what the records know.
    pub records_only: Option<String>,
}

/// What a run report shows beyond the run's own events.
#[derive(Debug, Clone, Default)]
pub struct ReportFacts {
    pub history: Vec<(String, Vec<Release>)>,
    pub services: Vec<(String, ServiceStatus)>,
}

impl Engine {
    /// Each node's look. Reads only; without a daemon, from the records.
    pub async fn looks(&self) -> Result<Looks> {
        let plan = self.plan(&[]).await?;
        let stale: HashMap<&str, &Vec<String>> = plan
            .iter()
            .filter(|p| p.action != PlanAction::Fresh)
            .map(|p| (p.name.as_str(), &p.reasons))
            .collect();
        let (rows, records_only) = match self.status(&[]).await {
            Ok(rows) => (Some(rows), None),
            Err(e) => (
                None,
                Some(format!(
                    "no daemon answered ({}): the colours are what the records know",
                    e.render().lines().next().unwrap_or("")
                )),
            ),
        };
        let rows: Option<HashMap<&str, &crate::live::StatusRow>> = rows
            .as_ref()
            .map(|r| r.iter().map(|r| (r.name.as_str(), r)).collect());
        let mut nodes = Vec::new();
        for i in 0..self.ws.nodes.len() {
            let name = self.name(i);
            let row = rows.as_ref().and_then(|r| r.get(name).copied());
            let mut why = Vec::new();
            let failed_start = self.records.failed_start(name);
            if let Some(f) = &failed_start {
                why.push(format!("last live start failed: {}", f.reason));
            }
            let test_failed = match row {
                Some(r) => r.tested == "failed",
                None => self.records.builds(name).last().is_some_and(|b| {
                    self.records
                        .tests_of_image(name, &b.image_id)
                        .last()
                        .is_some_and(|t| !t.passed)
                }),
            };
            if test_failed {
                why.push("its :latest failed its tests".to_string());
            }
            let restarting = row.is_some_and(|r| r.state == "restarting");
            if restarting {
                why.push("its container keeps restarting".to_string());
            }
            let promotions = self.records.promotions(name);
            let rolled_back = promotions.last().is_some_and(|p| p.action == "rollback");
            let running =
                row.is_some_and(|r| r.running || r.service.as_ref().is_some_and(|s| s.running > 0));
            let live = match row {
                Some(r) => r.live.is_some(),
                None => !promotions.is_empty(),
            };
            let stale_why = stale.get(name);
            let look = if failed_start.is_some() || test_failed || restarting {
                Look::Failed
            } else if rolled_back {
                Look::RolledBack
            } else if running {
                Look::Running
            } else if live {
                Look::Live
            } else if stale_why.is_some() {
                Look::Stale
            } else {
                Look::Fresh
            };
            let mut words = vec![look.word()];
            if look != Look::Running && running {
                words.push("running");
            }
            if let Some(reasons) = stale_why {
                if look != Look::Stale {
                    words.push("stale");
                }
                why.extend(reasons.iter().cloned());
            }
            nodes.push(NodeLook {
                look,
                words: words.join(", "),
                why,
            });
        }
        Ok(Looks {
            nodes,
            records_only,
        })
    }

    /// The release history and the Swarm tasks of `nodes` (what is known; a daemon that
    /// does not answer leaves them out).
    pub async fn report_facts(&self, nodes: &[usize]) -> ReportFacts {
        let mut facts = ReportFacts::default();
        for &i in nodes {
            if let Ok(h) = self.history(i).await
                && !h.is_empty()
            {
                facts.history.push((self.name(i).to_string(), h));
            }
        }
        let names: Vec<String> = nodes
            .iter()
            .filter(|i| self.on_swarm(**i))
            .map(|i| self.name(*i).to_string())
            .collect();
        if !names.is_empty()
            && let Ok(rows) = self.status(&names).await
        {
            for r in rows {
                if let Some(s) = r.service {
                    facts.services.push((r.name, s));
                }
            }
        }
        facts
    }

    fn reports_dir(&self) -> PathBuf {
        self.ws.state.root().join("reports")
    }

    /// Keep a run's report as `.dk/reports/<ms>-<verb>.html`; older ones beyond
    /// `KEEP_REPORTS` are removed. Returns its path.
    pub fn keep_report(&self, verb: &str, html: &str) -> Result<PathBuf> {
        let dir = self.reports_dir();
        let path = dir.join(format!(
            "{}-{verb}.html",
            crate::units::since_epoch().as_millis()
        ));
        crate::records::write_atomic(&path, html.as_bytes())?;
        let reports = self.reports()?;
        for old in reports
            .iter()
            .take(reports.len().saturating_sub(KEEP_REPORTS))
        {
            std::fs::remove_file(old).map_err(|e| Error::io("remove", old, e))?;
        }
        Ok(path)
    }

    /// The kept reports, oldest first.
    pub fn reports(&self) -> Result<Vec<PathBuf>> {
        let dir = self.reports_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read", &dir, e)),
        };
        let mut out: Vec<(u128, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let stamp = name
                    .strip_suffix(".html")?
                    .split('-')
                    .next()?
                    .parse()
                    .ok()?;
                Some((stamp, e.path()))
            })
            .collect();
        out.sort();
        Ok(out.into_iter().map(|(_, p)| p).collect())
    }
}
