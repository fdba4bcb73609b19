//! A Dockerfile parser that knows just enough: logical instructions with their lines
//! (continuations, comments, the `escape` directive), build stages (`FROM` with `--platform`,
//! `AS` aliases and `ARG` expansion) and `COPY --from=` references, each with the byte span
//! of the image reference so that dk can send a copy with parents pinned to image ids.

use std::collections::BTreeMap;
use std::ops::Range;

#[derive(Debug, Clone)]
pub struct Instruction {
    /// Upper-cased keyword: `FROM`, `RUN`, ...
    pub keyword: String,
    /// 1-based line where the instruction starts.
    pub line: usize,
    /// The arguments as one logical line (continuations joined, comment lines removed).
    pub args: String,
    /// Byte offsets in the file of each character of `args`.
    offsets: Vec<usize>,
    /// Index of the stage the instruction belongs to (`None` before the first FROM).
    pub stage: Option<usize>,
}

impl Instruction {
    /// Byte span in the file of `args[range]`.
    fn span(&self, range: Range<usize>) -> Range<usize> {
        if range.is_empty() {
            // An empty token: the position right after the byte before it.
            let at = match range.start.checked_sub(1) {
                Some(prev) => self.offsets[prev] + 1,
                None => self.offsets.first().copied().unwrap_or(0),
            };
            return at..at;
        }
        let start = self.offsets[range.start];
        let end = self.offsets[range.end - 1] + 1;
        start..end
    }

    /// For CMD, ENTRYPOINT, RUN, SHELL and HEALTHCHECK: the JSON (exec) form.
    pub fn is_exec_form(&self) -> bool {
        let a = self.args.trim();
        a.starts_with('[') && serde_json::from_str::<Vec<String>>(a).is_ok()
    }

    /// Leading `--flag[=value]` options and the rest of the arguments.
    pub fn flags(&self) -> (Vec<(String, Option<String>)>, &str) {
        let mut flags = Vec::new();
        let mut rest = self.args.trim_start();
        while let Some(after) = rest.strip_prefix("--") {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            let flag = &after[..end];
            match flag.split_once('=') {
                Some((k, v)) => flags.push((k.to_ascii_lowercase(), Some(v.to_string()))),
                None => flags.push((flag.to_ascii_lowercase(), None)),
            }
            rest = after[end..].trim_start();
        }
        (flags, rest)
    }
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub index: usize,
    pub line: usize,
    /// The image as written (before ARG expansion).
    pub image_raw: String,
    /// The image after ARG expansion.
    pub image: String,
    /// Byte span of the image token in the file.
    pub image_span: Range<usize>,
    pub alias: Option<String>,
    pub platform: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CopyFrom {
    pub stage: usize,
    pub line: usize,
    pub value: String,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Dockerfile {
    pub text: String,
    pub escape: char,
    pub instructions: Vec<Instruction>,
    /// ARGs declared before the first FROM, with their defaults.
    pub global_args: Vec<(String, Option<String>)>,
    pub stages: Vec<Stage>,
    pub copy_froms: Vec<CopyFrom>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl Dockerfile {
    /// Parse a Dockerfile. `build_args` override the defaults of global ARGs when FROM lines
    /// are expanded (as `docker build --build-arg` does).
    pub fn parse(text: &str, build_args: &BTreeMap<String, String>) -> Result<Self, ParseError> {
        let escape = escape_directive(text);
        let instructions = logical_instructions(text, escape)?;
        let mut df = Dockerfile {
            text: text.to_string(),
            escape,
            instructions: Vec::new(),
            global_args: Vec::new(),
            stages: Vec::new(),
            copy_froms: Vec::new(),
        };
        let mut scope: BTreeMap<String, String> = BTreeMap::new();
        for mut ins in instructions {
            ins.stage = df.stages.len().checked_sub(1);
            match ins.keyword.as_str() {
                "ARG" if df.stages.is_empty() => {
                    for decl in ins.args.split_whitespace() {
                        let (name, default) = match decl.split_once('=') {
                            Some((n, d)) => (n.to_string(), Some(unquote(d))),
                            None => (decl.to_string(), None),
                        };
                        let value = build_args.get(&name).cloned().or_else(|| default.clone());
                        if let Some(v) = value {
                            scope.insert(name.clone(), v);
                        }
                        df.global_args.push((name, default));
                    }
                }
                "FROM" => {
                    let stage = parse_from(&ins, df.stages.len(), &scope)?;
                    df.stages.push(stage);
                    ins.stage = Some(df.stages.len() - 1);
                }
                "COPY" => {
                    if let Some(cf) = parse_copy_from(&ins) {
                        df.copy_froms.push(cf);
                    }
                }
                _ => {}
            }
            if ins.keyword != "FROM" && ins.keyword != "ARG" && df.stages.is_empty() {
                return Err(ParseError {
                    line: ins.line,
                    message: format!(
                        "`{}` before the first FROM (only ARG may come before FROM)",
                        ins.keyword
                    ),
                });
            }
            df.instructions.push(ins);
        }
        if df.stages.is_empty() {
            return Err(ParseError {
                line: 1,
                message: "no FROM instruction: a Dockerfile must start its first stage with FROM"
                    .into(),
            });
        }
        Ok(df)
    }

    /// Is `name` a stage alias (case-insensitive, as Docker treats them) or index defined
    /// before stage `before`?
    pub fn is_stage_ref(&self, name: &str, before: usize) -> bool {
        let lower = name.to_ascii_lowercase();
        self.stages[..before.min(self.stages.len())]
            .iter()
            .any(|s| s.alias.as_deref() == Some(lower.as_str()) || s.index.to_string() == lower)
    }

    /// The final stage (the image that is built without `--target`), or the target stage.
    pub fn final_stage(&self, target: Option<&str>) -> Option<&Stage> {
        match target {
            Some(t) => self
                .stages
                .iter()
                .find(|s| s.alias.as_deref() == Some(t.to_ascii_lowercase().as_str())),
            None => self.stages.last(),
        }
    }

    /// Instructions of one stage.
    pub fn stage_instructions(&self, stage: usize) -> impl Iterator<Item = &Instruction> {
        self.instructions
            .iter()
            .filter(move |i| i.stage == Some(stage))
    }

    /// A copy of the text with each span replaced. Spans must not overlap.
    pub fn rewrite(&self, replacements: &[(Range<usize>, String)]) -> String {
        let mut sorted: Vec<&(Range<usize>, String)> = replacements.iter().collect();
        sorted.sort_by_key(|(r, _)| r.start);
        let mut out = String::with_capacity(self.text.len());
        let mut pos = 0;
        for (range, new) in sorted {
            out.push_str(&self.text[pos..range.start]);
            out.push_str(new);
            pos = range.end;
        }
        out.push_str(&self.text[pos..]);
        out
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')))
    {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// `# escape=` parser directive (only valid before any other line).
fn escape_directive(text: &str) -> char {
    for line in text.lines() {
        let t = line.trim();
        let Some(rest) = t.strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = rest.split_once('=') else {
            break;
        };
        let key = k.trim().to_ascii_lowercase();
        if key == "escape" {
            return match v.trim() {
                "`" => '`',
                _ => '\\',
            };
        }
        if key != "syntax" && key != "check" {
            break;
        }
    }
    '\\'
}

fn logical_instructions(text: &str, escape: char) -> Result<Vec<Instruction>, ParseError> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Vec<(char, usize)>)> = None;
    let mut offset = 0;
    for (idx, raw_line) in text.split_inclusive('\n').enumerate() {
        let line_no = idx + 1;
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        if current.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if current.is_some() && trimmed.starts_with('#') {
            // Comment lines inside a continuation are dropped, as Docker does.
            continue;
        }
        if current.is_some() && trimmed.is_empty() {
            continue;
        }
        // The first line of an instruction loses its indentation; continuation lines keep
        // theirs (as Docker's parser does).
        let lead = if current.is_none() {
            line.len() - trimmed.len()
        } else {
            0
        };
        let body = line[lead..].trim_end();
        let (content, continues) = match body.strip_suffix(escape) {
            Some(c) => (c, true),
            None => (body, false),
        };
        let chars: Vec<(char, usize)> = content
            .char_indices()
            .map(|(i, c)| (c, line_start + lead + i))
            .collect();
        let entry = current.get_or_insert_with(|| (line_no, Vec::new()));
        entry.1.extend(chars);
        if continues {
            // Docker joins continued lines without inserting anything.
            continue;
        }
        let (start_line, chars) = current.take().expect("current instruction");
        out.push(make_instruction(start_line, chars)?);
    }
    if let Some((start_line, chars)) = current.take() {
        out.push(make_instruction(start_line, chars)?);
    }
    Ok(out)
}

fn make_instruction(line: usize, chars: Vec<(char, usize)>) -> Result<Instruction, ParseError> {
    let kw_end = chars
        .iter()
        .position(|(c, _)| c.is_whitespace())
        .unwrap_or(chars.len());
    let keyword: String = chars[..kw_end].iter().map(|(c, _)| *c).collect();
    if keyword.is_empty() || !keyword.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ParseError {
            line,
            message: format!("`{keyword}` is not a Dockerfile instruction"),
        });
    }
    let rest = &chars[kw_end..];
    let skip = rest
        .iter()
        .position(|(c, _)| !c.is_whitespace())
        .unwrap_or(rest.len());
    let rest = &rest[skip..];
    let mut args = String::new();
    let mut offsets = Vec::new();
    for (c, o) in rest {
        // A byte-indexed offset table: the file offset of every byte of `args`.
        for k in 0..c.len_utf8() {
            offsets.push(*o + k);
        }
        args.push(*c);
    }
    Ok(Instruction {
        keyword: keyword.to_ascii_uppercase(),
        line,
        args,
        offsets,
        stage: None,
    })
}

/// Byte ranges of whitespace-separated tokens in `s`.
fn tokens(s: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(st)) => {
                out.push(st..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push(st..s.len());
    }
    out
}

fn parse_from(
    ins: &Instruction,
    index: usize,
    scope: &BTreeMap<String, String>,
) -> Result<Stage, ParseError> {
    let toks = tokens(&ins.args);
    let mut platform = None;
    let mut i = 0;
    while i < toks.len() && ins.args[toks[i].clone()].starts_with("--") {
        let flag = &ins.args[toks[i].clone()];
        if let Some(v) = flag.strip_prefix("--platform=") {
            platform = Some(v.to_string());
        } else {
            return Err(ParseError {
                line: ins.line,
                message: format!("unknown FROM flag `{flag}` (only --platform is allowed)"),
            });
        }
        i += 1;
    }
    let Some(image_tok) = toks.get(i).cloned() else {
        return Err(ParseError {
            line: ins.line,
            message: "FROM without an image".into(),
        });
    };
    let image_raw = ins.args[image_tok.clone()].to_string();
    let alias = match &toks[i + 1..] {
        [] => None,
        [kw, name] if ins.args[kw.clone()].eq_ignore_ascii_case("as") => {
            Some(ins.args[name.clone()].to_ascii_lowercase())
        }
        _ => {
            return Err(ParseError {
                line: ins.line,
                message: format!("FROM takes `IMAGE [AS NAME]`, got `{}`", ins.args.trim()),
            });
        }
    };
    let image = expand(&image_raw, scope).map_err(|m| ParseError {
        line: ins.line,
        message: m,
    })?;
    if image.is_empty() {
        return Err(ParseError {
            line: ins.line,
            message: format!("FROM `{image_raw}` expands to an empty image name; is the ARG set?"),
        });
    }
    Ok(Stage {
        index,
        line: ins.line,
        image_raw,
        image,
        image_span: ins.span(image_tok),
        alias,
        platform,
    })
}

fn parse_copy_from(ins: &Instruction) -> Option<CopyFrom> {
    for tok in tokens(&ins.args) {
        let t = &ins.args[tok.clone()];
        if !t.starts_with("--") {
            break;
        }
        if let Some(v) = t.strip_prefix("--from=")
            && !v.is_empty()
        {
            let start = tok.start + "--from=".len();
            return Some(CopyFrom {
                stage: ins.stage.unwrap_or(0),
                line: ins.line,
                value: v.to_string(),
                span: ins.span(start..tok.end),
            });
        }
    }
    None
}

/// Expand `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alt}` from `scope`.
pub fn expand(s: &str, scope: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() && chars[i + 1] == '$' {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        if i + 1 < chars.len() && chars[i + 1] == '{' {
            let close = chars[i + 2..]
                .iter()
                .position(|c| *c == '}')
                .ok_or_else(|| format!("unterminated `${{` in `{s}`"))?;
            let inner: String = chars[i + 2..i + 2 + close].iter().collect();
            let value = if let Some((name, default)) = inner.split_once(":-") {
                scope
                    .get(name)
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .unwrap_or_else(|| default.to_string())
            } else if let Some((name, alt)) = inner.split_once(":+") {
                if scope.get(name).is_some_and(|v| !v.is_empty()) {
                    alt.to_string()
                } else {
                    String::new()
                }
            } else {
                scope.get(&inner).cloned().unwrap_or_default()
            };
            out.push_str(&value);
            i += 3 + close;
        } else {
            let name: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            if name.is_empty() {
                out.push('$');
                i += 1;
            } else {
                out.push_str(scope.get(&name).map(String::as_str).unwrap_or(""));
                i += 1 + name.len();
            }
        }
    }
    Ok(out)
}

/// An image reference split into repository, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub repo: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(s: &str) -> ImageRef {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (repo, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                rest[..last_slash + i].to_string(),
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest.to_string(), None),
        };
        ImageRef { repo, tag, digest }
    }

    /// An image id (`sha256:<64 hex>` or 64 bare hex digits), which pins by content.
    pub fn is_image_id(s: &str) -> bool {
        let hex = s.strip_prefix("sha256:").unwrap_or(s);
        hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())
    }

    /// Pinned by content (digest or image id) or at least by an explicit version tag.
    pub fn pinning(&self) -> Pinning {
        if self.digest.is_some() {
            return Pinning::Digest;
        }
        match self.tag.as_deref() {
            None => Pinning::NoTag,
            Some("latest") => Pinning::Latest,
            Some(t) if t.chars().any(|c| c.is_ascii_digit()) => Pinning::VersionTag,
            Some(_) => Pinning::MovingTag,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinning {
    Digest,
    VersionTag,
    MovingTag,
    Latest,
    NoTag,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Dockerfile {
        Dockerfile::parse(text, &BTreeMap::new()).unwrap()
    }

    #[test]
    fn stages_aliases_and_platform() {
        let df = parse(
            "# syntax=docker/dockerfile:1\nARG BASE=baseline\nFROM --platform=linux/amd64 ${BASE} AS Build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n",
        );
        assert_eq!(df.stages.len(), 2);
        assert_eq!(df.stages[0].image, "baseline");
        assert_eq!(df.stages[0].alias.as_deref(), Some("build"));
        assert_eq!(df.stages[0].platform.as_deref(), Some("linux/amd64"));
        assert_eq!(df.stages[0].line, 3);
        assert_eq!(&df.text[df.stages[0].image_span.clone()], "${BASE}");
        assert_eq!(df.copy_froms[0].value, "build");
        assert!(df.is_stage_ref("build", 1));
        assert!(df.is_stage_ref("BUILD", 1));
        assert!(!df.is_stage_ref("web", 1));
    }

    #[test]
    fn build_args_override_global_arg_defaults() {
        let mut args = BTreeMap::new();
        args.insert("BASE".to_string(), "web".to_string());
        let df = Dockerfile::parse("ARG BASE=baseline\nFROM $BASE\n", &args).unwrap();
        assert_eq!(df.stages[0].image, "web");
    }

    #[test]
    fn continuations_and_comments_keep_start_lines() {
        let df = parse("FROM a\nRUN echo 1 \\\n  # a comment\n  && echo 2\n\nUSER 1000\n");
        let run = &df.instructions[1];
        assert_eq!(run.keyword, "RUN");
        assert_eq!(run.line, 2);
        assert_eq!(run.args, "echo 1   && echo 2");
        assert_eq!(df.instructions[2].line, 6);
    }

    #[test]
    fn escape_directive_switches_to_backtick() {
        let df = parse("# escape=`\nFROM a\nRUN echo 1 `\n  echo 2\n");
        assert_eq!(df.escape, '`');
        assert_eq!(df.instructions[1].args, "echo 1   echo 2");
    }

    #[test]
    fn rewrite_replaces_only_the_spans() {
        let df = parse("FROM baseline AS b\nFROM scratch\nCOPY --from=web /a /a\n");
        let out = df.rewrite(&[
            (df.stages[0].image_span.clone(), "sha256:aa".into()),
            (df.copy_froms[0].span.clone(), "sha256:bb".into()),
        ]);
        assert_eq!(
            out,
            "FROM sha256:aa AS b\nFROM scratch\nCOPY --from=sha256:bb /a /a\n"
        );
    }

    #[test]
    fn spans_end_after_a_multibyte_last_character() {
        // Found by the fuzzer (fuzz/artifacts/dockerfile/crash-3e7b…): an image token ending
        // in a two-byte character made the span end inside it.
        let df = parse("FROM baselv/wwwި\nRUN x\n");
        assert_eq!(&df.text[df.stages[0].image_span.clone()], "baselv/wwwި");
        let out = df.rewrite(&[(df.stages[0].image_span.clone(), "sha256:x".into())]);
        assert_eq!(out, "FROM sha256:x\nRUN x\n");
        let df = parse("FROM a\nCOPY --from=é /x /x\n");
        assert_eq!(&df.text[df.copy_froms[0].span.clone()], "é");
    }

    #[test]
    fn an_empty_copy_from_is_not_a_reference() {
        // Found by the fuzzer (fuzz/artifacts/dockerfile/crash-a005…): `COPY --from=` with
        // nothing after it at the end of the line indexed past the arguments.
        let df = parse("FROM scratch\nCOPY --from=  \n");
        assert!(df.copy_froms.is_empty());
    }

    #[test]
    fn errors_have_lines() {
        let e = Dockerfile::parse("# nothing\n\n", &BTreeMap::new()).unwrap_err();
        assert!(e.message.contains("no FROM"));
        let e = Dockerfile::parse("RUN x\nFROM a\n", &BTreeMap::new()).unwrap_err();
        assert_eq!(e.line, 1);
        let e = Dockerfile::parse("FROM a\nFROM\n", &BTreeMap::new()).unwrap_err();
        assert_eq!(e.line, 2);
        let e = Dockerfile::parse("FROM a b c\n", &BTreeMap::new()).unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn exec_form_detection() {
        let df = parse("FROM a\nCMD [\"/bin/x\", \"-v\"]\nENTRYPOINT /bin/x -v\n");
        assert!(df.instructions[1].is_exec_form());
        assert!(!df.instructions[2].is_exec_form());
    }

    #[test]
    fn image_refs_and_pinning() {
        let r = ImageRef::parse("registry:5000/lib/alpine:3.20@sha256:abc");
        assert_eq!(r.repo, "registry:5000/lib/alpine");
        assert_eq!(r.tag.as_deref(), Some("3.20"));
        assert_eq!(r.pinning(), Pinning::Digest);
        assert_eq!(ImageRef::parse("alpine").pinning(), Pinning::NoTag);
        assert_eq!(ImageRef::parse("alpine:latest").pinning(), Pinning::Latest);
        assert_eq!(ImageRef::parse("alpine:edge").pinning(), Pinning::MovingTag);
        assert_eq!(
            ImageRef::parse("alpine:3.20").pinning(),
            Pinning::VersionTag
        );
        assert_eq!(ImageRef::parse("registry:5000/x").tag, None);
    }
}
