//! `dk lint --fix`: the mechanical fixes. A shell-form CMD/ENTRYPOINT of plain words becomes
//! the exec form (DL3025), ADD of local files becomes COPY (DL3020), `apk add` gets
//! `--no-cache` (DL3019). Either every fix of the run applies cleanly and the files are
//! written, or nothing is written and each fix that cannot be made says why.

use std::ops::Range;
use std::path::PathBuf;

use crate::dockerfile::{Dockerfile, Instruction};
use crate::error::{Error, Result};
use crate::lock::WorkspaceLock;
use crate::workspace::Workspace;

/// The fixes of one Dockerfile, as its new text.
#[derive(Debug, Clone)]
pub struct FileFix {
    /// Workspace-relative, for messages.
    pub path: String,
    pub file: PathBuf,
    pub old: String,
    pub new: String,
    /// (line, rule) of each fix made.
    pub made: Vec<(usize, &'static str)>,
}

/// What `dk lint --fix` would do for the selected nodes: the files it would write, and the
/// findings it cannot fix (any of which means nothing is written).
#[derive(Debug, Default)]
pub struct FixPlan {
    pub files: Vec<FileFix>,
    /// `path:line: RULE cannot be fixed mechanically: why`
    pub refused: Vec<String>,
}

/// Plan the fixes of the selected nodes' Dockerfiles.
pub fn plan(ws: &Workspace, selected: &[usize]) -> FixPlan {
    let mut plan = FixPlan::default();
    for &i in selected {
        let node = &ws.nodes[i];
        let fixes = fixes(&node.dockerfile);
        let path = node.dockerfile_path();
        for r in &fixes.refused {
            plan.refused.push(format!(
                "{path}:{}: {} cannot be fixed mechanically: {}",
                r.line, r.rule, r.why
            ));
        }
        if !fixes.edits.is_empty() {
            plan.files.push(FileFix {
                new: fixes.apply(&node.dockerfile.text),
                made: fixes.edits.iter().map(|e| (e.line, e.rule)).collect(),
                path,
                file: node.dir.join("Dockerfile"),
                old: node.dockerfile.text.clone(),
            });
        }
    }
    plan
}

impl FixPlan {
    /// How many fixes the plan makes.
    pub fn count(&self) -> usize {
        self.files.iter().map(|f| f.made.len()).sum()
    }

    /// Write every file, or none: each new text is written and synced beside its file
    /// first; only when all are there do they replace the originals (a rename each). A
    /// failure before that removes what was written; a failed rename puts back the files
    /// already replaced.
    pub fn write(&self, _lock: &WorkspaceLock) -> Result<()> {
        use std::io::Write as _;
        let tmp_of = |f: &PathBuf| {
            f.with_file_name(format!(
                ".{}.dk-fix.{}",
                f.file_name().unwrap_or_default().to_string_lossy(),
                std::process::id()
            ))
        };
        let mut written: Vec<PathBuf> = Vec::new();
        for f in &self.files {
            let tmp = tmp_of(&f.file);
            let r = std::fs::File::create(&tmp).and_then(|mut h| {
                h.write_all(f.new.as_bytes())?;
                h.sync_all()
            });
            if let Err(e) = r {
                let _ = std::fs::remove_file(&tmp);
                for t in &written {
                    let _ = std::fs::remove_file(t);
                }
                return Err(Error::io("write", &tmp, e));
            }
            written.push(tmp);
        }
        for (n, (f, tmp)) in self.files.iter().zip(&written).enumerate() {
            if let Err(e) = std::fs::rename(tmp, &f.file) {
                for done in &self.files[..n] {
                    let _ = std::fs::write(&done.file, done.old.as_bytes());
                }
                for t in &written[n..] {
                    let _ = std::fs::remove_file(t);
                }
                return Err(Error::io("replace", &f.file, e));
            }
        }
        Ok(())
    }
}

/// One edit of a file: replace `range` with `with`.
#[derive(Debug, Clone)]
pub struct Edit {
    pub rule: &'static str,
    pub line: usize,
    range: Range<usize>,
    with: String,
}

/// A fix that cannot be made mechanically, and why.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub rule: &'static str,
    pub line: usize,
    pub why: String,
}

/// The fixes of one Dockerfile.
#[derive(Debug, Default)]
pub struct Fixes {
    pub edits: Vec<Edit>,
    pub refused: Vec<Refusal>,
}

impl Fixes {
    /// The text with every edit applied.
    pub fn apply(&self, text: &str) -> String {
        let mut edits: Vec<&Edit> = self.edits.iter().collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        let mut out = text.to_string();
        for e in edits {
            out.replace_range(e.range.clone(), &e.with);
        }
        out
    }
}

/// Byte offset where 1-based `line` starts.
fn line_start(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map(|(i, _)| i + 1)
        .unwrap_or(text.len())
}

/// The instruction's keyword: its byte range in the file.
fn keyword_range(text: &str, ins: &Instruction) -> Range<usize> {
    let start = line_start(text, ins.line);
    let lead = text[start..].len() - text[start..].trim_start().len();
    let k = start + lead;
    k..k + ins.keyword.len()
}

/// Words that need no shell: a command line the exec form says exactly.
fn plain_words(args: &str) -> Option<Vec<String>> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    let words: Vec<String> = args.split_whitespace().map(String::from).collect();
    (!words.is_empty() && words.iter().all(|w| w.chars().all(ok))).then_some(words)
}

/// What `--fix` would do to `df` (whose text is `df.text`).
pub fn fixes(df: &Dockerfile) -> Fixes {
    let text = &df.text;
    let mut f = Fixes::default();
    for ins in &df.instructions {
        match ins.keyword.as_str() {
            "CMD" | "ENTRYPOINT" if !ins.is_exec_form() => {
                let args_range = ins.file_span();
                match plain_words(&ins.args) {
                    Some(words) => f.edits.push(Edit {
                        rule: "DL3025",
                        line: ins.line,
                        range: args_range,
                        with: serde_json::to_string(&words).expect("json").replace(",", ", "),
                    }),
                    None => f.refused.push(Refusal {
                        rule: "DL3025",
                        line: ins.line,
                        why: format!(
                            "`{}` uses the shell (quotes, variables or operators): write the exec form by hand, e.g. {} [\"sh\", \"-c\", \"…\"] or, better, a script",
                            ins.args.trim(),
                            ins.keyword
                        ),
                    }),
                }
            }
            "ADD" => {
                let (flags, rest) = ins.flags();
                let sources = crate::hadolint::sources_of(rest);
                let local = sources
                    .iter()
                    .filter(|s| !crate::hadolint::is_url(s) && !crate::hadolint::is_archive(s))
                    .count();
                if local == 0 || local < sources.len() {
                    if local > 0 {
                        f.refused.push(Refusal {
                            rule: "DL3020",
                            line: ins.line,
                            why: "it also adds an archive or a URL, which COPY would not unpack or fetch: split it".into(),
                        });
                    }
                    continue;
                }
                if let Some((flag, _)) = flags
                    .iter()
                    .find(|(k, _)| k == "checksum" || k == "keep-git-dir" || k == "unpack")
                {
                    f.refused.push(Refusal {
                        rule: "DL3020",
                        line: ins.line,
                        why: format!("`--{flag}` is ADD's only"),
                    });
                    continue;
                }
                f.edits.push(Edit {
                    rule: "DL3020",
                    line: ins.line,
                    range: keyword_range(text, ins),
                    with: if text[keyword_range(text, ins)]
                        .chars()
                        .all(|c| c.is_ascii_lowercase())
                    {
                        "copy".into()
                    } else {
                        "COPY".into()
                    },
                });
            }
            "RUN" => {
                for at in apk_adds_without_no_cache(ins) {
                    f.edits.push(Edit {
                        rule: "DL3019",
                        line: ins.line,
                        range: at..at,
                        with: " --no-cache".into(),
                    });
                }
            }
            _ => {}
        }
    }
    f
}

/// File offsets right after each `add` of an `apk … add` command that has no `--no-cache`.
fn apk_adds_without_no_cache(ins: &Instruction) -> Vec<usize> {
    let a = &ins.args;
    let mut out = Vec::new();
    let bytes = a.as_bytes();
    let mut search = 0;
    while let Some(found) = a[search..].find("apk") {
        let at = search + found;
        search = at + 3;
        let before_ok =
            at == 0 || matches!(bytes[at - 1], b' ' | b'\t' | b';' | b'&' | b'|' | b'(');
        let after_ok = bytes.get(at + 3).is_none_or(|b| b.is_ascii_whitespace());
        if !before_ok || !after_ok {
            continue;
        }
        // This command: up to the next operator.
        let end = a[at..]
            .find([';', '&', '|', ')', '\n'])
            .map(|e| at + e)
            .unwrap_or(a.len());
        let cmd = &a[at..end];
        let words: Vec<&str> = cmd.split_whitespace().collect();
        if !words.contains(&"add") || words.contains(&"--no-cache") {
            continue;
        }
        // The `add` word's end, in `args`.
        let mut pos = at;
        for w in &words {
            let wat = pos + a[pos..].find(w).unwrap_or(0);
            pos = wat + w.len();
            if *w == "add" {
                out.push(ins.file_span_of(pos..pos).start);
                break;
            }
        }
    }
    out
}

/// A unified diff of `old` → `new` for `path` (line-based, 3 lines of context).
pub fn diff(path: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Longest common subsequence table (Dockerfiles are small).
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // The edit script: (tag, old index, new index).
    let mut ops: Vec<(char, usize, usize)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', i, j));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i, j));
            i += 1;
        } else {
            ops.push(('+', i, j));
            j += 1;
        }
    }
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut k = 0;
    while k < changed.len() {
        let first = changed[k];
        let mut last = first;
        while k + 1 < changed.len() && changed[k + 1] <= last + 7 {
            k += 1;
            last = changed[k];
        }
        k += 1;
        let from = first.saturating_sub(3);
        let to = (last + 4).min(ops.len());
        let hunk = &ops[from..to];
        let old_start = hunk.first().map(|o| o.1).unwrap_or(0);
        let new_start = hunk.first().map(|o| o.2).unwrap_or(0);
        let old_len = hunk.iter().filter(|o| o.0 != '+').count();
        let new_len = hunk.iter().filter(|o| o.0 != '-').count();
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            old_start + 1,
            new_start + 1
        ));
        for (tag, oi, nj) in hunk {
            let line = if *tag == '+' { b[*nj] } else { a[*oi] };
            out.push_str(&format!("{tag}{line}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_writes_every_file_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::state::StateDir::new(dir.path().join(".dk"));
        let lock = crate::lock::acquire(&state, "test", false, |_| {}).unwrap();
        let a = dir.path().join("a/Dockerfile");
        std::fs::create_dir_all(a.parent().unwrap()).unwrap();
        std::fs::write(&a, "FROM x\nADD f /f\n").unwrap();
        let fix = |file: PathBuf| FileFix {
            path: file.display().to_string(),
            file,
            old: "FROM x\nADD f /f\n".into(),
            new: "FROM x\nCOPY f /f\n".into(),
            made: vec![(2, "DL3020")],
        };
        // The second file cannot be written (its directory is not there): neither is.
        let plan = FixPlan {
            files: vec![fix(a.clone()), fix(dir.path().join("gone/Dockerfile"))],
            refused: Vec::new(),
        };
        assert!(plan.write(&lock).is_err());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "FROM x\nADD f /f\n");
        let left: Vec<_> = std::fs::read_dir(a.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
        // Both writable: both are written.
        let plan = FixPlan {
            files: vec![fix(a.clone())],
            refused: Vec::new(),
        };
        plan.write(&lock).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "FROM x\nCOPY f /f\n");
    }

    fn fixed(text: &str) -> (String, Vec<String>) {
        let df = Dockerfile::parse(text, &Default::default()).unwrap();
        let f = fixes(&df);
        (
            f.apply(text),
            f.refused
                .iter()
                .map(|r| format!("{}:{}", r.rule, r.line))
                .collect(),
        )
    }

    #[test]
    fn mechanical_fixes() {
        let (out, refused) = fixed(
            "FROM a:1\nADD app.conf /etc/\nRUN apk add curl && apk --quiet add \\\n    git\nCMD app --serve\n",
        );
        assert!(refused.is_empty());
        assert_eq!(
            out,
            "FROM a:1\nCOPY app.conf /etc/\nRUN apk add --no-cache curl && apk --quiet add --no-cache \\\n    git\nCMD [\"app\", \"--serve\"]\n"
        );
        let (_, refused) = fixed("FROM a:1\nCMD echo $HOME\nADD --checksum=sha256:00 x /y\n");
        assert_eq!(refused, ["DL3025:2", "DL3020:3"]);
    }

    #[test]
    fn unified_diff() {
        let d = diff("Dockerfile", "a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(
            d,
            "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
    }
}
