//! `dk.local.toml`: what one site must not commit (git-ignored by convention), laid over
//! `dk.toml` and the manifests so that one workspace runs on several servers:
//!
//! ```toml
//! data_root = "/srv/dk"
//! state_dir = "/var/lib/dk"
//! [network.live]
//! subnet = "10.10.0.0/24"
//! [build]
//! args = { HTTP_PROXY = "http://proxy:3128" }
//! [containers.web]
//! env = { API_TOKEN = "…" }               # merged into [run] env
//! ports = ["0.0.0.0:80:8080"]             # replaces [run] ports
//! mounts = { "/srv/www" = "/srv/site" }   # the host path of the mount with that target
//! ```
//!
//! Every value keeps where it came from (`Origins`), which `dk config` prints.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::config::{NetworksFile, WorkspaceFile};
use crate::error::Diagnostic;
use crate::manifest::{Manifest, PortMapping};
use crate::tomlfile;
use crate::units::Text;

pub const LOCAL_FILE: &str = "dk.local.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalFile {
    pub data_root: Option<Spanned<String>>,
    pub state_dir: Option<Spanned<String>>,
    #[serde(default)]
    pub network: NetworksFile,
    #[serde(default)]
    pub build: LocalBuild,
    #[serde(default)]
    pub containers: BTreeMap<Spanned<String>, LocalContainer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalBuild {
    #[serde(default)]
    pub args: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalContainer {
    /// Merged into the manifest's `[run] env`.
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
    /// Replaces the manifest's `[run] ports`.
    pub ports: Option<Spanned<Vec<Text<PortMapping>>>>,
    /// Mount target -> host path: the mount's source becomes that host path.
    #[serde(default)]
    pub mounts: BTreeMap<String, Spanned<String>>,
}

/// Where each value of the effective configuration comes from (`dk.toml:12`,
/// `dk.local.toml:3`, `containers/web/container.toml:8`, or `default`), by dotted key.
pub type Origins = BTreeMap<String, String>;

/// The site file, when there is one.
pub struct Local {
    pub file: LocalFile,
    pub text: String,
}

impl Local {
    pub fn load(root: &Path) -> Result<Option<Local>, Vec<Diagnostic>> {
        let path = root.join(LOCAL_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(vec![Diagnostic::new(
                    LOCAL_FILE,
                    format!("cannot read: {e}"),
                )]);
            }
        };
        let file = tomlfile::parse_all::<LocalFile>(&text, LOCAL_FILE)?;
        Ok(Some(Local { file, text }))
    }

    fn at(&self, offset: usize) -> String {
        format!(
            "{LOCAL_FILE}:{}",
            crate::error::line_col(&self.text, offset).0
        )
    }

    /// Lay the site's workspace values over dk.toml's.
    pub fn apply_to_workspace(&self, ws: &mut WorkspaceFile, origins: &mut Origins) {
        if let Some(d) = &self.file.data_root {
            ws.data_root = Some(d.get_ref().clone());
            origins.insert("data_root".into(), self.at(d.span().start));
        }
        if let Some(d) = &self.file.state_dir {
            ws.state_dir = Some(d.get_ref().clone());
            origins.insert("state_dir".into(), self.at(d.span().start));
        }
        for (role, local, base) in [
            ("live", &self.file.network.live, &mut ws.network.live),
            ("test", &self.file.network.test, &mut ws.network.test),
        ] {
            let Some(local) = local else { continue };
            let base = base.get_or_insert_with(|| crate::config::NetworkFile {
                name: None,
                subnet: None,
            });
            if let Some(n) = &local.name {
                base.name = Some(n.clone());
                origins.insert(format!("network.{role}.name"), LOCAL_FILE.to_string());
            }
            if let Some(s) = &local.subnet {
                origins.insert(format!("network.{role}.subnet"), self.at(s.span().start));
                base.subnet = Some(s.clone());
            }
        }
        for (k, v) in &self.file.build.args {
            ws.build.args.insert(k.clone(), v.get_ref().clone());
            origins.insert(format!("build.args.{k}"), self.at(v.span().start));
        }
    }

    /// Lay the site's values for container `name` over its manifest. Problems (a mount
    /// target the manifest does not have, a host path that exposes the host) are located
    /// in dk.local.toml.
    pub fn apply_to_node(
        &self,
        name: &str,
        manifest: &mut Manifest,
        origins: &mut Origins,
    ) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let Some(local) = self
            .file
            .containers
            .iter()
            .find(|(k, _)| k.get_ref() == name)
            .map(|(_, v)| v)
        else {
            return diags;
        };
        for (k, v) in &local.env {
            manifest.run.env.insert(k.clone(), v.get_ref().clone());
            origins.insert(format!("{name}.run.env.{k}"), self.at(v.span().start));
        }
        if let Some(p) = &local.ports {
            manifest.run.ports = p
                .get_ref()
                .iter()
                .map(|t| Spanned::new(0..0, t.clone()))
                .collect();
            origins.insert(format!("{name}.run.ports"), self.at(p.span().start));
        }
        for (target, host) in &local.mounts {
            let at = Diagnostic::new(LOCAL_FILE, "").at_offset(&self.text, host.span().start);
            let Some(m) = manifest
                .mounts
                .iter_mut()
                .map(|m| m.get_mut())
                .find(|m| &m.target == target)
            else {
                let targets: Vec<&str> = manifest
                    .mounts
                    .iter()
                    .map(|m| m.get_ref().target.as_str())
                    .collect();
                let mut d = Diagnostic {
                    message: format!("containers.{name}.mounts: {name} has no mount at `{target}`"),
                    ..at
                };
                if let Some(near) = tomlfile::suggest(target, targets.iter().copied()) {
                    d = d.help(format!("did you mean `{near}`?"));
                }
                diags.push(d);
                continue;
            };
            let path = host.get_ref();
            if !path.starts_with('/') {
                diags.push(Diagnostic {
                    message: format!("containers.{name}.mounts.\"{target}\": `{path}` must be an absolute host path"),
                    ..at
                });
                continue;
            }
            if crate::manifest::exposes_host(path) && m.allow.is_none() {
                diags.push(
                    Diagnostic {
                        message: format!("containers.{name}.mounts.\"{target}\": `{path}` exposes the host to the container"),
                        ..at
                    }
                    .help("give the mount an `allow = \"<reason>\"` in its container.toml"),
                );
                continue;
            }
            m.host = Some(path.clone());
            m.source = None;
            m.from = None;
            m.volume = None;
            origins.insert(format!("{name}.mount.{target}"), self.at(host.span().start));
        }
        diags
    }

    /// Containers the site file names that the workspace does not have.
    pub fn unknown_containers(&self, names: &[&str]) -> Vec<Diagnostic> {
        self.file
            .containers
            .keys()
            .filter(|k| !names.contains(&k.get_ref().as_str()))
            .map(|k| {
                let mut d = Diagnostic::new(
                    LOCAL_FILE,
                    format!(
                        "[containers.{}]: no such container in this workspace",
                        k.get_ref()
                    ),
                )
                .at_offset(&self.text, k.span().start);
                if let Some(near) = tomlfile::suggest(k.get_ref(), names.iter().copied()) {
                    d = d.help(format!("did you mean `{near}`?"));
                }
                d
            })
            .collect()
    }
}
