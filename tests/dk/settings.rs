//! Run settings for real servers: mount sources beyond the data root, the Docker options
//! services need, log drivers, subnets Docker chooses, and dk.local.toml.

use crate::common::{TestWs, docker, stderr, stdout};

/// `docker inspect` of a live container with a Go template.
fn inspect(ws: &TestWs, node: &str, format: &str) -> String {
    let out = docker(&["inspect", "--format", format, &format!("{}-{node}", ws.ns)]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// An always-up busybox service on the baseline with `manifest`.
fn service(ws: &TestWs, name: &str, manifest: &str) {
    ws.container(name, "FROM baseline\nCMD [\"sleep\", \"600\"]\n");
    ws.write(
        &format!("containers/{name}/.dockerignore"),
        "container.toml\n",
    );
    ws.write(&format!("containers/{name}/container.toml"), manifest);
}

#[test]
fn host_paths_other_containers_data_and_files_are_read_only_in_tests() {
    let ws = TestWs::for_services();
    let host = ws.path("host-media");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("movie.txt"), "live media\n").unwrap();
    std::fs::create_dir_all(ws.path("data/web/www")).unwrap();
    std::fs::write(ws.path("data/web/www/index.html"), "web's page\n").unwrap();
    std::fs::write(ws.path("app.conf"), "key = value\n").unwrap();
    service(&ws, "web", "");
    service(
        &ws,
        "media",
        &format!(
            r#"[[mount]]
kind = "persistent_test_ro"
host = "{host}"
target = "/media"

[[mount]]
kind = "ro"
from = "web:www"
target = "/www"

[[mount]]
kind = "ro"
host = "{conf}"
file = true
target = "/etc/app.conf"

[[test.check]]
name = "the host path is there"
file = "/media/movie.txt"
contains = "live media"

[[test.check]]
name = "and read-only in the test"
exec = ["sh", "-c", "echo x > /media/new"]
expect = "fail"

[[test.check]]
name = "web's data is there, read-only"
exec = ["sh", "-c", "cat /www/index.html && ! touch /www/x"]
stdout_contains = "web's page"

[[test.check]]
name = "a single file"
file = "/etc/app.conf"
contains = "key = value"
"#,
            host = host.display(),
            conf = ws.path("app.conf").display()
        ),
    );
    ws.ok(&["up", "media"]);
    assert!(!host.join("new").exists(), "a test never writes live data");
    let mut mounts: Vec<String> = inspect(
        &ws,
        "media",
        "{{range .Mounts}}{{.Destination}}={{.RW}} {{end}}",
    )
    .split_whitespace()
    .map(String::from)
    .collect();
    mounts.sort();
    assert_eq!(mounts, ["/etc/app.conf=false", "/media=true", "/www=false"]);
    // prep creates only what dk owns, and says what it expects.
    let out = ws.ok(&["prep", "media"]);
    assert!(out.contains("expected directory, present"), "{out}");

    // A host path that is gone is a clear error before anything starts.
    std::fs::remove_dir_all(&host).unwrap();
    ws.write(
        "containers/media/files.txt",
        "a change, so that the container is replaced\n",
    );
    let out = ws.fails(&["up", "media"]);
    assert!(
        out.contains(&format!("{} for /media does not exist", host.display())),
        "{out}"
    );
    assert!(out.contains("dk never creates host paths"), "{out}");
}

#[test]
fn a_named_volume_is_labelled_and_survives_down_and_up() {
    let ws = TestWs::for_services();
    service(
        &ws,
        "db",
        "[[mount]]\nkind = \"persistent\"\nvolume = \"dbdata\"\ntarget = \"/data\"\nowner = 1000\ngroup = 1000\nmode = \"0700\"\n",
    );
    ws.ok(&["up", "db"]);
    let volume = format!("{}-dbdata", ws.ns);
    let out = docker(&[
        "volume",
        "inspect",
        "--format",
        "{{index .Labels \"dk.workspace\"}}",
        &volume,
    ]);
    assert_eq!(stdout(&out).trim(), ws.id(), "labelled by dk");
    let out = docker(&[
        "exec",
        &format!("{}-db", ws.ns),
        "stat",
        "-c",
        "%a %u:%g",
        "/data",
    ]);
    assert_eq!(
        stdout(&out),
        "700 1000:1000\n",
        "the declared owner and mode"
    );
    let out = docker(&[
        "exec",
        &format!("{}-db", ws.ns),
        "sh",
        "-c",
        "echo kept > /data/file",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    ws.ok(&["down", "db"]);
    assert!(docker(&["volume", "inspect", &volume]).status.success());
    ws.ok(&["up", "db"]);
    let out = docker(&["exec", &format!("{}-db", ws.ns), "cat", "/data/file"]);
    assert_eq!(stdout(&out), "kept\n");
    ws.ok(&["down", "db"]);
    let _ = docker(&["volume", "rm", &volume]);
}

#[test]
fn the_docker_options_services_need_reach_the_container() {
    let ws = TestWs::for_services();
    service(
        &ws,
        "opts",
        r#"[run]
sysctls = { "net.core.somaxconn" = "1024" }
ulimits = { nofile = { soft = 512, hard = 1024 }, nproc = 64 }
dns = ["10.9.9.9"]
dns_search = ["internal.example"]
network_aliases = ["opts-alias"]
working_dir = "/tmp"
group_add = ["4242"]
shm_size = "32m"
labels = { "com.example.team" = "ops" }
tz = "Europe/Paris"
security_opt = ["apparmor=unconfined"]

[[test.check]]
name = "sysctl in /proc/sys"
exec = ["cat", "/proc/sys/net/core/somaxconn"]
stdout_equals = "1024\n"

[[test.check]]
name = "ulimit"
exec = ["sh", "-c", "ulimit -n"]
stdout_equals = "512\n"

[[test.check]]
name = "TZ"
exec = ["sh", "-c", "echo $TZ && test -e /usr/share/zoneinfo/Europe/Paris"]
stdout_equals = "Europe/Paris\n"
"#,
    );
    ws.ok(&["up", "opts"]);
    let name = format!("{}-opts", ws.ns);
    assert_eq!(
        inspect(&ws, "opts", "{{.Config.Hostname}}"),
        name,
        "hostname defaults to the container's name"
    );
    assert_eq!(
        inspect(&ws, "opts", "{{json .HostConfig.Sysctls}}"),
        r#"{"net.core.somaxconn":"1024"}"#
    );
    assert!(
        inspect(&ws, "opts", "{{json .HostConfig.Ulimits}}")
            .contains(r#""Name":"nofile","Hard":1024,"Soft":512"#)
    );
    assert_eq!(
        inspect(&ws, "opts", "{{json .HostConfig.Dns}}"),
        r#"["10.9.9.9"]"#
    );
    assert_eq!(
        inspect(&ws, "opts", "{{json .HostConfig.DnsSearch}}"),
        r#"["internal.example"]"#
    );
    assert_eq!(inspect(&ws, "opts", "{{.Config.WorkingDir}}"), "/tmp");
    assert_eq!(
        inspect(&ws, "opts", "{{json .HostConfig.GroupAdd}}"),
        r#"["4242"]"#
    );
    assert_eq!(inspect(&ws, "opts", "{{.HostConfig.ShmSize}}"), "33554432");
    assert_eq!(
        inspect(&ws, "opts", "{{index .Config.Labels \"com.example.team\"}}"),
        "ops"
    );
    assert!(
        inspect(&ws, "opts", "{{json .HostConfig.SecurityOpt}}").contains("apparmor=unconfined")
    );
    let aliases = inspect(
        &ws,
        "opts",
        &format!(
            "{{{{json (index .NetworkSettings.Networks \"{}-live\").Aliases}}}}",
            ws.ns
        ),
    );
    assert!(
        aliases.contains("\"opts\"") && aliases.contains("opts-alias"),
        "{aliases}"
    );
}

#[test]
fn a_log_driver_with_its_options_reaches_the_container_and_bad_ones_are_exit_2() {
    let ws = TestWs::for_services();
    service(
        &ws,
        "logged",
        "[run.log]\ndriver = \"syslog\"\noptions = { \"syslog-address\" = \"udp://127.0.0.1:5514\", \"syslog-facility\" = \"local3\", tag = \"{{.Name}}\" }\n",
    );
    ws.ok(&["up", "logged"]);
    assert_eq!(
        inspect(&ws, "logged", "{{json .HostConfig.LogConfig}}"),
        r#"{"Type":"syslog","Config":{"syslog-address":"udp://127.0.0.1:5514","syslog-facility":"local3","tag":"{{.Name}}"}}"#
    );
    ws.write(
        "containers/logged/container.toml",
        "[run.log]\ndriver = \"journald\"\noptions = { \"syslog-address\" = \"udp://x:1\" }\n",
    );
    let out = ws.dk().args(["plan"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the journald log driver takes no option `syslog-address`"),
        "{err}"
    );
}

#[test]
fn two_workspaces_with_default_subnets_run_side_by_side() {
    let a = TestWs::for_services();
    let b = TestWs::for_services();
    for ws in [&a, &b] {
        // No subnets: Docker picks free ones.
        ws.write("dk.toml", &format!("namespace = \"{}\"\n", ws.ns));
        service(ws, "svc", "");
        ws.ok(&["up", "svc"]);
    }
    let subnet = |ws: &TestWs| {
        stdout(&docker(&[
            "network",
            "inspect",
            "--format",
            "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
            &format!("{}-live", ws.ns),
        ]))
        .trim()
        .to_string()
    };
    let (sa, sb) = (subnet(&a), subnet(&b));
    assert!(!sa.is_empty() && !sb.is_empty() && sa != sb, "{sa} {sb}");
    assert_eq!(inspect(&a, "svc", "{{.State.Running}}"), "true");
    assert_eq!(inspect(&b, "svc", "{{.State.Running}}"), "true");
    // A static address needs the subnets named.
    a.write(
        "containers/svc/container.toml",
        "[run]\nip = \"10.1.2.3\"\n",
    );
    let out = a.dk().arg("plan").output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("containers/svc/container.toml:2:6: run.ip: a static address (10.1.2.3) needs the live and test subnets named in dk.toml"),
        "{err}"
    );
}

#[test]
fn dk_local_toml_overrides_a_site_s_values_and_dk_config_says_where_each_comes_from() {
    let ws = TestWs::for_services();
    let media = ws.path("site-media");
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(media.join("a.txt"), "site\n").unwrap();
    service(
        &ws,
        "svc",
        "[run]\nenv = { MODE = \"committed\", KEEP = \"yes\" }\n\n[[mount]]\nkind = \"ro\"\nsource = \"media\"\ntarget = \"/media\"\n\n[[test.check]]\nexec = [\"sh\", \"-c\", \"echo $MODE $KEEP; cat /media/a.txt\"]\nstdout_equals = \"s3cr3t yes\\nsite\\n\"\n",
    );
    ws.write(
        "dk.local.toml",
        &format!(
            "data_root = \"site-data\"\n\n[containers.svc]\nenv = {{ MODE = \"s3cr3t\" }}\nmounts = {{ \"/media\" = \"{}\" }}\n",
            media.display()
        ),
    );
    let out = ws.ok(&["config"]);
    let line = |key: &str| {
        out.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} in:\n{out}"))
            .to_string()
    };
    assert!(
        line("data_root").contains("site-data") && line("data_root").contains("dk.local.toml:1"),
        "{out}"
    );
    assert!(
        line("svc.run.env.MODE").contains("hidden")
            && line("svc.run.env.MODE").contains("dk.local.toml:4"),
        "{out}"
    );
    assert!(
        line("svc.run.env.KEEP").contains("containers/svc/container.toml:2"),
        "{out}"
    );
    assert!(
        line("svc.mount./media").contains("host ")
            && line("svc.mount./media").contains("dk.local.toml:5"),
        "{out}"
    );
    assert!(line("network.live.subnet").contains("dk.toml:3"), "{out}");
    assert!(
        !out.contains("s3cr3t"),
        "a site's values are never printed:\n{out}"
    );
    // The overlay is what runs: the test sees the site's env and the site's media.
    ws.ok(&["up", "svc"]);
    // A typo in the site file is exit 2 with a suggestion.
    ws.write("dk.local.toml", "[containers.svcc]\nenv = { A = \"1\" }\n");
    let out = ws.dk().arg("config").output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("dk.local.toml:1") && err.contains("did you mean `svc`?"),
        "{err}"
    );
}

#[test]
fn dk_config_shows_each_run_setting_resolved_with_its_origin() {
    // Resolved once at load: the manifest's [run] over dk.toml's [defaults] over dk's own.
    let ws = TestWs::empty();
    let toml = ws.append(
        "dk.toml",
        "\n[defaults]\nmemory = \"64m\"\npids = 64\nrestart = { policy = \"on-failure\", max_retries = 5 }\n",
    );
    let defaults_line = |key: &str| {
        toml.lines()
            .position(|l| l.starts_with(&format!("{key} =")))
            .map(|i| format!("dk.toml:{}", i + 1))
            .unwrap()
    };
    ws.write("baseline/Dockerfile", "FROM scratch\nCOPY x /x\n");
    ws.container("svc", "FROM baseline\n");
    ws.write(
        "containers/svc/container.toml",
        "[run]\npids = 32\nread_only = false\n",
    );
    let out = ws.ok(&["config", "svc"]);
    let row = |key: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("{key} in:\n{out}"))
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    assert_eq!(
        row("svc.run.pids"),
        ["svc.run.pids", "32", "containers/svc/container.toml:2"]
    );
    assert_eq!(
        row("svc.run.read_only"),
        [
            "svc.run.read_only",
            "false",
            "containers/svc/container.toml:3"
        ]
    );
    assert_eq!(
        row("svc.run.memory"),
        ["svc.run.memory", "64.0 MiB", &defaults_line("memory")]
    );
    assert_eq!(
        row("svc.run.restart"),
        [
            "svc.run.restart",
            "on-failure (max 5 retries)",
            &defaults_line("restart")
        ]
    );
    assert_eq!(row("svc.run.cpus"), ["svc.run.cpus", "(none)", "default"]);
}

#[test]
fn secrets_are_read_only_files_never_shown_and_a_changed_one_replaces_the_container() {
    let ws = TestWs::for_services();
    const FIRST: &str = "first-token-never-shown";
    const SECOND: &str = "second-token-never-shown";
    service(
        &ws,
        "svc",
        "[[secret]]\nname = \"token\"\nfile = \"secrets/token\"\n",
    );
    // A key where earlier versions kept it moves beside dk.toml (fingerprints stay).
    let old_key: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(37)).collect();
    std::fs::create_dir_all(ws.path(".dk")).unwrap();
    std::fs::write(ws.path(".dk/secret.key"), &old_key).unwrap();
    // A missing file is a definition error before anything starts.
    let out = ws.dk().args(["up", "svc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = stderr(&out);
    assert!(
        out.contains("secret `token`: cannot read") && out.contains("secrets/token"),
        "{out}"
    );
    ws.write("secrets/token", FIRST);
    let out = ws.ok(&["up", "svc"]);
    assert!(!out.contains(FIRST), "{out}");
    assert_eq!(std::fs::read(ws.path("dk.secret.key")).unwrap(), old_key);
    assert!(!ws.path(".dk/secret.key").exists());
    let name = format!("{}-svc", ws.ns);
    let cat = |path: &str| stdout(&docker(&["exec", &name, "cat", path]));
    assert_eq!(cat("/run/secrets/token"), FIRST);
    let write = docker(&["exec", &name, "sh", "-c", "echo x > /run/secrets/token"]);
    assert!(!write.status.success(), "read-only");
    let labels = inspect(&ws, "svc", "{{json .Config.Labels}} {{json .Config.Env}}");
    assert!(!labels.contains(FIRST), "{labels}");

    // Rotated: the settings hash changes (by a keyed fingerprint), the container is replaced.
    ws.write("secrets/token", SECOND);
    let out = ws.ok(&["up", "svc"]);
    assert!(
        out.contains("svc: replaced") && !out.contains(SECOND),
        "{out}"
    );
    assert_eq!(cat("/run/secrets/token"), SECOND);
    let config = ws.ok(&["config", "svc"]);
    assert!(!config.contains(SECOND), "{config}");
    let key = std::fs::metadata(ws.path("dk.secret.key")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
}

#[test]
fn an_unowned_data_directory_or_volume_belongs_to_the_container_s_user() {
    let ws = TestWs::for_services();
    // The baseline runs as 1000:1000; this service writes to each of its own mounts when it
    // starts (and in its test), so it becomes ready only when it can.
    ws.container(
        "app",
        "FROM baseline\nCMD [\"sh\", \"-c\", \"echo live > /data/x && echo live > /vol/x && sleep 600\"]\n",
    );
    ws.write("containers/app/.dockerignore", "container.toml\n");
    ws.write(
        "containers/app/container.toml",
        r#"[[mount]]
kind = "persistent"
source = "data"
target = "/data"

[[mount]]
kind = "persistent"
volume = "appvol"
target = "/vol"

[[mount]]
kind = "persistent"
source = "chosen"
target = "/chosen"
owner = 0
group = 0

[[mount]]
kind = "persistent"
source = "kept"
target = "/kept"

[[audit.waive]]
rule = "entrypoint-form"
reason = "a test service that writes before it sleeps"

[[test.check]]
name = "the test variants are writable too"
exec = ["sh", "-c", "echo t > /data/t && echo t > /vol/t"]
"#,
    );
    // A user named in the image's own /etc/passwd, and a volume whose directory the image
    // has (Docker's copy-up decides that one).
    ws.container(
        "named",
        "FROM baseline\nUSER 0:0\nRUN mkdir -p /etc /img && echo 'app:x:1234:1235::/:/bin/sh' >> /etc/passwd && echo 'app:x:1235:' >> /etc/group\nUSER app\nCMD [\"sh\", \"-c\", \"echo live > /data/x && sleep 600\"]\n",
    );
    ws.write("containers/named/.dockerignore", "container.toml\n");
    ws.write(
        "containers/named/container.toml",
        "[[mount]]\nkind = \"persistent\"\nsource = \"data\"\ntarget = \"/data\"\n\n[[mount]]\nkind = \"persistent\"\nvolume = \"imgvol\"\ntarget = \"/img\"\n\n[[audit.waive]]\nrule = \"entrypoint-form\"\nreason = \"a test service that writes before it sleeps\"\n",
    );
    let out = ws.ok(&["prep"]);
    assert!(out.contains("the container's user"), "{out}");
    // Existing data is never re-owned, even when it is root's.
    std::fs::write(ws.path("data/app/kept/old"), "old\n").unwrap();

    let out = ws.ok(&["up", "app", "named"]);
    assert!(
        out.contains("given to 1000:1000 (the container's user"),
        "{out}"
    );
    assert!(out.contains("given to 1234:1235"), "{out}");
    let owner = |p: &str| {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(ws.path(p)).unwrap();
        (m.uid(), m.gid())
    };
    assert_eq!(owner("data/app/data"), (1000, 1000));
    assert_eq!(owner("data/app/chosen"), (0, 0), "an explicit owner wins");
    assert_eq!(
        owner("data/app/kept"),
        (0, 0),
        "existing data is never re-owned"
    );
    assert_eq!(
        owner("data/named/data"),
        (1234, 1235),
        "a name resolved in the image"
    );
    let stat = |node: &str, path: &str| {
        let out = docker(&[
            "exec",
            &format!("{}-{node}", ws.ns),
            "stat",
            "-c",
            "%u:%g",
            path,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).trim().to_string()
    };
    assert_eq!(
        stat("app", "/vol"),
        "1000:1000",
        "a new volume the image has no directory for"
    );
    assert_eq!(
        stat("named", "/img"),
        "0:0",
        "Docker's copy-up of the image's directory"
    );
    let out = docker(&["exec", &format!("{}-app", ws.ns), "cat", "/vol/x"]);
    assert_eq!(stdout(&out), "live\n");
}
