//! JUnit XML for `dk test --junit FILE`, written whether checks pass or fail.

use std::fmt::Write;

use crate::testrun::{NodeTest, TestStatus};

fn esc(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

pub fn render(nodes: &[NodeTest]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let tests: usize = nodes.iter().map(|n| n.checks.len().max(1)).sum();
    let failures: usize = nodes
        .iter()
        .map(|n| match &n.status {
            TestStatus::Passed | TestStatus::PassedEarlier => 0,
            _ => n.checks.iter().filter(|c| !c.passed).count().max(1),
        })
        .sum();
    let _ = writeln!(
        out,
        "<testsuites name=\"dk test\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    for n in nodes {
        let failed: usize = n.checks.iter().filter(|c| !c.passed).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">",
            esc(&n.shown()),
            n.checks.len().max(1),
            failed,
            n.duration_ms as f64 / 1000.0
        );
        if n.checks.is_empty() {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"launch\"",
                esc(&n.shown())
            );
            match &n.status {
                TestStatus::Passed | TestStatus::PassedEarlier => out.push_str("/>\n"),
                other => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\"/>\n    </testcase>",
                        esc(&other.describe())
                    );
                }
            }
        }
        for c in &n.checks {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                esc(&n.shown()),
                esc(&c.name),
                c.duration_ms as f64 / 1000.0
            );
            if c.passed {
                out.push_str("/>\n");
            } else {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\"/>\n    </testcase>",
                    esc(c.detail.as_deref().unwrap_or("failed"))
                );
            }
        }
        if let Some(logs) = &n.logs {
            let _ = writeln!(out, "    <system-out>{}</system-out>", esc(logs));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
