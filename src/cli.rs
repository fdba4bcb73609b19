//! The command line: clap definitions only. `main.rs` dispatches to the engine and prints.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Build, test, promote and run a graph of containers through the Docker daemon";

const LONG_ABOUT: &str = "\
dk builds the images of a workspace (a directory with dk.toml, baseline/ and containers/<name>/),
tests each one, promotes what passed to :live (keeping the old live as :prev), and runs the live
containers. It only does what changed: a second run with nothing changed touches nothing.

Names may be shortened to any unique prefix: `dk up f` means `dk up filewatch`.

Exit codes: 0 success, 1 a build/test/promotion failed, 2 usage or definition error,
3 the Docker daemon cannot be reached or is too old.";

const AFTER_HELP: &str = "\
Examples:
  dk build                 build every stale image, dependencies first
  dk plan web              what building `web` would do, and why
  dk up f                  build, test, promote and (re)start `filewatch`
  dk graph --format dot | dot -Tpng > graph.png

Environment:
  DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH   which daemon to use
  DK_NAMESPACE                                      override dk.toml's image namespace
  RUST_LOG                                          tracing filter (e.g. dk=debug)";

#[derive(Debug, Parser)]
#[command(name = "dk", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// Use the workspace in DIR instead of searching upward for dk.toml
    #[arg(short = 'C', long = "workspace", value_name = "DIR", global = true)]
    pub workspace: Option<PathBuf>,

    /// More output: build logs in plain mode, debug tracing with -vv
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// The daemon to use: a name from dk.toml's [hosts] or an endpoint (ssh://user@host,
    /// tcp://host:2375, unix:///path); default DOCKER_HOST, else the local socket
    #[arg(
        short = 'H',
        long = "host",
        value_name = "NAME|ENDPOINT",
        global = true
    )]
    pub host: Option<String>,

    /// Fail at once instead of waiting when another dk holds the workspace lock
    #[arg(long, global = true)]
    pub no_wait: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
    Mermaid,
    /// A picture laid out by dk, each node coloured by its state, with a legend
    Svg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimerKind {
    /// `dk update`
    Update,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Nodes to build (unique prefixes work); their dependencies are built first. None: all
    pub names: Vec<String>,
    /// Parallel builds (default: dk.toml's build.jobs, else the number of cores)
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Rebuild the selection even when its inputs are unchanged
    #[arg(long)]
    pub force: bool,
    /// Stop everything at the first failure (default: independent nodes finish)
    #[arg(long)]
    pub fail_fast: bool,
    /// One JSON event per line on stdout, then a JSON summary
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Start an image again whose last live start did not become ready (dk otherwise waits
    /// for the image or the settings to change)
    #[arg(long)]
    pub retry: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Also write the results as JUnit XML to FILE (written when checks fail too)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Keep a failing test container and its mount copies to look into (the next `dk test`
    /// removes them)
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct LauncherArgs {
    /// Container names (unique prefixes work)
    pub names: Vec<String>,
    /// Every live container of this workspace; for `start`, also every autostart container
    /// that has a :live image (what a boot runs: `dk systemd`)
    #[arg(long)]
    pub all: bool,
    /// How many containers to handle at once (default: the number of cores)
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub struct CleanArgs {
    #[command(flatten)]
    pub names: NamesArgs,
    /// Also prune the daemon's build cache (cache mounts, unused layers; never images)
    #[arg(long)]
    pub build_cache: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImportFrom {
    /// A Compose project, resolved as `docker compose config` does, written as dk containers
    #[command(
        long_about = "Read a Compose project the way `docker compose config` resolves it (several files merged in order, ${VAR} interpolation from the environment over .env, YAML anchors and x- fields, extends, profiles; unknown keys and wrong types are errors at their file and line) and write a dk workspace, or add to the one here without overwriting anything.\n\nEach service becomes containers/<name>/: its build context copied (dockerfile, args, target kept), or a Dockerfile `FROM <image>` pinned by digest when the image is here. Its settings go into container.toml: ports, environment, volumes (binds as host paths, named volumes as volumes; Compose's own volumes are used as they are, so their data stays), tmpfs, depends_on, healthcheck, restart, user, capabilities, read_only, security_opt, sysctls, ulimits, devices, dns, extra_hosts, hostname, network aliases and address, command/entrypoint, labels, logging, resource limits, secrets and configs as file mounts. Values that came from variables or env files go to dk.local.toml (git-ignored), never into the manifest. What has no dk equivalent is a `# TODO(import):` line in that container.toml and in the summary; nothing is dropped silently. dk's security defaults apply (non-root, capabilities dropped, read-only root) unless the Compose file says otherwise: the summary names every service that will run differently, and why.",
        after_help = "Examples:\n  dk import compose                          ./compose.yaml (or docker-compose.yml) into this workspace\n  dk import compose a.yaml b.yaml --into ../site\n  dk import compose --profile debug --env-file prod.env"
    )]
    Compose {
        /// Compose files, merged in order (default: compose.yaml, docker-compose.yml… here)
        files: Vec<PathBuf>,
        /// The workspace to write (default: this one, or the current directory)
        #[arg(long, value_name = "DIR")]
        into: Option<PathBuf>,
        /// Variables from this file instead of .env
        #[arg(long, value_name = "FILE")]
        env_file: Option<PathBuf>,
        /// Enable services of this profile (repeatable; default: COMPOSE_PROFILES)
        #[arg(long, value_name = "NAME")]
        profile: Vec<String>,
        /// Print the project as dk resolved it (files merged, variables interpolated,
        /// extends and profiles applied), as JSON, and write nothing: what to compare with
        /// `docker compose config` when an import looks wrong
        #[arg(long)]
        config: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub names: NamesArgs,
    /// Exit 1 unless every autostart container runs (and is healthy), naming what is not
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct NamesArgs {
    /// Container names (unique prefixes work)
    pub names: Vec<String>,
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build what is stale, dependencies first, independent nodes in parallel; tags :latest
    #[command(
        long_about = "Build what is stale, dependencies first, independent nodes in parallel, and tag \
each result <namespace>/<name>:latest.\n\nA node is fresh when its inputs (context files after \
.dockerignore, the Dockerfile as sent, build args, target, parent image ids) match a recorded build \
whose image still exists; then nothing is sent to the daemon. Touching a file without changing it \
rebuilds nothing. Staging steps (container.toml [[stage.*]]) run first.\n\nA node with no record for \
its inputs (another checkout of the workspace, an emptied .dk/) takes the image built from exactly \
those inputs instead of building it: the daemon's :latest, :live or :prev of the node carrying the \
same input hash and workspace id, else, with dk.toml's [build] registry_cache, the first registry's \
`in-<input hash>` that `dk push` sent, with the test record it passed (status `taken`)."
    )]
    Build(BuildArgs),

    /// What `build` would do and why (which input changed), touching nothing
    Plan(NamesArgs),

    /// List the nodes: parents, manifest and Dockerfile paths
    Ls {
        /// Machine-readable output
        #[arg(long)]
        json: bool,
        /// Only the names, one per line (for scripts and completions)
        #[arg(long, conflicts_with = "json")]
        names: bool,
    },

    /// Print the dependency graph (text tree, Graphviz dot, Mermaid, or an SVG picture)
    #[command(
        long_about = "Print the dependency graph: a text tree, Graphviz dot, Mermaid, or (--format svg) a picture dk lays out itself, each node coloured by its state — failed (its last test or live start), rolled back, running, live, stale (why, on hover), fresh — with a legend. The SVG asks the daemon and reads the records; with no daemon answering, it colours what the records know and says so.\n\nExample: dk graph --format svg > graph.svg"
    )]
    Graph {
        #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
        format: GraphFormat,
        /// Nodes and edges as JSON
        #[arg(long)]
        json: bool,
    },

    /// Remove staged (generated) files, records, logs and caches of the selection; never touches containers
    #[command(
        long_about = "Remove the staged (generated) files, records, build logs and digest caches of the selection (no names: every node). Never touches containers or images.\n\nWith --build-cache, also prune the daemon's build cache: BuildKit's cache mounts (`RUN --mount=type=cache`) and layers no image uses. That cache is the daemon's, shared by every node (and every workspace) on it, so it is pruned whole; images are never removed."
    )]
    Clean(CleanArgs),

    /// Launch each :latest with its test settings, run its checks, always tear down
    #[command(
        long_about = "Build what is stale, then launch each selected node's :latest image (by id) as <namespace>-test-<name> on the test network, with the test variants of its mounts and no published ports. Wait until it is ready (HEALTHCHECK, `ready_port`, or the grace period), run the implicit smoke check and every [[test.check]] of its container.toml (and its `test` executable), then remove the container, whatever happened. A passing result is recorded for the image id and the test spec; the same image is not tested again unless --force."
    )]
    Test(TestArgs),

    /// Move what passed its tests to :live (old :live to :prev)
    #[command(
        long_about = "Promote each selected node: its :latest image goes :live and the old :live is kept as :prev. Refused (exit 1, saying why) unless the :latest id passed `dk test` with the current test spec, and every node it was built on is live at the id it was built on; such parents are promoted first, in the same command, when they passed their own tests."
    )]
    Promote(NamesArgs),

    /// Build, test, promote and (re)start, only where something changed
    #[command(
        long_about = "The upgrade: build what is stale, test it, promote what passed, and start or replace the live containers, only where something changed. A failed build or test stops before any container is touched.\n\nA container is replaced only when it does not run the :live image or its settings changed, and the replacement is done only when the new container is ready: healthy (with a healthcheck), else answering on `[run] ready` (a port, optionally an HTTP path), else up for the grace period, within a timeout. `stop-first` (the default) stops the old container, starts the new one, and if it is not ready puts the old one back and starts it again; `[run] replace = \"start-first\"` starts the new one beside the old one (same name on the live network) and removes the old one only once the new one is ready. A failed start keeps the new container's logs under .dk/logs/, prints where, and is remembered: the same image with the same settings is not tried again until one of them changes (--retry forces it). `[hooks]` run after a change went live (`after_up`) or failed (`on_failure`).\n\nA node with `[deploy] target = \"swarm\"` (dk.toml or its container.toml) is one Swarm service instead, on the swarm manager dk talks to: its :live image by digest from the first [[registry]] (pushed when needed), updated only when its settings changed, rolled out by Swarm one task at a time and rolled back by Swarm when a task fails (docs/swarm.md).\n\nWith no names: every container marked `autostart = true`, in start waves from their `after` lists (a wave starts when the previous one is running, or healthy where it has a healthcheck)."
    )]
    Up(UpArgs),

    /// Start live containers (created from :live when missing), in start waves
    Start(LauncherArgs),

    /// Stop live containers (with their stop timeout)
    Stop(LauncherArgs),

    /// Restart live containers
    Restart(LauncherArgs),

    /// Remove live containers, or the Swarm services of swarm nodes (never their data)
    Down(LauncherArgs),

    /// Put an earlier release back as :live (default :prev) and restart through the readiness gate
    #[command(
        long_about = "Put an earlier release of NAME back as :live and, when its live container exists, replace the container through the same readiness gate as `dk up` (the current one is put back when the release does not become ready). A Swarm service (`[deploy] target = \"swarm\"`) gets Swarm's own rollback to its previous spec, waited for.\n\nWithout --to: the :prev image. --to N: entry N of `dk history NAME` (1 is the newest). --to ID: the release whose image id starts with ID. Only kept releases (`[deploy] keep_releases`, default 3) can be chosen, and only images that passed their tests when they went live: under the test spec of that time, which `dk history` and `dk status` show."
    )]
    Rollback {
        name: String,
        /// Which release: N (from `dk history`) or an image id prefix
        #[arg(long, value_name = "N|IMAGE")]
        to: Option<String>,
    },

    /// The effective configuration: dk.toml, dk.local.toml and the manifests, with where each value comes from
    #[command(
        long_about = "Print the values a site may change, as dk uses them: namespace, data root, state directory, networks and subnets, build args, and each container's env, ports and mount sources, each with where it comes from (dk.toml:LINE, dk.local.toml:LINE, a container.toml, DK_NAMESPACE, or the default).\n\ndk.local.toml, beside dk.toml and git-ignored by convention, holds what a site must not commit; see docs/manifest.md."
    )]
    Config {
        /// Only these containers' values (unique prefixes work)
        names: Vec<String>,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },

    /// The release history of a container: what went live when, tested under which spec
    History {
        name: String,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },

    /// Every node: stale or fresh, tested, promoted, running
    #[command(
        long_about = "Every node (or the named ones): whether its image is stale or fresh, tested, promoted, and whether its live container runs, is healthy, and since when.\n\nWith --check, for monitoring: exit 0 when every autostart container runs (and is healthy where it has a healthcheck), else exit 1 naming each one that is not and why; --json gives the same as one JSON object."
    )]
    Status(StatusArgs),

    /// Logs of a live container
    Logs {
        name: String,
        /// Follow the log
        #[arg(short, long)]
        follow: bool,
        /// Only output since this long ago (`10m`, `2h`, `1d`) or this Unix time
        #[arg(long, value_name = "DURATION|UNIXTIME")]
        since: Option<String>,
        /// Prefix each line with its time (RFC 3339)
        #[arg(short, long)]
        timestamps: bool,
        /// Only the last N lines ("all" for everything)
        #[arg(long, value_name = "N", default_value = "all")]
        tail: String,
    },

    /// Run a one-off job from :live with the live settings; its exit code is dk's
    #[command(
        long_about = "Run a one-off container of NAME's :live image (--latest: its :latest) with the live settings (mounts, env, network, limits, user), but none of the service's published ports, address, aliases or restart policy, so it never touches the service container. Its output is streamed, your terminal is attached, and dk exits with the job's exit code; the container is removed afterwards.\n\nNAME:JOB runs a job declared in container.toml (`[job.daily] command = [\"backup\"]`); arguments after `--` are appended to its command. Without a job, arguments after `--` replace the image's command.",
        after_help = "Examples:\n  dk run db:backup                 the [job.backup] of db\n  dk run db:backup -- --full       with one more argument\n  dk run web -- ls -l /srv/www     any command, with web's live mounts"
    )]
    Run {
        /// NAME or NAME:JOB (unique prefixes work for NAME)
        target: String,
        /// Run the :latest image instead of :live
        #[arg(long)]
        latest: bool,
        /// The command (without a job) or more arguments (with one)
        #[arg(last = true)]
        args: Vec<String>,
    },

    /// Run a command in a live container (exit code passed through)
    #[command(after_help = "Examples:\n  dk exec web -- ls /srv/www\n  dk exec --root db -- id")]
    Exec {
        name: String,
        /// As root (uid 0) instead of the container's user
        #[arg(long)]
        root: bool,
        /// The command
        #[arg(last = true, required = true)]
        cmd: Vec<String>,
    },

    /// A shell in a live container, or in a throwaway container of one of its images
    #[command(
        long_about = "Open /bin/sh in NAME's running live container, as its user (--root: as uid 0).\n\nWith --image latest|live|prev|ID, in a fresh throwaway container of that image instead, whatever its entrypoint: no network, read-only root filesystem, every capability dropped, removed on exit. Give a command after `--` to run it instead of /bin/sh; with input that is not a terminal, the shell reads its commands from it.",
        after_help = "Examples:\n  dk shell web\n  dk shell --root web\n  dk shell web --image prev\n  echo 'ls /etc' | dk shell web --image latest"
    )]
    Shell {
        name: String,
        /// As root (uid 0) instead of the container's user
        #[arg(long)]
        root: bool,
        /// A throwaway container of this image instead of the live container
        #[arg(long, value_name = "latest|live|prev|ID")]
        image: Option<String>,
        /// A command instead of /bin/sh
        #[arg(last = true)]
        cmd: Vec<String>,
    },

    /// Remove this workspace's images nothing needs any more, and the dangling build cache
    #[command(
        long_about = "Remove this workspace's images (dk.workspace label) that are none of :latest, :live, :prev or a kept release, and that no container uses, then the daemon's dangling build cache. Prints each image and what is freed. Never touches data, volumes, containers, or another workspace's images."
    )]
    Prune {
        /// Say what would be removed, remove nothing
        #[arg(long)]
        dry_run: bool,
    },

    /// A systemd unit that starts the workspace's containers at boot (or a timer for `dk update`)
    #[command(
        long_about = "Print a systemd unit that runs `dk start --all` for this workspace once docker.service is up: every autostart container and every live container that exists comes back in its start waves, each through the readiness gate. With --install, write it to /etc/systemd/system (or --unit-dir) and print the commands that enable it.\n\nWhy not only Docker's restart policies: after a daemon restart Docker starts containers in no particular order, and `on-failure` (dk's default) does not restart a container that was stopped cleanly.\n\nWith --timer update: a timer and a service, `dk-<namespace>-update.timer` and `.service`, that run `dk update` for this workspace on a schedule (--on-calendar, default daily, with a random delay of up to an hour); --install writes both and prints the commands that enable the timer."
    )]
    Systemd {
        /// Write the unit instead of printing it
        #[arg(long)]
        install: bool,
        /// Instead of the boot unit: a timer and its service that run `dk <TIMER>` on a
        /// schedule (`update`: re-pin, test and deploy what upstream changed)
        #[arg(long, value_enum, value_name = "TIMER")]
        timer: Option<TimerKind>,
        /// When the timer fires (systemd's OnCalendar=, e.g. `daily`, `Mon *-*-* 04:00`)
        #[arg(long, default_value = "daily", requires = "timer")]
        on_calendar: String,
        /// Where --install writes it
        #[arg(long, value_name = "DIR", default_value = "/etc/systemd/system")]
        unit_dir: PathBuf,
    },

    /// Push live images to the registries of dk.toml, verified by digest
    #[command(
        long_about = "Push each node's :live image (no names: every node that has one) to every [[registry]] of dk.toml, as <url>/<namespace>/<node>, tagged with the VCS revision its build recorded (else id-<12 hex>) and `live`. The revision goes to every registry first, and `live` moves only once all of them have it. The digest each registry reports must be the one the daemon pushed; it is recorded under .dk/records/pushes/.\n\nThe daemon does the push, with the credentials the Docker CLI would use (its config.json, credential helpers): `docker login <host>` first. TLS trust is the daemon's (/etc/docker/certs.d/<host>/ca.crt). A registry with push = \"on-promote\" gets what `dk up` promotes, without `dk push`."
    )]
    Push {
        /// Nodes (unique prefixes work)
        names: Vec<String>,
        /// Only this registry (its url in dk.toml; repeatable)
        #[arg(long, value_name = "URL")]
        registry: Vec<String>,
    },

    /// Bring an existing setup into dk: `dk import compose`
    Import {
        #[command(subcommand)]
        from: ImportFrom,
    },

    /// Shell completions (with node names) for bash, zsh or fish
    #[command(
        after_help = "Install:\n  bash: dk completions bash > /etc/bash_completion.d/dk\n  zsh:  dk completions zsh > \"${fpath[1]}/_dk\"\n  fish: dk completions fish > ~/.config/fish/completions/dk.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },

    /// Create the data directories a container declares, with owners and modes
    #[command(
        long_about = "Create the data directories of each container's mounts under <data_root>/<name>/, with the owner, group and mode its container.toml declares. When the daemon remaps user namespaces, owners are shifted by the remap user's offset in /etc/subuid and /etc/subgid (DK_USERNS_REMAP, DK_SUBUID_FILE and DK_SUBGID_FILE override detection and paths). Existing directories are only tightened; loosening their mode or changing their owner needs --fix."
    )]
    Prep {
        /// Containers (unique prefixes work). None: every container that declares mounts
        names: Vec<String>,
        /// Also loosen modes and change owners of directories that exist
        #[arg(long)]
        fix: bool,
    },

    /// Pins with a newer upstream: images by digest or tag, [[stage.fetch]] checksums
    #[command(
        long_about = "Ask every pin's upstream what it offers now, and print one line per pin that has something newer: where it is written (file:line), what (image or fetched file), the pinned digest → the available one, what upstream says of it (the image's creation time, the fetched file's name), and the nodes that would rebuild.\n\nPins: an external image pinned by digest (`FROM alpine:3.20@sha256:…`, or in an ARG default) — upstream is what its tag points at now in the registry, compared per platform (an index that only gained another architecture is not newer); an external image by tag only — the registry's digest against the local copy's; a [[stage.fetch]] with its sha256 — what the fetch command yields today (run in a scratch directory; the file is kept in the verified cache).\n\nRegistries are asked over HTTPS (plain HTTP on loopback) with the Docker CLI's credentials (`docker login`).\n\nExit 0 when every upstream could be asked; 1 when one could not (named, with the error) or, with --check, when anything is outdated; 3 when the daemon is unreachable.\n\nExample: dk outdated --check   # for monitoring"
    )]
    Outdated {
        /// Nodes (unique prefixes work). None: all
        names: Vec<String>,
        /// One JSON document: every pin, with `available` set where upstream is newer
        #[arg(long)]
        json: bool,
        /// Exit 1 when anything is outdated (for monitoring)
        #[arg(long)]
        check: bool,
    },

    /// Re-pin what upstream changed; build, test, promote and replace exactly what depends on it
    #[command(
        long_about = "For each pin `dk outdated` finds newer: write the new digest or checksum where the pin is written (only that value changes; an index digest stays an index digest), then do what `dk up` would for exactly that pin's node and everything built on it: build, test, promote, and replace the containers of those nodes that run, through the readiness gate. Each pin is its own transaction: when one of its nodes fails to build, test, promote or start, the file is written back as it was, `:latest` points where it did, and nothing of it goes live; the other pins go on. The run keeps a report (`dk report`); dk.toml's [hooks] after_update / on_update_failure run with its path in DK_REPORT.\n\nExit 0 when every pin went through (or nothing was outdated); 1 when a pin failed or an upstream could not be asked.\n\nOn a schedule: `dk systemd --timer update --install`."
    )]
    Update {
        /// Nodes (unique prefixes work). None: all
        names: Vec<String>,
        /// Say what would be re-pinned; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Re-pin, build, test and promote; replace no running container
        #[arg(long)]
        no_deploy: bool,
        /// Commit exactly the re-pinned files (git), the message listing the changes;
        /// refused when other changes are staged
        #[arg(long, conflicts_with = "dry_run")]
        commit: bool,
        /// Parallel build and test jobs
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
        /// One JSON document with every pin's outcome
        #[arg(long)]
        json: bool,
    },

    /// Print the path of the last run report (or write it elsewhere, or open it)
    #[command(
        long_about = "Every `dk up`, `dk build` and `dk test` that did something keeps a self-contained HTML report under the state directory (.dk/reports/, the last 20): the graph with what happened to each node, a timeline of each node's build, test, promote and replace steps with their durations and waits, each test check with its result and output, the release history and Swarm tasks of the nodes involved. A run that changed nothing keeps none.\n\nWithout options, prints the last report's path; exit 1 when there is none yet."
    )]
    Report {
        /// Write the last report to FILE
        #[arg(long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        /// Open it in the browser (xdg-open, or $BROWSER)
        #[arg(long)]
        open: bool,
    },

    /// Check Dockerfiles and manifests against image best practices (Hadolint's rules, ShellCheck, dk's)
    #[command(
        long_about = "Static checks of each node's Dockerfile and container.toml, printed compiler style (`path:LINE: RULE message`, then a fix hint). Exit 1 on findings, 0 when clean.\n\nHadolint's rules, with Hadolint's ids and semantics (which stages and ONBUILD lines each applies to): DL3003 cd, DL3004 sudo, DL3008/DL3013/DL3016/DL3018 unpinned apt/pip/npm/apk packages, DL3009 apt lists left, DL3015 recommends, DL3019 apk cache, DL3020 ADD of local files, DL3025 shell-form CMD/ENTRYPOINT/HEALTHCHECK, DL3027 apt, DL3042 pip cache, DL3047 wget progress, DL3059 consecutive RUNs, DL3064 secrets in ARG/ENV, DL4001 curl and wget, DL4006 pipes without pipefail, DL3002 a root USER as the last of a stage, DL3006/DL3007 an untagged or `latest` FROM image. With `shellcheck` installed, every shell-form RUN is checked by it (SC ids, at the RUN's line). dk's own, where it sees more than the file: DK-ROOT (the image runs as root with no USER line saying so: no USER, scratch, a parent node's user), DK-NOTAG/DK-LATEST (an ARG-expanded FROM or a COPY --from image without a tag or on `latest`), DK-PIN/DK-DIGEST (pin by digest), DK-EXPOSE/DK-VOLUME/DK-STOPSIGNAL (what the manifest declares, the image must have).\n\nWaive a rule in container.toml with [[lint.waive]] rule = \"…\" reason = \"…\", or as Hadolint does: `# hadolint ignore=DL3008` on the line before, `# hadolint global ignore=…` anywhere.\n\n--fix makes the mechanical fixes (exec-form CMD/ENTRYPOINT, COPY for ADD of local files, apk add --no-cache), writing nothing unless every one applies cleanly; --dry-run shows the diff."
    )]
    Lint {
        /// Nodes to lint (unique prefixes work). None: all
        names: Vec<String>,
        #[arg(long, value_enum, default_value_t = LintFormat::Text)]
        format: LintFormat,
        /// Make the mechanical fixes: shell-form CMD/ENTRYPOINT to exec form, ADD of local
        /// files to COPY, `apk add` to `apk add --no-cache`. Nothing is written unless every
        /// fix applies cleanly
        #[arg(long)]
        fix: bool,
        /// With --fix: print the diff, write nothing
        #[arg(long, requires = "fix")]
        dry_run: bool,
    },
}

impl Command {
    /// The name of the verb, for messages and the lock holder.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Build(_) => "build",
            Command::Plan(_) => "plan",
            Command::Ls { .. } => "ls",
            Command::Graph { .. } => "graph",
            Command::Clean(_) => "clean",
            Command::Test(_) => "test",
            Command::Promote(_) => "promote",
            Command::Up(_) => "up",
            Command::Start(_) => "start",
            Command::Stop(_) => "stop",
            Command::Restart(_) => "restart",
            Command::Down(_) => "down",
            Command::Rollback { .. } => "rollback",
            Command::History { .. } => "history",
            Command::Config { .. } => "config",
            Command::Status(_) => "status",
            Command::Logs { .. } => "logs",
            Command::Shell { .. } => "shell",
            Command::Run { .. } => "run",
            Command::Exec { .. } => "exec",
            Command::Prune { .. } => "prune",
            Command::Systemd { .. } => "systemd",
            Command::Completions { .. } => "completions",
            Command::Import { .. } => "import",
            Command::Push { .. } => "push",
            Command::Prep { .. } => "prep",
            Command::Lint { .. } => "lint",
            Command::Report { .. } => "report",
            Command::Outdated { .. } => "outdated",
            Command::Update { .. } => "update",
        }
    }
}
