//! `dk lint` as a verb: the selected nodes in graph order, the digests of local external
//! images (for the pinning hint; lint works without a daemon), the machine's shellcheck
//! when it has one, and every finding. `lint --fix` plans through `lintfix::plan`.

use std::collections::HashMap;
use std::time::Duration;

use crate::engine::Engine;
use crate::error::Result;
use crate::lint::{Finding, Linter};

/// What `dk lint` found.
#[derive(Debug)]
pub struct LintRun {
    pub findings: Vec<Finding>,
    /// How many nodes were linted.
    pub nodes: usize,
    /// Did the RUN lines go through shellcheck (is it installed)?
    pub shellcheck: bool,
}

impl LintRun {
    /// Findings not waived.
    pub fn open(&self) -> usize {
        self.findings.iter().filter(|f| f.waived.is_none()).count()
    }
}

impl Engine {
    pub async fn lint(&self, names: &[String]) -> Result<LintRun> {
        let selected = self.directories(&self.select(names)?.selected);
        let mut digests = HashMap::new();
        let externals: Vec<String> = self
            .graph
            .externals
            .iter()
            .filter(|x| selected.contains(&x.node))
            .map(|x| x.image.clone())
            .collect();
        if !externals.is_empty()
            && let Ok(reads) = self.reads()
        {
            for image in externals {
                let found =
                    tokio::time::timeout(Duration::from_secs(3), reads.inspect_image(&image)).await;
                if let Ok(Ok(Some(i))) = found
                    && let Some(d) = i.repo_digests.into_iter().next()
                {
                    digests.insert(image, d);
                }
            }
        }
        let mut linter = Linter::new(&self.ws, &self.graph, digests);
        let tmp = self
            .ws
            .state
            .tmp()
            .join(format!("shellcheck-{}", std::process::id()));
        let shellcheck = linter.check_shell(&selected, &tmp)?;
        let mut findings = Vec::new();
        for i in self
            .graph
            .order
            .iter()
            .copied()
            .filter(|i| selected.contains(i))
        {
            findings.extend(linter.lint(i));
        }
        Ok(LintRun {
            findings,
            nodes: selected.len(),
            shellcheck,
        })
    }

    /// What `dk lint --fix` would change in the selected nodes' Dockerfiles.
    pub fn lint_fixes(&self, names: &[String]) -> Result<crate::lintfix::FixPlan> {
        let selected = self.directories(&self.select(names)?.selected);
        Ok(crate::lintfix::plan(&self.ws, &selected))
    }
}
