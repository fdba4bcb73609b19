//! The graph as an SVG picture, laid out by `layout.rs` (no external `dot`): one box per
//! node coloured by a CSS class, its state under its name, the reasons on hover, a legend;
//! light and dark (`prefers-color-scheme`); each box is a link (keyboard-reachable) when the
//! picture is part of a report. Pure.

use std::fmt::Write;

use crate::layout;

/// One box.
pub struct Drawn<'a> {
    pub name: &'a str,
    /// A class of `STYLE` (`fresh`, `stale`, `failed`, `built`, …).
    pub class: &'static str,
    pub words: String,
    pub why: Vec<String>,
    /// Where the box links to (`#n-web` in a report); `None` in `dk graph`.
    pub href: Option<String>,
}

/// The colours: state pictures (`dk graph`) and run pictures (reports) share them.
pub const STYLE: &str = r#"
.dkg text { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; fill: #1f2328; }
.dkg .words { font-size: 10.5px; fill: #57606a; }
.dkg .bg { fill: #ffffff; }
.dkg .edge { fill: none; stroke: #8c959f; stroke-width: 1.2; }
.dkg .edge.copy { stroke-dasharray: 4 3; }
.dkg .arrow { fill: #8c959f; }
.dkg .node rect, .dkg .key rect { stroke-width: 1.5; }
.dkg a:focus rect, .dkg a:hover rect { stroke-width: 3; }
.dkg a:focus { outline: none; }
.fresh rect { fill: #eef1f4; stroke: #8c959f; }
.untouched rect { fill: #eef1f4; stroke: #8c959f; }
.stale rect { fill: #fff1c2; stroke: #bf8700; }
.built rect { fill: #fff1c2; stroke: #bf8700; }
.tested rect { fill: #d8f6f6; stroke: #1b7c83; }
.live rect { fill: #ddf4ff; stroke: #0969da; }
.promoted rect { fill: #ddf4ff; stroke: #0969da; }
.running rect { fill: #dafbe1; stroke: #1a7f37; }
.replaced rect { fill: #dafbe1; stroke: #1a7f37; }
.failed rect { fill: #ffebe9; stroke: #cf222e; }
.rolledback rect { fill: #fbefff; stroke: #8250df; }
@media (prefers-color-scheme: dark) {
  .dkg text { fill: #e6edf3; }
  .dkg .words { fill: #9da7b3; }
  .dkg .bg { fill: #0d1117; }
  .dkg .edge { stroke: #6e7681; }
  .dkg .arrow { fill: #6e7681; }
  .fresh rect, .untouched rect { fill: #21262d; stroke: #6e7681; }
  .stale rect, .built rect { fill: #3b2e00; stroke: #d29922; }
  .tested rect { fill: #0b3a3d; stroke: #39c5cf; }
  .live rect, .promoted rect { fill: #0c2d6b; stroke: #58a6ff; }
  .running rect, .replaced rect { fill: #033a16; stroke: #3fb950; }
  .failed rect { fill: #5a0d12; stroke: #f85149; }
  .rolledback rect { fill: #3c1e70; stroke: #bc8cff; }
}
"#;

const CHAR_W: f64 = 7.3;
const LEGEND_H: f64 = 34.0;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The graph's edges as `graph` draws them: (parent, child, is `COPY --from`).
pub fn edges(g: &crate::graph::Graph) -> Vec<(usize, usize, bool)> {
    g.edges
        .iter()
        .map(|e| {
            (
                e.parent,
                e.child,
                e.kind == crate::graph::EdgeKind::CopyFrom,
            )
        })
        .collect()
}

fn box_width(d: &Drawn) -> f64 {
    let chars = d.name.chars().count().max(d.words.chars().count()) as f64;
    (chars * CHAR_W + 22.0).max(84.0)
}

/// The picture: `edges` are (parent, child, is `COPY --from`), `legend` the classes to
/// explain (class, meaning), `note` a line above the legend. `standalone` adds the XML
/// namespace and the style (an `.svg` file); a report inlines it under its own style.
pub fn graph(
    nodes: &[Drawn],
    edges: &[(usize, usize, bool)],
    legend: &[(&str, &str)],
    note: Option<&str>,
    standalone: bool,
) -> String {
    let widths: Vec<f64> = nodes.iter().map(box_width).collect();
    let plain: Vec<(usize, usize)> = edges.iter().map(|(p, c, _)| (*p, *c)).collect();
    let l = layout::layered(&widths, &plain);
    let top = LEGEND_H + if note.is_some() { 18.0 } else { 0.0 };
    let legend_w: f64 = legend
        .iter()
        .map(|(_, m)| m.chars().count() as f64 * CHAR_W + 40.0)
        .sum::<f64>()
        + 24.0;
    let width = l
        .width
        .max(legend_w)
        .max(note.map_or(0.0, |n| n.chars().count() as f64 * CHAR_W + 24.0));
    let height = l.height + top;
    let mut out = String::new();
    let ns = if standalone {
        r#" xmlns="http://www.w3.org/2000/svg""#
    } else {
        ""
    };
    let _ = write!(
        out,
        r#"<svg{ns} class="dkg" role="img" aria-label="dependency graph of {} nodes" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}">"#,
        nodes.len()
    );
    if standalone {
        let _ = write!(out, "<style>{STYLE}</style>");
    }
    out.push_str(r#"<defs><marker id="dkarrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path class="arrow" d="M0,0 L8,4 L0,8 z"/></marker></defs>"#);
    let _ = write!(
        out,
        r#"<rect class="bg" x="0" y="0" width="{width:.0}" height="{height:.0}"/>"#
    );
    let mut y = 12.0;
    if let Some(n) = note {
        let _ = write!(
            out,
            r#"<text class="note" x="12" y="{:.0}">{}</text>"#,
            y + 10.0,
            escape(n)
        );
        y += 18.0;
    }
    let mut x = 12.0;
    for (class, meaning) in legend {
        let _ = write!(
            out,
            r#"<g class="key {class}"><rect x="{x:.0}" y="{y:.0}" width="16" height="14" rx="3"/><text x="{:.0}" y="{:.0}">{}</text></g>"#,
            x + 22.0,
            y + 11.0,
            escape(meaning)
        );
        x += meaning.chars().count() as f64 * CHAR_W + 40.0;
    }
    let _ = write!(out, r#"<g transform="translate(0 {top:.0})">"#);
    for (p, c, copy) in edges {
        let (a, b) = (&l.boxes[*p], &l.boxes[*c]);
        let (x1, y1) = (a.x + a.w, a.y + a.h / 2.0);
        let (x2, y2) = (b.x - 1.0, b.y + b.h / 2.0);
        let mid = (x1 + x2) / 2.0;
        let class = if *copy { "edge copy" } else { "edge" };
        let _ = write!(
            out,
            r#"<path class="{class}" marker-end="url(#dkarrow)" d="M{x1:.1},{y1:.1} C{mid:.1},{y1:.1} {mid:.1},{y2:.1} {x2:.1},{y2:.1}"/>"#
        );
    }
    for (d, r) in nodes.iter().zip(&l.boxes) {
        let name = escape(d.name);
        let mut title = format!("{name}: {}", escape(&d.words));
        for w in &d.why {
            title.push_str("&#10;");
            title.push_str(&escape(w));
        }
        let (open, close) = match &d.href {
            Some(h) => (format!(r#"<a href="{}">"#, escape(h)), "</a>"),
            None => (String::new(), ""),
        };
        let _ = write!(
            out,
            r#"{open}<g class="node {}" data-node="{name}"><title>{title}</title><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="5"/><text x="{:.1}" y="{:.1}">{name}</text><text class="words" x="{:.1}" y="{:.1}">{}</text></g>{close}"#,
            d.class,
            r.x,
            r.y,
            r.w,
            r.h,
            r.x + 10.0,
            r.y + 16.0,
            r.x + 10.0,
            r.y + 31.0,
            escape(&d.words)
        );
    }
    out.push_str("</g></svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_every_node_is_drawn_once() {
        let nodes = [
            Drawn {
                name: "a<b",
                class: "fresh",
                words: "fresh".into(),
                why: vec!["x & y".into()],
                href: Some("#n-a".into()),
            },
            Drawn {
                name: "c",
                class: "stale",
                words: "stale".into(),
                why: vec![],
                href: None,
            },
        ];
        let s = graph(&nodes, &[(0, 1, true)], &[("fresh", "fresh")], None, true);
        assert!(s.contains("a&lt;b") && !s.contains("a<b"), "{s}");
        assert!(s.contains("x &amp; y"));
        assert_eq!(s.matches(r#"<g class="node "#).count(), 2);
        assert!(s.contains("edge copy"));
        assert!(s.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
    }
}
