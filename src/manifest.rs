//! `container.toml`: a node's manifest. Every key is documented in `docs/manifest.md`.
//!
//! Parsing is strict (unknown keys are errors); `validate` adds the checks serde cannot make
//! (one kind per check, durations that parse, paths that stay inside the workspace, waivers
//! with reasons), each located by its TOML span.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Deserialize;
use toml::Spanned;

use crate::error::Diagnostic;
use crate::units::{DurationText, FromText, ModeText, SizeText, Text};

pub const MANIFEST_FILE: &str = "container.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub description: Option<String>,
    /// Started by a bare `dk up`.
    #[serde(default)]
    pub autostart: bool,
    /// Containers that must be running (healthy, where they have a healthcheck) before this
    /// one starts. Start waves are derived from these.
    #[serde(default)]
    pub after: Vec<Spanned<String>>,
    #[serde(default)]
    pub build: BuildSection,
    #[serde(default)]
    pub stage: StageSection,
    #[serde(default)]
    pub run: RunSettings,
    #[serde(default, rename = "mount")]
    pub mounts: Vec<Spanned<Mount>>,
    #[serde(default)]
    pub test: TestSection,
    #[serde(default)]
    pub lint: LintSection,
    #[serde(default)]
    pub audit: AuditSection,
    #[serde(default)]
    pub deploy: DeploySection,
    /// Files the live container (and its tests) get as secrets, read-only: bind-mounted on
    /// one host, Swarm secrets on Swarm.
    #[serde(default, rename = "secret")]
    pub secrets: Vec<Spanned<RunSecret>>,
    #[serde(default)]
    pub hooks: HooksSection,
    /// Named one-off jobs (`[job.daily]`), run with `dk run NAME:JOB`.
    #[serde(default, rename = "job", skip_serializing_if = "BTreeMap::is_empty")]
    pub jobs: BTreeMap<String, Spanned<JobSettings>>,
}

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSection {
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    pub target: Option<String>,
    /// `buildkit` (default, dk.toml's `[build] builder` otherwise) or `classic`.
    pub builder: Option<crate::docker::Builder>,
    /// The platform to build for (`linux/arm64`); default: the machine's. A one-element
    /// `platforms`.
    pub platform: Option<Text<crate::dockerfile::Platform>>,
    /// Every platform to build, test and publish this node for (`["linux/amd64",
    /// "linux/arm64"]`); default: dk.toml's `[build] platforms`, else the machine's. Each must
    /// be one of its parents' platforms.
    pub platforms: Option<Vec<Text<crate::dockerfile::Platform>>>,
    /// Build secrets for `RUN --mount=type=secret,id=…`: `{ id = "npmrc", file = "…" }`
    /// (workspace-relative or absolute) or `{ id = "token", env = "TOKEN" }`.
    #[serde(default)]
    pub secrets: Vec<Spanned<BuildSecret>>,
}

/// One build secret: exactly one of `file` or `env`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSecret {
    pub id: String,
    pub file: Option<String>,
    pub env: Option<String>,
}

/// `[[secret]]`: a file handed to the container at run time, never built into the image.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunSecret {
    /// Letters, digits, `_`, `-` and `.`.
    pub name: String,
    /// Workspace-relative or absolute.
    pub file: String,
    /// Where it appears (default `/run/secrets/<name>`).
    pub target: Option<String>,
}

impl RunSecret {
    pub fn target(&self) -> String {
        self.target
            .clone()
            .unwrap_or_else(|| format!("/run/secrets/{}", self.name))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSection {
    #[serde(default)]
    pub copy: Vec<Spanned<StageCopy>>,
    #[serde(default)]
    pub fetch: Vec<Spanned<StageFetch>>,
    #[serde(default)]
    pub run: Vec<Spanned<StageRun>>,
}

/// Copy a file or directory from elsewhere in the workspace into the node (the old
/// `make copy` step).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StageCopy {
    /// Workspace-relative source.
    pub from: String,
    /// Node-relative destination (usually under `files/`).
    pub to: String,
    /// Octal mode for the copied file, e.g. "0755".
    pub mode: Option<ModeText>,
}

/// Fetch a pinned artifact: `command` runs in an empty scratch directory and must leave
/// exactly one file there, whose sha256 must equal `sha256`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StageFetch {
    pub command: Vec<String>,
    pub sha256: String,
    /// Node-relative destination.
    pub to: String,
    /// Fetched only when the node is built for this platform (`linux/arm64`).
    pub platform: Option<Text<crate::dockerfile::Platform>>,
}

/// Run a command in the node directory that produces `outputs` from `inputs`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StageRun {
    pub command: Vec<String>,
    /// Node-relative files the command reads (a change reruns it).
    #[serde(default)]
    pub inputs: Vec<String>,
    /// Node-relative files or directories the command writes (generated: `dk clean` removes them).
    pub outputs: Vec<String>,
    /// Run only when the node is built for this platform (`linux/arm64`).
    pub platform: Option<Text<crate::dockerfile::Platform>>,
}

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RestartSettings {
    /// `no`, `on-failure`, `unless-stopped` or `always`.
    pub policy: Option<String>,
    /// Retry limit for `on-failure`.
    pub max_retries: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// A log driver of the daemon (`json` for json-file, `local`, `syslog`, `journald`,
    /// `gelf`, `fluentd`, `awslogs`, `splunk`, `gcplogs`, `logentries`, `none`) or the name
    /// of a log driver plugin installed on it (its options unchecked).
    pub driver: Option<String>,
    /// Rotation size per file, e.g. "5m" (json-file, local).
    pub max_size: Option<SizeText>,
    /// Number of rotated files kept (json-file, local).
    pub max_files: Option<u32>,
    /// The driver's own options (`syslog-address`, `tag`, …), checked against what it takes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// The log drivers dk knows and the options each takes (Docker's documentation).
pub const LOG_DRIVER_OPTIONS: &[(&str, &[&str])] = &[
    (
        "json",
        &[
            "max-size",
            "max-file",
            "compress",
            "labels",
            "labels-regex",
            "env",
            "env-regex",
            "tag",
        ],
    ),
    ("local", &["max-size", "max-file", "compress"]),
    (
        "syslog",
        &[
            "syslog-address",
            "syslog-facility",
            "syslog-tls-ca-cert",
            "syslog-tls-cert",
            "syslog-tls-key",
            "syslog-tls-skip-verify",
            "tag",
            "syslog-format",
            "labels",
            "labels-regex",
            "env",
            "env-regex",
        ],
    ),
    (
        "journald",
        &["tag", "labels", "labels-regex", "env", "env-regex"],
    ),
    (
        "gelf",
        &[
            "gelf-address",
            "gelf-compression-type",
            "gelf-compression-level",
            "gelf-tcp-max-reconnect",
            "gelf-tcp-reconnect-delay",
            "tag",
            "labels",
            "labels-regex",
            "env",
            "env-regex",
        ],
    ),
    (
        "fluentd",
        &[
            "fluentd-address",
            "fluentd-async",
            "fluentd-buffer-limit",
            "fluentd-retry-wait",
            "fluentd-max-retries",
            "fluentd-sub-second-precision",
            "fluentd-request-ack",
            "tag",
            "labels",
            "labels-regex",
            "env",
            "env-regex",
        ],
    ),
    (
        "awslogs",
        &[
            "awslogs-region",
            "awslogs-endpoint",
            "awslogs-group",
            "awslogs-stream",
            "awslogs-create-group",
            "awslogs-datetime-format",
            "awslogs-multiline-pattern",
            "awslogs-credentials-endpoint",
            "awslogs-force-flush-interval-seconds",
            "awslogs-max-buffered-events",
            "mode",
            "max-buffer-size",
            "tag",
        ],
    ),
    (
        "splunk",
        &[
            "splunk-token",
            "splunk-url",
            "splunk-source",
            "splunk-sourcetype",
            "splunk-index",
            "splunk-capath",
            "splunk-caname",
            "splunk-insecureskipverify",
            "splunk-format",
            "splunk-verify-connection",
            "splunk-gzip",
            "splunk-gzip-level",
            "tag",
            "labels",
            "labels-regex",
            "env",
            "env-regex",
        ],
    ),
    (
        "gcplogs",
        &[
            "gcp-project",
            "gcp-log-cmd",
            "gcp-meta-zone",
            "gcp-meta-name",
            "gcp-meta-id",
            "labels",
            "labels-regex",
            "env",
            "env-regex",
        ],
    ),
    ("logentries", &["logentries-token", "line-only", "tag"]),
    ("none", &[]),
];

/// Options a driver cannot do without.
const LOG_DRIVER_REQUIRED: &[(&str, &str)] = &[
    ("gelf", "gelf-address"),
    ("awslogs", "awslogs-group"),
    ("splunk", "splunk-url"),
    ("splunk", "splunk-token"),
    ("logentries", "logentries-token"),
];

pub const SYSLOG_FACILITIES: [&str; 20] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Healthcheck {
    pub command: Vec<String>,
    pub interval: Option<DurationText>,
    pub timeout: Option<DurationText>,
    pub retries: Option<i64>,
    pub start_period: Option<DurationText>,
}

/// Live run settings (the old `settings.yaml`, made explicit).
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    /// `live` (the workspace's live network, default), `none`, or another network's name.
    pub network: Option<String>,
    /// Static IPv4 address inside the live subnet.
    pub ip: Option<Spanned<Text<Ipv4Addr>>>,
    /// Published ports, live only: `"8080:80"`, `"127.0.0.1:8080:80/tcp"`.
    #[serde(default)]
    pub ports: Vec<Spanned<Text<PortMapping>>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// `uid[:gid]` or a user name known to the image; default: the image's USER.
    pub user: Option<String>,
    /// Capabilities added back; all others are dropped.
    #[serde(default)]
    pub cap_add: Vec<String>,
    pub read_only: Option<bool>,
    /// tmpfs mounts: `"/tmp"` or `"/run:size=1m"`.
    #[serde(default)]
    pub tmpfs: Vec<String>,
    pub memory: Option<SizeText>,
    pub cpus: Option<f64>,
    pub pids: Option<i64>,
    pub restart: Option<RestartSettings>,
    pub log: Option<LogSettings>,
    /// Run tini as PID 1 (Docker's `--init`); default: on unless the image's entrypoint is an init.
    pub init: Option<bool>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<DurationText>,
    pub healthcheck: Option<Healthcheck>,
    pub hostname: Option<String>,
    #[serde(default)]
    pub devices: Vec<String>,
    #[serde(default)]
    pub extra_hosts: Vec<String>,
    /// Override the image's CMD.
    pub command: Option<Vec<String>>,
    /// Required (with the reason) for a container whose process would run as root.
    pub allow_root: Option<Spanned<String>>,
    /// When a new live container counts as ready (without a healthcheck): a port that
    /// accepts connections, optionally answering an HTTP GET; and the bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<ReadySettings>,
    /// How a live container is replaced: `stop-first` (default) or `start-first`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<Spanned<ReplaceOrder>>,
    /// Security options: `apparmor=<profile>`, `seccomp=<file>`, `label=…`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    /// `host` opts this container out of the daemon's user-namespace remapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userns: Option<String>,
    /// Kernel parameters (`net.core.somaxconn = "1024"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    /// Resource limits: `nofile = 4096` or `nofile = { soft = 1024, hard = 4096 }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, Ulimit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    /// More names on the live network (besides the node's name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_aliases: Vec<String>,
    /// Other existing networks to join (live only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<String>,
    /// Override the image's ENTRYPOINT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Extra groups of the process.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    /// Size of /dev/shm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<SizeText>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tty: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stdin_open: bool,
    /// Labels of the container (`dk.*` are dk's own).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Time zone (`Europe/Paris`): the host's zoneinfo, read-only, and `TZ`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
}

/// A ulimit: one number for both limits, or `{ soft, hard }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum Ulimit {
    Both(i64),
    Pair { soft: i64, hard: i64 },
}

impl Ulimit {
    pub fn soft_hard(&self) -> (i64, i64) {
        match *self {
            Ulimit::Both(n) => (n, n),
            Ulimit::Pair { soft, hard } => (soft, hard),
        }
    }
}

/// The ulimits Docker knows.
pub const ULIMITS: [&str; 15] = [
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReadySettings {
    /// A port of the container that must accept a connection (on the live network).
    pub port: Option<u16>,
    /// With `port`: a path that must answer an HTTP GET with a status below 500.
    pub http: Option<String>,
    /// How long the new container may take to be ready (default 60s).
    pub timeout: Option<DurationText>,
    /// How long it must stay up, at least (default 2s).
    pub grace: Option<DurationText>,
}

/// The order of a replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplaceOrder {
    /// Stop the old container, then start the new one (the default: ports and exclusive
    /// data are never held twice).
    StopFirst,
    /// Start the new one beside the old one, wait until it is ready, then remove the old
    /// one: no downtime behind a proxy on the live network.
    StartFirst,
}

/// `[deploy]`: where live containers run and what dk keeps of releases. In dk.toml it is
/// the workspace's default; a container.toml's `[deploy]` overrides it key by key.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySection {
    /// How many live images (releases) are kept for rollback (default 3; dk.toml's
    /// `[deploy] keep_releases` otherwise).
    pub keep_releases: Option<u32>,
    /// `host` (default: one container on the daemon) or `swarm` (one Swarm service).
    pub target: Option<DeployTarget>,
    /// Swarm only: tasks of the service (default 1).
    pub replicas: Option<u64>,
    /// Swarm only: placement constraints (`node.labels.disk == ssd`).
    pub constraints: Option<Vec<String>>,
    /// Swarm only: placement preferences, tasks spread evenly over the values of each
    /// (`node.labels.zone`), in order.
    pub spread: Option<Vec<String>>,
    /// Swarm only: at most this many of the service's tasks on one node.
    pub max_per_node: Option<u64>,
    /// Swarm only: how long dk waits for Swarm to create or roll out the service (default:
    /// per task, its readiness bound and the monitor period, plus a minute for pulls).
    pub timeout: Option<DurationText>,
}

/// Where a live container runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployTarget {
    /// A plain container on the daemon dk talks to.
    #[default]
    Host,
    /// A Swarm service, converged through the swarm manager dk talks to.
    Swarm,
}

/// `[hooks]`: commands on the host around `dk up`, each bounded by `timeout`.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct HooksSection {
    /// After the live container was created, replaced or rolled back and is ready.
    pub after_up: Option<Vec<String>>,
    /// After a replacement failed (the old container was put back).
    pub on_failure: Option<Vec<String>>,
    /// A failing `after_up` rolls the container back to the image it replaced.
    #[serde(default)]
    pub rollback_on_failure: bool,
    /// Bound on each hook (default 60s).
    pub timeout: Option<DurationText>,
}

/// `[job.NAME]`: a one-off command run from the node's image with its live settings.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// What `dk run NAME:JOB` prints in its listing.
    pub description: Option<String>,
    /// The command (replaces the image's CMD; arguments after `--` are appended).
    pub command: Vec<String>,
    /// More environment, over `[run] env`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// The eight mount kinds of the old system. See docs/manifest.md for live vs test behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MountKind {
    Ro,
    Persistent,
    PersistentTestRo,
    PersistentTestCopy,
    PersistentTestCopyTree,
    PersistentTestCopyFiles,
    Logs,
    TestOnly,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    pub kind: MountKind,
    /// Relative to `<data_root>/<name>/` (for `test_only`: relative to the node directory).
    /// Exactly one of `source`, `host`, `from` and `volume` names where the data is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// An absolute host path (dk never creates it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Another container's data: `web:www` is `<data_root>/web/www`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A named Docker volume (`<namespace>-<name>`, labelled by dk, never removed by dk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// With `volume`: a volume made elsewhere (by Compose, say), used by its own name; dk
    /// neither creates nor labels it, and it must exist.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
    /// The source is one file, not a directory.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub file: bool,
    /// Absolute path inside the container.
    pub target: String,
    /// Owner and group (numeric, container ids) and octal mode that `dk prep` sets.
    pub owner: Option<u32>,
    pub group: Option<u32>,
    pub mode: Option<ModeText>,
    /// Why a host path that exposes the host (`/`, `/etc`, the Docker socket…) is mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<String>,
    /// The source, typed (`source()`).
    #[serde(skip)]
    resolved: MountSource,
}

/// Host paths a container may only mount with a reason (`allow`): they expose the host.
pub const SENSITIVE_HOST_PATHS: [&str; 11] = [
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
    "/var/lib/docker",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd",
    "/var/run",
];

/// Is mounting `host` exposing the host? One of SENSITIVE_HOST_PATHS, anything below one,
/// or anything above one (`/`, `/var`, `/run` hold the Docker socket); the time zone files
/// are fine.
pub fn exposes_host(host: &str) -> bool {
    let p = crate::ignore::clean(host);
    if p == "/etc/localtime" || p == "/etc/timezone" {
        return false;
    }
    let p = p.trim_end_matches('/');
    SENSITIVE_HOST_PATHS
        .iter()
        .any(|s| p == *s || p.starts_with(&format!("{s}/")) || s.starts_with(&format!("{p}/")))
}

/// Where a mount's data is: the one source a manifest names, made once at load
/// (`Mount::resolve_source`, after `dk.local.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSource {
    /// `<data_root>/<node>/<path>` (test_only: node-relative).
    Data(String),
    Host(String),
    /// (other node, path under its data directory).
    From(String, String),
    Volume(String),
}

impl Default for MountSource {
    /// No source key: the node's own data directory.
    fn default() -> Self {
        MountSource::Data(String::new())
    }
}

impl Mount {
    /// Where its data is.
    pub fn source(&self) -> &MountSource {
        &self.resolved
    }

    /// Fix `source()` from the keys (validated: exactly one of `source`, `host`, `from`,
    /// `volume`; none means `source = ""`).
    pub fn resolve_source(&mut self) {
        self.resolved = if let Some(h) = &self.host {
            MountSource::Host(h.clone())
        } else if let Some(f) = &self.from {
            let (node, path) = f.split_once(':').unwrap_or((f, ""));
            MountSource::From(node.to_string(), path.to_string())
        } else if let Some(v) = &self.volume {
            MountSource::Volume(v.clone())
        } else {
            MountSource::Data(self.source.clone().unwrap_or_default())
        };
    }
}

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestSection {
    /// How long the container must stay up for the implicit smoke check (default 2s).
    pub grace: Option<DurationText>,
    /// Bound on readiness (healthcheck, port) before checks run (default 30s).
    pub ready_timeout: Option<DurationText>,
    /// Wait for this TCP port before running checks (when the image has no HEALTHCHECK).
    pub ready_port: Option<u16>,
    /// The container is a one-shot: exit 0 passes the smoke check.
    #[serde(default)]
    pub one_shot: bool,
    /// Extra environment for the test container.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Override the image's CMD in tests.
    pub command: Option<Vec<String>>,
    /// Default per-check timeout (default 10s).
    pub check_timeout: Option<DurationText>,
    #[serde(default, rename = "check")]
    pub checks: Vec<Spanned<Check>>,
}

/// One test check. Exactly one of `exec`, `tcp`, `http`, `file`, `not_root` selects its kind.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub name: Option<String>,
    /// `pass` (default) or `fail`: a negative check passes when the probe fails.
    pub expect: Option<String>,
    pub timeout: Option<DurationText>,

    /// Command run in the container.
    pub exec: Option<Vec<String>>,
    pub exit_code: Option<i64>,
    pub stdout_contains: Option<String>,
    pub stdout_equals: Option<String>,
    pub stdout_matches: Option<String>,
    pub stderr_contains: Option<String>,
    pub stderr_equals: Option<String>,
    pub stderr_matches: Option<String>,

    /// A TCP port that must accept a connection.
    pub tcp: Option<u16>,

    /// An HTTP GET of this path.
    pub http: Option<String>,
    pub port: Option<u16>,
    pub status: Option<u16>,
    pub body_contains: Option<String>,
    /// `network` (default: from the test network) or `loopback` (published on 127.0.0.1).
    pub via: Option<String>,

    /// A file in the container.
    pub file: Option<String>,
    pub exists: Option<bool>,
    pub contains: Option<String>,
    pub mode: Option<ModeText>,
    pub owner: Option<String>,

    /// The main process must not run as uid 0.
    pub not_root: Option<bool>,
}

/// What a `[[test.check]]` probes, made once when the manifest is loaded (`validate_checks`
/// has said that a check names exactly one probe): the code that runs checks matches on it
/// and never unwraps a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A command run in the container.
    Exec(Vec<String>),
    /// A port that must accept a connection.
    Tcp(u16),
    /// A GET of `path` on `port`, from the test network or (`loopback`) published on 127.0.0.1.
    Http {
        path: String,
        port: u16,
        loopback: bool,
    },
    /// A file in the container.
    File(String),
    /// The main process must not run as uid 0.
    NotRoot,
}

impl Probe {
    /// The probe of a check that names exactly one (None otherwise: a definition error).
    pub fn of(c: &Check) -> Option<Probe> {
        Some(match c.kind()? {
            CheckKind::Exec => Probe::Exec(c.exec.clone()?),
            CheckKind::Tcp => Probe::Tcp(c.tcp?),
            CheckKind::Http => Probe::Http {
                path: c.http.clone()?,
                port: c.port.unwrap_or(80),
                loopback: c.via.as_deref() == Some("loopback"),
            },
            CheckKind::File => Probe::File(c.file.clone()?),
            CheckKind::NotRoot => Probe::NotRoot,
        })
    }

    /// The container port it reaches, when it reaches one.
    pub fn port(&self) -> Option<u16> {
        match self {
            Probe::Tcp(p) | Probe::Http { port: p, .. } => Some(*p),
            _ => None,
        }
    }
}

/// A check as the test step runs it: its keys (expectations, timeout, name) and its probe.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub check: Check,
    pub probe: Probe,
    /// Where it is in its manifest.
    pub span: std::ops::Range<usize>,
}

impl CheckSpec {
    /// The checks of a manifest that validated.
    pub fn all(m: &Manifest) -> Vec<CheckSpec> {
        m.test
            .checks
            .iter()
            .filter_map(|c| {
                Probe::of(c.get_ref()).map(|probe| CheckSpec {
                    check: c.get_ref().clone(),
                    probe,
                    span: c.span(),
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    Exec,
    Tcp,
    Http,
    File,
    NotRoot,
}

impl Check {
    pub fn kind(&self) -> Option<CheckKind> {
        let kinds = self.kinds();
        if kinds.len() == 1 {
            Some(kinds[0])
        } else {
            None
        }
    }

    fn kinds(&self) -> Vec<CheckKind> {
        let mut k = Vec::new();
        if self.exec.is_some() {
            k.push(CheckKind::Exec);
        }
        if self.tcp.is_some() {
            k.push(CheckKind::Tcp);
        }
        if self.http.is_some() {
            k.push(CheckKind::Http);
        }
        if self.file.is_some() {
            k.push(CheckKind::File);
        }
        if self.not_root.is_some() {
            k.push(CheckKind::NotRoot);
        }
        k
    }

    pub fn negative(&self) -> bool {
        self.expect.as_deref() == Some("fail")
    }

    /// A short human name: the given one, or one derived from the probe.
    pub fn display_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let base = match Probe::of(self) {
            Some(Probe::Exec(cmd)) => format!("exec {}", cmd.join(" ")),
            Some(Probe::Tcp(port)) => format!("tcp {port}"),
            Some(Probe::Http { path, port, .. }) => format!("http :{port}{path}"),
            Some(Probe::File(path)) => format!("file {path}"),
            Some(Probe::NotRoot) => "process is not root".to_string(),
            None => "check".to_string(),
        };
        if self.negative() {
            format!("{base} (expected to fail)")
        } else {
            base
        }
    }

    /// Keys that only make sense for one kind, with the kind they belong to.
    fn kind_specific_keys(&self) -> Vec<(&'static str, CheckKind)> {
        let mut v = Vec::new();
        let mut add = |present: bool, key, kind| {
            if present {
                v.push((key, kind))
            }
        };
        use CheckKind::*;
        add(self.exit_code.is_some(), "exit_code", Exec);
        add(self.stdout_contains.is_some(), "stdout_contains", Exec);
        add(self.stdout_equals.is_some(), "stdout_equals", Exec);
        add(self.stdout_matches.is_some(), "stdout_matches", Exec);
        add(self.stderr_contains.is_some(), "stderr_contains", Exec);
        add(self.stderr_equals.is_some(), "stderr_equals", Exec);
        add(self.stderr_matches.is_some(), "stderr_matches", Exec);
        add(self.port.is_some(), "port", Http);
        add(self.status.is_some(), "status", Http);
        add(self.body_contains.is_some(), "body_contains", Http);
        add(self.via.is_some(), "via", Http);
        add(self.exists.is_some(), "exists", File);
        add(self.contains.is_some(), "contains", File);
        add(self.mode.is_some(), "mode", File);
        add(self.owner.is_some(), "owner", File);
        v
    }
}

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LintSection {
    #[serde(default)]
    pub waive: Vec<Spanned<Waiver>>,
}

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// The image is expected to be hardened by the baseline's /prep (shells, package
    /// managers and tools removed).
    pub hardened: Option<bool>,
    /// Image size budget, e.g. "20m".
    pub max_size: Option<SizeText>,
    #[serde(default)]
    pub waive: Vec<Spanned<Waiver>>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub rule: String,
    pub reason: Option<String>,
}

pub const RESTART_POLICIES: [&str; 4] = ["no", "on-failure", "unless-stopped", "always"];

impl Manifest {
    /// Semantic checks beyond the schema, section by section. `text` and `path` locate
    /// the diagnostics; every problem is reported, not the first.
    pub fn validate(&self, text: &str, path: &str) -> Vec<Diagnostic> {
        let l = Located { path, text };
        let mut out = Vec::new();
        validate_platforms(&self.build, &l, &mut out);
        self.validate_stage(&l, &mut out);
        self.validate_secrets(&l, &mut out);
        self.validate_run(&l, &mut out);
        self.validate_jobs_hooks(&l, &mut out);
        self.validate_mounts(&l, &mut out);
        self.validate_checks(&l, &mut out);
        self.validate_waivers(&l, &mut out);
        out
    }

    /// `[stage]`: copies, fetches and runs stay inside the node; fetches are pinned.
    fn validate_stage(&self, l: &Located<'_>, out: &mut Vec<Diagnostic>) {
        for (i, c) in self.stage.copy.iter().enumerate() {
            for (key, p) in [("from", &c.get_ref().from), ("to", &c.get_ref().to)] {
                if let Err(e) = check_relative(p) {
                    out.push(l.at(c.span(), format!("stage.copy[{i}].{key}: {e}")));
                }
            }
        }
        for (i, f) in self.stage.fetch.iter().enumerate() {
            let f_ref = f.get_ref();
            if f_ref.command.is_empty() {
                out.push(l.at(f.span(), format!("stage.fetch[{i}].command is empty")));
            }
            if f_ref.sha256.len() != 64 || !f_ref.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                out.push(
                    l.at(
                        f.span(),
                        format!(
                            "stage.fetch[{i}].sha256: `{}` is not a sha256 (64 hex digits)",
                            f_ref.sha256
                        ),
                    )
                    .with_help("run the command once and copy the checksum dk reports"),
                );
            }
            if let Err(e) = check_relative(&f_ref.to) {
                out.push(l.at(f.span(), format!("stage.fetch[{i}].to: {e}")));
            }
        }
        for (i, r) in self.stage.run.iter().enumerate() {
            let r_ref = r.get_ref();
            if r_ref.command.is_empty() {
                out.push(l.at(r.span(), format!("stage.run[{i}].command is empty")));
            }
            if r_ref.outputs.is_empty() {
                out.push(
                    l.at(r.span(), format!("stage.run[{i}] declares no outputs")).with_help(
                        "list what the command writes, so that dk can tell when to rerun it and `dk clean` can remove it",
                    ),
                );
            }
            for p in r_ref.inputs.iter().chain(&r_ref.outputs) {
                if let Err(e) = check_relative(p) {
                    out.push(l.at(r.span(), format!("stage.run[{i}]: `{p}`: {e}")));
                }
            }
        }
    }
    /// `[[secret]]` and `[build] secrets`: names and ids unique, files given.
    fn validate_secrets(&self, l: &Located<'_>, out: &mut Vec<Diagnostic>) {
        let mut ids = std::collections::BTreeSet::new();
        for s in &self.build.secrets {
            let secret = s.get_ref();
            match (&secret.file, &secret.env) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => out.push(
                    l.at(
                        s.span(),
                        format!("build.secrets `{}`: give exactly one of `file` or `env`", secret.id),
                    )
                    .with_help("e.g. `{ id = \"npmrc\", file = \"secrets/npmrc\" }` or `{ id = \"token\", env = \"TOKEN\" }`"),
                ),
            }
            if secret.id.is_empty() || !ids.insert(secret.id.clone()) {
                out.push(l.at(
                    s.span(),
                    format!(
                        "build.secrets: the id `{}` is empty or given twice",
                        secret.id
                    ),
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for s in &self.secrets {
            let secret = s.get_ref();
            let good = !secret.name.is_empty()
                && secret
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
            if !good || !names.insert(secret.name.clone()) {
                out.push(
                    l.at(
                        s.span(),
                        format!(
                            "secret `{}`: a name is letters, digits, `_`, `-` and `.`, and given once",
                            secret.name
                        ),
                    )
                    .with_help("e.g. [[secret]] name = \"db_password\" file = \"secrets/db_password\""),
                );
            }
            if secret
                .target
                .as_deref()
                .is_some_and(|t| !t.starts_with('/'))
            {
                out.push(l.at(
                    s.span(),
                    format!(
                        "secret `{}`: target must be an absolute path in the container",
                        secret.name
                    ),
                ));
            }
        }
    }
    /// `[build]` and `[run]`: the values serde cannot judge alone.
    fn validate_run(&self, l: &Located<'_>, out: &mut Vec<Diagnostic>) {
        if self.build.builder == Some(crate::docker::Builder::Classic)
            && !self.build.secrets.is_empty()
        {
            out.push(
                Diagnostic::new(
                    l.path,
                    "build.secrets need BuildKit, but build.builder is \"classic\"",
                )
                .help("remove `builder = \"classic\"` (BuildKit is the default)"),
            );
        }
        let run = &self.run;
        if let Some(u) = &run.userns
            && u != "host"
        {
            out.push(Diagnostic::new(
                l.path,
                format!("run.userns: `{u}`: the only choice is \"host\" (opting out of the daemon's remapping)"),
            ));
        }
        for (name, limit) in &run.ulimits {
            if !ULIMITS.contains(&name.as_str()) {
                let mut d =
                    Diagnostic::new(l.path, format!("run.ulimits: `{name}` is not a ulimit"));
                if let Some(near) = crate::tomlfile::suggest(name, ULIMITS.iter().copied()) {
                    d = d.help(format!("did you mean `{near}`?"));
                }
                out.push(d);
            }
            let (soft, hard) = limit.soft_hard();
            if soft > hard {
                out.push(Diagnostic::new(
                    l.path,
                    format!("run.ulimits.{name}: soft {soft} is above hard {hard}"),
                ));
            }
        }
        for k in run.sysctls.keys() {
            if !(k.starts_with("net.") || k.starts_with("kernel.") || k.starts_with("fs.mqueue.")) {
                out.push(
                    Diagnostic::new(
                        l.path,
                        format!("run.sysctls: `{k}` is not a namespaced kernel parameter Docker can set per container"),
                    )
                    .help("Docker takes kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and net.*"),
                );
            }
        }
        for k in run.labels.keys() {
            if k.starts_with("dk.") {
                out.push(Diagnostic::new(
                    l.path,
                    format!("run.labels: `{k}`: labels under `dk.` are dk's own"),
                ));
            }
        }
        for s in &run.security_opt {
            let key = s.split(['=', ':']).next().unwrap_or("");
            if ![
                "apparmor",
                "seccomp",
                "label",
                "no-new-privileges",
                "systempaths",
            ]
            .contains(&key)
            {
                out.push(
                    Diagnostic::new(
                        l.path,
                        format!("run.security_opt: `{s}` is not a security option"),
                    )
                    .help("use apparmor=<profile>, seccomp=<file or unconfined>, label=…"),
                );
            }
        }
        if let Some(tz) = &run.tz
            && (tz.is_empty() || tz.starts_with('/') || tz.contains(".."))
        {
            out.push(Diagnostic::new(
                l.path,
                format!("run.tz: `{tz}` is not a time zone name like Europe/Paris"),
            ));
        }
        if let Some(order) = &run.replace
            && *order.get_ref() == ReplaceOrder::StartFirst
        {
            if !run.ports.is_empty() {
                out.push(
                    l.at(
                        order.span(),
                        "run.replace: start-first runs two containers at once, and both cannot hold the same published host port".into(),
                    )
                    .with_help("publish the port from a proxy container on the live network that reaches this one by its name, or use stop-first"),
                );
            }
            if run.ip.is_some() {
                out.push(
                    l.at(
                        order.span(),
                        "run.replace: start-first runs two containers at once, and both cannot hold the same static address".into(),
                    )
                    .with_help("reach it by its name on the live network instead of `ip`, or use stop-first"),
                );
            }
        }
        if let Some(r) = &run.ready
            && r.http.is_some()
            && r.port.is_none()
        {
            out.push(
                Diagnostic::new(l.path, "run.ready.http needs run.ready.port")
                    .with_help("e.g. `ready = { port = 8080, http = \"/health\" }`"),
            );
        }
        if let Some(r) = &run.restart {
            validate_restart(r, "run.restart", l.path, out);
        }
        if let Some(log) = &run.log {
            validate_log(log, "run.log", l.path, out);
        }
        validate_deploy(&self.deploy, l.path, out);
        if let Some(r) = &run.allow_root
            && r.get_ref().trim().is_empty()
        {
            out.push(l.at(
                r.span(),
                "run.allow_root: give the reason this container must run as root".into(),
            ));
        }
    }
    /// `[job.*]` and `[hooks]`: names, non-empty commands.
    fn validate_jobs_hooks(&self, l: &Located<'_>, out: &mut Vec<Diagnostic>) {
        for (key, cmd) in [
            ("hooks.after_up", &self.hooks.after_up),
            ("hooks.on_failure", &self.hooks.on_failure),
        ] {
            if cmd.as_ref().is_some_and(|c| c.is_empty()) {
                out.push(Diagnostic::new(
                    l.path,
                    format!("{key} is an empty command"),
                ));
            }
        }
        for (name, job) in &self.jobs {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                out.push(l.at(
                    job.span(),
                    format!("job.{name}: a job name is letters, digits, `-` and `_`"),
                ));
            }
            if job.get_ref().command.is_empty() {
                out.push(
                    l.at(job.span(), format!("job.{name}.command is empty"))
                        .with_help("e.g. `command = [\"backup\", \"--all\"]`"),
                );
            }
        }
        if self.hooks.rollback_on_failure && self.hooks.after_up.is_none() {
            out.push(Diagnostic::new(
                l.path,
                "hooks.rollback_on_failure needs an `after_up` hook to fail",
            ));
        }
    }
    /// `[[mount]]`: one source each, of the kind's shape; host paths that expose the host need a reason.
    fn validate_mounts(&self, l: &Located<'_>, out: &mut Vec<Diagnostic>) {
        for m in &self.mounts {
            let mr = m.get_ref();
            let given = [&mr.source, &mr.host, &mr.from, &mr.volume]
                .iter()
                .filter(|s| s.is_some())
                .count();
            if given != 1 {
                out.push(
                    l.at(
                        m.span(),
                        format!(
                            "mount {}: give exactly one of `source`, `host`, `from` or `volume`",
                            mr.target
                        ),
                    )
                    .with_help("`source` is under <data_root>/<name>/, `host` an absolute host path, `from` another container's data (\"web:www\"), `volume` a named Docker volume"),
                );
            }
            if let Some(s) = &mr.source
                && let Err(e) = check_relative(s)
            {
                out.push(l.at(m.span(), format!("mount.source: {e}")));
            }
            if let Some(h) = &mr.host {
                if !h.starts_with('/') {
                    out.push(l.at(
                        m.span(),
                        format!("mount.host: `{h}` must be an absolute host path"),
                    ));
                } else if exposes_host(h) && mr.allow.as_deref().is_none_or(|a| a.trim().is_empty())
                {
                    out.push(
                        l.at(
                            m.span(),
                            format!("mount.host: `{h}` exposes the host to the container"),
                        )
                        .with_help("if it must, say why: `allow = \"<reason>\"`"),
                    );
                }
            }
            if let Some(f) = &mr.from {
                match f.split_once(':') {
                    Some((node, sub)) if !node.is_empty() && check_relative(sub).is_ok() => {}
                    _ => out.push(
                        l.at(
                            m.span(),
                            format!("mount.from: `{f}` is not `<container>:<path>`"),
                        )
                        .with_help("e.g. `from = \"web:www\"` for <data_root>/web/www"),
                    ),
                }
            }
            if let Some(v) = &mr.volume
                && (v.is_empty()
                    || !v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
            {
                out.push(l.at(
                    m.span(),
                    format!(
                        "mount.volume: `{v}` is not a volume name (letters, digits, `_`, `-`, `.`)"
                    ),
                ));
            }
            if mr.kind == MountKind::TestOnly && mr.source.is_none() {
                out.push(l.at(
                    m.span(),
                    "mount: a test_only mount takes `source` (a directory of the node)".into(),
                ));
            }
            if mr.external && mr.volume.is_none() {
                out.push(l.at(m.span(), "mount: `external` applies to a `volume`".into()));
            }
            if mr.file && mr.volume.is_some() {
                out.push(l.at(m.span(), "mount: a volume is not a file".into()));
            }
            if !mr.target.starts_with('/') {
                out.push(l.at(
                    m.span(),
                    format!("mount.target: `{}` must be an absolute path", mr.target),
                ));
            }
        }
    }
    /// `[[test.check]]`: exactly one probe, and only its own keys.
    fn validate_checks(&self, l: &Located<'_>, out: &mut Vec<Diagnostic>) {
        for c in &self.test.checks {
            let check = c.get_ref();
            let kinds = check.kinds();
            match kinds.len() {
                0 => {
                    out.push(l.at(c.span(), "test.check has no probe".into()).with_help(
                        "give exactly one of `exec`, `tcp`, `http`, `file` or `not_root`",
                    ))
                }
                1 => {
                    for (key, kind) in check.kind_specific_keys() {
                        if kind != kinds[0] {
                            out.push(l.at(
                                c.span(),
                                format!(
                                    "test.check `{}`: key `{key}` belongs to {:?} checks, not {:?}",
                                    check.display_name(),
                                    kind,
                                    kinds[0]
                                ),
                            ));
                        }
                    }
                }
                _ => out.push(
                    l.at(c.span(), "test.check has more than one probe".into()).with_help(
                        "split it: one of `exec`, `tcp`, `http`, `file` or `not_root` per check",
                    ),
                ),
            }
            if let Some(e) = &check.expect
                && e != "pass"
                && e != "fail"
            {
                out.push(l.at(
                    c.span(),
                    format!("test.check.expect: `{e}` must be \"pass\" or \"fail\""),
                ));
            }
            if let Some(v) = &check.via
                && v != "network"
                && v != "loopback"
            {
                out.push(l.at(
                    c.span(),
                    format!("test.check.via: `{v}` must be \"network\" or \"loopback\""),
                ));
            }
            for (key, re) in [
                ("stdout_matches", &check.stdout_matches),
                ("stderr_matches", &check.stderr_matches),
            ] {
                if let Some(re) = re
                    && let Err(e) = regex::Regex::new(re)
                {
                    out.push(l.at(c.span(), format!("test.check.{key}: invalid regex: {e}")));
                }
            }
            if check.kind() == Some(CheckKind::Http) && check.port.is_none() {
                out.push(
                    l.at(c.span(), "test.check http: `port` is required".into())
                        .with_help("add e.g. `port = 8080`"),
                );
            }
        }
    }
    /// `[lint]` and `[audit]` waivers: each with a reason.
    fn validate_waivers(&self, l: &Located<'_>, out: &mut Vec<Diagnostic>) {
        for (section, waivers) in [("lint", &self.lint.waive), ("audit", &self.audit.waive)] {
            for w in waivers {
                if w.get_ref()
                    .reason
                    .as_deref()
                    .is_none_or(|r| r.trim().is_empty())
                {
                    out.push(
                        l.at(
                            w.span(),
                            format!("{section}.waive for `{}` has no reason", w.get_ref().rule),
                        )
                        .with_help("a waiver must say why: add `reason = \"...\"`"),
                    );
                }
            }
        }
    }
}

/// Where a manifest's diagnostics point: its path as shown, and its text (for lines).
struct Located<'a> {
    path: &'a str,
    text: &'a str,
}

impl Located<'_> {
    fn at(&self, span: std::ops::Range<usize>, msg: String) -> Diagnostic {
        Diagnostic::new(self.path, msg).at_offset(self.text, span.start)
    }
}

/// `platform` and `platforms` are one setting: both on one node is an error at the key, as
/// are an empty list and a platform named twice.
fn validate_platforms(b: &BuildSection, l: &Located<'_>, out: &mut Vec<Diagnostic>) {
    let Some(list) = &b.platforms else {
        return;
    };
    let line = crate::tomlfile::line_of(l.text, "build.platforms").unwrap_or(1);
    if b.platform.is_some() {
        out.push(
            Diagnostic::new(
                l.path,
                "build.platforms: `platform` and `platforms` are both set",
            )
            .at_line(line)
            .help("keep one: `platform = \"linux/arm64\"` is `platforms = [\"linux/arm64\"]`"),
        );
    }
    validate_platform_list(list, l.path, line, out);
}

/// A `platforms` list (a manifest's or dk.toml's `[build]`, at `line` of `path`): not empty,
/// no platform twice.
pub fn validate_platform_list(
    list: &[Text<crate::dockerfile::Platform>],
    path: &str,
    line: usize,
    out: &mut Vec<Diagnostic>,
) {
    let at = |msg: &str, help: &str| {
        Diagnostic::new(path, format!("build.platforms: {msg}"))
            .at_line(line)
            .help(help)
    };
    if list.is_empty() {
        out.push(at(
            "the list is empty",
            "name at least one platform, e.g. [\"linux/amd64\", \"linux/arm64\"], or remove the key (the machine's platform)",
        ));
    }
    let platforms = crate::dockerfile::Platform::list(list);
    for (k, p) in platforms.iter().enumerate() {
        if platforms[..k].iter().any(|q| q.same(p)) {
            out.push(at(
                &format!("{p} is named twice"),
                "name each platform once",
            ));
        }
    }
}

pub fn validate_restart(r: &RestartSettings, key: &str, path: &str, out: &mut Vec<Diagnostic>) {
    if let Some(p) = &r.policy
        && !RESTART_POLICIES.contains(&p.as_str())
    {
        out.push(Diagnostic::new(
            path,
            format!(
                "{key}.policy: `{p}` is not one of {}",
                RESTART_POLICIES.join(", ")
            ),
        ));
    }
}

/// `[deploy]`'s Swarm placement: spread over labels, at least one task per node allowed.
pub fn validate_deploy(d: &DeploySection, path: &str, out: &mut Vec<Diagnostic>) {
    for s in d.spread.iter().flatten() {
        if !(s.starts_with("node.labels.") || s.starts_with("engine.labels.")) || s.ends_with('.') {
            out.push(
                Diagnostic::new(
                    path,
                    format!("deploy.spread: `{s}` is not a node label (`node.labels.<name>`)"),
                )
                .help("Swarm spreads tasks over the values of a node label, e.g. `spread = [\"node.labels.zone\"]` after `docker node update --label-add zone=a NODE`"),
            );
        }
    }
    if d.max_per_node == Some(0) {
        out.push(
            Diagnostic::new(path, "deploy.max_per_node: 0 would place no task anywhere")
                .help("give at least 1, or leave it out for no limit"),
        );
    }
    if let Some(t) = &d.timeout
        && t.get().is_zero()
    {
        out.push(Diagnostic::new(
            path,
            "deploy.timeout: 0s leaves Swarm no time; give e.g. \"5m\"",
        ));
    }
}

pub fn validate_log(l: &LogSettings, key: &str, path: &str, out: &mut Vec<Diagnostic>) {
    let driver = l.driver.as_deref().unwrap_or("json");
    let driver = if driver == "json-file" {
        "json"
    } else {
        driver
    };
    let Some((_, allowed)) = LOG_DRIVER_OPTIONS.iter().find(|(d, _)| *d == driver) else {
        // Not one of Docker's own: a log driver plugin (`docker plugin install
        // grafana/loki-docker-driver --alias loki`), named as `docker plugin ls` shows it,
        // whose options are its own — unless it is a near miss of one of Docker's.
        let names: Vec<&str> = LOG_DRIVER_OPTIONS.iter().map(|(d, _)| *d).collect();
        if let Some(near) = crate::tomlfile::suggest(driver, names.iter().copied()) {
            out.push(
                Diagnostic::new(
                    path,
                    format!(
                        "{key}.driver: `{driver}` is not one of Docker's log drivers ({})",
                        names.join(", ")
                    ),
                )
                .help(format!(
                    "did you mean `{near}`? (a log driver plugin is named as `docker plugin ls` shows it)"
                )),
            );
        } else if driver.is_empty()
            || !driver
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c))
        {
            out.push(Diagnostic::new(
                path,
                format!("{key}.driver: `{driver}` is not a log driver or plugin name"),
            ));
        }
        if l.max_size.is_some() || l.max_files.is_some() {
            out.push(Diagnostic::new(
                path,
                format!(
                    "{key}: max_size and max_files rotate json and local logs; give a plugin's own options in `options`"
                ),
            ));
        }
        return;
    };
    for opt in l.options.keys() {
        if !allowed.contains(&opt.as_str()) {
            let mut d = Diagnostic::new(
                path,
                format!("{key}.options: the {driver} log driver takes no option `{opt}`"),
            );
            d = match crate::tomlfile::suggest(opt, allowed.iter().copied()) {
                Some(near) => d.help(format!("did you mean `{near}`?")),
                None if allowed.is_empty() => d.help(format!("{driver} takes no options")),
                None => d.help(format!("it takes: {}", allowed.join(", "))),
            };
            out.push(d);
        }
    }
    for (d, required) in LOG_DRIVER_REQUIRED {
        if *d == driver && !l.options.contains_key(*required) {
            out.push(Diagnostic::new(
                path,
                format!("{key}.options: the {driver} log driver needs `{required}`"),
            ));
        }
    }
    if (l.max_size.is_some() || l.max_files.is_some()) && driver != "json" && driver != "local" {
        out.push(Diagnostic::new(
            path,
            format!(
                "{key}: max_size and max_files rotate json and local logs; {driver} keeps none"
            ),
        ));
    }
    if let Some(f) = l.options.get("syslog-facility")
        && !SYSLOG_FACILITIES.contains(&f.as_str())
    {
        out.push(Diagnostic::new(
            path,
            format!(
                "{key}.options.syslog-facility: `{f}` is not one of {}",
                SYSLOG_FACILITIES.join(", ")
            ),
        ));
    }
    if let Some(a) = l.options.get("syslog-address")
        && !["udp://", "tcp://", "tcp+tls://", "unix://", "unixgram://"]
            .iter()
            .any(|p| a.starts_with(p))
    {
        out.push(
            Diagnostic::new(
                path,
                format!("{key}.options.syslog-address: `{a}` is not an address Docker takes"),
            )
            .help("use udp://host:port, tcp://host:port, tcp+tls://host:port, unix:///path or unixgram:///path"),
        );
    }
}

trait WithHelp {
    fn with_help(self, help: &str) -> Self;
}

impl WithHelp for Diagnostic {
    fn with_help(self, help: &str) -> Self {
        self.help(help)
    }
}

/// A relative path that stays where it is put: no absolute paths, no `..` components.
pub fn check_relative(p: &str) -> Result<(), String> {
    let path = std::path::Path::new(p);
    if p.is_empty() {
        return Err("path is empty".into());
    }
    if path.is_absolute() {
        return Err(format!("`{p}` must be a relative path"));
    }
    if path
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(format!(
            "`{p}` may not contain `..` (paths stay inside the workspace)"
        ));
    }
    Ok(())
}

/// A published port: `[ip:]host:container[/proto]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub host_ip: Option<String>,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: String,
}

impl FromText for crate::dockerfile::Platform {
    fn from_text(s: &str) -> Result<Self, String> {
        crate::dockerfile::Platform::parse(s)
    }
    fn placeholder() -> Self {
        crate::dockerfile::Platform::host()
    }
}

impl FromText for PortMapping {
    fn from_text(s: &str) -> Result<Self, String> {
        PortMapping::parse(s)
    }
    fn placeholder() -> Self {
        PortMapping {
            host_ip: None,
            host_port: 0,
            container_port: 0,
            proto: "tcp".into(),
        }
    }
}

impl PortMapping {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (main, proto) = match s.rsplit_once('/') {
            Some((m, p)) if p == "tcp" || p == "udp" => (m, p.to_string()),
            Some((_, p)) => return Err(format!("`{s}`: protocol `{p}` must be tcp or udp")),
            None => (s, "tcp".to_string()),
        };
        // `[::1]:8080:80`: an IPv6 host address in brackets.
        if let Some(rest) = main.strip_prefix('[') {
            let (ip, ports) = rest.split_once("]:").ok_or_else(|| {
                format!("`{s}`: an IPv6 address is written `[addr]:host:container`")
            })?;
            ip.parse::<std::net::Ipv6Addr>()
                .map_err(|_| format!("`{s}`: `{ip}` is not an IPv6 address"))?;
            let mut m = PortMapping::parse(&format!("{ports}/{proto}"))?;
            m.host_ip = Some(ip.to_string());
            return Ok(m);
        }
        let parts: Vec<&str> = main.split(':').collect();
        let port = |p: &str| -> Result<u16, String> {
            p.parse::<u16>()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| format!("`{s}`: `{p}` is not a port number"))
        };
        match parts.as_slice() {
            [h, c] => Ok(PortMapping {
                host_ip: None,
                host_port: port(h)?,
                container_port: port(c)?,
                proto,
            }),
            // An empty address is every address, as Docker reads `-p :8080:80` (what a
            // Compose file's `${IP:-}:8080:80` gives).
            ["", h, c] => Ok(PortMapping {
                host_ip: None,
                host_port: port(h)?,
                container_port: port(c)?,
                proto,
            }),
            [ip, h, c] => {
                ip.parse::<Ipv4Addr>()
                    .map_err(|_| format!("`{s}`: `{ip}` is not an IPv4 address"))?;
                Ok(PortMapping {
                    host_ip: Some(ip.to_string()),
                    host_port: port(h)?,
                    container_port: port(c)?,
                    proto,
                })
            }
            _ => Err(format!(
                "`{s}` is not a port mapping (use \"8080:80\" or \"127.0.0.1:8080:80/tcp\")"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tomlfile;

    fn load(text: &str) -> Result<Manifest, Vec<Diagnostic>> {
        let m: Manifest = tomlfile::parse_all(text, "m.toml")?;
        let v = m.validate(text, "m.toml");
        if v.is_empty() { Ok(m) } else { Err(v) }
    }

    #[test]
    fn a_log_driver_plugin_is_taken_by_its_name_and_a_near_miss_is_not() {
        let plugin = load(
            "[run]\nlog = { driver = \"loki\", options = { loki-url = \"http://127.0.0.1:3100\" } }\n",
        );
        assert!(plugin.is_ok(), "{plugin:?}");
        assert!(load("[run]\nlog = { driver = \"grafana/loki-docker-driver:3.3\" }\n").is_ok());
        let near = load("[run]\nlog = { driver = \"jounrald\" }\n").unwrap_err();
        assert!(
            near[0].message.contains("not one of Docker's log drivers"),
            "{near:?}"
        );
        assert!(near[0].help.as_deref().unwrap().contains("`journald`"));
        let rotated = load("[run]\nlog = { driver = \"loki\", max_size = \"5m\" }\n").unwrap_err();
        assert!(rotated[0].message.contains("rotate json and local logs"));
        assert!(load("[run]\nlog = { driver = \"lo ki\" }\n").is_err());
    }

    #[test]
    fn a_full_manifest_parses() {
        let text = r#"
description = "web"
autostart = true
after = ["filewatch"]
[build]
args = { A = "1" }
[[stage.copy]]
from = "services/x.sh"
to = "files/x"
mode = "0755"
[run]
ip = "172.30.0.10"
ports = ["8080:80", "127.0.0.1:8443:443/tcp"]
memory = "64m"
restart = { policy = "on-failure", max_retries = 3 }
[[mount]]
kind = "persistent_test_copy_tree"
source = "data"
target = "/data"
owner = 1000
mode = "0750"
[test]
grace = "1s"
[[test.check]]
http = "/"
port = 80
status = 200
[[test.check]]
exec = ["id", "-u"]
stdout_equals = "1000\n"
expect = "pass"
"#;
        let m = load(text).unwrap();
        assert!(m.autostart);
        assert_eq!(m.test.checks.len(), 2);
        assert_eq!(
            m.mounts[0].get_ref().kind,
            MountKind::PersistentTestCopyTree
        );
    }

    #[test]
    fn check_with_two_probes_is_an_error_at_its_line() {
        let text = "[[test.check]]\ntcp = 80\nhttp = \"/\"\n";
        let errs = load(text).unwrap_err();
        assert!(errs[0].message.contains("more than one probe"), "{errs:?}");
        // Located at the check's table header.
        assert_eq!(errs[0].line, Some(1));
    }

    #[test]
    fn waiver_without_reason_is_an_error() {
        let text = "[[lint.waive]]\nrule = \"DL3007\"\n";
        let errs = load(text).unwrap_err();
        assert!(errs[0].message.contains("has no reason"));
    }

    #[test]
    fn stage_paths_may_not_escape() {
        let text = "[[stage.copy]]\nfrom = \"../../etc/passwd\"\nto = \"files/p\"\n";
        let errs = load(text).unwrap_err();
        assert!(errs[0].message.contains("may not contain `..`"), "{errs:?}");
    }

    #[test]
    fn bad_mount_kind_is_reported() {
        let text = "[[mount]]\nkind = \"persistant\"\nsource = \"a\"\ntarget = \"/a\"\n";
        let errs = load(text).unwrap_err();
        assert!(errs[0].message.contains("persistant"), "{errs:?}");
        assert_eq!(errs[0].line, Some(2));
    }

    #[test]
    fn an_empty_host_address_is_every_address() {
        let m = PortMapping::parse(":2283:2283").unwrap();
        assert_eq!(
            (m.host_ip, m.host_port, m.container_port),
            (None, 2283, 2283)
        );
    }

    #[test]
    fn ports_parse() {
        assert_eq!(
            PortMapping::parse("127.0.0.1:8080:80/udp").unwrap(),
            PortMapping {
                host_ip: Some("127.0.0.1".into()),
                host_port: 8080,
                container_port: 80,
                proto: "udp".into()
            }
        );
        assert!(PortMapping::parse("80").is_err());
        assert!(PortMapping::parse("x:80").is_err());
    }

    #[test]
    fn host_paths_that_expose_the_host() {
        for p in [
            "/",
            "/etc",
            "/etc/",
            "/etc/ssl",
            "/var",
            "/run",
            "/var/run/docker.sock",
            "/var/lib/docker/volumes",
            "//proc",
        ] {
            assert!(exposes_host(p), "{p}");
        }
        for p in [
            "/srv/media",
            "/etc/localtime",
            "/var/lib/postgres",
            "/home/me",
            "/runner",
        ] {
            assert!(!exposes_host(p), "{p}");
        }
    }
}
