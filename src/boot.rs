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

/// The timer's base name: `dk-<namespace>-update` (`.timer` and `.service`).
pub fn timer_name(ws: &Workspace) -> String {
    format!("dk-{}-update", ws.namespace.replace('/', "-"))
}

/// The service and the timer that run `dk update` on `on_calendar`.
pub fn update_timer(ws: &Workspace, dk: &Path, on_calendar: &str) -> (String, String) {
    let root = ws.root.display();
    let dk = dk.display();
    let name = timer_name(ws);
    let service = format!(
        "# Written by `dk systemd --timer update`: re-pins, tests and deploys what upstream changed.
[Unit]
Description=dk update of the workspace {root} ({ns})
Requires=docker.service
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
WorkingDirectory={root}
# Each pin is its own transaction; a failed one is written back and nothing of it goes live.
# dk.toml's [hooks] after_update / on_update_failure get the report (DK_REPORT).
ExecStart={dk} -C {root} update
TimeoutStartSec=2h
",
        ns = ws.namespace,
    );
    let timer = format!(
        "# Written by `dk systemd --timer update`: when {name}.service runs.
[Unit]
Description=dk update of the workspace {root}, on a schedule

[Timer]
OnCalendar={on_calendar}
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
"
    );
    (service, timer)
}

/// Write the update service and timer into `dir`. Returns their paths.
pub fn install_timer(
    ws: &Workspace,
    dk: &Path,
    on_calendar: &str,
    dir: &Path,
) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let (service, timer) = update_timer(ws, dk, on_calendar);
    let name = timer_name(ws);
    let sp = dir.join(format!("{name}.service"));
    let tp = dir.join(format!("{name}.timer"));
    std::fs::write(&sp, service).map_err(|e| Error::io("write", &sp, e))?;
    std::fs::write(&tp, timer).map_err(|e| Error::io("write", &tp, e))?;
    Ok((sp, tp))
}
