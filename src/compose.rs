//! A Compose project, read the way `docker compose config` resolves it: YAML with anchors and
//! `<<` merge keys, `x-` fields, `${VAR}` interpolation (`:-`, `-`, `:?`, `?`, `:+`, `+`,
//! `$$`) from the environment over `.env`, several files merged in order, `extends`,
//! `profiles`; then checked against the compose-spec's keys and types (an unknown key, a wrong
//! type, a dependency that is not a service or a `depends_on` cycle is a definition error at
//! its file and line, with a suggestion for a near miss). `import.rs` turns the result into a
//! dk workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::error::{Diagnostic, Error, Result};

/// A YAML value with where it was written.
#[derive(Debug, Clone)]
pub struct Node {
    pub v: V,
    /// Index into `Project::files`.
    pub file: usize,
    pub line: usize,
    /// A string that came (in part) from a variable: a site's value, kept out of git.
    pub interpolated: bool,
}

#[derive(Debug, Clone)]
pub enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The value as JSON (numbers and booleans stay typed; a map keeps its keys).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.v {
            V::Null => serde_json::Value::Null,
            V::Bool(b) => (*b).into(),
            V::Int(i) => (*i).into(),
            V::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| f.to_string().into()),
            V::Str(s) => s.clone().into(),
            V::Seq(items) => items.iter().map(Node::to_json).collect(),
            V::Map(entries) => entries
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.v {
            V::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match &self.v {
            V::Map(m) => m,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.v {
            V::Seq(s) => s,
            _ => &[],
        }
    }

    /// A scalar as text (`8080`, `true`, `nginx:1`); None for null, lists and maps.
    pub fn text(&self) -> Option<String> {
        match &self.v {
            V::Str(s) => Some(s.clone()),
            V::Int(i) => Some(i.to_string()),
            V::Float(f) => Some(f.to_string()),
            V::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.v {
            V::Bool(b) => Some(*b),
            V::Str(s) if s == "true" => Some(true),
            V::Str(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// A string or a list of strings, as a list.
    pub fn strings(&self) -> Vec<String> {
        match &self.v {
            V::Seq(s) => s.iter().filter_map(Node::text).collect(),
            _ => self.text().into_iter().collect(),
        }
    }

    /// A mapping, or a list of `KEY=VALUE` (a bare `KEY` has no value), as pairs with the
    /// node each value came from.
    pub fn key_values(&self) -> Vec<(String, Option<String>, &Node)> {
        match &self.v {
            V::Map(m) => m.iter().map(|(k, v)| (k.clone(), v.text(), v)).collect(),
            V::Seq(s) => s
                .iter()
                .filter_map(|n| {
                    let t = n.text()?;
                    Some(match t.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string()), n),
                        None => (t, None, n),
                    })
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The value as compact YAML-ish text, for `# TODO(import)` lines.
    pub fn render(&self) -> String {
        match &self.v {
            V::Null => "null".into(),
            V::Str(s) => serde_json::to_string(s).expect("json"),
            V::Seq(s) => format!(
                "[{}]",
                s.iter().map(Node::render).collect::<Vec<_>>().join(", ")
            ),
            V::Map(m) => format!(
                "{{ {} }}",
                m.iter()
                    .map(|(k, v)| format!("{k}: {}", v.render()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => self.text().unwrap_or_default(),
        }
    }

    fn kind(&self) -> &'static str {
        match &self.v {
            V::Null => "null",
            V::Bool(_) => "a boolean",
            V::Int(_) | V::Float(_) => "a number",
            V::Str(_) => "a string",
            V::Seq(_) => "a list",
            V::Map(_) => "a mapping",
        }
    }
}

/// A resolved project.
#[derive(Debug)]
pub struct Project {
    pub name: String,
    /// The files read, in order (paths as given, for messages).
    pub files: Vec<PathBuf>,
    /// The directory relative paths are resolved against (the first file's).
    pub dir: PathBuf,
    /// Enabled services, in file order.
    pub services: Vec<(String, Node)>,
    pub top: BTreeMap<String, Node>,
    /// The variables values were interpolated with (environment, `.env`, `--env-file`).
    pub vars: BTreeMap<String, String>,
}

impl Project {
    /// The files read, for messages: `a.yaml, b.yaml`.
    pub fn files_shown(&self) -> String {
        self.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn file(&self, n: &Node) -> String {
        self.files
            .get(n.file)
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }

    /// `file:line` of a node.
    pub fn at(&self, n: &Node) -> String {
        format!("{}:{}", self.file(n), n.line)
    }

    /// The variables named on a node's line that are not set (`$X`, `${X}`; not those
    /// with a default or an error of their own): what an empty value came from.
    pub fn unset_on_line(&self, n: &Node) -> Vec<String> {
        let Some(line) = self
            .files
            .get(n.file)
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| t.lines().nth(n.line.saturating_sub(1)).map(str::to_string))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let bytes: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == '$' && bytes.get(i + 1) == Some(&'$') {
                i += 2;
                continue;
            }
            if bytes[i] != '$' {
                i += 1;
                continue;
            }
            let braced = bytes.get(i + 1) == Some(&'{');
            let start = i + 1 + usize::from(braced);
            let mut j = start;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == '_') {
                j += 1;
            }
            let name: String = bytes[start..j].iter().collect();
            let plain = !braced || bytes.get(j) == Some(&'}');
            if !name.is_empty()
                && plain
                && self.vars.get(&name).is_none_or(|v| v.is_empty())
                && !out.contains(&name)
            {
                out.push(name);
            }
            i = j.max(i + 1);
        }
        out
    }
}

/// What to read and with what.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub files: Vec<PathBuf>,
    /// `--env-file`: instead of `<dir>/.env`.
    pub env_file: Option<PathBuf>,
    /// Active profiles (`--profile`, else COMPOSE_PROFILES).
    pub profiles: Vec<String>,
    /// The environment (the process's, in use).
    pub env: BTreeMap<String, String>,
}

fn diag(files: &[PathBuf], file: usize, line: usize, msg: String) -> Diagnostic {
    Diagnostic::new(
        files
            .get(file)
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        msg,
    )
    .at_line(line)
}

/// Read, interpolate, merge, extend, filter and check a project.
pub fn load(opts: &LoadOptions) -> Result<Project> {
    let files: Vec<PathBuf> = if opts.files.is_empty() {
        [
            "compose.yaml",
            "compose.yml",
            "docker-compose.yml",
            "docker-compose.yaml",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .into_iter()
        .collect()
    } else {
        opts.files.clone()
    };
    let Some(first) = files.first() else {
        return Err(Error::usage_help(
            "no Compose file here",
            "name one: `dk import compose path/to/compose.yaml`",
        ));
    };
    let dir = first
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    // Variables: .env (or --env-file), then the environment over it.
    let mut vars = BTreeMap::new();
    let env_path = opts.env_file.clone().unwrap_or_else(|| dir.join(".env"));
    if env_path.exists() || opts.env_file.is_some() {
        let text =
            std::fs::read_to_string(&env_path).map_err(|e| Error::io("read", &env_path, e))?;
        vars.extend(parse_env_file(&text, &env_path, &opts.env)?);
    }
    vars.extend(opts.env.clone());

    let mut all_files = files.clone();
    let mut merged: Option<Node> = None;
    let mut diags = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let root = read_file(f, i, &vars, &mut diags)?;
        merged = Some(match merged {
            None => root,
            Some(base) => merge(base, root, &[]),
        });
    }
    if !diags.is_empty() {
        return Err(Error::Definition(diags));
    }
    let root = merged.expect("one file at least");
    check_top(&root, &all_files, &mut diags);
    if !diags.is_empty() {
        return Err(Error::Definition(diags));
    }
    let mut top: BTreeMap<String, Node> = root
        .entries()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let services_node = top.remove("services");
    let mut services: Vec<(String, Node)> = services_node
        .as_ref()
        .map(|s| s.entries().to_vec())
        .unwrap_or_default();

    // extends
    let mut resolved = Vec::new();
    for (name, svc) in &services {
        let mut seen = vec![name.clone()];
        match extend(svc.clone(), &services, &mut all_files, &vars, &mut seen) {
            Ok(n) => resolved.push((name.clone(), n)),
            Err(d) => diags.push(d),
        }
    }
    if !diags.is_empty() {
        return Err(Error::Definition(diags));
    }
    services = resolved;
    for (name, svc) in &services {
        check_service(name, svc, &all_files, &mut diags);
    }
    if !diags.is_empty() {
        return Err(Error::Definition(diags));
    }

    // profiles
    let active: BTreeSet<&str> = opts.profiles.iter().map(String::as_str).collect();
    let enabled = |svc: &Node| {
        let p = svc.get("profiles").map(Node::strings).unwrap_or_default();
        p.is_empty() || p.iter().any(|x| active.contains(x.as_str()))
    };
    let names: BTreeSet<String> = services.iter().map(|(n, _)| n.clone()).collect();
    let enabled_names: BTreeSet<String> = services
        .iter()
        .filter(|(_, s)| enabled(s))
        .map(|(n, _)| n.clone())
        .collect();
    for (name, svc) in services.iter().filter(|(_, s)| enabled(s)) {
        if let Some(d) = svc.get("depends_on") {
            for (dep, n) in dependencies(d) {
                if !names.contains(&dep) {
                    let mut dg = diag(
                        &all_files,
                        n.file,
                        n.line,
                        format!("services.{name}.depends_on: `{dep}` is not a service"),
                    );
                    if let Some(s) =
                        crate::tomlfile::suggest(&dep, names.iter().map(String::as_str))
                    {
                        dg = dg.help(format!("did you mean `{s}`?"));
                    }
                    diags.push(dg);
                } else if !enabled_names.contains(&dep) {
                    diags.push(
                        diag(
                            &all_files,
                            n.file,
                            n.line,
                            format!("services.{name}.depends_on: `{dep}` is only in a profile that is not active"),
                        )
                        .help("activate it: --profile <name>"),
                    );
                }
            }
        }
    }
    if let Some(cycle) = dependency_cycle(&services) {
        let (name, n) = &cycle[0];
        diags.push(
            diag(
                &all_files,
                n.file,
                n.line,
                format!(
                    "services.{name}.depends_on: a cycle: {}",
                    cycle
                        .iter()
                        .map(|(s, _)| s.as_str())
                        .chain(std::iter::once(cycle[0].0.as_str()))
                        .collect::<Vec<_>>()
                        .join(" → ")
                ),
            )
            .help("a service cannot wait for itself; remove one of these dependencies"),
        );
    }
    if !diags.is_empty() {
        return Err(Error::Definition(diags));
    }
    let name = top
        .get("name")
        .and_then(Node::text)
        .or_else(|| opts.env.get("COMPOSE_PROJECT_NAME").cloned())
        .unwrap_or_else(|| {
            std::fs::canonicalize(&dir)
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
                .unwrap_or_else(|| "compose".into())
        });
    for (_, svc) in &mut services {
        if let V::Map(keys) = &mut svc.v {
            for (key, node) in keys.iter_mut() {
                match key.as_str() {
                    "environment" => resolve_bare_keys(node, true, |k| vars.get(k).cloned()),
                    // A label given by name alone is an empty one.
                    "labels" => resolve_bare_keys(node, false, |_| Some(String::new())),
                    _ => {}
                }
            }
        }
    }
    Ok(Project {
        name,
        files: all_files,
        dir,
        services: services.into_iter().filter(|(_, s)| enabled(s)).collect(),
        top,
        vars,
    })
}

/// Entries given by name alone (`- FLAGD_HOST`, `FLAGD_HOST:`) of a list or map of
/// `KEY=VALUE`s, given the value `value_of` has for them, as Compose resolves them: an
/// `environment` entry from the variables (the environment over `.env`; one set nowhere
/// stays bare), a label as the empty string. A value from a variable is the site's.
fn resolve_bare_keys(
    node: &mut Node,
    from_variables: bool,
    value_of: impl Fn(&str) -> Option<String>,
) {
    match &mut node.v {
        V::Seq(items) => {
            for item in items {
                if let V::Str(k) = &item.v
                    && !k.contains('=')
                    && let Some(value) = value_of(k)
                {
                    item.interpolated |= from_variables;
                    item.v = V::Str(format!("{k}={value}"));
                }
            }
        }
        V::Map(entries) => {
            for (k, item) in entries {
                if matches!(item.v, V::Null)
                    && let Some(value) = value_of(k)
                {
                    item.interpolated |= from_variables;
                    item.v = V::Str(value);
                }
            }
        }
        _ => {}
    }
}

/// `.env` and `env_file`: `KEY=VALUE` lines (quotes removed, `#` comments, `export `
/// allowed, `KEY` alone taken from the environment). A value
/// unquoted or in double quotes is interpolated, as Compose does, with the environment
/// first and then the lines above it (`B=${A}/x`); in single quotes it is literal.
pub fn parse_env_file(
    text: &str,
    path: &Path,
    environment: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    // What a value may name: the environment, then the lines above (the environment wins).
    let mut known = environment.clone();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = t.strip_prefix("export ").unwrap_or(t);
        let Some((k, v)) = t.split_once('=') else {
            // A name alone takes its value from the environment (skipped when unset).
            if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                if let Some(v) = environment.get(t) {
                    out.insert(t.to_string(), v.clone());
                }
                continue;
            }
            return Err(Error::definition(
                Diagnostic::new(
                    path.display().to_string(),
                    format!("`{t}` is not KEY=VALUE"),
                )
                .at_line(i + 1),
            ));
        };
        let v = v.trim();
        let v = if v.starts_with('\'') && v.ends_with('\'') && v.len() >= 2 {
            v[1..v.len() - 1].to_string()
        } else {
            let raw = if v.starts_with('"') && v.ends_with('"') && v.len() >= 2 {
                &v[1..v.len() - 1]
            } else {
                v.split(" #").next().unwrap_or(v).trim_end()
            };
            interpolate(raw, &known)
                .map_err(|e| {
                    Error::definition(
                        Diagnostic::new(path.display().to_string(), format!("{k}: {e}"))
                            .at_line(i + 1),
                    )
                })?
                .0
        };
        let k = k.trim().to_string();
        if !environment.contains_key(&k) {
            known.insert(k.clone(), v.clone());
        }
        out.insert(k, v);
    }
    Ok(out)
}

/// A file's root node, interpolated.
fn read_file(
    path: &Path,
    index: usize,
    vars: &BTreeMap<String, String>,
    diags: &mut Vec<Diagnostic>,
) -> Result<Node> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    // Only a file saphyr refuses is read relaxed (and then only if that reads).
    let docs = MarkedYaml::load_from_str(&text)
        .or_else(|e| match relax_flow_indentation(&text) {
            std::borrow::Cow::Owned(relaxed) => MarkedYaml::load_from_str(&relaxed).map_err(|_| e),
            std::borrow::Cow::Borrowed(_) => Err(e),
        })
        .map_err(|e| {
            Error::definition(
                Diagnostic::new(
                    path.display().to_string(),
                    format!("not valid YAML: {}", e.info()),
                )
                .at(e.marker().line(), e.marker().col() + 1),
            )
        })?;
    let Some(doc) = docs.into_iter().next() else {
        return Ok(Node {
            v: V::Map(Vec::new()),
            file: index,
            line: 1,
            interpolated: false,
        });
    };
    let files = vec![path.to_path_buf()];
    let node = convert(&doc, index, vars, &files, diags, &[]);
    if !matches!(node.v, V::Map(_)) {
        diags.push(diag(
            &files,
            0,
            node.line,
            format!("the top level must be a mapping, not {}", node.kind()),
        ));
    }
    Ok(node)
}

/// Lines inside a flow collection (`[…]`, `{…}`) indented less than the line it opened
/// on, indented to one more: Compose's YAML reader (go-yaml, like PyYAML) accepts them,
/// saphyr's strict reading of the spec does not (`command: ["a",\n  "b"]`, a `]` closing on
/// a less indented line). Only leading spaces change, so every line keeps its number.
fn relax_flow_indentation(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut need = 0usize;
    let mut changed = false;
    let (mut single, mut double) = (false, false);
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let blank = line.trim().is_empty();
        if depth > 0 && !blank && indent < need && !single && !double {
            out.push_str(&" ".repeat(need - indent));
            changed = true;
        }
        if depth == 0 {
            need = indent + 1;
        }
        out.push_str(line);
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' if !double => {
                    // '' inside a single-quoted scalar is an escaped quote.
                    if single && chars.peek() == Some(&'\'') {
                        chars.next();
                    } else if single || depth > 0 || prev == ' ' || prev == '[' || prev == ',' {
                        single = !single;
                    }
                }
                '"' if !single
                    && (double || depth > 0 || prev == ' ' || prev == '[' || prev == ',') =>
                {
                    double = !double;
                }
                '\\' if double => {
                    chars.next();
                }
                '#' if !single && !double && (prev == ' ' || prev == '\t') => break,
                '[' | '{' if !single && !double => depth += 1,
                ']' | '}' if !single && !double => depth = depth.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
    }
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// saphyr's node to ours: `<<` merge keys applied, strings interpolated (an interpolation
/// error under an `x-` key is not reported: those fields are never used, only merged in
/// elsewhere, where they are interpolated again). `path` is the key path, for messages.
fn convert(
    y: &MarkedYaml,
    file: usize,
    vars: &BTreeMap<String, String>,
    files: &[PathBuf],
    diags: &mut Vec<Diagnostic>,
    path: &[String],
) -> Node {
    let line = y.span.start.line();
    let mut interpolated = false;
    let v = match &y.data {
        YamlData::Value(s) => match s {
            Scalar::Null => V::Null,
            Scalar::Boolean(b) => V::Bool(*b),
            Scalar::Integer(i) => V::Int(*i),
            Scalar::FloatingPoint(f) => V::Float(f.into_inner()),
            Scalar::String(s) => {
                let extension = path.iter().any(|k| k.starts_with("x-"));
                match interpolate(s, vars) {
                    Ok((out, used)) => {
                        interpolated = used;
                        V::Str(out)
                    }
                    Err(_) if extension => V::Str(s.to_string()),
                    Err(e) => {
                        diags.push(diag(files, 0, line, format!("{}: {e}", path.join("."))).help(
                            "set the variable in the environment or in .env, or give a default: ${VAR:-default}",
                        ));
                        V::Str(s.to_string())
                    }
                }
            }
        },
        YamlData::Sequence(s) => V::Seq(
            s.iter()
                .enumerate()
                .map(|(i, n)| {
                    let mut p = path.to_vec();
                    p.push(format!("[{i}]"));
                    convert(n, file, vars, files, diags, &p)
                })
                .collect(),
        ),
        YamlData::Mapping(m) => {
            let mut out: Vec<(String, Node)> = Vec::new();
            let mut merges: Vec<Node> = Vec::new();
            for (k, v) in m {
                let key = match &k.data {
                    YamlData::Value(s) => match s {
                        Scalar::String(s) => s.to_string(),
                        Scalar::Integer(i) => i.to_string(),
                        Scalar::Boolean(b) => b.to_string(),
                        Scalar::FloatingPoint(f) => f.to_string(),
                        Scalar::Null => "null".into(),
                    },
                    _ => {
                        diags.push(diag(
                            files,
                            0,
                            k.span.start.line(),
                            format!("{}: a key must be a string", path.join(".")),
                        ));
                        continue;
                    }
                };
                let mut p = path.to_vec();
                p.push(key.clone());
                let value = convert(v, file, vars, files, diags, &p);
                if key == "<<" {
                    match value.v {
                        V::Map(_) => merges.push(value),
                        V::Seq(s) => merges.extend(s),
                        _ => diags.push(diag(
                            files,
                            0,
                            value.line,
                            "a `<<` merge needs a mapping or a list of them".into(),
                        )),
                    }
                } else if out.iter().any(|(x, _)| *x == key) {
                    diags.push(diag(
                        files,
                        0,
                        k.span.start.line(),
                        format!("{}: the key is given twice", p.join(".")),
                    ));
                } else {
                    out.push((key, value));
                }
            }
            // Explicit keys win over merged ones; earlier merges over later ones.
            for m in merges {
                for (k, v) in m.entries() {
                    if !out.iter().any(|(x, _)| x == k) {
                        out.push((k.clone(), v.clone()));
                    }
                }
            }
            V::Map(out)
        }
        YamlData::Tagged(_, inner) => return convert(inner, file, vars, files, diags, path),
        _ => V::Null,
    };
    Node {
        v,
        file,
        line,
        interpolated,
    }
}

/// Compose's interpolation. Returns the text and whether a variable was used.
pub fn interpolate(
    s: &str,
    vars: &BTreeMap<String, String>,
) -> std::result::Result<(String, bool), String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut used = false;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some('{') => {
                // The matching brace, nested ones counted.
                let mut depth = 0;
                let mut j = i + 1;
                while j < chars.len() {
                    match chars[j] {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(format!("`{s}`: `${{` is not closed"));
                }
                let inner: String = chars[i + 2..j].iter().collect();
                out.push_str(&braced(&inner, vars, s)?);
                used = true;
                i = j + 1;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let name: String = chars[i + 1..j].iter().collect();
                out.push_str(vars.get(&name).map(String::as_str).unwrap_or(""));
                used = true;
                i = j;
            }
            // Neither a name nor a brace (`$2a$14$…`, a lone `$`): kept as written, as the
            // specification says ("Interpolation") and `docker compose` does.
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Ok((out, used))
}

/// `${…}`: a name, then an optional operator and word (itself interpolated).
fn braced(
    inner: &str,
    vars: &BTreeMap<String, String>,
    whole: &str,
) -> std::result::Result<String, String> {
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "`{whole}`: `${{{inner}}}` does not name a variable"
        ));
    }
    let rest = &inner[name_end..];
    let value = vars.get(name);
    let set = value.is_some();
    let nonempty = value.is_some_and(|v| !v.is_empty());
    let word = |w: &str| interpolate(w, vars).map(|(t, _)| t);
    let (op, w) = [":-", ":?", ":+", "-", "?", "+"]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|w| (*op, w)))
        .unwrap_or(("", rest));
    if op.is_empty() && !rest.is_empty() {
        return Err(format!(
            "`{whole}`: `{rest}` in `${{{inner}}}` is not an operator (:-, -, :?, ?, :+, +)"
        ));
    }
    Ok(match op {
        "" => value.cloned().unwrap_or_default(),
        ":-" => {
            if nonempty {
                value.cloned().unwrap_or_default()
            } else {
                word(w)?
            }
        }
        "-" => {
            if set {
                value.cloned().unwrap_or_default()
            } else {
                word(w)?
            }
        }
        ":?" if !nonempty => {
            return Err(format!(
                "required variable {name} is missing a value: {}",
                word(w)?
            ));
        }
        "?" if !set => {
            return Err(format!(
                "required variable {name} is missing a value: {}",
                word(w)?
            ));
        }
        ":?" | "?" => value.cloned().unwrap_or_default(),
        ":+" => {
            if nonempty {
                word(w)?
            } else {
                String::new()
            }
        }
        _ => {
            if set {
                word(w)?
            } else {
                String::new()
            }
        }
    })
}

/// Keys whose lists are replaced, not appended, when files or `extends` merge.
const REPLACED: [&str; 5] = [
    "command",
    "entrypoint",
    "test",
    "profiles",
    "healthcheck.test",
];

/// `over` merged onto `base`, the compose-spec way: mappings key by key, `environment` and
/// `labels` as mappings, `volumes`/`secrets`/`configs` by target, other lists appended
/// without duplicates, scalars and `command`/`entrypoint` replaced.
fn merge(base: Node, over: Node, path: &[String]) -> Node {
    let key = path.last().map(String::as_str).unwrap_or("");
    match (base.v, over.v) {
        (V::Map(mut b), V::Map(o)) => {
            for (k, v) in o {
                let mut p = path.to_vec();
                p.push(k.clone());
                match b.iter().position(|(x, _)| *x == k) {
                    Some(i) => {
                        let old = b.remove(i).1;
                        b.insert(i, (k, merge(old, v, &p)));
                    }
                    None => b.push((k, v)),
                }
            }
            Node {
                v: V::Map(b),
                ..over_meta(over.file, over.line, over.interpolated)
            }
        }
        (b @ V::Seq(_), o @ V::Seq(_))
        | (b @ V::Map(_), o @ V::Seq(_))
        | (b @ V::Seq(_), o @ V::Map(_))
            if matches!(
                key,
                "environment" | "labels" | "extra_hosts" | "sysctls" | "annotations"
            ) =>
        {
            let b = Node {
                v: b,
                file: base.file,
                line: base.line,
                interpolated: false,
            };
            let o = Node {
                v: o,
                file: over.file,
                line: over.line,
                interpolated: false,
            };
            let mut map: Vec<(String, Node)> = Vec::new();
            for n in [&b, &o] {
                for (k, v, src) in n.key_values() {
                    let value = Node {
                        v: v.map(V::Str).unwrap_or(V::Null),
                        ..src.clone()
                    };
                    match map.iter().position(|(x, _)| *x == k) {
                        Some(i) => map[i].1 = value,
                        None => map.push((k, value)),
                    }
                }
            }
            Node {
                v: V::Map(map),
                ..over_meta(over.file, over.line, false)
            }
        }
        (V::Seq(b), V::Seq(o)) if !REPLACED.contains(&key) => {
            let by_target = matches!(key, "volumes" | "secrets" | "configs");
            let mut out = b;
            for item in o {
                let target = |n: &Node| -> Option<String> {
                    match &n.v {
                        V::Map(_) => n.get("target").and_then(Node::text),
                        _ => n.text().map(|t| {
                            let parts: Vec<&str> = t.split(':').collect();
                            if key == "volumes" && parts.len() >= 2 {
                                parts[1].to_string()
                            } else {
                                t
                            }
                        }),
                    }
                };
                let existing = if by_target {
                    target(&item).and_then(|t| {
                        out.iter()
                            .position(|x| target(x).as_deref() == Some(t.as_str()))
                    })
                } else {
                    out.iter().position(|x| x.render() == item.render())
                };
                match existing {
                    Some(i) => out[i] = item,
                    None => out.push(item),
                }
            }
            Node {
                v: V::Seq(out),
                ..over_meta(over.file, over.line, false)
            }
        }
        (_, o) => Node {
            v: o,
            file: over.file,
            line: over.line,
            interpolated: over.interpolated,
        },
    }
}

fn over_meta(file: usize, line: usize, interpolated: bool) -> Node {
    Node {
        v: V::Null,
        file,
        line,
        interpolated,
    }
}

/// A service with its `extends` chain applied.
fn extend(
    svc: Node,
    services: &[(String, Node)],
    files: &mut Vec<PathBuf>,
    vars: &BTreeMap<String, String>,
    seen: &mut Vec<String>,
) -> std::result::Result<Node, Diagnostic> {
    let Some(ext) = svc.get("extends").cloned() else {
        return Ok(svc);
    };
    let (base_name, base_file) = match &ext.v {
        V::Str(s) => (s.clone(), None),
        V::Map(_) => (
            ext.get("service").and_then(Node::text).unwrap_or_default(),
            ext.get("file").and_then(Node::text),
        ),
        _ => {
            return Err(diag(
                files,
                ext.file,
                ext.line,
                "extends: a service name or { service, file }".into(),
            ));
        }
    };
    let base = match base_file {
        None => services
            .iter()
            .find(|(n, _)| *n == base_name)
            .map(|(_, s)| s.clone())
            .ok_or_else(|| {
                diag(
                    files,
                    ext.file,
                    ext.line,
                    format!("extends: `{base_name}` is not a service"),
                )
            })?,
        Some(f) => {
            let from_dir = files[ext.file]
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let path = from_dir.join(&f);
            let index = files.len();
            files.push(path.clone());
            let mut d = Vec::new();
            let root = read_file(&path, index, vars, &mut d).map_err(|e| {
                diag(
                    files,
                    ext.file,
                    ext.line,
                    format!("extends.file {f}: {}", e.render()),
                )
            })?;
            if let Some(first) = d.into_iter().next() {
                return Err(first);
            }
            root.get("services")
                .and_then(|s| s.get(&base_name))
                .cloned()
                .ok_or_else(|| {
                    diag(
                        files,
                        ext.file,
                        ext.line,
                        format!("extends: {f} has no service `{base_name}`"),
                    )
                })?
        }
    };
    if seen.contains(&base_name) {
        return Err(diag(
            files,
            ext.file,
            ext.line,
            format!("extends: a cycle through `{base_name}`"),
        ));
    }
    seen.push(base_name);
    let base = extend(base, services, files, vars, seen)?;
    let mut merged = merge(base, svc, &[]);
    if let V::Map(m) = &mut merged.v {
        m.retain(|(k, _)| k != "extends");
    }
    Ok(merged)
}

/// The services `depends_on` names (list or mapping), with their nodes.
pub fn dependencies(d: &Node) -> Vec<(String, &Node)> {
    match &d.v {
        V::Seq(s) => s.iter().filter_map(|n| n.text().map(|t| (t, n))).collect(),
        V::Map(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
        _ => Vec::new(),
    }
}

fn dependency_cycle(services: &[(String, Node)]) -> Option<Vec<(String, Node)>> {
    let deps = |name: &str| -> Vec<(String, Node)> {
        services
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, s)| s.get("depends_on"))
            .map(|d| {
                dependencies(d)
                    .into_iter()
                    .map(|(n, x)| (n, x.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    fn visit(
        name: &str,
        stack: &mut Vec<(String, Node)>,
        done: &mut BTreeSet<String>,
        deps: &dyn Fn(&str) -> Vec<(String, Node)>,
    ) -> Option<Vec<(String, Node)>> {
        if done.contains(name) {
            return None;
        }
        for (dep, at) in deps(name) {
            if let Some(start) = stack.iter().position(|(n, _)| *n == dep) {
                let mut cycle = stack[start..].to_vec();
                cycle.push((name.to_string(), at));
                // Report it at the edge that closes it, named by its service.
                let closing = cycle.pop().expect("one edge");
                let mut out = vec![(closing.0.clone(), closing.1)];
                out.extend(cycle.into_iter().skip(1));
                return Some(out);
            }
            stack.push((name.to_string(), at.clone()));
            if dep != name
                && let Some(c) = visit(&dep, stack, done, deps)
            {
                return Some(c);
            }
            stack.pop();
            if dep == name {
                return Some(vec![(name.to_string(), at)]);
            }
        }
        done.insert(name.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for (name, _) in services {
        let mut stack = Vec::new();
        if let Some(c) = visit(name, &mut stack, &mut done, &deps) {
            return Some(c);
        }
    }
    None
}

/// The types the compose-spec gives keys.
#[derive(Debug, Clone, Copy)]
enum T {
    Str,
    Bool,
    Int,
    /// A number or a string (`cpus: 0.5`, `mem_limit: 512m`).
    Num,
    StrOrList,
    List,
    Map,
    /// A mapping or a list of `KEY=VALUE`.
    ListOrMap,
    /// A string or a mapping with these keys.
    StrOr(&'static [(&'static str, T)]),
    Obj(&'static [(&'static str, T)]),
    /// A list of strings or of mappings with these keys.
    ListOf(&'static [(&'static str, T)]),
    Any,
}

const TOP: &[(&str, T)] = &[
    ("version", T::Any),
    ("name", T::Str),
    ("services", T::Map),
    ("networks", T::Map),
    ("volumes", T::Map),
    ("secrets", T::Map),
    ("configs", T::Map),
    ("include", T::List),
];

const BUILD: &[(&str, T)] = &[
    ("context", T::Str),
    ("dockerfile", T::Str),
    ("dockerfile_inline", T::Str),
    ("args", T::ListOrMap),
    ("target", T::Str),
    ("labels", T::ListOrMap),
    ("cache_from", T::List),
    ("cache_to", T::List),
    ("network", T::Str),
    ("shm_size", T::Num),
    ("extra_hosts", T::ListOrMap),
    ("ssh", T::ListOrMap),
    ("secrets", T::List),
    ("platforms", T::List),
    ("tags", T::List),
    ("pull", T::Bool),
    ("no_cache", T::Bool),
    ("isolation", T::Str),
    ("privileged", T::Bool),
    ("additional_contexts", T::ListOrMap),
    ("ulimits", T::Map),
];

const HEALTHCHECK: &[(&str, T)] = &[
    ("test", T::StrOrList),
    ("interval", T::Str),
    ("timeout", T::Str),
    ("retries", T::Int),
    ("start_period", T::Str),
    ("start_interval", T::Str),
    ("disable", T::Bool),
];

const LOGGING: &[(&str, T)] = &[("driver", T::Str), ("options", T::Map)];

const RESOURCES: &[(&str, T)] = &[("limits", T::Map), ("reservations", T::Map)];

const DEPLOY: &[(&str, T)] = &[
    ("mode", T::Str),
    ("replicas", T::Int),
    ("resources", T::Obj(RESOURCES)),
    ("restart_policy", T::Map),
    ("placement", T::Map),
    ("update_config", T::Map),
    ("rollback_config", T::Map),
    ("labels", T::ListOrMap),
    ("endpoint_mode", T::Str),
];

const PORT: &[(&str, T)] = &[
    ("target", T::Num),
    ("published", T::Num),
    ("host_ip", T::Str),
    ("protocol", T::Str),
    ("mode", T::Str),
    ("name", T::Str),
    ("app_protocol", T::Str),
];

const VOLUME: &[(&str, T)] = &[
    ("type", T::Str),
    ("source", T::Str),
    ("target", T::Str),
    ("read_only", T::Bool),
    ("consistency", T::Str),
    ("bind", T::Map),
    ("volume", T::Map),
    ("tmpfs", T::Map),
];

const SECRET_REF: &[(&str, T)] = &[
    ("source", T::Str),
    ("target", T::Str),
    ("uid", T::Str),
    ("gid", T::Str),
    ("mode", T::Num),
];

const SERVICE: &[(&str, T)] = &[
    ("build", T::StrOr(BUILD)),
    ("image", T::Str),
    ("command", T::StrOrList),
    ("entrypoint", T::StrOrList),
    ("environment", T::ListOrMap),
    ("env_file", T::Any),
    ("ports", T::ListOf(PORT)),
    ("expose", T::List),
    ("volumes", T::ListOf(VOLUME)),
    ("tmpfs", T::StrOrList),
    ("depends_on", T::Any),
    ("healthcheck", T::Obj(HEALTHCHECK)),
    ("restart", T::Str),
    ("user", T::Str),
    ("cap_add", T::List),
    ("cap_drop", T::List),
    ("read_only", T::Bool),
    ("security_opt", T::List),
    ("sysctls", T::ListOrMap),
    ("ulimits", T::Map),
    ("devices", T::List),
    ("dns", T::StrOrList),
    ("dns_search", T::StrOrList),
    ("dns_opt", T::List),
    ("extra_hosts", T::ListOrMap),
    ("hostname", T::Str),
    ("domainname", T::Str),
    ("networks", T::Any),
    ("network_mode", T::Str),
    ("labels", T::ListOrMap),
    ("logging", T::Obj(LOGGING)),
    ("deploy", T::Obj(DEPLOY)),
    ("secrets", T::ListOf(SECRET_REF)),
    ("configs", T::ListOf(SECRET_REF)),
    ("stop_signal", T::Str),
    ("stop_grace_period", T::Str),
    ("init", T::Bool),
    ("privileged", T::Bool),
    ("pid", T::Str),
    ("ipc", T::Str),
    ("working_dir", T::Str),
    ("tty", T::Bool),
    ("stdin_open", T::Bool),
    ("shm_size", T::Num),
    ("group_add", T::List),
    ("mem_limit", T::Num),
    ("memswap_limit", T::Num),
    ("mem_reservation", T::Num),
    ("cpus", T::Num),
    ("cpu_shares", T::Num),
    ("cpuset", T::Str),
    ("pids_limit", T::Num),
    ("platform", T::Str),
    ("container_name", T::Str),
    ("profiles", T::List),
    ("links", T::List),
    ("external_links", T::List),
    ("extends", T::Any),
    ("pull_policy", T::Str),
    ("userns_mode", T::Str),
    ("cgroup_parent", T::Str),
    ("isolation", T::Str),
    ("oom_kill_disable", T::Bool),
    ("oom_score_adj", T::Int),
    ("runtime", T::Str),
    ("scale", T::Int),
    ("storage_opt", T::Map),
    ("mac_address", T::Str),
    ("annotations", T::ListOrMap),
    ("attach", T::Bool),
    ("develop", T::Map),
    ("post_start", T::List),
    ("pre_stop", T::List),
    // The rest of the specification's service elements: read, and imported as TODO lines.
    ("volumes_from", T::List),
    ("uts", T::Str),
    ("use_api_socket", T::Bool),
    ("blkio_config", T::Map),
    ("credential_spec", T::Map),
    ("device_cgroup_rules", T::List),
    ("cpu_count", T::Any),
    ("cpu_percent", T::Any),
    ("cpu_period", T::Any),
    ("cpu_quota", T::Any),
    ("cpu_rt_runtime", T::Any),
    ("cpu_rt_period", T::Any),
    ("mem_swappiness", T::Any),
    ("gpus", T::Any),
    ("label_file", T::Any),
    ("models", T::Any),
    ("provider", T::Map),
];

fn check_top(root: &Node, files: &[PathBuf], diags: &mut Vec<Diagnostic>) {
    check_keys(root, TOP, "", files, diags);
    if root.get("services").is_none() {
        diags.push(diag(
            files,
            0,
            1,
            "no `services:`: nothing to import".into(),
        ));
    }
    if let Some(inc) = root.get("include") {
        diags.push(
            diag(
                files,
                inc.file,
                inc.line,
                "include: not supported by dk import".into(),
            )
            .help("name the included files after the main one: `dk import compose a.yaml b.yaml`"),
        );
    }
}

fn check_service(name: &str, svc: &Node, files: &[PathBuf], diags: &mut Vec<Diagnostic>) {
    if !matches!(svc.v, V::Map(_)) {
        diags.push(diag(
            files,
            svc.file,
            svc.line,
            format!("services.{name}: must be a mapping, not {}", svc.kind()),
        ));
        return;
    }
    check_keys(svc, SERVICE, &format!("services.{name}"), files, diags);
    if svc.get("image").is_none() && svc.get("build").is_none() {
        diags.push(
            diag(
                files,
                svc.file,
                svc.line,
                format!("services.{name}: has neither `image` nor `build`"),
            )
            .help("give one: dk builds every container from a Dockerfile"),
        );
    }
}

fn check_keys(
    node: &Node,
    schema: &[(&str, T)],
    path: &str,
    files: &[PathBuf],
    diags: &mut Vec<Diagnostic>,
) {
    for (k, v) in node.entries() {
        let key_path = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        if k.starts_with("x-") {
            continue;
        }
        match schema.iter().find(|(s, _)| s == k) {
            None => {
                let mut d = diag(files, v.file, v.line, format!("{key_path}: unknown key"));
                if let Some(s) = crate::tomlfile::suggest(k, schema.iter().map(|(s, _)| *s)) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
            }
            Some((_, t)) => check_type(v, *t, &key_path, files, diags),
        }
    }
}

fn check_type(v: &Node, t: T, path: &str, files: &[PathBuf], diags: &mut Vec<Diagnostic>) {
    let scalar = matches!(v.v, V::Str(_) | V::Int(_) | V::Float(_) | V::Bool(_));
    let ok = match t {
        T::Any => true,
        T::Str => matches!(v.v, V::Str(_) | V::Int(_) | V::Float(_)),
        T::Bool => v.as_bool().is_some(),
        T::Int => matches!(v.v, V::Int(_)) || v.text().is_some_and(|s| s.parse::<i64>().is_ok()),
        T::Num => matches!(v.v, V::Str(_) | V::Int(_) | V::Float(_)),
        T::StrOrList => scalar || matches!(v.v, V::Seq(_)),
        T::List => matches!(v.v, V::Seq(_)),
        T::Map => matches!(v.v, V::Map(_)),
        T::ListOrMap => matches!(v.v, V::Seq(_) | V::Map(_)),
        T::StrOr(sub) => {
            if let V::Map(_) = v.v {
                check_keys(v, sub, path, files, diags);
            }
            scalar || matches!(v.v, V::Map(_))
        }
        T::Obj(sub) => {
            if let V::Map(_) = v.v {
                check_keys(v, sub, path, files, diags);
            }
            matches!(v.v, V::Map(_))
        }
        T::ListOf(sub) => {
            for (i, item) in v.items().iter().enumerate() {
                if let V::Map(_) = item.v {
                    check_keys(item, sub, &format!("{path}[{i}]"), files, diags);
                }
            }
            matches!(v.v, V::Seq(_))
        }
    };
    if !ok {
        let want = match t {
            T::Str => "a string",
            T::Bool => "a boolean (true or false)",
            T::Int => "an integer",
            T::Num => "a number or a string",
            T::StrOrList => "a string or a list",
            T::List | T::ListOf(_) => "a list",
            T::Map | T::Obj(_) => "a mapping",
            T::ListOrMap => "a mapping or a list of KEY=VALUE",
            T::StrOr(_) => "a string or a mapping",
            T::Any => "anything",
        };
        diags.push(diag(
            files,
            v.file,
            v.line,
            format!("{path}: must be {want}, not {}", v.kind()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_collections_closing_less_indented_are_read_as_compose_reads_them() {
        let text = "services:\n  web:\n    command: [\"a\",\n  \"b\"]\n    healthcheck:\n      test:\n        [\n          \"CMD\",\n          # a comment ]\n          \"true\",\n      ]\n";
        let relaxed = relax_flow_indentation(text);
        assert_eq!(relaxed.lines().count(), text.lines().count());
        assert!(relaxed.contains("\n     \"b\"]\n"), "{relaxed}");
        assert!(relaxed.contains("\n         ]\n"), "{relaxed}");
        assert!(MarkedYaml::load_from_str(&relaxed).is_ok());
        // Nothing to relax: the same text.
        let plain = "a: [1, 2]\nb: 'x]'\n";
        assert!(matches!(
            relax_flow_indentation(plain),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_env_file_interpolates_as_compose_reads_it() {
        // opentelemetry-demo's .env: `OTEL_RESOURCE_ATTRIBUTES=service.namespace=${OTEL_SERVICE_NAMESPACE},…`.
        let text =
            "A=1\nB=${A}/x\nC=\"${B} ${HOME_X:-d}\"\nD='${A}'\nE=${SHELL_ONLY}\nSHELL_ONLY\nF\n";
        let env = vars(&[("SHELL_ONLY", "s"), ("A", "env")]);
        let got = parse_env_file(text, Path::new(".env"), &env).unwrap();
        assert_eq!(got["A"], "1");
        assert_eq!(got["B"], "env/x", "the environment comes first");
        assert_eq!(got["C"], "env/x d");
        assert_eq!(got["D"], "${A}", "single quotes are literal");
        assert_eq!(got["E"], "s");
        assert_eq!(
            got["SHELL_ONLY"], "s",
            "a name alone is taken from the environment"
        );
        assert!(
            !got.contains_key("F"),
            "and skipped when it is not set there"
        );
        assert!(parse_env_file("not a line\n", Path::new(".env"), &env).is_err());
    }

    #[test]
    fn interpolation_as_compose_does_it() {
        let v = vars(&[("A", "1"), ("E", "")]);
        let i = |s: &str| interpolate(s, &v).map(|(t, _)| t);
        assert_eq!(i("x$A ${A}y").unwrap(), "x1 1y");
        assert_eq!(i("${E:-d} ${E-d} ${N:-d} ${N-d}").unwrap(), "d  d d");
        assert_eq!(i("${A:+on} ${E:+on} ${E+on} ${N+on}").unwrap(), "on  on ");
        assert_eq!(i("${N:-${A}}").unwrap(), "1");
        assert_eq!(i("$$A").unwrap(), "$A");
        // A `$` before neither a name nor a brace stays (stefanprodan/dockprom's bcrypt hash).
        assert_eq!(i("${N:-$2a$14$1l.Io}").unwrap(), "$2a$14$1l.Io");
        assert_eq!(i("cost $ 5 $").unwrap(), "cost $ 5 $");
        assert!(
            i("${E:?must be set}")
                .unwrap_err()
                .contains("required variable E")
        );
        assert_eq!(i("${E?must be set}").unwrap(), "");
        assert!(i("${A").is_err());
        assert!(interpolate("plain", &v).is_ok_and(|(_, used)| !used));
    }
}
