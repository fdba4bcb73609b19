//! Boot: the systemd unit `dk systemd` prints or installs. It runs `dk start --all` for the
//! workspace once docker.service is up, so every autostart container (and every live
//! container that exists) comes back in its start waves through the readiness gate. Docker's
//! restart policies alone start containers in no particular order, and `on-failure` does
//! not restart a container that a daemon shutdown stopped cleanly.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// The unit's file name: `dk-<namespace>.service` (one per workspace).
pub fn unit_name(ws: &Workspace) -> String {
    format!("dk-{}.service", ws.namespace.replace('/', "-"))
}

/// The unit text for the workspace at `ws.root`, run by the dk at `dk`.
pub fn unit(ws: &Workspace, dk: &Path) -> String {
    let root = ws.root.display();
    let dk = dk.display();
    format!(
        "# Written by `dk systemd`: starts the containers of the dk workspace {root}.
[Unit]
Description=dk workspace {root} ({ns})
Requires=docker.service
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
WorkingDirectory={root}
# Every autostart container and every live container that exists, in start waves.
ExecStart={dk} -C {root} start --all
ExecStop={dk} -C {root} stop --all
# Readiness waits are bounded by each container's `ready.timeout` (default 60s).
TimeoutStartSec=15min

[Install]
WantedBy=multi-user.target
",
        ns = ws.namespace,
    )
}

/// Write the unit into `dir`. Returns its path.
pub fn install(ws: &Workspace, dk: &Path, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let path = dir.join(unit_name(ws));
    std::fs::write(&path, unit(ws, dk)).map_err(|e| Error::io("write", &path, e))?;
    Ok(path)
}
