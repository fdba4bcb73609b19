//! `dk import compose`: a resolved Compose project (`compose.rs`) written as a dk workspace,
//! or added to one without overwriting anything. Each service becomes
//! `containers/<name>/`: its build context copied (or a `FROM <image>` Dockerfile, pinned by
//! digest when the image is here), and a `container.toml` with every setting dk has. A
//! setting without a dk equivalent becomes a `# TODO(import): …` line in that manifest and
//! a line of the summary; values that came from variables or env files go to
//! `dk.local.toml` (a site's values, git-ignored), never into the manifest. dk's security
//! defaults apply unless the Compose file says otherwise, and the summary names what runs
//! differently.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::compose::{Node, Project, V};
use crate::error::{Error, Result};
use crate::net::Subnet;

/// One service's result.
#[derive(Debug, Default)]
pub struct Imported {
    pub service: String,
    pub node: String,
    /// What was written, workspace-relative.
    pub written: Vec<String>,
    /// `# TODO(import)` lines (without the prefix).
    pub todos: Vec<String>,
    /// What runs differently under dk, and why.
    pub differences: Vec<String>,
    /// Why it was not imported (it exists already).
    pub skipped: Option<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub services: Vec<Imported>,
    /// Files written besides the containers (dk.toml, baseline/, dk.local.toml).
    pub written: Vec<String>,
    /// What the summary says about the workspace as a whole (the networks' subnets).
    pub notes: Vec<String>,
    /// What `rollback` removes or restores.
    created: Vec<PathBuf>,
    restore: Vec<(PathBuf, Option<String>)>,
}

impl Report {
    /// Undo the import: remove what it created, put back what it appended to.
    pub fn rollback(&self) {
        for p in self.created.iter().rev() {
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(p)
            } else {
                std::fs::remove_file(p)
            };
        }
        for (p, old) in &self.restore {
            let _ = match old {
                Some(text) => std::fs::write(p, text),
                None => std::fs::remove_file(p),
            };
        }
    }
}

/// The images present locally, by reference, with their digest reference (when pushed or
/// pulled) — asked of the daemon by the caller.
pub type LocalDigests = BTreeMap<String, Option<String>>;

/// A service's node name: the service name, lowercased, `.` and `_` runs kept valid.
fn node_name(service: &str) -> String {
    let lower = service.to_ascii_lowercase();
    let mut out = String::new();
    for c in lower.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
            out.push(c);
        } else {
            out.push('-');
        }
    }
    out.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// A TOML value's inline text.
fn tv(v: impl Into<toml::Value>) -> String {
    v.into().to_string()
}

fn strs(v: &[String]) -> String {
    tv(toml::Value::Array(
        v.iter().map(|s| toml::Value::String(s.clone())).collect(),
    ))
}

fn inline_table(pairs: &[(String, String)]) -> String {
    let mut t = toml::map::Map::new();
    for (k, v) in pairs {
        t.insert(k.clone(), toml::Value::String(v.clone()));
    }
    tv(toml::Value::Table(t)).replace("\n", " ")
}

/// A Go duration (`1m30s`, `500ms`, `10s`) as dk writes one (`90s`, `500ms`).
fn duration(text: &str) -> Option<String> {
    let mut total_ms: f64 = 0.0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    if let Ok(n) = rest.parse::<f64>() {
        return Some(format!("{}s", n));
    }
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..num_end].parse().ok()?;
        let unit_end = rest[num_end..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .map(|e| num_end + e)
            .unwrap_or(rest.len());
        let mult = match &rest[num_end..unit_end] {
            "ns" => 1e-6,
            "us" | "µs" => 1e-3,
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            _ => return None,
        };
        total_ms += n * mult;
        rest = &rest[unit_end..];
    }
    Some(
        if total_ms.fract() == 0.0 && (total_ms as u64).is_multiple_of(1000) {
            format!("{}s", total_ms as u64 / 1000)
        } else {
            format!("{}ms", total_ms.round() as u64)
        },
    )
}

/// The Docker names of the project's own named volumes (`<project>_<name>`, or `name:`).
pub fn compose_volume_names(project: &Project) -> Vec<String> {
    project
        .top
        .get("volumes")
        .map(|v| {
            v.entries()
                .iter()
                .map(|(k, d)| {
                    d.get("name").and_then(Node::text).unwrap_or_else(|| {
                        if d.get("external").and_then(Node::as_bool) == Some(true) {
                            k.clone()
                        } else {
                            format!("{}_{k}", project.name)
                        }
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What one service becomes.
struct Plan<'a> {
    project: &'a Project,
    name: String,
    svc: &'a Node,
    todos: Vec<String>,
    differences: Vec<String>,
    top: Vec<String>,
    build: Vec<String>,
    run: Vec<String>,
    tables: Vec<String>,
    /// `tmpfs` and tmpfs volumes, written as one key.
    tmpfs: Vec<String>,
    /// Env values for dk.local.toml (site values).
    local_env: Vec<(String, String)>,
}

impl<'a> Plan<'a> {
    fn todo(&mut self, key: &str, node: &Node, why: &str) {
        self.todos.push(format!(
            "{key}: {} — {why} ({})",
            node.render(),
            self.project.at(node)
        ));
    }

    fn abs(&self, p: &str) -> PathBuf {
        resolve(&self.project.dir, p)
    }
}

/// A path of the Compose file as Compose reads it: absolute, `~/…`, or relative to the
/// file's directory `dir`.
fn resolve(dir: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else if let Some(home) = p.strip_prefix("~/") {
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(home)
    } else {
        dir.join(path)
    };
    std::fs::canonicalize(&joined).unwrap_or_else(|_| normalize(&joined))
}

/// A service's `build`: its context (and the node that says it, for file:line), and the
/// Dockerfile it names.
struct BuildOf<'a> {
    at: &'a Node,
    context: String,
    dockerfile: Option<String>,
}

impl BuildOf<'_> {
    fn of(b: &Node) -> BuildOf<'_> {
        match &b.v {
            V::Map(_) => BuildOf {
                at: b.get("context").unwrap_or(b),
                context: b
                    .get("context")
                    .and_then(Node::text)
                    .unwrap_or_else(|| ".".into()),
                dockerfile: b.get("dockerfile").and_then(Node::text),
            },
            _ => BuildOf {
                at: b,
                context: b.text().unwrap_or_else(|| ".".into()),
                dockerfile: None,
            },
        }
    }

    /// A git URL or another remote context: nothing here to copy.
    fn remote(&self) -> bool {
        self.context.contains("://") || self.context.starts_with("git@")
    }
}

/// `a/./b/../c` → `a/c`, without touching the filesystem.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_relative() {
        std::env::current_dir().map(|d| d.join(&out)).unwrap_or(out)
    } else {
        out
    }
}

/// Map one service. `volumes_here` says which Docker volumes exist (for Compose's own
/// `<project>_<name>` volumes: their data is kept by using them as they are).
fn plan_service<'a>(
    project: &'a Project,
    service: &str,
    svc: &'a Node,
    existing_volumes: &dyn Fn(&str) -> bool,
) -> Plan<'a> {
    let mut p = Plan {
        project,
        name: node_name(service),
        svc,
        todos: Vec::new(),
        differences: Vec::new(),
        top: Vec::new(),
        build: Vec::new(),
        run: Vec::new(),
        tables: Vec::new(),
        tmpfs: Vec::new(),
        local_env: Vec::new(),
    };
    if p.name != service {
        p.todos.push(format!(
            "service `{service}` is the node `{}` (dk's names are lowercase image names)",
            p.name
        ));
    }
    // Every Compose service starts with `docker compose up`.
    p.top.push("autostart = true".into());
    let mut read_only_set = false;
    let mut user_set = false;
    let mut caps_dropped_all = false;
    for (key, v) in svc.entries() {
        match key.as_str() {
            "image" | "build" | "profiles" | "extends" => {}
            "depends_on" => {
                let mut after = Vec::new();
                for (dep, n) in crate::compose::dependencies(v) {
                    after.push(node_name(&dep));
                    if let Some(c) = n.get("condition").and_then(Node::text) {
                        match c.as_str() {
                            "service_started" | "service_healthy" => {}
                            _ => p.todo(
                                &format!("depends_on.{dep}.condition"),
                                n,
                                "dk's start waves wait until a dependency runs (healthy, where it has a healthcheck), not until it completed",
                            ),
                        }
                    }
                }
                p.top.push(format!("after = {}", strs(&after)));
            }
            "command" | "entrypoint" => {
                let words = match &v.v {
                    V::Str(s) => crate::shell::split_words(s),
                    V::Seq(_) => v.strings(),
                    _ => Vec::new(),
                };
                p.run.push(format!("{key} = {}", strs(&words)));
            }
            "environment" => {
                let mut literal = Vec::new();
                for (k, val, n) in v.key_values() {
                    match val {
                        Some(val) if n.interpolated => p.local_env.push((k, val)),
                        Some(val) => literal.push((k, val)),
                        None => match std::env::var(&k) {
                            Ok(val) => p.local_env.push((k, val)),
                            Err(_) => p.todo(
                                &format!("environment.{k}"),
                                n,
                                "passed through from the shell by Compose, and not set here: set it in dk.local.toml",
                            ),
                        },
                    }
                }
                if !literal.is_empty() {
                    p.run.push(format!("env = {}", inline_table(&literal)));
                }
            }
            "env_file" => {
                let entries: Vec<(String, bool, &Node)> = match &v.v {
                    V::Seq(items) => items
                        .iter()
                        .map(|i| match &i.v {
                            V::Map(_) => (
                                i.get("path").and_then(Node::text).unwrap_or_default(),
                                i.get("required").and_then(Node::as_bool).unwrap_or(true),
                                i,
                            ),
                            _ => (i.text().unwrap_or_default(), true, i),
                        })
                        .collect(),
                    _ => vec![(v.text().unwrap_or_default(), true, v)],
                };
                for (file, required, n) in entries {
                    let path = p.abs(&file);
                    match std::fs::read_to_string(&path) {
                        Ok(text) => {
                            match crate::compose::parse_env_file(&text, &path, &p.project.vars) {
                                Ok(values) => p.local_env.extend(values),
                                Err(e) => p.todo("env_file", n, &e.to_string()),
                            }
                        }
                        Err(_) if !required => {}
                        Err(e) => p.todo("env_file", n, &format!("{} cannot be read ({e})", path.display())),
                    }
                }
            }
            "ports" => {
                let mut ports = Vec::new();
                for item in v.items() {
                    match port(item) {
                        Some(text) => ports.push(text),
                        None => p.todo(
                            "ports",
                            item,
                            "dk publishes fixed host ports (`[ip:]host:container[/proto]`): no random or ranged ones",
                        ),
                    }
                }
                if !ports.is_empty() {
                    p.run.push(format!("ports = {}", strs(&ports)));
                }
            }
            "volumes" => {
                for item in v.items() {
                    volume(&mut p, item, existing_volumes);
                }
            }
            "tmpfs" => p.tmpfs.extend(v.strings()),
            "healthcheck" => healthcheck(&mut p, v),
            "restart" => {
                let r = v.text().unwrap_or_default();
                let (policy, retries) = match r.split_once(':') {
                    Some((pol, n)) => (pol.to_string(), n.parse::<u32>().ok()),
                    None => (r.clone(), None),
                };
                match retries {
                    Some(n) => p.run.push(format!("restart = {{ policy = {}, max_retries = {n} }}", tv(policy))),
                    None => p.run.push(format!("restart = {{ policy = {} }}", tv(policy))),
                }
            }
            "user" => {
                let u = v.text().unwrap_or_default();
                user_set = true;
                if crate::launch::is_root_user(&u) {
                    p.run.push(format!(
                        "allow_root = {}",
                        tv(format!("imported from Compose: `user: {u}` ({})", project.at(v)))
                    ));
                    p.differences.push(format!(
                        "runs as root because the Compose file says `user: {u}`; dk asks why in `allow_root`: replace the reason, or better, run it as a user"
                    ));
                }
                p.run.push(format!("user = {}", tv(u)));
            }
            "cap_add" => p.run.push(format!("cap_add = {}", strs(&v.strings()))),
            "cap_drop" => {
                let caps = v.strings();
                if caps.iter().any(|c| c.eq_ignore_ascii_case("ALL")) {
                    caps_dropped_all = true;
                } else {
                    p.todos.push(format!(
                        "cap_drop: {} — dk drops every capability already; add back only what it needs with cap_add ({})",
                        v.render(),
                        project.at(v)
                    ));
                }
            }
            "read_only" => {
                read_only_set = true;
                p.run.push(format!("read_only = {}", v.as_bool().unwrap_or(false)));
            }
            "security_opt" => p.run.push(format!("security_opt = {}", strs(&v.strings()))),
            "sysctls" => {
                let pairs: Vec<(String, String)> = v
                    .key_values()
                    .into_iter()
                    .map(|(k, val, _)| (k, val.unwrap_or_default()))
                    .collect();
                p.run.push(format!("sysctls = {}", inline_table(&pairs)));
            }
            "ulimits" => {
                let mut parts = Vec::new();
                for (name, l) in v.entries() {
                    match &l.v {
                        V::Map(_) => parts.push(format!(
                            "{name} = {{ soft = {}, hard = {} }}",
                            l.get("soft").and_then(Node::text).unwrap_or_default(),
                            l.get("hard").and_then(Node::text).unwrap_or_default()
                        )),
                        _ => parts.push(format!("{name} = {}", l.text().unwrap_or_default())),
                    }
                }
                p.run.push(format!("ulimits = {{ {} }}", parts.join(", ")));
            }
            "devices" => p.run.push(format!("devices = {}", strs(&v.strings()))),
            "dns" => p.run.push(format!("dns = {}", strs(&v.strings()))),
            "dns_search" => p.run.push(format!("dns_search = {}", strs(&v.strings()))),
            "extra_hosts" => {
                let hosts: Vec<String> = match &v.v {
                    V::Map(m) => m
                        .iter()
                        .map(|(h, ip)| format!("{h}:{}", ip.text().unwrap_or_default()))
                        .collect(),
                    _ => v.strings().into_iter().map(|h| h.replacen('=', ":", 1)).collect(),
                };
                p.run.push(format!("extra_hosts = {}", strs(&hosts)));
            }
            "hostname" => p.run.push(format!("hostname = {}", tv(v.text().unwrap_or_default()))),
            "networks" => networks(&mut p, v),
            "network_mode" => match v.text().as_deref() {
                Some("none") => p.run.push("network = \"none\"".into()),
                Some("bridge") => p.todo(
                    key,
                    v,
                    "dk runs it on the workspace's live network (where the other containers reach it by name), not on Docker's default bridge",
                ),
                None => {}
                _ => p.todo(
                    key,
                    v,
                    "dk runs containers on the workspace's network; host, container: and service: modes have no dk equivalent",
                ),
            },
            "labels" => {
                let pairs: Vec<(String, String)> = v
                    .key_values()
                    .into_iter()
                    .map(|(k, val, _)| (k, val.unwrap_or_default()))
                    .collect();
                p.run.push(format!("labels = {}", inline_table(&pairs)));
            }
            "logging" => {
                let driver = v.get("driver").and_then(Node::text);
                let opts: Vec<(String, String)> = v
                    .get("options")
                    .map(|o| o.entries().iter().map(|(k, x)| (k.clone(), x.text().unwrap_or_default())).collect())
                    .unwrap_or_default();
                let mut parts = Vec::new();
                if let Some(d) = driver {
                    parts.push(format!("driver = {}", tv(if d == "json-file" { "json".to_string() } else { d })));
                }
                if !opts.is_empty() {
                    parts.push(format!("options = {}", inline_table(&opts)));
                }
                p.run.push(format!("log = {{ {} }}", parts.join(", ")));
            }
            "deploy" => deploy(&mut p, v),
            "mem_limit" => p.run.push(format!("memory = {}", tv(v.text().unwrap_or_default().to_ascii_lowercase()))),
            "cpus" => {
                if let Some(c) = v.text().and_then(|t| t.parse::<f64>().ok()) {
                    p.run.push(format!("cpus = {c:?}"));
                }
            }
            "pids_limit" => p.run.push(format!("pids = {}", v.text().unwrap_or_default())),
            "secrets" | "configs" => secrets(&mut p, key, v),
            "stop_signal" => p.run.push(format!("stop_signal = {}", tv(v.text().unwrap_or_default()))),
            "stop_grace_period" => match v.text().as_deref().and_then(duration) {
                Some(d) => p.run.push(format!("stop_timeout = {}", tv(d))),
                None => p.todo(key, v, "not a duration dk reads"),
            },
            "init" => p.run.push(format!("init = {}", v.as_bool().unwrap_or(false))),
            "working_dir" => p.run.push(format!("working_dir = {}", tv(v.text().unwrap_or_default()))),
            "tty" => p.run.push(format!("tty = {}", v.as_bool().unwrap_or(false))),
            "stdin_open" => p.run.push(format!("stdin_open = {}", v.as_bool().unwrap_or(false))),
            "shm_size" => p.run.push(format!("shm_size = {}", tv(v.text().unwrap_or_default().to_ascii_lowercase()))),
            "group_add" => p.run.push(format!("group_add = {}", strs(&v.strings()))),
            "userns_mode" if v.text().as_deref() == Some("host") => p.run.push("userns = \"host\"".into()),
            "privileged" if v.as_bool() == Some(true) => {
                p.todo(key, v, "dk never runs a privileged container; grant the capabilities and devices it needs instead");
                p.differences.push("not privileged (the Compose file asks for it): dk never runs privileged containers".into());
            }
            "container_name" => p.todo(key, v, "dk names containers <namespace>-<node>; other containers reach it by the node name"),
            "expose" => p.todo(key, v, "informational in Compose (the ports are reachable on the network anyway); EXPOSE them in the Dockerfile if the image does not"),
            "volumes_from" => p.todo(key, v, "dk shares data by mounts: give this container a `[[mount]]` with `from = \"<container>:<path>\"` for each directory it reads from the other"),
            _ => p.todo(key, v, "no dk equivalent"),
        }
    }
    if !p.tmpfs.is_empty() {
        let t = std::mem::take(&mut p.tmpfs);
        p.run.push(format!("tmpfs = {}", strs(&t)));
    }
    if !read_only_set {
        p.differences.push(
            format!("{READ_ONLY_NOTE} (dk's default; Compose: writable): if it writes outside its mounts, set `read_only = false` in [run] or mount what it writes"),
        );
    }
    if !caps_dropped_all {
        p.differences.push(
            "every capability is dropped, with no-new-privileges (dk's default; Compose keeps Docker's default set): add what it needs to `cap_add`".into(),
        );
    }
    if !user_set {
        p.differences.push(
            "it may not run as root: if its image's user is root, dk refuses to start it until you set `user` (or `allow_root` with the reason)".into(),
        );
    }
    if svc.get("restart").is_none() {
        p.differences.push(format!(
            "{RESTART_NOTE}, up to 5 times (dk's default; Compose: never)"
        ));
    }
    p
}

/// A Compose port as dk writes it, when dk can.
fn port(item: &Node) -> Option<String> {
    match &item.v {
        V::Map(_) => {
            let target = item.get("target")?.text()?;
            let published = item.get("published")?.text()?;
            if published.contains('-') || target.contains('-') {
                return None;
            }
            let ip = item
                .get("host_ip")
                .and_then(Node::text)
                .filter(|ip| !ip.is_empty());
            let proto = item.get("protocol").and_then(Node::text);
            let mut s = match ip {
                Some(ip) if ip.contains(':') => format!("[{ip}]:{published}:{target}"),
                Some(ip) => format!("{ip}:{published}:{target}"),
                None => format!("{published}:{target}"),
            };
            if let Some(p) = proto.filter(|p| p != "tcp") {
                s.push_str(&format!("/{p}"));
            }
            Some(s)
        }
        _ => {
            let t = item.text()?;
            // `:2283:2283` (an empty address: every address) is `2283:2283`.
            let t = match t.strip_prefix(':') {
                Some(rest) if rest.matches(':').count() == 1 => rest.to_string(),
                _ => t,
            };
            let body = t.split('/').next().unwrap_or(&t);
            let parts: Vec<&str> = if body.starts_with('[') {
                // [::1]:8080:80
                let close = body.find(']')?;
                let rest: Vec<&str> = body[close + 2..].split(':').collect();
                std::iter::once(&body[..=close]).chain(rest).collect()
            } else {
                body.split(':').collect()
            };
            let ok = parts.len() >= 2
                && parts[parts.len() - 2..]
                    .iter()
                    .all(|x| !x.is_empty() && !x.contains('-'));
            ok.then_some(t)
        }
    }
}

fn volume(p: &mut Plan<'_>, item: &Node, existing_volumes: &dyn Fn(&str) -> bool) {
    // Normalise short and long syntax to (type, source, target, read_only).
    let (typ, source, target, ro) = match &item.v {
        V::Map(_) => (
            item.get("type")
                .and_then(Node::text)
                .unwrap_or_else(|| "volume".into()),
            item.get("source").and_then(Node::text),
            item.get("target").and_then(Node::text).unwrap_or_default(),
            item.get("read_only")
                .and_then(Node::as_bool)
                .unwrap_or(false),
        ),
        _ => {
            let t = item.text().unwrap_or_default();
            let parts: Vec<&str> = t.split(':').collect();
            match parts.as_slice() {
                [target] => ("volume".to_string(), None, target.to_string(), false),
                [src, target, rest @ ..] => {
                    let ro = rest
                        .first()
                        .is_some_and(|o| o.split(',').any(|x| x == "ro"));
                    let typ =
                        if src.starts_with('/') || src.starts_with('.') || src.starts_with('~') {
                            "bind"
                        } else {
                            "volume"
                        };
                    (
                        typ.to_string(),
                        Some(src.to_string()),
                        target.to_string(),
                        ro,
                    )
                }
                _ => return p.todo("volumes", item, "not a volume dk reads"),
            }
        }
    };
    // Compose compares container paths without a trailing `/`; so does dk (`/data/` and
    // `/data` are one mount target).
    let target = match target.trim_end_matches('/') {
        "" => "/".to_string(),
        t => t.to_string(),
    };
    let kind = if ro { "ro" } else { "persistent" };
    match (typ.as_str(), source) {
        ("tmpfs", _) => p.tmpfs.push(target),
        ("bind", Some(src)) => {
            let host = p.abs(&src);
            let host_s = host.display().to_string();
            // A file or a socket (the Docker socket): a single-file mount.
            let is_file = host.exists() && !host.is_dir();
            let mut t = format!(
                "[[mount]]\nkind = {}\nhost = {}\ntarget = {}\n",
                tv(kind),
                tv(host_s.clone()),
                tv(target.clone())
            );
            if is_file {
                t.push_str("file = true\n");
            }
            if crate::manifest::exposes_host(&host_s) {
                t.push_str(&format!(
                    "allow = {}\n",
                    tv(format!(
                        "imported from Compose ({}): say why it needs this",
                        p.project.at(item)
                    ))
                ));
                p.differences.push(format!(
                    "it mounts {host_s}, which exposes the host: dk wants the reason in `allow`"
                ));
            }
            if !host.exists() {
                p.differences.push(format!(
                    "{host_s} does not exist: Compose would create it, dk never creates host paths (create it before `dk up`)"
                ));
            }
            p.tables.push(t);
        }
        ("volume", Some(name)) => {
            let declared = p.project.top.get("volumes").and_then(|v| v.get(&name));
            let external = declared
                .and_then(|d| d.get("external"))
                .and_then(Node::as_bool)
                == Some(true);
            let explicit_name = declared.and_then(|d| d.get("name")).and_then(Node::text);
            let compose_name = explicit_name.unwrap_or_else(|| {
                if external {
                    name.clone()
                } else {
                    format!("{}_{name}", p.project.name)
                }
            });
            let mut t = format!("[[mount]]\nkind = {}\n", tv(kind));
            if external || existing_volumes(&compose_name) {
                // Keep the data: use Compose's volume as it is.
                t.push_str(&format!(
                    "volume = {}\nexternal = true\n",
                    tv(compose_name.clone())
                ));
                p.todos.push(format!(
                    "volumes: {} is Compose's volume `{compose_name}`, used as it is so its data stays; dk will not create or remove it ({})",
                    name,
                    p.project.at(item)
                ));
            } else {
                t.push_str(&format!("volume = {}\n", tv(name)));
            }
            t.push_str(&format!("target = {}\n", tv(target)));
            p.tables.push(t);
        }
        ("volume", None) => p.todo(
            "volumes",
            item,
            "an anonymous volume: dk mounts named data only; give it a name or a data directory",
        ),
        _ => p.todo("volumes", item, "not a volume type dk has"),
    }
}

fn healthcheck(p: &mut Plan<'_>, v: &Node) {
    if v.get("disable").and_then(Node::as_bool) == Some(true) {
        return p.todo(
            "healthcheck.disable",
            v,
            "dk cannot switch off an image's own HEALTHCHECK",
        );
    }
    let Some(test) = v.get("test") else {
        return p.todo("healthcheck", v, "no test");
    };
    let command = match &test.v {
        V::Str(s) => vec!["CMD-SHELL".to_string(), s.clone()],
        _ => test.strings(),
    };
    if command.first().map(String::as_str) == Some("NONE") {
        return p.todo(
            "healthcheck.test",
            test,
            "dk cannot switch off an image's own HEALTHCHECK",
        );
    }
    let mut parts = vec![format!("command = {}", strs(&command))];
    for key in ["interval", "timeout", "start_period"] {
        if let Some(d) = v.get(key).and_then(Node::text) {
            match duration(&d) {
                Some(d) => parts.push(format!("{key} = {}", tv(d))),
                None => p.todo(&format!("healthcheck.{key}"), v, "not a duration dk reads"),
            }
        }
    }
    if let Some(r) = v.get("retries").and_then(Node::text) {
        parts.push(format!("retries = {r}"));
    }
    if let Some(si) = v.get("start_interval") {
        p.todo(
            "healthcheck.start_interval",
            si,
            "the daemon's API 1.41 has no start interval",
        );
    }
    p.run
        .push(format!("healthcheck = {{ {} }}", parts.join(", ")));
}

fn networks(p: &mut Plan<'_>, v: &Node) {
    let nets: Vec<(String, Option<&Node>)> = match &v.v {
        V::Seq(s) => s
            .iter()
            .filter_map(|n| n.text().map(|t| (t, None)))
            .collect(),
        V::Map(m) => m.iter().map(|(k, n)| (k.clone(), Some(n))).collect(),
        _ => Vec::new(),
    };
    if nets.len() > 1 {
        p.todo(
            "networks",
            v,
            "dk runs a workspace on one live network (others can be joined with [run] networks once they exist)",
        );
    }
    if let Some((_, Some(cfg))) = nets.first() {
        if let Some(a) = cfg.get("aliases") {
            p.run
                .push(format!("network_aliases = {}", strs(&a.strings())));
        }
        if let Some(ip) = cfg.get("ipv4_address").and_then(Node::text) {
            p.run.push(format!("ip = {}", tv(ip)));
        }
    }
}

fn deploy(p: &mut Plan<'_>, v: &Node) {
    for (k, x) in v.entries() {
        match k.as_str() {
            "resources" => {
                for (kind, r) in x.entries() {
                    if kind != "limits" {
                        p.todo(
                            &format!("deploy.resources.{kind}"),
                            r,
                            "dk sets limits, not reservations",
                        );
                        continue;
                    }
                    for (lk, lv) in r.entries() {
                        match lk.as_str() {
                            "cpus" => {
                                if let Some(c) = lv.text().and_then(|t| t.parse::<f64>().ok()) {
                                    p.run.push(format!("cpus = {c:?}"));
                                }
                            }
                            "memory" => p.run.push(format!(
                                "memory = {}",
                                tv(lv.text().unwrap_or_default().to_ascii_lowercase())
                            )),
                            "pids" => p
                                .run
                                .push(format!("pids = {}", lv.text().unwrap_or_default())),
                            _ => p.todo(
                                &format!("deploy.resources.limits.{lk}"),
                                lv,
                                "no dk equivalent",
                            ),
                        }
                    }
                }
            }
            _ => p.todo(
                &format!("deploy.{k}"),
                x,
                "Swarm settings: dk runs one container per node",
            ),
        }
    }
}

fn secrets(p: &mut Plan<'_>, key: &str, v: &Node) {
    for item in v.items() {
        let (source, target) = match &item.v {
            V::Map(_) => (
                item.get("source").and_then(Node::text).unwrap_or_default(),
                item.get("target").and_then(Node::text),
            ),
            _ => (item.text().unwrap_or_default(), None),
        };
        let def = p.project.top.get(key).and_then(|t| t.get(&source));
        let Some(file) = def.and_then(|d| d.get("file")).and_then(Node::text) else {
            p.todo(
                key,
                item,
                &format!("only {key} from a file become file mounts; this one comes from elsewhere (environment, content or external)"),
            );
            continue;
        };
        let host = p.abs(&file);
        let target = match (key, target) {
            (_, Some(t)) if t.starts_with('/') => t,
            ("secrets", Some(t)) => format!("/run/secrets/{t}"),
            ("secrets", None) => format!("/run/secrets/{source}"),
            (_, Some(t)) => format!("/{t}"),
            (_, None) => format!("/{source}"),
        };
        p.tables.push(format!(
            "[[mount]]\nkind = \"ro\"\nhost = {}\nfile = true\ntarget = {}\n",
            tv(host.display().to_string()),
            tv(target)
        ));
    }
}

/// The `container.toml` text of a plan.
fn manifest_text(p: &Plan<'_>, service: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported by `dk import compose` from {} (service `{service}`).",
        p.project.file(p.svc)
    );
    for t in &p.todos {
        let _ = writeln!(out, "# TODO(import): {t}");
    }
    out.push('\n');
    for l in &p.top {
        let _ = writeln!(out, "{l}");
    }
    if !p.build.is_empty() {
        out.push_str("\n[build]\n");
        for l in &p.build {
            let _ = writeln!(out, "{l}");
        }
    }
    if !p.run.is_empty() {
        out.push_str("\n[run]\n");
        for l in &p.run {
            let _ = writeln!(out, "{l}");
        }
    }
    for t in &p.tables {
        out.push('\n');
        out.push_str(t);
    }
    out
}

/// An external image written as the registry names it (`mongo` →
/// `docker.io/library/mongo`): in the node of a service named like its image, a bare name
/// would be the node itself (dk's graph rule), the qualified one never is.
fn qualified(image: &str) -> String {
    match crate::regclient::split_registry(image) {
        (Some(_), _) => image.to_string(),
        (None, _) if image.contains('/') => format!("docker.io/{image}"),
        (None, _) => format!("docker.io/library/{image}"),
    }
}

/// An image reference Docker would refuse: empty, or a name or tag left empty (what an
/// unset variable leaves: `frappe/erpnext:`).
fn broken_reference(image: &str) -> bool {
    let name = image.split('@').next().unwrap_or("");
    image.trim().is_empty()
        || image.ends_with(':')
        || image.ends_with('@')
        || name.is_empty()
        || name.starts_with(':')
        || name.starts_with('/')
        || name.contains("//")
        || name.contains(char::is_whitespace)
}

/// Every value a variable left broken — an image reference, a volume with an empty part
/// (`${DB_DATA_LOCATION}:/data` with the variable unset: the specification refuses the
/// empty section too) — named with the variable, the service and the key, before anything
/// is written (one error per root cause).
/// `: the variable X is not set` when the line of `node` uses variables that are unset.
fn unset_note(project: &Project, node: &Node) -> String {
    let unset = project.unset_on_line(node);
    if unset.is_empty() {
        String::new()
    } else {
        format!(
            ": the variable{} {} {} not set",
            if unset.len() > 1 { "s" } else { "" },
            unset.join(", "),
            if unset.len() > 1 { "are" } else { "is" }
        )
    }
}

fn check_broken_values(project: &Project) -> Result<()> {
    let mut problems = Vec::new();
    let unset_note = |node: &Node| unset_note(project, node);
    for (service, svc) in &project.services {
        if let Some(node) = svc.get("image")
            && let Some(image) = node.text()
            && broken_reference(&image)
        {
            problems.push(format!(
                "{}: services.{service}.image: `{image}` is not an image reference{}",
                project.at(node),
                unset_note(node)
            ));
        }
        for item in svc.get("volumes").map(Node::items).unwrap_or_default() {
            let Some(v) = (!matches!(item.v, V::Map(_)))
                .then(|| item.text())
                .flatten()
            else {
                continue;
            };
            if v.starts_with(':') || v.contains("::") || v.ends_with(':') || v.is_empty() {
                problems.push(format!(
                    "{}: services.{service}.volumes: `{v}` has an empty part{}",
                    project.at(item),
                    unset_note(item)
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::usage_help(
        problems.join("\n"),
        "set the variable in `.env` next to the Compose file, in the environment, or in a file given with --env-file (as `docker compose` reads them); nothing was written",
    ))
}

/// Every local build context is a directory holding its Dockerfile, before anything is
/// written: a missing one is an error at its service, key and file:line (the Compose file
/// names a context relative to its own directory, a Dockerfile relative to the context).
fn check_contexts(project: &Project) -> Result<()> {
    let mut problems = Vec::new();
    for (service, svc) in &project.services {
        let Some(b) = svc.get("build") else { continue };
        let build = BuildOf::of(b);
        if build.remote() {
            continue;
        }
        let dir = resolve(&project.dir, &build.context);
        if !dir.is_dir() {
            problems.push(format!(
                "{}: services.{service}.build.context: {} is not a directory",
                project.at(build.at),
                dir.display()
            ));
            continue;
        }
        // The Dockerfile, relative to the context (`dockerfile_inline` has none to copy).
        let dockerfile = normalize(&dir.join(build.dockerfile.as_deref().unwrap_or("Dockerfile")));
        if b.get("dockerfile_inline").is_none() && !dockerfile.is_file() {
            let key = if build.dockerfile.is_some() {
                "build.dockerfile"
            } else {
                "build.context"
            };
            problems.push(format!(
                "{}: services.{service}.{key}: {} is not a file{}",
                project.at(b.get("dockerfile").unwrap_or(build.at)),
                dockerfile.display(),
                unset_note(project, b.get("dockerfile").unwrap_or(build.at))
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::usage_help(
        problems.join("\n"),
        "fix the path in the Compose file (a context is relative to the file's directory, a Dockerfile to its context), or create what is missing; nothing was written",
    ))
}

/// Copy a build context into `to` (dk's own `.dk` and VCS directories left out, and the
/// workspace being written, `into`, when the context holds it: `context: .` with
/// `--into` a directory of the project).
fn copy_context(from: &Path, to: &Path, into: &Path) -> Result<usize> {
    let mut n = 0;
    let from = from
        .canonicalize()
        .map_err(|e| Error::io("read", from, e))?;
    let into = into
        .canonicalize()
        .map_err(|e| Error::io("read", into, e))?;
    let dest = to.canonicalize().map_err(|e| Error::io("read", to, e))?;
    // What the import writes is never copied into itself: the node directories, and the
    // whole workspace when it is a directory inside the context.
    let written = into.join("containers");
    let inside = into != from && into.starts_with(&from);
    let from = from.as_path();
    for e in walkdir::WalkDir::new(from)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| {
            let p = e.path();
            !(p.starts_with(&dest) || p.starts_with(&written) || (inside && p.starts_with(&into)))
        })
    {
        let e = e.map_err(|e| {
            Error::io(
                "walk",
                from,
                e.into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("a symlink loop")),
            )
        })?;
        let rel = e.path().strip_prefix(from).expect("under from");
        if rel
            .components()
            .next()
            .is_some_and(|c| matches!(c.as_os_str().to_str(), Some(".git" | ".dk")))
        {
            continue;
        }
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).map_err(|er| Error::io("create", &dest, er))?;
        } else if e.file_type().is_symlink() {
            let target =
                std::fs::read_link(e.path()).map_err(|er| Error::io("read", e.path(), er))?;
            std::os::unix::fs::symlink(&target, &dest)
                .map_err(|er| Error::io("create", &dest, er))?;
            n += 1;
        } else {
            std::fs::copy(e.path(), &dest).map_err(|er| Error::io("copy", e.path(), er))?;
            n += 1;
        }
    }
    Ok(n)
}

/// What the caller asks of the daemon, once: which images exist (with a digest reference)
/// and which volumes exist.
pub struct Here<'a> {
    pub images: &'a LocalDigests,
    pub volume_exists: &'a dyn Fn(&str) -> bool,
}

/// Write `project` into the workspace at `into` (created when it has no dk.toml).
pub fn write(project: &Project, into: &Path, here: &Here<'_>) -> Result<Report> {
    check_broken_values(project)?;
    check_contexts(project)?;
    let mut report = Report::default();
    let fresh = !into.join(crate::config::WORKSPACE_FILE).exists();
    std::fs::create_dir_all(into).map_err(|e| Error::io("create", into, e))?;
    if fresh {
        let ns = node_name(&project.name);
        let mut text = format!(
            "# Imported by `dk import compose` from {}.\n# id: this workspace's identity on Docker objects, the same from every checkout.\nid = {}\nnamespace = {}\n",
            project.files_shown(),
            tv(crate::workspace::new_workspace_id()?),
            tv(if ns.is_empty() {
                "compose".to_string()
            } else {
                ns
            })
        );
        if let Some((net, live, test)) = static_subnets(project) {
            text.push_str(&format!(
                "\n# Static addresses (ipv4_address) need the subnet of Compose's network `{net}`.\n[network.live]\nsubnet = {}\n# Tests mirror each static address into this subnet, which nothing in the\n# Compose file uses (dk refuses one that overlaps a network the daemon has).\n[network.test]\nsubnet = {}\n",
                tv(live.to_string()),
                tv(test.to_string())
            ));
            report.notes.push(format!(
                "dk.toml: the live network has Compose network `{net}`'s subnet {live} (static addresses need it); the test network gets {test}, which nothing in the Compose file uses"
            ));
        }
        write_new(&into.join(crate::config::WORKSPACE_FILE), &text)?;
        report
            .created
            .push(into.join(crate::config::WORKSPACE_FILE));
        report.written.push(crate::config::WORKSPACE_FILE.into());
    }
    if !into.join(crate::workspace::BASELINE).exists() {
        write_new(
            &into.join("baseline/Dockerfile"),
            "# A placeholder written by `dk import compose`: every dk workspace has a baseline that\n# containers may build on (`FROM baseline`); the imported ones do not use it yet.\n# Replace it with your own hardened base (docs/baseline.md).\nFROM scratch\n",
        )?;
        report.created.push(into.join(crate::workspace::BASELINE));
        report.written.push("baseline/Dockerfile".into());
    }
    let mut local = String::new();
    for (service, svc) in &project.services {
        let mut plan = plan_service(project, service, svc, here.volume_exists);
        let rel = format!("containers/{}", plan.name);
        let dir = into.join(&rel);
        let mut imported = Imported {
            service: service.clone(),
            node: plan.name.clone(),
            ..Default::default()
        };
        if dir.exists() {
            imported.skipped = Some(format!(
                "{rel}/ exists: not overwritten (import into another workspace, or remove it)"
            ));
            report.services.push(imported);
            continue;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        report.created.push(dir.clone());
        // The Dockerfile: the build context copied, or FROM the image.
        let build = svc.get("build");
        let image = svc.get("image").and_then(Node::text);
        match build {
            Some(b) => {
                let build = BuildOf::of(b);
                let remote = build.remote();
                let BuildOf {
                    context,
                    dockerfile,
                    ..
                } = build;
                if remote {
                    plan.todos.push(format!(
                        "build.context: {context} — a remote context: clone it into {rel}/ ({})",
                        project.at(b)
                    ));
                    write_new(
                        &dir.join("Dockerfile"),
                        &format!("# TODO(import): the build context is {context}\nFROM scratch\n"),
                    )?;
                } else {
                    let ctx = plan.abs(&context);
                    let files = copy_context(&ctx, &dir, into)?;
                    imported
                        .written
                        .push(format!("{rel}/ ({files} files from {})", ctx.display()));
                    if let Some(df) = dockerfile.filter(|d| d != "Dockerfile") {
                        let src = ctx.join(&df);
                        if dir.join("Dockerfile").exists() {
                            std::fs::rename(dir.join("Dockerfile"), dir.join("Dockerfile.orig"))
                                .map_err(|e| Error::io("rename", &dir, e))?;
                            plan.todos.push(format!("build.dockerfile: {df} is the Dockerfile now; the context's own Dockerfile is kept as Dockerfile.orig ({})", project.at(b)));
                        }
                        std::fs::copy(&src, dir.join("Dockerfile"))
                            .map_err(|e| Error::io("copy", &src, e))?;
                    }
                    if let Some(args) = b.get("args") {
                        let pairs: Vec<(String, String)> = args
                            .key_values()
                            .into_iter()
                            .map(|(k, v, _)| (k, v.unwrap_or_default()))
                            .collect();
                        plan.build.push(format!("args = {}", inline_table(&pairs)));
                    }
                    if let Some(t) = b.get("target").and_then(Node::text) {
                        plan.build.push(format!("target = {}", tv(t)));
                    }
                    for (k, x) in b.entries() {
                        if !matches!(k.as_str(), "context" | "dockerfile" | "args" | "target") {
                            plan.todos.push(format!(
                                "build.{k}: {} — no dk equivalent ({})",
                                x.render(),
                                project.at(x)
                            ));
                        }
                    }
                }
                if let Some(i) = &image {
                    plan.todos.push(format!("image: {i} — dk tags what it builds <namespace>/{}:latest, :live and :prev", plan.name));
                }
            }
            None => {
                let image = image.unwrap_or_default();
                let from = match here.images.get(&image) {
                    Some(Some(digest)) => {
                        format!("# {image}, pinned by the digest it has here\nFROM {digest}\n")
                    }
                    _ => {
                        plan.differences.push(format!(
                            "FROM {image} is not pinned by digest (the image is not here): pull it, then `dk lint` shows the digest to pin"
                        ));
                        format!("FROM {}\n", qualified(&image))
                    }
                };
                write_new(
                    &dir.join("Dockerfile"),
                    &format!(
                        "# Imported from Compose: the service runs this image as it is.\n{from}"
                    ),
                )?;
                imported.written.push(format!("{rel}/Dockerfile"));
            }
        }
        // The manifest's TODO lines are known only now.
        if !dir.join(".dockerignore").exists() {
            write_new(&dir.join(".dockerignore"), "container.toml\n")?;
        }
        write_new(
            &dir.join(crate::manifest::MANIFEST_FILE),
            &manifest_text(&plan, service),
        )?;
        imported.written.push(format!("{rel}/container.toml"));
        if !plan.local_env.is_empty() {
            let _ = writeln!(local, "\n[containers.{}]", plan.name);
            let _ = writeln!(local, "env = {}", inline_table(&plan.local_env));
        }
        imported.todos = plan.todos;
        imported.differences = plan.differences;
        report.services.push(imported);
    }
    if !local.is_empty() {
        let path = into.join(crate::local::LOCAL_FILE);
        let before = std::fs::read_to_string(&path).ok();
        report.restore.push((path.clone(), before.clone()));
        let mut text = before.unwrap_or_default();
        if text.is_empty() {
            text.push_str("# A site's values, imported from the Compose project's variables and env files.\n# Keep this file out of git.\n");
        }
        text.push_str(&local);
        crate::records::write_atomic(&path, text.as_bytes())?;
        report.written.push(format!(
            "{} (site values: never commit it)",
            crate::local::LOCAL_FILE
        ));
        let gi = into.join(".gitignore");
        let current = std::fs::read_to_string(&gi).ok();
        if let Some(t) = crate::workspace::gitignore_with(
            current.as_deref().unwrap_or_default(),
            crate::local::LOCAL_FILE,
        ) {
            report.restore.push((gi.clone(), current));
            crate::records::write_atomic(&gi, t.as_bytes())?;
        }
    }
    Ok(report)
}

/// Create `path` with `text`; an existing file is never overwritten.
fn write_new(path: &Path, text: &str) -> Result<()> {
    if path.exists() {
        return Err(Error::io(
            "create",
            path,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "it exists: dk import never overwrites",
            ),
        ));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| Error::io("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_names() {
        assert_eq!(duration("1m30s").as_deref(), Some("90s"));
        assert_eq!(duration("500ms").as_deref(), Some("500ms"));
        assert_eq!(duration("1h").as_deref(), Some("3600s"));
        assert_eq!(duration("10").as_deref(), Some("10s"));
        assert_eq!(duration("1x"), None);
        assert_eq!(node_name("My.App_1"), "my.app_1");
        assert_eq!(node_name("web"), "web");
    }
}

/// What `dk import compose` is asked to do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub files: Vec<PathBuf>,
    /// The workspace to write into (made when it does not exist).
    pub into: PathBuf,
    pub env_file: Option<PathBuf>,
    /// `--profile`, else `COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// An import that was written and loads.
#[derive(Debug)]
pub struct Done {
    pub report: Report,
    /// The Compose files, as shown to the user.
    pub files: String,
    pub root: PathBuf,
}

/// The Compose project of `opts` as dk resolves it (`dk import compose --config`): its name,
/// services and top-level elements, as JSON.
pub fn resolved(opts: &ImportOptions) -> Result<serde_json::Value> {
    let project = load_project(opts)?;
    let mut out = serde_json::Map::new();
    out.insert("name".into(), project.name.clone().into());
    let services: serde_json::Map<String, serde_json::Value> = project
        .services
        .iter()
        .map(|(name, svc)| (name.clone(), svc.to_json()))
        .collect();
    out.insert("services".into(), services.into());
    for (key, node) in &project.top {
        out.insert(key.clone(), node.to_json());
    }
    Ok(out.into())
}

fn load_project(opts: &ImportOptions) -> Result<crate::compose::Project> {
    let profiles = if opts.profiles.is_empty() {
        opts.env
            .get("COMPOSE_PROFILES")
            .map(|p| {
                p.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    } else {
        opts.profiles.clone()
    };
    crate::compose::load(&crate::compose::LoadOptions {
        files: opts.files.clone(),
        env_file: opts.env_file.clone(),
        profiles,
        env: opts.env.clone(),
    })
}

/// `dk import compose`: resolve the project, ask the daemon (when one answers) for the
/// digests of image-only services and for Compose's own volumes, write the workspace, and
/// keep it only when it loads (else every file written is removed and the load error is
/// returned).
pub async fn run(opts: &ImportOptions) -> Result<Done> {
    let project = load_project(opts)?;
    let mut images = LocalDigests::new();
    let mut volumes = std::collections::BTreeSet::new();
    if let Ok(reads) = crate::docker::Lookup::connect() {
        let bound = std::time::Duration::from_secs(3);
        for (_, svc) in &project.services {
            if svc.get("build").is_none()
                && let Some(image) = svc.get("image").and_then(Node::text)
                && let Ok(Ok(Some(facts))) =
                    tokio::time::timeout(bound, reads.inspect_image(&image)).await
            {
                images.insert(image, facts.repo_digests.into_iter().next());
            }
        }
        for name in compose_volume_names(&project) {
            if let Ok(Ok(true)) = tokio::time::timeout(bound, reads.volume_exists(&name)).await {
                volumes.insert(name);
            }
        }
    }
    let volume_exists = |n: &str| volumes.contains(n);
    let report = write(
        &project,
        &opts.into,
        &Here {
            images: &images,
            volume_exists: &volume_exists,
        },
    )?;
    // The result must load; if it does not, nothing of the import stays.
    let root = opts.into.canonicalize().unwrap_or(opts.into.clone());
    let loaded = crate::workspace::Workspace::load(&root, &Default::default())
        .and_then(|ws| crate::graph::Graph::build(&ws).map(|_| ws));
    let mut report = report;
    if let Ok(ws) = &loaded {
        for s in &mut report.services {
            if let Some(node) = ws.nodes.iter().find(|n| n.name == s.node) {
                as_the_workspace_runs_it(s, &node.run);
            }
        }
    }
    if let Err(e) = loaded {
        report.rollback();
        return Err(Error::usage_help(
            format!(
                "{}\nthe imported workspace does not load, so nothing was written",
                e.render()
            ),
            "fix the Compose file at the places above, or report what dk import got wrong",
        ));
    }
    Ok(Done {
        report,
        files: project.files_shown(),
        root,
    })
}

const READ_ONLY_NOTE: &str = "its root filesystem is read-only";
const RESTART_NOTE: &str = "it is restarted on failure";

/// The notes on dk's defaults said as the workspace resolves them (its dk.toml's
/// `[defaults]` may differ from dk's own): the read-only root and the restart policy.
fn as_the_workspace_runs_it(s: &mut Imported, run: &crate::config::Run) {
    let mut notes = Vec::new();
    for d in std::mem::take(&mut s.differences) {
        if d.starts_with(READ_ONLY_NOTE) {
            if run.read_only {
                notes.push(d);
            }
        } else if d.starts_with(RESTART_NOTE) {
            let policy = run.restart.policy.as_deref().unwrap_or("on-failure");
            if policy != "no" {
                notes.push(format!(
                    "it is restarted by the policy `{policy}`{} (this workspace's setting; Compose: never)",
                    run.restart
                        .max_retries
                        .filter(|_| policy == "on-failure")
                        .map(|n| format!(", up to {n} times"))
                        .unwrap_or_default()
                ));
            }
        } else {
            notes.push(d);
        }
    }
    s.differences = notes;
}

/// The subnet of the Compose network that holds the first static `ipv4_address`, and a
/// test subnet of the same size that no network of the file uses (in 10.0.0.0/8, from
/// the top).
fn static_subnets(project: &Project) -> Option<(String, Subnet, Subnet)> {
    let nets = project.top.get("networks");
    let subnet_of = |net: &str, ip: std::net::Ipv4Addr| -> Option<Subnet> {
        let ipam = nets?.get(net)?.get("ipam")?.get("config")?;
        ipam.items()
            .iter()
            .filter_map(|c| c.get("subnet")?.text()?.parse::<Subnet>().ok())
            .find(|s| s.contains(ip))
    };
    let (net, live) = project.services.iter().find_map(|(_, svc)| {
        svc.get("networks")?
            .entries()
            .iter()
            .find_map(|(net, cfg)| {
                let ip = cfg.get("ipv4_address")?.text()?.parse().ok()?;
                Some((net.clone(), subnet_of(net, ip)?))
            })
    })?;
    let taken: Vec<Subnet> = nets
        .map(|n| {
            n.entries()
                .iter()
                .flat_map(|(_, def)| {
                    def.get("ipam")
                        .and_then(|i| i.get("config"))
                        .map(|c| c.items().to_vec())
                        .unwrap_or_default()
                })
                .filter_map(|c| c.get("subnet")?.text()?.parse::<Subnet>().ok())
                .collect()
        })
        .unwrap_or_default();
    if live.prefix < 8 {
        return None;
    }
    let size = 1u64 << (32 - live.prefix);
    let ten = u64::from(u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0)));
    let blocks = (1u64 << 24) / size;
    let test = (0..blocks).rev().find_map(|k| {
        let candidate = Subnet {
            addr: std::net::Ipv4Addr::from((ten + k * size) as u32),
            prefix: live.prefix,
        };
        (!taken.iter().chain([&live]).any(|t| t.overlaps(&candidate))).then_some(candidate)
    })?;
    Some((net, live, test))
}
