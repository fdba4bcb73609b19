//! A Dockerfile parser for the syntax of today's Dockerfile frontend: logical instructions
//! with their lines (continuations, comments, heredocs — several per line, `<<-`, quoted
//! delimiters), the parser directives (`syntax`, `escape`, `check`), build stages (`FROM`
//! with `--platform`, `AS` aliases), `ARG`/`ENV` scoping with shell-word quoting and
//! `${V:-x}` / `${V:+x}` / `${V-x}` / `${V+x}` / `${V:?msg}` expansion, the automatic platform
//! args (`TARGETPLATFORM`, `BUILDARCH`, …), and `COPY --from=` references, each with the byte
//! span of the image reference so that dk can send a copy with parents pinned.

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
    /// Here-documents of this instruction (`RUN <<EOF` … `EOF`), in order.
    pub heredocs: Vec<Heredoc>,
}

/// A here-document: `<<NAME` (or `<<-NAME`, `<<"NAME"`) and the lines up to `NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    /// The body, with a trailing newline per line (leading tabs removed for `<<-`).
    pub body: String,
    /// The delimiter was quoted: the body is not expanded.
    pub quoted: bool,
    /// The line of the delimiter that ends it.
    pub end_line: usize,
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

    /// Byte span in the file of all of `args` (continuation lines included).
    pub fn file_span(&self) -> Range<usize> {
        self.span(0..self.args.len())
    }

    /// Byte span in the file of `args[range]`.
    pub fn file_span_of(&self, range: Range<usize>) -> Range<usize> {
        self.span(range)
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

/// What a construct of a Dockerfile needs from the builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Any BuildKit (the classic builder refuses it).
    BuildKit,
    /// A Dockerfile frontend newer than the one built into Docker 20.10 (API 1.41): heredocs,
    /// `COPY --link`, `--parents`, `--exclude`, `ADD --checksum`, secrets as env.
    Frontend14,
}

/// A construct that needs more than some builders have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    pub line: usize,
    pub what: String,
    pub needs: Needs,
}

/// The platform a build targets (`TARGET*` args) and the one it runs on (`BUILD*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The machine dk runs on (the daemon's, unless DOCKER_HOST points elsewhere).
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            arch: arch.into(),
            variant: None,
        }
    }

    /// `os/arch[/variant]`.
    pub fn parse(s: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok =
            |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform {
                os: os.to_string(),
                arch: arch.to_string(),
                variant: None,
            }),
            [os, arch, v] if ok(os) && ok(arch) && ok(v) => Ok(Platform {
                os: os.to_string(),
                arch: arch.to_string(),
                variant: Some(v.to_string()),
            }),
            _ => Err(format!(
                "`{s}` is not a platform (use os/arch[/variant], e.g. linux/arm64)"
            )),
        }
    }

    /// The same platform? `linux/arm64` is `linux/arm64/v8` (the variant arm64 has by
    /// default); an absent variant otherwise matches any.
    pub fn same(&self, other: &Platform) -> bool {
        let v = |p: &Platform| {
            p.variant
                .clone()
                .filter(|v| !(p.arch == "arm64" && v == "v8"))
        };
        self.os == other.os
            && self.arch == other.arch
            && (self.variant.is_none() || other.variant.is_none() || v(self) == v(other))
    }

    /// What names this platform in a tag and in a node's name: `arm64`, `armv7`.
    pub fn suffix(&self) -> String {
        match &self.variant {
            Some(v) if !(self.arch == "arm64" && v == "v8") => format!("{}{v}", self.arch),
            _ => self.arch.clone(),
        }
    }

    /// The platforms of a manifest's or dk.toml's list.
    pub fn list(texts: &[crate::units::Text<Platform>]) -> Vec<Platform> {
        texts.iter().map(|t| t.get().clone()).collect()
    }

    /// The automatic platform args with this platform as the target and `build` as the
    /// builder's.
    fn args(&self, build: &Platform) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (prefix, p) in [("TARGET", self), ("BUILD", build)] {
            out.push((format!("{prefix}PLATFORM"), p.to_string()));
            out.push((format!("{prefix}OS"), p.os.clone()));
            out.push((format!("{prefix}ARCH"), p.arch.clone()));
            out.push((
                format!("{prefix}VARIANT"),
                p.variant.clone().unwrap_or_default(),
            ));
        }
        out
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Dockerfile {
    pub text: String,
    pub escape: char,
    /// The `# syntax=` directive: the frontend image the build must use, and its line.
    pub syntax: Option<(String, usize)>,
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
    /// A build arg the Dockerfile needs and nothing sets (the caller says where to set it).
    pub needs_arg: Option<String>,
}

fn error(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
        needs_arg: None,
    }
}

impl Dockerfile {
    /// Parse a Dockerfile for the machine dk runs on. `build_args` override the defaults of
    /// ARGs (as `docker build --build-arg` does).
    pub fn parse(text: &str, build_args: &BTreeMap<String, String>) -> Result<Self, ParseError> {
        Dockerfile::parse_for(text, build_args, &Platform::host())
    }

    /// Parse a Dockerfile whose build targets `platform` (the `TARGET*` args).
    pub fn parse_for(
        text: &str,
        build_args: &BTreeMap<String, String>,
        platform: &Platform,
    ) -> Result<Self, ParseError> {
        let (escape, syntax) = directives(text);
        let instructions = logical_instructions(text, escape)?;
        let mut df = Dockerfile {
            text: text.to_string(),
            escape,
            syntax,
            instructions: Vec::new(),
            global_args: Vec::new(),
            stages: Vec::new(),
            copy_froms: Vec::new(),
        };
        // The global scope: the automatic platform args, then the ARGs before the first
        // FROM. Only FROM lines (and ARGs redeclared in a stage) see it.
        let mut global: Scope = platform.args(&Platform::host()).into_iter().collect();
        let mut stage_scope: Scope = Scope::new();
        for mut ins in instructions {
            ins.stage = df.stages.len().checked_sub(1);
            match ins.keyword.as_str() {
                "ARG" => {
                    let in_stage = !df.stages.is_empty();
                    let scope = if in_stage { &stage_scope } else { &global };
                    let (words, _) =
                        process_words(&ins.args, scope, escape).map_err(|m| error(ins.line, m))?;
                    for decl in words {
                        let (name, default) = match decl.split_once('=') {
                            Some((n, d)) => (n.to_string(), Some(d.to_string())),
                            None => (decl.clone(), None),
                        };
                        if !valid_arg_name(&name) {
                            return Err(error(
                                ins.line,
                                format!("`{name}` is not a valid ARG name"),
                            ));
                        }
                        let value = build_args
                            .get(&name)
                            .cloned()
                            .or_else(|| default.clone())
                            .or_else(|| in_stage.then(|| global.get(&name).cloned()).flatten());
                        let target = if in_stage {
                            &mut stage_scope
                        } else {
                            &mut global
                        };
                        match value {
                            Some(v) => {
                                target.insert(name.clone(), v);
                            }
                            None => {
                                target.remove(&name);
                            }
                        }
                        if !in_stage {
                            df.global_args.push((name, default));
                        }
                    }
                }
                "ENV" if !df.stages.is_empty() => {
                    for (k, v) in env_pairs(&ins.args, &stage_scope, escape)
                        .map_err(|m| error(ins.line, m))?
                    {
                        stage_scope.insert(k, v);
                    }
                }
                "FROM" => {
                    let stage = parse_from(&ins, df.stages.len(), &global, &df)?;
                    df.stages.push(stage);
                    ins.stage = Some(df.stages.len() - 1);
                    stage_scope = Scope::new();
                }
                "COPY" | "ADD" => {
                    if let Some(cf) = parse_copy_from(&ins, &stage_scope, escape)? {
                        df.copy_froms.push(cf);
                    }
                }
                _ => {}
            }
            if ins.keyword != "FROM" && ins.keyword != "ARG" && df.stages.is_empty() {
                return Err(error(
                    ins.line,
                    format!(
                        "`{}` before the first FROM (only ARG may come before FROM)",
                        ins.keyword
                    ),
                ));
            }
            df.instructions.push(ins);
        }
        if df.stages.is_empty() {
            return Err(error(
                1,
                "no FROM instruction: a Dockerfile must start its first stage with FROM",
            ));
        }
        Ok(df)
    }

    /// The constructs that need more than the classic builder (`Needs::BuildKit`) or more
    /// than the Dockerfile frontend built into Docker 20.10's BuildKit
    /// (`Needs::Frontend14`), with their lines.
    pub fn features(&self) -> Vec<Feature> {
        let mut out = Vec::new();
        if let Some((image, line)) = &self.syntax {
            out.push(Feature {
                line: *line,
                what: format!("`# syntax={image}`"),
                needs: Needs::BuildKit,
            });
        }
        for ins in &self.instructions {
            let add = |out: &mut Vec<Feature>, what: String, needs| {
                out.push(Feature {
                    line: ins.line,
                    what,
                    needs,
                })
            };
            if !ins.heredocs.is_empty() {
                add(
                    &mut out,
                    format!("a heredoc in {}", ins.keyword),
                    Needs::Frontend14,
                );
            }
            let (flags, _) = ins.flags();
            for (flag, value) in flags {
                let what = format!("`{} --{flag}`", ins.keyword);
                let needs = match (ins.keyword.as_str(), flag.as_str()) {
                    ("RUN", "mount") => {
                        let v = value.unwrap_or_default();
                        if v.contains("type=secret") && v.split(',').any(|o| o.starts_with("env="))
                        {
                            Some(Needs::Frontend14)
                        } else {
                            Some(Needs::BuildKit)
                        }
                    }
                    ("RUN", "network" | "security") => Some(Needs::BuildKit),
                    ("COPY" | "ADD", "chmod") => Some(Needs::BuildKit),
                    ("COPY" | "ADD", "link" | "parents" | "exclude") => Some(Needs::Frontend14),
                    ("ADD", "checksum" | "keep-git-dir") => Some(Needs::Frontend14),
                    _ => None,
                };
                if let Some(n) = needs {
                    add(&mut out, what, n);
                }
            }
        }
        out
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

type Scope = BTreeMap<String, String>;

/// An ARG name as BuildKit and the classic builder take it: any word. (In gotify/server's
/// `ARG RUN_TESTS=0 # 0=never, 1=native only`, `#`, `0`, `1` and `only` are declared too;
/// a name that is not an identifier can only never be referenced.)
fn valid_arg_name(name: &str) -> bool {
    !name.is_empty()
}

/// The parser directives at the top of the file: `escape` (default `\`) and `syntax`
/// (with its line). `check` is accepted and has no effect on parsing. Directives end at the
/// first line that is not one (a blank line, a comment, an instruction).
fn directives(text: &str) -> (char, Option<(String, usize)>) {
    let mut escape = '\\';
    let mut syntax = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        let Some(rest) = t.strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = rest.split_once('=') else {
            break;
        };
        let key = k.trim().to_ascii_lowercase();
        if key.contains(char::is_whitespace) {
            break;
        }
        match key.as_str() {
            "escape" => {
                escape = match v.trim() {
                    "`" => '`',
                    _ => '\\',
                }
            }
            "syntax" => syntax = Some((v.trim().to_string(), i + 1)),
            "check" => {}
            _ => break,
        }
    }
    (escape, syntax)
}

/// Words of an ARG/ENV line the way the frontend's shell lexer makes them: whitespace
/// separates words; double quotes group (with `\"`, `\\`, `\$` escapes) and expand; single
/// quotes group literally; the escape character escapes the next character. Returns the
/// words, and the variables referenced that are unset (without a default operator).
pub fn process_words(
    s: &str,
    scope: &BTreeMap<String, String>,
    escape: char,
) -> Result<(Vec<String>, Vec<String>), String> {
    let chars: Vec<char> = s.chars().collect();
    let mut words = Vec::new();
    let mut unset = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            if in_word {
                words.push(std::mem::take(&mut cur));
                in_word = false;
            }
            i += 1;
            continue;
        }
        in_word = true;
        if c == escape && i + 1 < chars.len() {
            cur.push(chars[i + 1]);
            i += 2;
        } else if c == '\'' {
            let close = chars[i + 1..]
                .iter()
                .position(|c| *c == '\'')
                .ok_or_else(|| format!("unterminated single quote in `{s}`"))?;
            cur.extend(&chars[i + 1..i + 1 + close]);
            i += close + 2;
        } else if c == '"' {
            i += 1;
            loop {
                let Some(&d) = chars.get(i) else {
                    return Err(format!("unterminated double quote in `{s}`"));
                };
                if d == '"' {
                    i += 1;
                    break;
                }
                if d == escape && matches!(chars.get(i + 1), Some('"' | '$') | Some('\\')) {
                    cur.push(chars[i + 1]);
                    i += 2;
                } else if d == escape && chars.get(i + 1) == Some(&escape) {
                    cur.push(escape);
                    i += 2;
                } else if d == '$' {
                    i = expand_at(&chars, i, scope, &mut cur, &mut unset, s)?;
                } else {
                    cur.push(d);
                    i += 1;
                }
            }
        } else if c == '$' {
            i = expand_at(&chars, i, scope, &mut cur, &mut unset, s)?;
        } else {
            cur.push(c);
            i += 1;
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok((words, unset))
}

/// `ENV k=v k2="v 2"` or the legacy `ENV k v w` (one variable, the rest is its value).
fn env_pairs(
    args: &str,
    scope: &BTreeMap<String, String>,
    escape: char,
) -> Result<Vec<(String, String)>, String> {
    let (words, _) = process_words(args, scope, escape)?;
    if words.first().is_some_and(|w| w.contains('=')) {
        Ok(words
            .into_iter()
            .filter_map(|w| w.split_once('=').map(|(k, v)| (k.into(), v.into())))
            .collect())
    } else if let Some((k, rest)) = words.split_first() {
        Ok(vec![(k.clone(), rest.join(" "))])
    } else {
        Ok(Vec::new())
    }
}

/// A heredoc the current instruction waits for: (delimiter, strip leading tabs, quoted).
type PendingHeredoc = (String, bool, bool);

fn logical_instructions(text: &str, escape: char) -> Result<Vec<Instruction>, ParseError> {
    let mut out: Vec<Instruction> = Vec::new();
    let mut current: Option<(usize, Vec<(char, usize)>)> = None;
    // Heredocs of the last instruction whose bodies are being read, in order.
    let mut pending: std::collections::VecDeque<PendingHeredoc> = Default::default();
    let mut body = String::new();
    let mut heredoc_start = 0;
    let mut offset = 0;
    for (idx, raw_line) in text.split_inclusive('\n').enumerate() {
        let line_no = idx + 1;
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        if let Some((delim, strip_tabs, quoted)) = pending.front().cloned() {
            let content = if strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if content == delim {
                let ins = out.last_mut().expect("a heredoc belongs to an instruction");
                ins.heredocs.push(Heredoc {
                    name: delim,
                    body: std::mem::take(&mut body),
                    quoted,
                    end_line: line_no,
                });
                pending.pop_front();
            } else {
                body.push_str(content);
                body.push('\n');
            }
            continue;
        }
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
        let content_full = line[lead..].trim_end();
        let (content, continues) = match content_full.strip_suffix(escape) {
            Some(c) => (c, true),
            None => (content_full, false),
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
        let ins = make_instruction(start_line, chars)?;
        if matches!(ins.keyword.as_str(), "RUN" | "COPY" | "ADD") {
            pending.extend(heredoc_markers(&ins.args));
            heredoc_start = line_no;
        }
        out.push(ins);
    }
    if let Some((start_line, chars)) = current.take() {
        out.push(make_instruction(start_line, chars)?);
    }
    if let Some((delim, _, _)) = pending.front() {
        return Err(error(
            heredoc_start,
            format!("the heredoc `<<{delim}` started here is never closed by a `{delim}` line"),
        ));
    }
    Ok(out)
}

/// The heredoc markers of an instruction's arguments, in order: words like `<<EOF`,
/// `<<-EOF`, `<<"EOF"`, `<<'EOF'`, `2<<EOF` (outside quotes).
fn heredoc_markers(args: &str) -> Vec<PendingHeredoc> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let chars: Vec<char> = args.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => {
                // A quote that opens a word; `<<"EOF"` is handled below.
                quote = Some(c);
            }
            None if c == '<'
                && chars.get(i + 1) == Some(&'<')
                && chars.get(i + 2) != Some(&'<') =>
            {
                let mut j = i + 2;
                let strip_tabs = chars.get(j) == Some(&'-');
                if strip_tabs {
                    j += 1;
                }
                let q = chars.get(j).copied().filter(|c| *c == '"' || *c == '\'');
                if q.is_some() {
                    j += 1;
                }
                let start = j;
                while j < chars.len()
                    && !chars[j].is_whitespace()
                    && Some(chars[j]) != q
                    && !matches!(chars[j], ';' | '&' | '|' | '<' | '>' | ')')
                {
                    j += 1;
                }
                let name: String = chars[start..j].iter().collect();
                if q.is_some() && chars.get(j) == q.as_ref() {
                    j += 1;
                }
                if !name.is_empty() {
                    out.push((name, strip_tabs, q.is_some()));
                }
                i = j;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    out
}

fn make_instruction(line: usize, chars: Vec<(char, usize)>) -> Result<Instruction, ParseError> {
    let kw_end = chars
        .iter()
        .position(|(c, _)| c.is_whitespace())
        .unwrap_or(chars.len());
    let keyword: String = chars[..kw_end].iter().map(|(c, _)| *c).collect();
    if keyword.is_empty() || !keyword.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(error(
            line,
            format!("`{keyword}` is not a Dockerfile instruction"),
        ));
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
        heredocs: Vec::new(),
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
    scope: &Scope,
    df: &Dockerfile,
) -> Result<Stage, ParseError> {
    let toks = tokens(&ins.args);
    let mut platform = None;
    let mut i = 0;
    while i < toks.len() && ins.args[toks[i].clone()].starts_with("--") {
        let flag = &ins.args[toks[i].clone()];
        if let Some(v) = flag.strip_prefix("--platform=") {
            let (v, _) = expand(v, scope).map_err(|m| error(ins.line, m))?;
            platform = Some(v);
        } else {
            return Err(error(
                ins.line,
                format!("unknown FROM flag `{flag}` (only --platform is allowed)"),
            ));
        }
        i += 1;
    }
    let Some(image_tok) = toks.get(i).cloned() else {
        return Err(error(ins.line, "FROM without an image"));
    };
    let image_raw = ins.args[image_tok.clone()].to_string();
    let alias = match &toks[i + 1..] {
        [] => None,
        [kw, name] if ins.args[kw.clone()].eq_ignore_ascii_case("as") => {
            Some(ins.args[name.clone()].to_ascii_lowercase())
        }
        _ => {
            return Err(error(
                ins.line,
                format!("FROM takes `IMAGE [AS NAME]`, got `{}`", ins.args.trim()),
            ));
        }
    };
    // The frontend reads the image as a word: quotes group and go (`alpine:"${TAG}"`).
    let (words, unset) =
        process_words(&image_raw, scope, df.escape).map_err(|m| error(ins.line, m))?;
    let image = words.concat();
    if let Some(arg) = unset.first() {
        return Err(ParseError {
            line: ins.line,
            message: format!(
                "FROM `{image_raw}` needs the build arg `{arg}`, and nothing sets it (it would become `{image}`)"
            ),
            needs_arg: Some(arg.clone()),
        });
    }
    let is_stage = df.is_stage_ref(&image, index);
    if !is_stage && image != "scratch" && !valid_reference(&image) {
        return Err(error(
            ins.line,
            format!(
                "FROM `{image_raw}` expands to `{image}`, which is not a valid image reference"
            ),
        ));
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

/// Docker's grammar for a reference: `[host[:port]/]path[:tag][@algo:hex]`.
pub fn valid_reference(s: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        let component = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
        let domain = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?|localhost(?::[0-9]+)?)";
        regex::Regex::new(&format!(
            // ASCII classes and no counted repetition: the regex compiles in microseconds
            // (Unicode `\w{{0,127}}` took tens of milliseconds on every run); the tag's length
            // is checked apart.
            r"^(?:{domain}/)?{component}(?:/{component})*(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]+)?$"
        ))
        .expect("reference regex")
    })
    .captures(s)
    .is_some_and(|c| c.get(1).is_none_or(|tag| tag.len() <= 128))
        || ImageRef::is_image_id(s)
}

fn parse_copy_from(
    ins: &Instruction,
    scope: &Scope,
    escape: char,
) -> Result<Option<CopyFrom>, ParseError> {
    for tok in tokens(&ins.args) {
        let t = &ins.args[tok.clone()];
        if !t.starts_with("--") {
            break;
        }
        if let Some(v) = t.strip_prefix("--from=")
            && !v.is_empty()
        {
            let start = tok.start + "--from=".len();
            let (words, _) = process_words(v, scope, escape).map_err(|m| error(ins.line, m))?;
            return Ok(Some(CopyFrom {
                stage: ins.stage.unwrap_or(0),
                line: ins.line,
                value: words.concat(),
                span: ins.span(start..tok.end),
            }));
        }
    }
    Ok(None)
}

/// Expand `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`,
/// `${VAR+alt}` and `${VAR:?message}` from `scope`. Returns the text and the variables it
/// referenced that are unset (and had no default operator).
pub fn expand(s: &str, scope: &BTreeMap<String, String>) -> Result<(String, Vec<String>), String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut unset = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
        } else if c == '$' {
            i = expand_at(&chars, i, scope, &mut out, &mut unset, s)?;
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok((out, unset))
}

/// BuildKit's pattern operators on a value: `#`/`##` (shortest/longest prefix removed),
/// `%`/`%%` (suffix), `/pattern/replacement` and `//pattern/replacement` (first/every
/// match replaced), the patterns globs (`*`, `?`, `[…]`, `\` escapes). `None`: not one of
/// them.
fn edit_value(value: &str, op: &str) -> Option<String> {
    let v: Vec<char> = value.chars().collect();
    let text = |r: std::ops::Range<usize>| v[r].iter().collect::<String>();
    if let Some(p) = op.strip_prefix("##") {
        let p: Vec<char> = p.chars().collect();
        let end = (0..=v.len()).rev().find(|&e| glob(&p, &v[..e]))?;
        return Some(text(end..v.len()));
    }
    if let Some(p) = op.strip_prefix('#') {
        let p: Vec<char> = p.chars().collect();
        let end = (0..=v.len()).find(|&e| glob(&p, &v[..e])).unwrap_or(0);
        return Some(text(end..v.len()));
    }
    if let Some(p) = op.strip_prefix("%%") {
        let p: Vec<char> = p.chars().collect();
        let start = (0..=v.len())
            .find(|&s| glob(&p, &v[s..]))
            .unwrap_or(v.len());
        return Some(text(0..start));
    }
    if let Some(p) = op.strip_prefix('%') {
        let p: Vec<char> = p.chars().collect();
        let start = (0..=v.len())
            .rev()
            .find(|&s| glob(&p, &v[s..]))
            .unwrap_or(v.len());
        return Some(text(0..start));
    }
    let (all, rest) = match op.strip_prefix("//") {
        Some(r) => (true, r),
        None => (false, op.strip_prefix('/')?),
    };
    // The pattern ends at the first unescaped `/`.
    let rc: Vec<char> = rest.chars().collect();
    let mut k = 0;
    while k < rc.len() && rc[k] != '/' {
        k += if rc[k] == '\\' { 2 } else { 1 };
    }
    let pattern: Vec<char> = rc[..k.min(rc.len())].to_vec();
    let replacement: String = rc
        .get(k + 1..)
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    if pattern.is_empty() {
        return Some(value.to_string());
    }
    let mut out = String::new();
    let mut i = 0;
    let mut replaced = false;
    while i < v.len() {
        let hit = (!replaced || all)
            .then(|| (i + 1..=v.len()).rev().find(|&e| glob(&pattern, &v[i..e])))
            .flatten();
        match hit {
            Some(e) => {
                out.push_str(&replacement);
                replaced = true;
                i = e;
            }
            None => {
                out.push(v[i]);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Does the glob `p` match all of `s`?
fn glob(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') => (0..=s.len()).any(|k| glob(&p[1..], &s[k..])),
        Some('?') => !s.is_empty() && glob(&p[1..], &s[1..]),
        Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && glob(&p[2..], &s[1..]),
        Some('[') => {
            let Some(close) = p.iter().skip(1).position(|c| *c == ']').map(|c| c + 1) else {
                return s.first() == Some(&'[') && glob(&p[1..], &s[1..]);
            };
            let Some(&c) = s.first() else { return false };
            let class = &p[1..close];
            let (negate, class) = match class.first() {
                Some('!' | '^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut j = 0;
            while j < class.len() {
                if j + 2 < class.len() && class[j + 1] == '-' {
                    hit |= class[j] <= c && c <= class[j + 2];
                    j += 3;
                } else {
                    hit |= class[j] == c;
                    j += 1;
                }
            }
            hit != negate && glob(&p[close + 1..], &s[1..])
        }
        Some(c) => s.first() == Some(c) && glob(&p[1..], &s[1..]),
    }
}

/// Expand the variable reference starting at `chars[i]` (a `$`) into `out`; returns the
/// index after it.
fn expand_at(
    chars: &[char],
    i: usize,
    scope: &BTreeMap<String, String>,
    out: &mut String,
    unset: &mut Vec<String>,
    whole: &str,
) -> Result<usize, String> {
    if chars.get(i + 1) == Some(&'{') {
        let close = chars[i + 2..]
            .iter()
            .position(|c| *c == '}')
            .ok_or_else(|| format!("unterminated `${{` in `{whole}`"))?;
        let inner: String = chars[i + 2..i + 2 + close].iter().collect();
        let name_len = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let (name, op) = inner.split_at(name_len);
        if name.is_empty() {
            return Err(format!("bad substitution `${{{inner}}}` in `{whole}`"));
        }
        let value = scope.get(name);
        let set_nonempty = value.is_some_and(|v| !v.is_empty());
        let text = if let Some(word) = op.strip_prefix(":-") {
            if set_nonempty {
                value.cloned()
            } else {
                Some(word.to_string())
            }
        } else if let Some(word) = op.strip_prefix('-') {
            value.cloned().or_else(|| Some(word.to_string()))
        } else if let Some(word) = op.strip_prefix(":+") {
            Some(if set_nonempty {
                word.to_string()
            } else {
                String::new()
            })
        } else if let Some(word) = op.strip_prefix('+') {
            Some(if value.is_some() {
                word.to_string()
            } else {
                String::new()
            })
        } else if let Some(msg) = op.strip_prefix(":?") {
            if !set_nonempty {
                return Err(format!(
                    "{name}: {}",
                    if msg.is_empty() { "is not set" } else { msg }
                ));
            }
            value.cloned()
        } else if op.is_empty() {
            if value.is_none() {
                unset.push(name.to_string());
            }
            value.cloned()
        } else if let Some(edited) = edit_value(value.map(String::as_str).unwrap_or(""), op) {
            if value.is_none() {
                unset.push(name.to_string());
            }
            Some(edited)
        } else {
            return Err(format!(
                "unsupported substitution `${{{inner}}}` in `{whole}`"
            ));
        };
        out.push_str(&text.unwrap_or_default());
        Ok(i + 3 + close)
    } else {
        let name: String = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
            .collect();
        if name.is_empty() {
            out.push('$');
            return Ok(i + 1);
        }
        match scope.get(&name) {
            Some(v) => out.push_str(v),
            None => unset.push(name.clone()),
        }
        Ok(i + 1 + name.len())
    }
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

    #[test]
    fn gotify_s_args_read_as_buildkit_reads_them() {
        // gotify/server's docker/Dockerfile: a comment-like ARG tail (BuildKit and the
        // classic builder declare `#`, `0`, `1` and `only` too) and pattern substitutions.
        let df = Dockerfile::parse(
            "ARG TARGETPLATFORM=linux/arm/v7\nARG D=${TARGETPLATFORM/\\//-}\nARG N=${D/arm\\/v7/arm-7}\nFROM gotify/build:1.22-${N}\nARG RUN_TESTS=0 # 0=never, 1=native only\n",
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(df.stages[0].image, "gotify/build:1.22-linux-arm-7");
    }

    #[test]
    fn pattern_operators_edit_values_as_buildkit_does() {
        // Seen in gotify/server's Dockerfile: `${TARGETPLATFORM/\//-}`.
        assert_eq!(
            edit_value("linux/arm/v7", "/\\//-").as_deref(),
            Some("linux-arm/v7")
        );
        assert_eq!(
            edit_value("linux/arm/v7", "//\\//-").as_deref(),
            Some("linux-arm-v7")
        );
        assert_eq!(
            edit_value("linux-arm/v7", "/arm\\/v7/arm-7").as_deref(),
            Some("linux-arm-7")
        );
        assert_eq!(edit_value("a.b.c", "#*.").as_deref(), Some("b.c"));
        assert_eq!(edit_value("a.b.c", "##*.").as_deref(), Some("c"));
        assert_eq!(edit_value("a.b.c", "%.*").as_deref(), Some("a.b"));
        assert_eq!(edit_value("a.b.c", "%%.*").as_deref(), Some("a"));
        assert_eq!(edit_value("v1.2", "/v/").as_deref(), Some("1.2"));
        assert_eq!(edit_value("abc", "/[bx]/_").as_deref(), Some("a_c"));
        assert_eq!(edit_value("abc", "?x").as_deref(), None);
    }

    #[test]
    fn a_quoted_from_image_is_one_word_without_its_quotes() {
        // 3 of 120 real Dockerfiles write `FROM alpine:"${ALPINE_TAG}"`; BuildKit removes
        // the quotes as it reads the word.
        let df = Dockerfile::parse(
            "ARG ALPINE_TAG=3.19\nFROM alpine:\"${ALPINE_TAG}\" AS base\nFROM 'busybox':1.36\n",
            &Default::default(),
        )
        .unwrap();
        assert_eq!(df.stages[0].image, "alpine:3.19");
        assert_eq!(df.stages[0].alias.as_deref(), Some("base"));
        assert_eq!(df.stages[1].image, "busybox:1.36");
    }

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
        // Such a name is no image reference: an error at its line, not a panic.
        let e = Dockerfile::parse("FROM baselv/wwwި\nRUN x\n", &BTreeMap::new()).unwrap_err();
        assert_eq!(e.line, 1);
        let df = parse("FROM a\nCOPY --from=é /x /x\n");
        assert_eq!(&df.text[df.copy_froms[0].span.clone()], "é");
        let out = df.rewrite(&[(df.copy_froms[0].span.clone(), "sha256:x".into())]);
        assert_eq!(out, "FROM a\nCOPY --from=sha256:x /x /x\n");
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

    #[test]
    fn heredocs_are_bodies_not_instructions() {
        let df = parse(
            "FROM a\nRUN <<EOF\napt-get update\napt-get install -y x\nEOF\nCOPY <<one <<-\"two\" /dst/\nfirst\none\n\t\tsecond $HOME\n\ttwo\nUSER 1000\n",
        );
        let kws: Vec<&str> = df.instructions.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(kws, ["FROM", "RUN", "COPY", "USER"]);
        let run = &df.instructions[1];
        assert_eq!(run.heredocs.len(), 1);
        assert_eq!(
            run.heredocs[0].body,
            "apt-get update\napt-get install -y x\n"
        );
        let copy = &df.instructions[2];
        assert_eq!(copy.heredocs[0].name, "one");
        assert_eq!(copy.heredocs[0].body, "first\n");
        assert_eq!(copy.heredocs[1].name, "two");
        assert!(copy.heredocs[1].quoted);
        // `<<-` strips leading tabs from the body and the delimiter line.
        assert_eq!(copy.heredocs[1].body, "second $HOME\n");
        assert_eq!(df.instructions[3].line, 11);
        assert!(
            df.features()
                .iter()
                .any(|f| f.line == 2 && f.needs == Needs::Frontend14)
        );
    }

    #[test]
    fn an_unclosed_heredoc_is_an_error_at_its_instruction() {
        let e = Dockerfile::parse("FROM a\nRUN <<EOF\necho\n", &BTreeMap::new()).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("never closed"), "{}", e.message);
        // A `<<` inside quotes is not a heredoc.
        let df = parse("FROM a\nRUN echo \"a <<b\"\nUSER 1\n");
        assert!(df.instructions[1].heredocs.is_empty());
    }

    #[test]
    fn quoted_arg_values_lose_their_quotes() {
        let df =
            parse("ARG V=\"3.24.1\" W='x y' Z=plain\nFROM alpine:${V}\nFROM busybox:${W:+1}${Z}\n");
        assert_eq!(df.stages[0].image, "alpine:3.24.1");
        assert_eq!(df.stages[1].image, "busybox:1plain");
    }

    #[test]
    fn the_automatic_platform_args_are_set() {
        let df = parse("FROM build_${TARGETARCH}\n");
        assert_eq!(
            df.stages[0].image,
            format!("build_{}", Platform::host().arch)
        );
        let arm = Platform::parse("linux/arm64/v8").unwrap();
        let df = Dockerfile::parse_for(
            "FROM --platform=$BUILDPLATFORM base:${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-}${TARGETVARIANT}\n",
            &BTreeMap::new(),
            &arm,
        )
        .unwrap();
        assert_eq!(df.stages[0].image, "base:linux-arm64-v8");
        assert_eq!(
            df.stages[0].platform.as_deref(),
            Some(Platform::host().to_string().as_str())
        );
    }

    #[test]
    fn expansion_operators_and_scoping() {
        let mut scope = BTreeMap::new();
        scope.insert("SET".to_string(), "v".to_string());
        scope.insert("EMPTY".to_string(), String::new());
        let x = |s: &str| expand(s, &scope).unwrap();
        assert_eq!(x("${SET:-d}").0, "v");
        assert_eq!(x("${EMPTY:-d}").0, "d");
        assert_eq!(x("${EMPTY-d}").0, "");
        assert_eq!(x("${NONE-d}").0, "d");
        assert_eq!(x("${SET:+alt}").0, "alt");
        assert_eq!(x("${EMPTY:+alt}").0, "");
        assert_eq!(x("${EMPTY+alt}").0, "alt");
        assert_eq!(x("a$NONE.b").1, ["NONE"]);
        assert!(expand("${NONE:?needs NONE}", &scope).is_err());
        // A global ARG is visible in a stage only when redeclared there.
        let df = parse(
            "ARG BASE=one\nFROM $BASE AS a\nARG BASE\nCOPY --from=${BASE} /x /x\nFROM scratch\nCOPY --from=${BASE:-none} /y /y\n",
        );
        assert_eq!(df.copy_froms[0].value, "one");
        assert_eq!(df.copy_froms[1].value, "none");
    }

    #[test]
    fn a_from_that_needs_an_unset_arg_names_it() {
        let e =
            Dockerfile::parse("ARG VERSION\nFROM repo:${VERSION}\n", &BTreeMap::new()).unwrap_err();
        assert_eq!(e.needs_arg.as_deref(), Some("VERSION"));
        assert_eq!(e.line, 2);
        // An empty default must not become an invalid reference.
        let e = Dockerfile::parse(
            "ARG DIGEST=\nFROM repo@sha256:${DIGEST}\n",
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert!(
            e.message.contains("not a valid image reference"),
            "{}",
            e.message
        );
        let mut args = BTreeMap::new();
        args.insert("VERSION".to_string(), "1.2".to_string());
        let df = Dockerfile::parse("ARG VERSION\nFROM repo:${VERSION}\n", &args).unwrap();
        assert_eq!(df.stages[0].image, "repo:1.2");
    }

    #[test]
    fn directives_onbuild_shell_and_flags() {
        let df = parse(
            "# syntax=docker/dockerfile:1.7\n# check=skip=all\n# escape=\\\nFROM a\nSHELL [\"/bin/bash\", \"-c\"]\nONBUILD RUN make\nRUN --mount=type=cache,target=/c --network=none make\nCOPY --chown=1:1 --chmod=755 --link --parents --exclude=*.md . /app\nADD --checksum=sha256:00 --keep-git-dir=true x /y\n",
        );
        assert_eq!(df.syntax, Some(("docker/dockerfile:1.7".to_string(), 1)));
        let kws: Vec<&str> = df.instructions.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(kws, ["FROM", "SHELL", "ONBUILD", "RUN", "COPY", "ADD"]);
        let needs: Vec<(String, Needs)> = df
            .features()
            .into_iter()
            .map(|f| (f.what, f.needs))
            .collect();
        assert!(needs.contains(&("`RUN --mount`".into(), Needs::BuildKit)));
        assert!(needs.contains(&("`COPY --chmod`".into(), Needs::BuildKit)));
        assert!(needs.contains(&("`COPY --link`".into(), Needs::Frontend14)));
        assert!(needs.contains(&("`ADD --checksum`".into(), Needs::Frontend14)));
    }
}
