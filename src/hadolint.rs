//! The Hadolint rules dk implements, with Hadolint's ids and semantics (version 2.15.1):
//! which instructions each looks at, in which stages, with what state from earlier
//! instructions, and its `ONBUILD` variant where Hadolint has one. Shell lines are read
//! with `shell.rs`. `tests/dk/hadolint_diff.rs` holds dk to it on generated Dockerfiles.
//!
//! Rules judged on more than the file live in `lint.rs`, under dk's own ids where they see
//! more than Hadolint (DK-ROOT: the user of the final image, inherited from parent nodes;
//! DK-LATEST/DK-NOTAG: ARG-expanded and `COPY --from` images; DL3006/DL3007: literal FROMs).

use std::collections::{BTreeSet, HashMap};

use crate::dockerfile::{Dockerfile, Instruction};
use crate::shell::{self, Command, Script};

/// A finding: rule id, 1-based line, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: &'static str,
    pub line: usize,
    pub message: &'static str,
    pub help: &'static str,
}

/// The ids this module implements.
pub const RULES: [&str; 19] = [
    "DL3002", "DL3003", "DL3004", "DL3008", "DL3009", "DL3013", "DL3015", "DL3016", "DL3018",
    "DL3019", "DL3020", "DL3025", "DL3027", "DL3042", "DL3047", "DL3059", "DL3064", "DL4001",
    "DL4006",
];

/// One instruction as the rules see it: `ONBUILD X` unwrapped (with `onbuild` set).
struct Ins<'a> {
    keyword: String,
    args: &'a str,
    line: usize,
    onbuild: bool,
}

fn view(ins: &Instruction) -> Ins<'_> {
    if ins.keyword == "ONBUILD" {
        let a = ins.args.trim_start();
        let end = a.find(char::is_whitespace).unwrap_or(a.len());
        return Ins {
            keyword: a[..end].to_ascii_uppercase(),
            args: a[end..].trim_start(),
            line: ins.line,
            onbuild: true,
        };
    }
    Ins {
        keyword: ins.keyword.clone(),
        args: &ins.args,
        line: ins.line,
        onbuild: false,
    }
}

/// The leading `--flag=value` options of `args`, and the rest.
fn split_flags(args: &str) -> (Vec<(String, String)>, &str) {
    let mut flags = Vec::new();
    let mut rest = args.trim_start();
    while let Some(after) = rest.strip_prefix("--") {
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let (k, v) = after[..end].split_once('=').unwrap_or((&after[..end], ""));
        flags.push((k.to_ascii_lowercase(), v.to_string()));
        rest = after[end..].trim_start();
    }
    (flags, rest)
}

/// A RUN's shell text: the shell form as written, the exec form joined with spaces.
fn run_text(rest: &str) -> String {
    let r = rest.trim();
    if r.starts_with('[')
        && let Ok(v) = serde_json::from_str::<Vec<String>>(r)
    {
        return v.join(" ");
    }
    r.to_string()
}

/// A `--mount` of type cache or tmpfs whose target contains `frag`.
fn cache_mount_with(flags: &[(String, String)], frag: &str) -> bool {
    flags.iter().filter(|(k, _)| k == "mount").any(|(_, v)| {
        let opts: HashMap<&str, &str> = v.split(',').filter_map(|kv| kv.split_once('=')).collect();
        let typ = opts.get("type").copied().unwrap_or("bind");
        let target = ["target", "dst", "destination"]
            .iter()
            .find_map(|k| opts.get(k))
            .copied()
            .unwrap_or("");
        (typ == "cache" || typ == "tmpfs") && target.contains(frag)
    })
}

/// `ENV` pairs: `K=v …` (quotes removed) or the legacy `K v`.
pub fn env_pairs(args: &str) -> Vec<(String, String)> {
    let a = args.trim();
    let first = a.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let rest = a[first.len()..].trim();
        return vec![(first.to_string(), unquote(rest))];
    }
    let words = crate::shell::split_words(a);
    words
        .into_iter()
        .filter_map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn unquote(s: &str) -> String {
    crate::shell::split_words(s).join(" ")
}

/// The findings of the rules of `RULES` on `df`.
/// The script of a RUN whose only arguments are here-document markers (`<<EOF`,
/// `<<-EOF`, `<<"EOF"`): their bodies, in order.
fn heredoc_script(raw: &Instruction, rest: &str) -> Option<String> {
    if raw.heredocs.is_empty()
        || !rest
            .split_whitespace()
            .all(|w| w.starts_with("<<") && w.len() > 2)
    {
        return None;
    }
    Some(raw.heredocs.iter().map(|h| h.body.as_str()).collect())
}

const ROOT_MESSAGE: &str = "the last USER of this stage is root";
const ROOT_HELP: &str = "switch to a non-root user (`USER <name>`) after the steps that need root";

pub fn check(df: &Dockerfile) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut hit = |rule: &'static str, line: usize, message: &'static str, help: &'static str| {
        hits.push(Hit {
            rule,
            line,
            message,
            help,
        })
    };

    // Per-stage state: DL4001 (curl and wget), DL4006 (pipefail), DL3042 (ENV
    // PIP_NO_CACHE_DIR), DL3009 (apt lists per stage), DL3059 (consecutive RUNs).
    let mut fetchers: BTreeSet<u8> = BTreeSet::new();
    let mut pipefail = false;
    let mut stage_key: Option<String> = None;
    let mut no_cache: HashMap<Option<String>, bool> = HashMap::new();
    let mut apt_forgot: Vec<(usize, usize)> = Vec::new(); // (line, stage)
    let mut last_run: Option<(Vec<(String, String)>, usize)> = None;
    let mut aliases: Vec<(usize, Option<String>, String)> = Vec::new(); // (stage, alias, image)
    // ONBUILD instructions are a stream of their own in Hadolint (no FROM ever resets it).
    let mut onbuild_fetchers: BTreeSet<u8> = BTreeSet::new();
    let mut onbuild_no_cache = false;

    // DL3002: the last USER of each stage, when it is root (Hadolint judges every stage).
    let mut stage_user: Option<(usize, String)> = None;
    let root_user = |u: &Option<(usize, String)>| {
        u.as_ref()
            .filter(|(_, user)| !user.is_empty() && crate::launch::is_root_user(user))
            .map(|(line, _)| *line)
    };

    for raw in &df.instructions {
        let ins = view(raw);
        if !ins.onbuild {
            if ins.keyword == "FROM" {
                if let Some(line) = root_user(&stage_user) {
                    hit("DL3002", line, ROOT_MESSAGE, ROOT_HELP);
                }
                stage_user = None;
            } else if ins.keyword == "USER" {
                let user = ins.args.split_whitespace().next().unwrap_or("").to_string();
                stage_user = Some((ins.line, user));
            }
        }
        // DL3059: any instruction but RUN (and comments, which are not instructions here)
        // ends a run of RUNs. ONBUILD RUN counts as neither.
        if ins.keyword != "RUN" || ins.onbuild {
            last_run = None;
        }
        match ins.keyword.as_str() {
            "FROM" if !ins.onbuild => {
                fetchers.clear();
                pipefail = false;
                let stage = raw.stage.and_then(|s| df.stages.get(s));
                let image = stage.map(|s| s.image_raw.clone()).unwrap_or_default();
                let alias = stage.and_then(|s| s.alias.clone());
                let image_name = image_name(&image);
                // Keyed by alias, else image name; a stage built on an earlier one inherits
                // its ENV PIP_NO_CACHE_DIR.
                let key = alias.clone().unwrap_or_else(|| image_name.clone());
                let inherited = no_cache
                    .get(&Some(image_name.clone()))
                    .copied()
                    .unwrap_or(false);
                no_cache.insert(Some(key.clone()), inherited);
                stage_key = Some(key);
                if let Some(s) = stage {
                    aliases.push((s.index, alias, image_name));
                }
            }
            "SHELL" if !ins.onbuild => {
                let text = run_text(ins.args);
                if ["pwsh", "powershell", "cmd"]
                    .iter()
                    .any(|p| text.starts_with(p))
                {
                    pipefail = true;
                } else {
                    let s = shell::parse(&text);
                    pipefail = s.commands.iter().any(|c| {
                        ["/bin/bash", "/bin/zsh", "/bin/ash", "bash", "zsh", "ash"]
                            .contains(&c.name.as_str())
                            && c.has_flag("o")
                            && c.has_arg("pipefail")
                    });
                }
            }
            "ENV" => {
                let pairs = env_pairs(ins.args);
                if pairs
                    .iter()
                    .any(|(k, v)| k == "PIP_NO_CACHE_DIR" && TRUTHY.contains(&v.as_str()))
                {
                    if ins.onbuild {
                        onbuild_no_cache = true;
                    } else {
                        no_cache.insert(stage_key.clone(), true);
                    }
                }
            }
            _ => {}
        }
        match ins.keyword.as_str() {
            "RUN" => {
                let (flags, rest) = split_flags(ins.args);
                // `RUN <<EOF` … `EOF`: the script is the here-document's body, as Hadolint
                // reads it (its commands counted, its packages checked).
                let text = heredoc_script(raw, rest).unwrap_or_else(|| run_text(rest));
                let s = shell::parse(&text);
                if !ins.onbuild {
                    run_rules(&s, &flags, ins.line, &mut hit);
                }
                if !ins.onbuild {
                    if fetch_tools(&s, &mut fetchers) {
                        hit(DL4001.0, ins.line, DL4001.1, DL4001.2);
                    }
                    // DL4006
                    if !pipefail && s.has_pipes {
                        hit(
                            "DL4006",
                            ins.line,
                            "a RUN with a pipe fails only when its last command does",
                            "set `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before it (or `/bin/ash` on busybox)",
                        );
                    }
                    // DL3042
                    let stage_no_cache = no_cache.get(&stage_key).copied().unwrap_or(false);
                    if !stage_no_cache && pip_cache_kept(&s, &text, &flags) {
                        hit(DL3042.0, ins.line, DL3042.1, DL3042.2);
                    }
                    // DL3009 (decided at the end: only the stages that reach an image)
                    if apt_lists_kept(&s, &flags) {
                        apt_forgot.push((ins.line, raw.stage.unwrap_or(0)));
                    }
                    // DL3059. Hadolint counts each command twice (ShellCheck's command and
                    // its redirection wrapper), so "more than 2" means "more than one".
                    let count = s.commands.len() * 2;
                    match &last_run {
                        Some((f, n)) if *f == flags && count <= 2 && *n <= 2 => hit(
                            "DL3059",
                            ins.line,
                            "multiple consecutive RUN instructions",
                            "consider joining them with `&&` (one layer)",
                        ),
                        _ => last_run = Some((flags.clone(), count)),
                    }
                } else {
                    onbuild_run_rules(&s, &flags, ins.line, &mut hit);
                    if fetch_tools(&s, &mut onbuild_fetchers) {
                        hit(DL4001.0, ins.line, DL4001.1, DL4001.2);
                    }
                    if !onbuild_no_cache && pip_cache_kept(&s, &text, &flags) {
                        hit(DL3042.0, ins.line, DL3042.1, DL3042.2);
                    }
                    if apt_lists_kept(&s, &flags) {
                        hit(DL3009.0, ins.line, DL3009.1, DL3009.2);
                    }
                }
            }
            "ADD" if !ins.onbuild => {
                let (_, rest) = split_flags(ins.args);
                let sources = sources_of(rest);
                if !sources.iter().all(|s| is_archive(s) || is_url(s)) {
                    hit(
                        "DL3020",
                        ins.line,
                        "use COPY instead of ADD for files and folders",
                        "COPY says what it does; ADD's URL and archive magic is not wanted here",
                    );
                }
            }
            "CMD" | "ENTRYPOINT" if !ins.onbuild && !raw_exec_form(ins.args) => hit(
                "DL3025",
                ins.line,
                if ins.keyword == "CMD" {
                    "CMD in shell form: the process runs under /bin/sh -c and does not get signals"
                } else {
                    "ENTRYPOINT in shell form: the process runs under /bin/sh -c and does not get signals"
                },
                "use the exec form: [\"executable\", \"arg\"] (`dk lint --fix` does it)",
            ),
            "HEALTHCHECK" if !ins.onbuild => {
                let (_, rest) = split_flags(ins.args);
                let rest = rest.trim_start();
                if let Some(cmd) = rest
                    .strip_prefix("CMD")
                    .or_else(|| rest.strip_prefix("cmd"))
                    && !raw_exec_form(cmd)
                {
                    hit(
                        "DL3025",
                        ins.line,
                        "HEALTHCHECK CMD in shell form",
                        "use the exec form: HEALTHCHECK CMD [\"executable\", \"arg\"]",
                    );
                }
            }
            "ENV" | "ARG" => {
                let names: Vec<String> = if ins.keyword == "ENV" {
                    env_pairs(ins.args).into_iter().map(|(k, _)| k).collect()
                } else {
                    let a = ins.args.trim();
                    vec![a.split('=').next().unwrap_or(a).trim().to_string()]
                };
                if names.iter().any(|n| sensitive(n)) {
                    hit(
                        "DL3064",
                        ins.line,
                        "potentially sensitive data in ARG or ENV: it stays in the image's history",
                        "pass secrets at run time (env in [run], a mounted file) or as a build secret",
                    );
                }
            }
            _ => {}
        }
    }

    // DL3009: the last stage, and stages used later by alias.
    let last = df.stages.len().saturating_sub(1);
    for (line, stage) in apt_forgot {
        let used_later = df
            .stages
            .get(stage)
            .and_then(|s| s.alias.as_deref())
            .is_some_and(|a| aliases.iter().any(|(_, _, image)| image == a));
        if stage == last || used_later {
            hit(DL3009.0, line, DL3009.1, DL3009.2);
        }
    }
    hits.sort_by_key(|h| (h.line, h.rule));
    if let Some(line) = root_user(&stage_user) {
        hits.push(Hit {
            rule: "DL3002",
            line,
            message: ROOT_MESSAGE,
            help: ROOT_HELP,
        });
    }
    hits
}

/// `image` without its tag and digest (Hadolint's image name).
fn image_name(image: &str) -> String {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(c) if !no_digest[c..].contains('/') => no_digest[..c].to_string(),
        _ => no_digest.to_string(),
    }
}

fn raw_exec_form(args: &str) -> bool {
    let a = args.trim();
    a.starts_with('[') && serde_json::from_str::<Vec<String>>(a).is_ok()
}

/// The sources of a COPY/ADD (JSON or shell form, flags already taken off): all but the
/// last argument.
pub(crate) fn sources_of(rest: &str) -> Vec<String> {
    let r = rest.trim();
    let parts: Vec<String> = if r.starts_with('[') {
        serde_json::from_str(r).unwrap_or_default()
    } else {
        r.split_whitespace().map(String::from).collect()
    };
    if parts.len() < 2 {
        return Vec::new();
    }
    parts[..parts.len() - 1].to_vec()
}

fn strip_quotes(s: &str) -> &str {
    s.trim_matches(|c| c == '"' || c == '\'')
}

pub fn is_url(s: &str) -> bool {
    let s = strip_quotes(s);
    s.starts_with("https://") || s.starts_with("http://")
}

pub fn is_archive(s: &str) -> bool {
    let s = strip_quotes(s);
    ARCHIVES.iter().any(|e| s.ends_with(e))
}

/// Hadolint's archive extensions (DL3020).
const ARCHIVES: [&str; 15] = [
    ".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz",
    ".tpz", ".txz", ".xz",
];

const TRUTHY: [&str; 10] = [
    "1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES",
];

/// `PIP_NO_CACHE_DIR=<truthy>` written in the RUN itself.
fn pip_no_cache_in(text: &str) -> bool {
    match text.find("PIP_NO_CACHE_DIR=") {
        Some(at) => {
            let after = &text[at..];
            let value = after.split_once('=').map(|(_, v)| v).unwrap_or("");
            TRUTHY.iter().any(|t| value.starts_with(t))
        }
        None => false,
    }
}

fn is_pip_install(c: &Command) -> bool {
    let std = c.name.starts_with("pip")
        && !c.name.starts_with("pipenv")
        && c.args.iter().any(|a| a == "install");
    let python = c.name.starts_with("python") && contains_seq(&c.args, &["-m", "pip", "install"]);
    std || python
}

fn contains_seq(args: &[String], seq: &[&str]) -> bool {
    args.windows(seq.len())
        .any(|w| w.iter().zip(seq).all(|(a, b)| a == b))
}

fn forgot_no_cache_dir(c: &Command) -> bool {
    let wrapper = |w: &str| {
        c.name.contains(w) || (c.name.starts_with("python") && contains_seq(&c.args, &["-m", w]))
    };
    is_pip_install(c) && !c.has_arg("--no-cache-dir") && !wrapper("pipx") && !wrapper("pipenv")
}

/// DL3042: pip keeps its cache in the layer (no `--no-cache-dir`, no PIP_NO_CACHE_DIR, no
/// cache mount over it).
fn pip_cache_kept(s: &Script, text: &str, flags: &[(String, String)]) -> bool {
    !pip_no_cache_in(text)
        && s.commands.iter().any(forgot_no_cache_dir)
        && !cache_mount_with(flags, ".cache/pip")
}

/// DL3009: apt's lists stay in the layer (not removed, no cache mount over them).
fn apt_lists_kept(s: &Script, flags: &[(String, String)]) -> bool {
    forgot_apt_cleanup(s)
        && !cache_mount_with(flags, "/var/lib/apt/lists")
        && !(cache_mount_with(flags, "/var/lib/apt") && cache_mount_with(flags, "/var/cache/apt"))
}

fn forgot_apt_cleanup(s: &Script) -> bool {
    let update = s.commands.iter().any(|c| {
        c.has_args("apt", &["update"])
            || c.has_args("apt-get", &["update"])
            || c.has_args("aptitude", &["update"])
    });
    // As Hadolint has it: `rm` with either argument counts.
    let cleanup = s
        .commands
        .iter()
        .any(|c| c.has_args("rm", &["-rf", "/var/lib/apt/lists/*"]));
    update && !cleanup
}

fn sensitive(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let lower = name.to_ascii_lowercase();
    SENSITIVE_NAMES.contains(&upper.as_str()) || SUSPICIOUS.iter().any(|s| lower.contains(s))
}

const SUSPICIOUS: [&str; 7] = [
    "api_key",
    "client_key",
    "password",
    "private",
    "secret",
    "token",
    "username",
];

const SENSITIVE_NAMES: [&str; 49] = [
    "ACCESS_TOKEN",
    "APPLICATION_KEY",
    "APP_SECRET",
    "AUTH_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "BITTREX_API_KEY",
    "BITTREX_API_SECRET",
    "CF_PASSWORD",
    "CF_USERNAME",
    "CIRCLE_TOKEN",
    "CI_DEPLOY_PASSWORD",
    "CI_DEPLOY_USER",
    "DOCKERHUB_PASSWORD",
    "DOCKER_EMAIL",
    "DOCKER_PASSWORD",
    "DOCKER_USERNAME",
    "FACEBOOK_ACCESS_TOKEN",
    "FACEBOOK_APP_ID",
    "FACEBOOK_APP_SECRET",
    "FIREBASE_API_TOKEN",
    "FIREBASE_TOKEN",
    "FOSSA_API_KEY",
    "GH_ENTERPRISE_TOKEN",
    "GH_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "GITHUB_TOKEN",
    "HEROKU_API_KEY",
    "HEROKU_API_USER",
    "NPM_AUTH_TOKEN",
    "NPM_TOKEN",
    "OKTA_AUTHN_GROUPID",
    "OKTA_CLIENT_ORGURL",
    "OKTA_CLIENT_TOKEN",
    "OKTA_OAUTH2_CLIENTID",
    "OKTA_OAUTH2_CLIENTSECRET",
    "OPENAI_API_KEY",
    "OS_PASSWORD",
    "OS_USERNAME",
    "POSTGRES_PASSWORD",
    "SLACK_TOKEN",
    "STRIPE_API_KEY",
    "STRIPE_DEVICE_NAME",
    "TRAVIS_OS_NAME",
    "TRAVIS_SECURE_ENV_VARS",
    "TRAVIS_SUDO",
    "VAULT_CLIENT_KEY",
    "VAULT_TOKEN",
    "DOCKER_PASS",
];

type HitFn<'a> = dyn FnMut(&'static str, usize, &'static str, &'static str) + 'a;

/// (rule, message, help) of the rules reported from more than one place.
const DL4001: (&str, &str, &str) = (
    "DL4001",
    "either use wget or curl, not both",
    "one download tool in the image is enough",
);
const DL3042: (&str, &str, &str) = (
    "DL3042",
    "pip install keeps its cache in the image",
    "use `pip install --no-cache-dir`",
);
const DL3009: (&str, &str, &str) = (
    "DL3009",
    "apt lists are left in the image",
    "end the same RUN with `&& rm -rf /var/lib/apt/lists/*`",
);

/// Add the download tools `s` runs to `seen`; true when it runs one and `seen` now has
/// both curl and wget (DL4001).
fn fetch_tools(s: &Script, seen: &mut BTreeSet<u8>) -> bool {
    let mine: BTreeSet<u8> = s
        .names()
        .filter_map(|n| match n {
            "curl" => Some(0),
            "wget" => Some(1),
            _ => None,
        })
        .collect();
    seen.extend(mine.iter().copied());
    !mine.is_empty() && seen.len() >= 2
}

/// The rules Hadolint applies to RUN and ONBUILD RUN alike.
fn onbuild_run_rules(s: &Script, flags: &[(String, String)], line: usize, hit: &mut HitFn<'_>) {
    common_run_rules(s, flags, line, hit);
}

fn run_rules(s: &Script, flags: &[(String, String)], line: usize, hit: &mut HitFn<'_>) {
    common_run_rules(s, flags, line, hit);
    // DL3003 has no ONBUILD variant in Hadolint.
    if s.uses("cd") {
        hit(
            "DL3003",
            line,
            "cd in a RUN: use WORKDIR to switch to a directory",
            "`WORKDIR /path` before the RUN",
        );
    }
}

fn common_run_rules(s: &Script, flags: &[(String, String)], line: usize, hit: &mut HitFn<'_>) {
    if s.uses("sudo") {
        hit(
            "DL3004",
            line,
            "do not use sudo: it behaves unpredictably in a build",
            "RUN steps run as the current USER; switch with USER, or use gosu at run time",
        );
    }
    if s.uses("apt") {
        hit(
            "DL3027",
            line,
            "do not use apt, an end-user tool: use apt-get or apt-cache",
            "`apt-get install -y --no-install-recommends …`",
        );
    }
    let apt_packages: Vec<String> = s
        .commands
        .iter()
        .filter(|c| c.has_args("apt-get", &["install"]))
        .flat_map(|c| {
            c.drop_flag_args(&["t", "target-release"])
                .args_no_flags()
                .into_iter()
                .filter(|a| *a != "install")
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    if !apt_packages
        .iter()
        .all(|p| p.contains('=') || p.contains('/') || p.ends_with(".deb"))
    {
        hit(
            "DL3008",
            line,
            "apt-get install without pinned versions",
            "pin each package: `apt-get install <package>=<version>`",
        );
    }
    if s.commands.iter().any(|c| {
        c.has_args("apt-get", &["install"])
            && !c.has_flag("no-install-recommends")
            && !c.has_arg("APT::Install-Recommends=false")
    }) {
        hit(
            "DL3015",
            line,
            "apt-get install pulls in recommended packages",
            "add `--no-install-recommends`",
        );
    }
    if s.commands.iter().any(pip_unpinned) {
        hit(
            "DL3013",
            line,
            "pip install without pinned versions",
            "pin each package: `pip install <package>==<version>`, or install from a requirements file",
        );
    }
    if s.commands.iter().any(npm_unpinned) {
        hit(
            "DL3016",
            line,
            "npm install without pinned versions",
            "pin each package: `npm install <package>@<version>`",
        );
    }
    let apk_packages: Vec<String> = s
        .commands
        .iter()
        .filter(|c| c.has_args("apk", &["add"]))
        .flat_map(|c| {
            c.drop_flag_args(&["t", "virtual", "repository", "X"])
                .args_no_flags()
                .into_iter()
                .filter(|a| *a != "add")
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    if !apk_packages
        .iter()
        .all(|p| ["=", "~", ">", "<"].iter().any(|v| p.contains(v)) || p.ends_with(".apk"))
    {
        hit(
            "DL3018",
            line,
            "apk add without pinned versions",
            "pin each package: `apk add <package>=<version>`",
        );
    }
    if !cache_mount_with(flags, "/var/cache/apk")
        && s.commands
            .iter()
            .any(|c| c.has_args("apk", &["add"]) && !c.has_flag("no-cache"))
    {
        hit(
            "DL3019",
            line,
            "apk add keeps its cache in the image",
            "use `apk add --no-cache` (`dk lint --fix` does it)",
        );
    }
    if s.commands.iter().any(|c| {
        c.name == "wget"
            && !c.has_flag("progress")
            && !c.has_any_flag(&["q", "quiet"])
            && !c.has_any_flag(&["o", "output-file"])
            && !c.has_any_flag(&["a", "append-output"])
            && !c.has_any_flag(&["no-verbose"])
            && !c.has_args("wget", &["-nv"])
    }) {
        hit(
            "DL3047",
            line,
            "wget without a progress setting fills the build log",
            "use `wget -q`, `-nv` or `--progress=dot:giga`",
        );
    }
}

const PIP_VALUE_FLAGS: [&str; 26] = [
    "abi",
    "b",
    "build",
    "e",
    "editable",
    "extra-index-url",
    "f",
    "find-links",
    "i",
    "index-url",
    "implementation",
    "no-binary",
    "only-binary",
    "platform",
    "prefix",
    "progress-bar",
    "proxy",
    "python",
    "python-version",
    "root",
    "root-user-action",
    "src",
    "t",
    "target",
    "trusted-host",
    "upgrade-strategy",
];

const VCS_SCHEMES: [&str; 22] = [
    "git+file",
    "git+https",
    "git+ssh",
    "git+http",
    "git+git",
    "git",
    "hg+file",
    "hg+http",
    "hg+https",
    "hg+ssh",
    "hg+static-http",
    "svn",
    "svn+svn",
    "svn+http",
    "svn+https",
    "svn+ssh",
    "bzr+http",
    "bzr+https",
    "bzr+ssh",
    "bzr+sftp",
    "bzr+ftp",
    "bzr+lp",
];

/// `install` and what precedes it dropped (Hadolint's `stripInstallPrefix`).
fn after_install(args: Vec<&str>) -> Vec<&str> {
    let mut it = args.into_iter().skip_while(|a| *a != "install").peekable();
    while it.peek() == Some(&"install") {
        it.next();
    }
    it.collect()
}

fn pip_unpinned(c: &Command) -> bool {
    if !is_pip_install(c) {
        return false;
    }
    if c.has_flag("constraint") || c.has_flag("c") {
        return false;
    }
    if contains_seq(&c.args, &["--requirement"])
        || contains_seq(&c.args, &["-r"])
        || contains_seq(&c.args, &["."])
    {
        return false;
    }
    let stripped = c.drop_flag_args(&PIP_VALUE_FLAGS);
    let packages = after_install(stripped.args_no_flags());
    let is_vcs = |p: &str| VCS_SCHEMES.iter().any(|s| p.starts_with(s));
    let fixed = |p: &str| {
        ["==", ">=", "<=", ">", "<", "!=", "~=", "==="]
            .iter()
            .any(|s| p.contains(s))
            || (is_vcs(p) && p.contains('@'))
            || p.ends_with(".whl")
            || p.ends_with(".tar.gz")
            || (!is_vcs(p) && p.contains('/'))
    };
    !packages.iter().all(|p| fixed(p))
}

fn npm_unpinned(c: &Command) -> bool {
    if !c.has_args("npm", &["install"]) {
        return false;
    }
    let stripped = c.drop_flag_args(&["loglevel", "registry"]);
    let no_flags = stripped.args_no_flags();
    if no_flags.first() != Some(&"install") {
        return false;
    }
    let packages = after_install(no_flags);
    let fixed = |p: &str| {
        if ["git://", "git+ssh://", "git+http://", "git+https://"]
            .iter()
            .any(|g| p.starts_with(g))
        {
            p.contains('#')
        } else if [".tar", ".tar.gz", ".tgz"].iter().any(|t| p.ends_with(t))
            || ["/", "./", "../", "~/"].iter().any(|f| p.starts_with(f))
        {
            true
        } else {
            npm_version_symbol(p)
        }
    };
    !packages.iter().all(|p| fixed(p))
}

/// An `@version` after the package name (Hadolint drops a leading `@scope` first: the
/// characters after `/` in ASCII order).
fn npm_version_symbol(p: &str) -> bool {
    let rest = if p.starts_with('@') {
        p.trim_start_matches(|c: char| c > '/')
    } else {
        p
    };
    rest.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<(&'static str, usize)> {
        let df = Dockerfile::parse(text, &Default::default()).unwrap();
        check(&df).into_iter().map(|h| (h.rule, h.line)).collect()
    }

    #[test]
    fn env_pairs_and_archives() {
        assert_eq!(
            env_pairs("A=1 B=\"x y\" C=3"),
            [
                ("A".into(), "1".into()),
                ("B".into(), "x y".into()),
                ("C".into(), "3".into())
            ]
        );
        assert_eq!(
            env_pairs("LEGACY some value"),
            [("LEGACY".into(), "some value".into())]
        );
        assert!(is_archive("rootfs.tar.gz") && !is_archive("rootfs.TAR.GZ"));
        assert!(is_url("\"https://example.com/x\""));
    }

    #[test]
    fn stateful_rules() {
        // A heredoc RUN is its body: its packages are checked, its commands counted.
        assert_eq!(
            rules(
                "FROM a:1\nRUN <<EOF\napk update\napk add git\nEOF\n\nRUN <<EOF\naddgroup -S docker\nadduser -S x\nEOF\n"
            ),
            [("DL3018", 2), ("DL3019", 2)]
        );
        // DL3059 only between RUNs with the same flags and few commands.
        assert_eq!(rules("FROM a:1\nRUN a\nRUN b\n"), [("DL3059", 3)]);
        assert_eq!(
            rules("FROM a:1\nRUN a\nRUN --mount=type=cache,target=/c b\n"),
            []
        );
        // DL4001 per stage; DL4006 until a SHELL with pipefail.
        assert_eq!(
            rules("FROM a:1\nRUN curl -s x\nFROM b:1\nRUN wget -q y\n"),
            []
        );
        assert_eq!(rules("FROM a:1\nRUN a | b\n"), [("DL4006", 2)]);
        assert_eq!(
            rules("FROM a:1\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n"),
            []
        );
        // DL3042 knows ENV PIP_NO_CACHE_DIR of the stage and of the stage it builds on.
        assert_eq!(
            rules("FROM p:1 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\nRUN pip install x==1\n"),
            []
        );
        // DL3009 only where the stage reaches an image.
        assert_eq!(
            rules("FROM a:1 AS b\nRUN apt-get update\nFROM c:1\nCOPY --from=b / /\n"),
            []
        );
        assert_eq!(rules("FROM a:1\nRUN apt-get update\n"), [("DL3009", 2)]);
    }
}
