//! One-off work beside the live containers: `dk run` jobs (a fresh container of `:live` with
//! the live settings, removed when it exits), `dk exec` in a live container, and
//! `dk shell --image` (a throwaway container of any kept image, no network, read-only).
//! None of them ever replaces, stops or renames a service container.

use crate::docker::{ContainerSpec, ImageFacts};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::labels::Role;
use crate::launch::{self, LaunchInput};

/// Which image a one-off container runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageChoice {
    /// A tag of the node: `latest`, `live`, `prev`.
    Tag(String),
    /// An image id (or a unique prefix of one).
    Id(String),
}

impl ImageChoice {
    pub fn parse(s: &str) -> ImageChoice {
        match s {
            "latest" | "live" | "prev" => ImageChoice::Tag(s.to_string()),
            other => ImageChoice::Id(other.trim_start_matches("sha256:").to_string()),
        }
    }
}

/// A `dk run` request, resolved by the CLI.
#[derive(Debug, Clone)]
pub struct JobRequest {
    pub node: usize,
    /// A named `[job.NAME]`, or none for the image's own command (or `args`).
    pub job: Option<String>,
    /// After `--`: appended to a named job's command, else the whole command.
    pub args: Vec<String>,
    /// Run `:latest` instead of `:live`.
    pub latest: bool,
    /// Give the job a terminal (the caller's stdin and stdout are terminals).
    pub tty: bool,
}

impl Engine {
    /// Split `NAME[:JOB]` and resolve both parts (the job must be declared).
    pub fn resolve_job(&self, target: &str) -> Result<(usize, Option<String>)> {
        let (name, job) = match target.split_once(':') {
            Some((n, j)) => (n, Some(j)),
            None => (target, None),
        };
        let i = crate::names::resolve_one(name, &self.ws.names())?;
        let Some(job) = job else {
            return Ok((i, None));
        };
        let node = &self.ws.nodes[i];
        if node.manifest.jobs.contains_key(job) {
            return Ok((i, Some(job.to_string())));
        }
        let names: Vec<&str> = node.manifest.jobs.keys().map(String::as_str).collect();
        let help = match crate::tomlfile::suggest(job, names.iter().copied()) {
            Some(near) => format!("did you mean `{}:{near}`?", node.name),
            None if names.is_empty() => format!(
                "{} declares no jobs: add `[job.{job}] command = [...]` to its container.toml, or run a command with `dk run {} -- CMD…`",
                node.name, node.name
            ),
            None => format!("its jobs: {}", names.join(", ")),
        };
        Err(Error::usage_help(
            format!("{} has no job `{job}`", node.name),
            help,
        ))
    }

    /// The image a one-off container of node `i` runs.
    async fn one_off_image(&self, i: usize, choice: &ImageChoice) -> Result<ImageFacts> {
        let node = &self.ws.nodes[i];
        let reference = match choice {
            ImageChoice::Tag(t) => self.ws.image(&node.name, t),
            ImageChoice::Id(id) => id.clone(),
        };
        let facts = self.reads()?.inspect_image(&reference).await?;
        match facts {
            Some(f) => Ok(f),
            None => Err(Error::MissingImage {
                node: node.name.clone(),
                image: reference.clone(),
                message: format!("{} has no image {reference}", node.name),
                help: match choice {
                    ImageChoice::Tag(t) if t == "latest" => {
                        format!("build it: `dk build {}`", node.name)
                    }
                    ImageChoice::Tag(_) => format!(
                        "run `dk up {}` (build, test, promote) first; `dk history {}` lists the kept releases",
                        node.name, node.name
                    ),
                    ImageChoice::Id(_) => {
                        format!("`dk history {}` lists the kept releases", node.name)
                    }
                },
            }),
        }
    }

    /// A unique name for a one-off container of node `i`: `<ns>-job-<node>-<what>-<hex>`.
    fn one_off_name(&self, i: usize, what: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let seed = ((std::process::id() as u64) << 32 | nanos as u64).to_le_bytes();
        format!(
            "{}-{what}-{}",
            launch::container_name(&self.ws, &self.ws.nodes[i].name, Role::Job),
            &blake3::hash(&seed).to_hex()[..6]
        )
    }

    /// The container spec of a job: the live settings (mounts, env, network, limits, user)
    /// without the service's ports, address, aliases or restart policy.
    pub async fn job_spec(&self, req: &JobRequest) -> Result<OneOff> {
        let node = &self.ws.nodes[req.node];
        let tag = if req.latest { "latest" } else { "live" };
        let facts = self
            .one_off_image(req.node, &ImageChoice::Tag(tag.into()))
            .await?;
        let binds = crate::mounts::live_binds(&self.ws, node)?;
        let mut spec = launch::spec(
            &self.ws,
            node,
            LaunchInput {
                role: Role::Job,
                image: &facts,
                binds,
                publish_loopback: Vec::new(),
            },
        )?;
        let job = req.job.as_ref().map(|j| node.manifest.jobs[j].get_ref());
        spec.cmd = match job {
            Some(job) => Some(job.command.iter().chain(&req.args).cloned().collect()),
            None if !req.args.is_empty() => Some(req.args.clone()),
            None => spec.cmd,
        };
        if let Some(job) = job {
            spec.env
                .extend(job.env.iter().map(|(k, v)| format!("{k}={v}")));
        }
        spec.name = self.one_off_name(req.node, req.job.as_deref().unwrap_or("run"));
        spec.hostname = Some(spec.name.clone());
        spec.healthcheck = None;
        spec.tty = req.tty;
        spec.stdin_open = true;
        spec.stdin_once = true;
        Ok(OneOff {
            spec,
            job_of: Some(req.node),
        })
    }

    /// Remove one-off containers that are no longer running (left by a dk that was killed).
    pub async fn remove_exited_one_offs(&self) -> Result<usize> {
        let daemon = self.daemon().await?;
        let mut n = 0;
        for c in daemon
            .containers_with_labels(&crate::labels::filter(&self.ws.id, Role::Job))
            .await?
        {
            if let Some(info) = daemon.inspect_container(&c.id).await?
                && !info.running
            {
                daemon.remove_container(&c.id).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Remove a one-off container (after an interrupt).
    pub async fn remove_one_off(&self, one: &OneOff) -> Result<()> {
        self.daemon().await?.remove_container(&one.spec.name).await
    }

    /// Run `cmd` in node `i`'s running live container (as root with `root`, else as the
    /// container's user). Returns the exit code.
    pub async fn exec_live(&self, i: usize, cmd: &[String], root: bool, tty: bool) -> Result<i64> {
        let (container, c) = self.live_container(i).await?;
        if !c.is_some_and(|c| c.running) {
            return Err(Error::Container {
                name: container.clone(),
                message: format!("{} is not running ({container})", self.name(i)),
                help: Some(format!("start it: `dk start {}`", self.name(i))),
            });
        }
        self.daemon()
            .await?
            .exec_interactive(&container, cmd, root.then_some("0:0"), tty)
            .await
    }

    /// A throwaway container of one of node `i`'s images running `cmd` (default `/bin/sh`)
    /// whatever the image's entrypoint: no network, read-only root, every capability
    /// dropped, removed on exit; run it with `run_one_off`.
    pub async fn shell_spec(
        &self,
        i: usize,
        image: &ImageChoice,
        root: bool,
        cmd: &[String],
        tty: bool,
    ) -> Result<OneOff> {
        let node = &self.ws.nodes[i];
        let facts = self.one_off_image(i, image).await?;
        let labels = crate::labels::container(&self.ws.id, Role::Job, &node.name, &facts.id);
        let name = self.one_off_name(i, "shell");
        let (entrypoint, cmd) = match cmd.split_first() {
            Some((first, rest)) => (vec![first.clone()], rest.to_vec()),
            None => (vec!["/bin/sh".to_string()], Vec::new()),
        };
        let spec = ContainerSpec {
            hostname: Some(name.clone()),
            env: vec![format!(
                "TERM={}",
                std::env::var("TERM").unwrap_or_else(|_| "xterm".into())
            )],
            entrypoint: Some(entrypoint),
            cmd: Some(cmd),
            user: root.then(|| "0:0".to_string()),
            network: Some(("none".into(), None)),
            tmpfs: vec![("/tmp".into(), "rw,noexec,nosuid,size=16m".into())],
            read_only: true,
            no_new_privileges: true,
            init: true,
            pids: Some(64),
            tty,
            stdin_open: true,
            stdin_once: true,
            ..ContainerSpec::bare(name, facts.id.to_string(), labels)
        };
        Ok(OneOff { spec, job_of: None })
    }

    /// Run a one-off container made by `job_spec` (its node's network and volumes are made
    /// first) or `shell_spec` to its end, with the caller's terminal attached.
    /// Returns its exit code.
    pub async fn run_one_off(&self, one: &OneOff) -> Result<i64> {
        self.remove_exited_one_offs().await?;
        if let Some(i) = one.job_of {
            self.ensure_network(Role::Live).await?;
            self.ensure_volumes(&[i]).await?;
        }
        self.daemon().await?.run_attached(&one.spec).await
    }
}

/// A one-off container to run: a job of a node (`job_of`), or a throwaway shell.
#[derive(Debug, Clone)]
pub struct OneOff {
    spec: ContainerSpec,
    pub job_of: Option<usize>,
}

impl OneOff {
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}
