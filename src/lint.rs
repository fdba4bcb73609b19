//! `dk lint`: static checks of Dockerfiles and manifests against the image best practices
//! of the seed documents, with the rule ids users know (Hadolint DLxxxx, Dockle CIS-DI) and
//! dk's own (DK-*). Findings are compiler style: `path:LINE: RULE message`, with a fix hint.
//!
//! Multi-stage Dockerfiles are judged by their final stage where that is what matters (the
//! user, caches, EXPOSE/VOLUME/STOPSIGNAL, CMD/ENTRYPOINT form); pinning, ADD and secrets are
//! judged in every stage.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::dockerfile::{Dockerfile, ImageRef, Instruction, Pinning};
use crate::graph::{EdgeKind, Graph, node_ref};
use crate::manifest::MountKind;
use crate::workspace::Workspace;

/// Hadolint's DL3006/DL3007 verdict on a FROM image as written (`aliases`: the stages
/// before it).
fn written_pinning(raw: &str, aliases: &[&str]) -> Option<&'static str> {
    if raw.contains('@') {
        return None;
    }
    let tag = raw
        .rsplit_once(':')
        .filter(|(_, t)| !t.contains('/'))
        .map(|(_, t)| t);
    match tag {
        Some("latest") => Some("DL3007"),
        Some(_) => None,
        None if raw == "scratch"
            || raw.starts_with('$')
            || aliases.iter().any(|a| a.eq_ignore_ascii_case(raw)) =>
        {
            None
        }
        None => Some("DL3006"),
    }
}

/// The Hadolint ids dk implements, each with Hadolint's semantics: `hadolint.rs`'s, and
/// DL3006/DL3007 on `FROM` images as written. What dk sees beyond them has dk's own ids
/// (DK-ROOT, DK-NOTAG, DK-LATEST), so a Hadolint ignore list means the same here.
pub fn hadolint_ids() -> Vec<&'static str> {
    let mut ids: Vec<&str> = crate::hadolint::RULES.to_vec();
    ids.extend(["DL3006", "DL3007"]);
    ids.sort();
    ids
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub node: String,
    pub path: String,
    pub line: usize,
    pub message: String,
    pub help: String,
    /// The waiver's reason, when `[[lint.waive]]` covers this finding.
    pub waived: Option<String>,
}

/// What the final image of a node inherits and sets: user, exposed ports, volumes, stop
/// signal. `user` is `None` when it comes from an external image dk cannot see.
#[derive(Debug, Clone, Default)]
struct Facts {
    user: Option<String>,
    user_line: Option<usize>,
    exposed: BTreeSet<u16>,
    volumes: BTreeSet<String>,
    stopsignal: Option<String>,
}

pub struct Linter<'a> {
    ws: &'a Workspace,
    graph: &'a Graph,
    /// External image reference -> a digest reference dk knows locally (`repo@sha256:…`).
    digests: HashMap<String, String>,
    facts: HashMap<usize, Facts>,
    /// ShellCheck's findings on RUN lines, by node (see `shellcheck.rs`).
    shell: HashMap<usize, Vec<crate::shellcheck::Comment>>,
}

impl<'a> Linter<'a> {
    pub fn new(ws: &'a Workspace, graph: &'a Graph, digests: HashMap<String, String>) -> Self {
        Linter {
            ws,
            graph,
            digests,
            facts: HashMap::new(),
            shell: HashMap::new(),
        }
    }

    /// Run ShellCheck on the RUN lines of `nodes` (scripts written under `tmp`). Returns
    /// false when `shellcheck` is not installed (the shell checks are then skipped).
    pub fn check_shell(
        &mut self,
        nodes: &[usize],
        tmp: &std::path::Path,
    ) -> crate::error::Result<bool> {
        if !crate::shellcheck::available() {
            return Ok(false);
        }
        let scripts: Vec<crate::shellcheck::Script> = nodes
            .iter()
            .flat_map(|&i| crate::shellcheck::scripts(i, &self.ws.nodes[i].dockerfile))
            .collect();
        let comments = crate::shellcheck::run(&scripts, tmp)
            .map_err(|e| crate::error::Error::io("run", "shellcheck", e))?;
        for c in comments {
            self.shell.entry(c.node).or_default().push(c);
        }
        Ok(true)
    }

    /// All findings of node `i`, waivers applied.
    /// How to pin `image` by content: its digest when dk knows it, else how to find it.
    fn pin_help(&self, image: &str) -> String {
        match self.digests.get(image) {
            Some(d) => format!("pin it by digest: `{d}`"),
            None => format!(
                "pin it by digest (`{}@sha256:…`; `docker image inspect --format '{{{{index .RepoDigests 0}}}}' {image}` shows it)",
                ImageRef::parse(image).repo
            ),
        }
    }

    pub fn lint(&mut self, i: usize) -> Vec<Finding> {
        let node = &self.ws.nodes[i];
        let df = &node.dockerfile;
        let path = node.dockerfile_path();
        let mut out = Vec::new();
        let mut add = |rule: &str, line: usize, message: String, help: String| {
            out.push(Finding {
                rule: rule.into(),
                node: node.name.clone(),
                path: path.clone(),
                line,
                message,
                help,
                waived: None,
            })
        };

        // DL3006/DL3007 judge a FROM as written, the way Hadolint does: a literal `latest`
        // tag (whatever variables the name holds), or no tag on a name that is not a
        // variable, `scratch` or an earlier stage.
        let mut written = BTreeSet::new();
        let node_lines: BTreeSet<usize> = self
            .graph
            .edges
            .iter()
            .filter(|e| e.child == i && e.kind == EdgeKind::From)
            .map(|e| e.line)
            .collect();
        for (k, st) in df.stages.iter().enumerate() {
            // A FROM of a node of the workspace is pinned by dk to the id it built.
            if node_lines.contains(&st.line) {
                continue;
            }
            let aliases: Vec<&str> = df.stages[..k]
                .iter()
                .filter_map(|p| p.alias.as_deref())
                .collect();
            if let Some(rule) = written_pinning(&st.image_raw, &aliases) {
                written.insert(st.line);
                let what = if rule == "DL3007" {
                    "uses the moving `latest` tag"
                } else {
                    "has no tag (it means `latest`, which moves)"
                };
                add(
                    rule,
                    st.line,
                    format!("base image `{}` {what}", st.image_raw),
                    self.pin_help(&st.image),
                );
            }
        }

        // Pinning of external images, in every stage.
        for x in self.graph.externals.iter().filter(|x| x.node == i) {
            if ImageRef::is_image_id(&x.image) {
                continue;
            }
            let r = ImageRef::parse(&x.image);
            let pin_help = self.pin_help(&x.image);
            let what = if x.kind == EdgeKind::From {
                "base image"
            } else {
                "COPY --from image"
            };
            // What the written FROM already shows is DL3006/DL3007 (above); what only the
            // expanded reference or a COPY --from image shows is dk's own finding.
            let said = x.kind == EdgeKind::From && written.contains(&x.line);
            match r.pinning() {
                Pinning::NoTag | Pinning::Latest if said => {}
                Pinning::NoTag => add(
                    "DK-NOTAG",
                    x.line,
                    format!(
                        "{what} `{}` has no tag (it means `latest`, which moves)",
                        x.image
                    ),
                    pin_help,
                ),
                Pinning::Latest => add(
                    "DK-LATEST",
                    x.line,
                    format!("{what} `{}` uses the moving `latest` tag", x.image),
                    pin_help,
                ),
                Pinning::MovingTag => add(
                    "DK-PIN",
                    x.line,
                    format!(
                        "{what} `{}` uses a tag without a version, which moves",
                        x.image
                    ),
                    pin_help,
                ),
                Pinning::VersionTag => add(
                    "DK-DIGEST",
                    x.line,
                    format!("{what} `{}` is pinned by a tag, not by content", x.image),
                    pin_help,
                ),
                Pinning::Digest => {}
            }
        }

        // The Hadolint rules, with Hadolint's semantics, and ShellCheck's on RUN lines.
        for h in crate::hadolint::check(df) {
            add(h.rule, h.line, h.message.to_string(), h.help.to_string());
        }
        // Hadolint reports a ShellCheck message once per line.
        let mut seen = BTreeSet::new();
        for c in self
            .shell
            .get(&i)
            .into_iter()
            .flatten()
            .filter(|c| seen.insert((c.line, c.code.clone(), c.message.clone())))
        {
            add(
                &c.code,
                c.line,
                c.message.clone(),
                format!("https://www.shellcheck.net/wiki/{}", c.code),
            );
        }
        let final_stage = df
            .final_stage(node.manifest.build.target.as_deref())
            .map(|s| s.index)
            .unwrap_or(0);

        // The final image's user, ports, volumes and stop signal.
        let facts = self.node_facts(i);
        let final_from = df
            .stages
            .iter()
            .find(|s| s.index == final_stage)
            .map(|s| s.line)
            .unwrap_or(1);
        // DK-ROOT: the image runs as root though no USER line of this file says so (no USER,
        // `FROM scratch`, or a parent node's user). A root USER line of this file is
        // Hadolint's DL3002, reported above.
        let own_user_line = facts.user_line.is_some_and(|l| {
            df.instructions
                .iter()
                .any(|ins| ins.line == l && ins.keyword == "USER")
        });
        if let Some(user) = &facts.user
            && crate::launch::is_root_user(user)
            && !own_user_line
        {
            let msg = if user.is_empty() {
                "no USER in the final image: the container runs as root".to_string()
            } else {
                format!("the image runs as `{user}`, inherited from what it builds on")
            };
            add(
                "DK-ROOT",
                final_from,
                msg,
                "add `USER <non-root user>` after the steps that need root".to_string(),
            );
        }
        // run.allow_root waives a root user of the final image, whichever rule saw it.
        if let Some(reason) = node.manifest.run.allow_root.as_ref() {
            for f in out.iter_mut().filter(|f| {
                f.rule == "DK-ROOT"
                    || (f.rule == "DL3002"
                        && df
                            .instructions
                            .iter()
                            .any(|ins| ins.line == f.line && ins.stage == Some(final_stage)))
            }) {
                f.help = format!("allowed by run.allow_root: {}", reason.get_ref());
                f.waived = Some(format!("run.allow_root: {}", reason.get_ref()));
            }
        }
        out.extend(self.manifest_findings(i, &facts));

        // `# hadolint ignore=…` on the line before, and `# hadolint global ignore=…`.
        let pragmas = Pragmas::read(&df.text);
        for f in out.iter_mut().filter(|f| f.path == path) {
            if f.waived.is_none()
                && let Some(why) = pragmas.ignores(&f.rule, f.line)
            {
                f.waived = Some(why);
            }
        }
        // Waivers.
        for f in &mut out {
            if f.waived.is_some() {
                continue;
            }
            if let Some(w) = node
                .manifest
                .lint
                .waive
                .iter()
                .map(|w| w.get_ref())
                .find(|w| w.rule.eq_ignore_ascii_case(&f.rule))
            {
                f.waived = w.reason.clone();
            }
        }
        out.sort_by(|a, b| {
            (a.path.as_str(), a.line, a.rule.as_str()).cmp(&(
                b.path.as_str(),
                b.line,
                b.rule.as_str(),
            ))
        });
        out
    }

    /// Ports, mounts and the stop signal the manifest declares, against the image.
    fn manifest_findings(&self, i: usize, facts: &Facts) -> Vec<Finding> {
        let node = &self.ws.nodes[i];
        let Some(mpath) = node.manifest_path.clone() else {
            return Vec::new();
        };
        let text = std::fs::read_to_string(self.ws.root.join(&mpath)).unwrap_or_default();
        let line_of = |offset: usize| crate::error::line_col(&text, offset).0;
        let mut out = Vec::new();
        let mut add = |rule: &str, line: usize, message: String, help: String| {
            out.push(Finding {
                rule: rule.into(),
                node: node.name.clone(),
                path: mpath.clone(),
                line,
                message,
                help,
                waived: None,
            })
        };
        let mut declared: Vec<(u16, usize)> = Vec::new();
        for p in &node.manifest.run.ports {
            declared.push((p.get_ref().get().container_port, line_of(p.span().start)));
        }
        for c in &node.checks {
            let check = &c.check;
            let port = c.probe.port();
            if let Some(p) = port
                && !check.negative()
            {
                declared.push((p, line_of(c.span.start)));
            }
        }
        if let Some(p) = node.manifest.test.ready_port {
            declared.push((p, key_line(&text, "ready_port")));
        }
        let mut seen = BTreeSet::new();
        for (port, line) in declared {
            if !facts.exposed.contains(&port) && seen.insert(port) {
                add(
                    "DK-EXPOSE",
                    line,
                    format!("port {port} is used here but the image does not EXPOSE it"),
                    format!("add `EXPOSE {port}` to {}", node.dockerfile_path()),
                );
            }
        }
        for m in &node.manifest.mounts {
            let mr = m.get_ref();
            if mr.kind == MountKind::TestOnly {
                continue;
            }
            if !facts.volumes.contains(mr.target.trim_end_matches('/')) {
                add(
                    "DK-VOLUME",
                    line_of(m.span().start),
                    format!(
                        "{} is mounted but the image does not declare it as a VOLUME",
                        mr.target
                    ),
                    format!(
                        "add `VOLUME [\"{}\"]` to {}",
                        mr.target,
                        node.dockerfile_path()
                    ),
                );
            }
        }
        if let Some(sig) = &node.manifest.run.stop_signal {
            let norm = |s: &str| {
                let s = s.trim().to_ascii_uppercase();
                match s.as_str() {
                    "15" | "TERM" | "SIGTERM" => "SIGTERM".to_string(),
                    other if !other.starts_with("SIG") && other.parse::<u32>().is_err() => {
                        format!("SIG{other}")
                    }
                    other => other.to_string(),
                }
            };
            let want = norm(sig);
            let have = facts
                .stopsignal
                .as_deref()
                .map(norm)
                .unwrap_or_else(|| "SIGTERM".into());
            if want != "SIGTERM" && have != want {
                add(
                    "DK-STOPSIGNAL",
                    key_line(&text, "stop_signal"),
                    format!("the process needs {want} to stop, but the image says {have}"),
                    format!("add `STOPSIGNAL {want}` to {}", node.dockerfile_path()),
                );
            }
        }
        out
    }

    /// The final image's facts of node `i`, following node parents.
    fn node_facts(&mut self, i: usize) -> Facts {
        if let Some(f) = self.facts.get(&i) {
            return f.clone();
        }
        let node = &self.ws.nodes[i];
        let df = &node.dockerfile;
        let target = df
            .final_stage(node.manifest.build.target.as_deref())
            .map(|s| s.index)
            .unwrap_or(0);
        let f = self.stage_facts(df, target, 0);
        self.facts.insert(i, f.clone());
        f
    }

    fn stage_facts(&mut self, df: &Dockerfile, stage: usize, depth: usize) -> Facts {
        let s = &df.stages[stage];
        let mut f = if depth > 32 {
            Facts::default()
        } else if s.image == "scratch" {
            Facts {
                user: Some(String::new()),
                ..Default::default()
            }
        } else if let Some(prev) = df.stages[..stage].iter().find(|p| {
            p.alias.as_deref() == Some(s.image.to_ascii_lowercase().as_str())
                || p.index.to_string() == s.image
        }) {
            let idx = prev.index;
            self.stage_facts(df, idx, depth + 1)
        } else if let Some(p) =
            node_ref(self.ws, &s.image).filter(|&p| !std::ptr::eq(&self.ws.nodes[p].dockerfile, df))
        {
            let mut pf = self.node_facts(p);
            pf.user_line = None;
            pf
        } else {
            // An external image: its user is unknown here.
            Facts::default()
        };
        for ins in df.stage_instructions(stage) {
            apply(&mut f, ins);
        }
        f
    }
}

fn apply(f: &mut Facts, ins: &Instruction) {
    match ins.keyword.as_str() {
        "USER" => {
            f.user = Some(ins.args.trim().to_string());
            f.user_line = Some(ins.line);
        }
        "EXPOSE" => {
            for p in ins.args.split_whitespace() {
                if let Some(n) = p.split('/').next().and_then(|n| n.parse().ok()) {
                    f.exposed.insert(n);
                }
            }
        }
        "VOLUME" => {
            let a = ins.args.trim();
            let list: Vec<String> = if a.starts_with('[') {
                serde_json::from_str(a).unwrap_or_default()
            } else {
                a.split_whitespace().map(String::from).collect()
            };
            for v in list {
                f.volumes.insert(v.trim_end_matches('/').to_string());
            }
        }
        "STOPSIGNAL" => f.stopsignal = Some(ins.args.trim().to_string()),
        _ => {}
    }
}

fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(key) && l.contains('='))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// The ignore comments Hadolint honours: `# hadolint ignore=DL3008,DL3015` for the
/// instruction on the next line, `# hadolint global ignore=…` for the whole file.
struct Pragmas {
    lines: HashMap<usize, Vec<String>>,
    global: Vec<(usize, String)>,
}

impl Pragmas {
    fn read(text: &str) -> Pragmas {
        let mut p = Pragmas {
            lines: HashMap::new(),
            global: Vec::new(),
        };
        for (i, line) in text.lines().enumerate() {
            let Some(c) = line.trim_start().strip_prefix('#') else {
                continue;
            };
            let mut words = c.split_whitespace();
            if words.next() != Some("hadolint") {
                continue;
            }
            let (global, rest) = match words.next() {
                Some("global") => (true, words.next()),
                other => (false, other),
            };
            let Some(list) = rest.and_then(|r| r.strip_prefix("ignore=")) else {
                continue;
            };
            for rule in list.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                if global {
                    p.global.push((i + 1, rule.to_string()));
                } else {
                    p.lines.entry(i + 2).or_default().push(rule.to_string());
                }
            }
        }
        p
    }

    /// Why `rule` at `line` is ignored, if it is.
    fn ignores(&self, rule: &str, line: usize) -> Option<String> {
        if self
            .lines
            .get(&line)
            .is_some_and(|r| r.iter().any(|x| x == rule))
        {
            return Some(format!("`# hadolint ignore={rule}` on line {}", line - 1));
        }
        self.global
            .iter()
            .find(|(_, r)| r == rule)
            .map(|(l, _)| format!("`# hadolint global ignore={rule}` on line {l}"))
    }
}

pub fn render_text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings.iter().filter(|f| f.waived.is_none()) {
        out.push_str(&format!(
            "{}:{}: {} {}\n  help: {}\n",
            f.path, f.line, f.rule, f.message, f.help
        ));
    }
    let waived: Vec<&Finding> = findings.iter().filter(|f| f.waived.is_some()).collect();
    if !waived.is_empty() {
        out.push_str("waived:\n");
        for f in waived {
            out.push_str(&format!(
                "  {}:{}: {} {} (reason: {})\n",
                f.path,
                f.line,
                f.rule,
                f.message,
                f.waived.as_deref().unwrap_or("")
            ));
        }
    }
    out
}

/// SARIF 2.1.0 for code-scanning tools; waived findings carry an in-source suppression.
pub fn render_sarif(findings: &[Finding]) -> serde_json::Value {
    let rules: BTreeSet<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "dk",
                "informationUri": "https://github.com/",
                "rules": rules.iter().map(|r| serde_json::json!({"id": r})).collect::<Vec<_>>(),
            }},
            "results": findings.iter().map(|f| {
                let mut r = serde_json::json!({
                    "ruleId": f.rule,
                    "level": "warning",
                    "message": {"text": format!("{} ({})", f.message, f.help)},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": f.path},
                        "region": {"startLine": f.line},
                    }}],
                });
                if let Some(reason) = &f.waived {
                    r["suppressions"] = serde_json::json!([{"kind": "inSource", "justification": reason}]);
                }
                r
            }).collect::<Vec<_>>(),
        }],
    })
}
