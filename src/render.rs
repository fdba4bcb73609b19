//! Text renderings of the graph, the node list and the plan (pure functions, tested).

use std::fmt::Write;

use serde_json::json;

use crate::graph::Graph;
use crate::plan::{PlanAction, PlanEntry};
use crate::workspace::Workspace;

pub fn graph_text(ws: &Workspace, g: &Graph) -> String {
    let mut out = String::new();
    let mut printed = vec![false; ws.nodes.len()];
    let roots: Vec<usize> = g
        .order
        .iter()
        .copied()
        .filter(|i| g.parents[*i].is_empty())
        .collect();
    for r in roots {
        tree(ws, g, r, "", true, true, &mut printed, &mut out);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn tree(
    ws: &Workspace,
    g: &Graph,
    i: usize,
    prefix: &str,
    last: bool,
    root: bool,
    printed: &mut [bool],
    out: &mut String,
) {
    let name = &ws.nodes[i].name;
    let others: Vec<&str> = g.parents[i]
        .iter()
        .map(|p| ws.nodes[*p].name.as_str())
        .collect();
    let also = if others.len() > 1 {
        format!("  (builds on {})", others.join(", "))
    } else {
        String::new()
    };
    if root {
        let _ = writeln!(out, "{name}{also}");
    } else {
        let branch = if last { "└── " } else { "├── " };
        let seen = if printed[i] { "  (see above)" } else { "" };
        let _ = writeln!(out, "{prefix}{branch}{name}{also}{seen}");
    }
    if printed[i] {
        return;
    }
    printed[i] = true;
    let child_prefix = if root {
        String::new()
    } else {
        format!("{prefix}{}", if last { "    " } else { "│   " })
    };
    let kids = &g.children[i];
    for (k, c) in kids.iter().enumerate() {
        tree(
            ws,
            g,
            *c,
            &child_prefix,
            k + 1 == kids.len(),
            false,
            printed,
            out,
        );
    }
}

pub fn graph_dot(ws: &Workspace, g: &Graph) -> String {
    let mut out = String::from("digraph dk {\n  rankdir=LR;\n  node [shape=box];\n");
    for &i in &g.order {
        let _ = writeln!(out, "  \"{}\";", ws.nodes[i].name);
    }
    for e in &g.edges {
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{}\"];",
            ws.nodes[e.parent].name,
            ws.nodes[e.child].name,
            e.kind.label()
        );
    }
    out.push_str("}\n");
    out
}

pub fn graph_mermaid(ws: &Workspace, g: &Graph) -> String {
    let mut out = String::from("graph TD\n");
    let id = |i: usize| format!("n{i}");
    for &i in &g.order {
        let _ = writeln!(out, "  {}[\"{}\"]", id(i), ws.nodes[i].name);
    }
    for e in &g.edges {
        let arrow = match e.kind {
            crate::graph::EdgeKind::From => "-->",
            crate::graph::EdgeKind::CopyFrom => "-.->",
        };
        let _ = writeln!(out, "  {} {arrow} {}", id(e.parent), id(e.child));
    }
    out
}

pub fn graph_json(ws: &Workspace, g: &Graph) -> serde_json::Value {
    json!({
        "order": g.order.iter().map(|i| &ws.nodes[*i].name).collect::<Vec<_>>(),
        "edges": g.edges.iter().map(|e| json!({
            "parent": ws.nodes[e.parent].name,
            "child": ws.nodes[e.child].name,
            "kind": e.kind,
            "file": ws.nodes[e.child].dockerfile_path(),
            "line": e.line,
        })).collect::<Vec<_>>(),
        "externals": g.externals.iter().map(|x| json!({
            "node": ws.nodes[x.node].name,
            "image": x.image,
            "file": ws.nodes[x.node].dockerfile_path(),
            "line": x.line,
        })).collect::<Vec<_>>(),
    })
}

pub fn ls_json(ws: &Workspace, g: &Graph) -> serde_json::Value {
    json!(
        g.order
            .iter()
            .map(|&i| {
                let n = &ws.nodes[i];
                json!({
                    "name": n.name,
                    "path": n.rel_dir,
                    "dockerfile": n.dockerfile_path(),
                    "manifest": n.manifest_path,
                    "parents": g.parents[i].iter().map(|p| &ws.nodes[*p].name).collect::<Vec<_>>(),
                    "image": ws.repo(&n.name),
                    "live": ws.image(&n.name, "live"),
                    "platform": n.platform.as_ref().map(|p| p.to_string()),
                    "autostart": n.manifest.autostart,
                })
            })
            .collect::<Vec<_>>()
    )
}

pub fn ls_text(ws: &Workspace, g: &Graph) -> String {
    let rows: Vec<[String; 3]> = g
        .order
        .iter()
        .map(|&i| {
            let n = &ws.nodes[i];
            let parents: Vec<&str> = g.parents[i]
                .iter()
                .map(|p| ws.nodes[*p].name.as_str())
                .collect();
            [
                n.name.clone(),
                if parents.is_empty() {
                    "-".into()
                } else {
                    parents.join(",")
                },
                n.manifest_path
                    .clone()
                    .unwrap_or_else(|| format!("{} (no manifest)", n.dockerfile_path())),
            ]
        })
        .collect();
    table(&["NODE", "PARENTS", "DEFINITION"], &rows)
}

pub fn plan_text(plan: &[PlanEntry]) -> String {
    let mut out = String::new();
    let building = plan
        .iter()
        .filter(|p| p.action == PlanAction::Build)
        .count();
    let rows: Vec<[String; 3]> = plan
        .iter()
        .map(|p| {
            let action = match p.action {
                PlanAction::Fresh => "fresh",
                PlanAction::Retag => "retag",
                PlanAction::Take => "take",
                PlanAction::Build => "build",
            };
            let mut why = p.reasons.join("; ");
            if !p.staging.is_empty() {
                why = format!("{why} [staging: {}]", p.staging.join("; "));
            }
            [p.name.clone(), action.into(), why]
        })
        .collect();
    out.push_str(&table(&["NODE", "ACTION", "WHY"], &rows));
    let _ = writeln!(
        out,
        "{} of {} node(s) to build, in this order",
        building,
        plan.len()
    );
    out
}

/// Left-aligned columns; the last column is not padded.
pub fn table<const N: usize>(headers: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for (i, h) in headers.iter().enumerate() {
        widths[i] = h.chars().count();
    }
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == N {
                l.push_str(c);
            } else {
                let pad = widths[i] - c.chars().count();
                l.push_str(c);
                l.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}
