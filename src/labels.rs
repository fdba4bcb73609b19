//! The `dk.*` labels, made in one place. Every Docker object dk creates carries
//! `dk.workspace` (the workspace id) and `dk.role`, so leftovers can always be found; images
//! and containers also name their node.

use std::collections::BTreeMap;

use crate::ids::ImageId;

pub const WORKSPACE: &str = "dk.workspace";
pub const ROLE: &str = "dk.role";
pub const NODE: &str = "dk.node";
/// The image id a container was created from (containers).
pub const IMAGE: &str = "dk.image";
/// Hash of a live container's settings: a differing hash means "replace".
pub const SETTINGS_HASH: &str = "dk.settings-hash";
/// The input hash an image was built from (images).
pub const INPUT_HASH: &str = "dk.input-hash";
/// The node's workspace-relative directory (images).
pub const PATH: &str = "dk.path";

/// What an object is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Images dk built.
    Build,
    /// Test launches, audit containers, the test network.
    Test,
    /// Live containers and the live network.
    Live,
    /// One-off containers: `dk run` jobs and `dk shell --image` shells, removed on exit.
    Job,
}

impl Role {
    pub fn label(&self) -> &'static str {
        match self {
            Role::Build => "build",
            Role::Test => "test",
            Role::Live => "live",
            Role::Job => "job",
        }
    }
}

pub type Labels = BTreeMap<String, String>;

/// `dk.workspace` and `dk.role` (networks).
pub fn owned(workspace: &str, role: Role) -> Labels {
    let mut l = Labels::new();
    l.insert(WORKSPACE.into(), workspace.into());
    l.insert(ROLE.into(), role.label().into());
    l
}

/// Labels of a container of `node` made from `image`.
pub fn container(workspace: &str, role: Role, node: &str, image: &ImageId) -> Labels {
    let mut l = owned(workspace, role);
    l.insert(NODE.into(), node.into());
    l.insert(IMAGE.into(), image.to_string());
    l
}

/// The labels a built image carries besides its input hash: they are hashed with the
/// inputs (`build::prepare`), so a change to any of them rebuilds.
pub fn image(workspace: &str, node: &str, rel_dir: &str, description: Option<&str>) -> Labels {
    let mut l = owned(workspace, Role::Build);
    l.insert(NODE.into(), node.into());
    l.insert(PATH.into(), rel_dir.into());
    l.insert("org.opencontainers.image.title".into(), node.into());
    if let Some(d) = description {
        l.insert("org.opencontainers.image.description".into(), d.into());
    }
    l
}

/// A label filter for listing a workspace's objects of one role.
pub fn filter(workspace: &str, role: Role) -> Vec<(String, String)> {
    vec![
        (WORKSPACE.into(), workspace.into()),
        (ROLE.into(), role.label().into()),
    ]
}
