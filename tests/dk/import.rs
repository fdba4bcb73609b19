//! `dk import compose`: every key mapped (or a TODO), variables and files resolved as
//! `docker compose config` does, bad files refused at their line, nothing overwritten, and
//! a round trip: the same service started by docker-compose and by dk after the import runs
//! with the same ports, env, mounts, user and command.

use std::path::Path;
use std::process::Command;

use crate::common::{TestWs, busybox, docker, stderr, stdout, unique};

/// A build context like the test baseline: busybox on scratch, non-root, no package managers.
fn app_context(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(busybox(), dir.join("busybox")).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM scratch AS final\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox --install -s /bin && rm /bin/dpkg /bin/dpkg-deb /bin/rpm /bin/rpm2cpio\"]\nUSER 1000:1000\nEXPOSE 8080\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
    )
    .unwrap();
}

fn import(ws: &TestWs, args: &[&str]) -> std::process::Output {
    ws.dk()
        .args(["import", "compose"])
        .args(args)
        .current_dir(ws.root())
        .env_remove("COMPOSE_PROFILES")
        .output()
        .unwrap()
}

/// A directory with only `compose.yaml` (no workspace yet): what a first import meets.
fn compose_only(yaml: &str) -> TestWs {
    let ws = TestWs::empty();
    std::fs::remove_file(ws.path("dk.toml")).unwrap();
    ws.write("compose.yaml", yaml);
    ws
}

fn manifest(ws: &TestWs, node: &str) -> toml::Table {
    let text = std::fs::read_to_string(ws.path(&format!("containers/{node}/container.toml")))
        .unwrap_or_else(|e| panic!("containers/{node}/container.toml: {e}"));
    text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn every_compose_key_is_mapped_or_left_as_a_todo() {
    let ws = TestWs::empty();
    app_context(&ws.path("app"));
    std::fs::create_dir_all(ws.path("www")).unwrap();
    ws.write("db_pass.txt", "s3cret-pass\n");
    ws.write("app.conf", "x = 1\n");
    ws.write("web.env", "TOKEN=from-env-file\n");
    ws.write(".env", "TAG=1.2\nPORT=18092\n");
    ws.write(
        "compose.yaml",
        r#"x-logging: &logging
  logging:
    driver: syslog
    options:
      syslog-address: "udp://127.0.0.1:514"
      tag: "{{.Name}}"
services:
  web:
    <<: *logging
    build:
      context: ./app
      args: ["VERSION=${TAG}"]
      target: final
      cache_from: [x]
    image: example/web:1
    command: httpd -f -p 8080 -h '/www'
    entrypoint: ["/bin/sh", "-c"]
    ports:
      - "127.0.0.1:${PORT}:8080"
      - target: 9090
        published: 19090
        protocol: udp
      - "[::1]:18443:443"
      - "9000"
    environment:
      - MODE=production
      - API=http://api:${PORT}
    env_file: web.env
    volumes:
      - ./www:/www:ro
      - data:/data
      - type: tmpfs
        target: /scratch
      - /tmp
    tmpfs: /run
    depends_on:
      db:
        condition: service_healthy
    healthcheck:
      test: wget -q -O- http://127.0.0.1:8080/
      interval: 1m30s
      timeout: 5s
      retries: 3
      start_period: 10s
    restart: on-failure:3
    user: "1000:1000"
    cap_add: [NET_BIND_SERVICE]
    read_only: false
    security_opt: ["no-new-privileges:true"]
    sysctls:
      net.core.somaxconn: 1024
    ulimits:
      nofile: { soft: 1024, hard: 4096 }
      nproc: 512
    devices: ["/dev/null:/dev/xnull"]
    dns: 10.0.0.53
    dns_search: [internal]
    extra_hosts: ["db.internal=10.0.0.2"]
    hostname: webhost
    networks:
      default:
        aliases: [www]
    labels: { com.example.team: ops }
    deploy:
      resources:
        limits: { cpus: "0.5", memory: 64M, pids: 100 }
        reservations: { memory: 32M }
    secrets: [db_pass]
    configs:
      - source: app_conf
        target: /etc/app.conf
    stop_signal: SIGQUIT
    stop_grace_period: 1m
    init: true
    working_dir: /srv
    tty: true
    stdin_open: true
    shm_size: 64m
    group_add: [audio]
    container_name: fixed
    expose: ["8080"]
    privileged: true
  db:
    image: busybox:1.36.1
    command: ["sleep", "600"]
    cap_drop: [ALL]
    mem_limit: 128m
    cpus: 1
    pids_limit: 64
    network_mode: none
  debug:
    image: busybox:1.36.1
    profiles: [debug]
volumes:
  data: {}
secrets:
  db_pass:
    file: ./db_pass.txt
configs:
  app_conf:
    file: ./app.conf
"#,
    );
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let summary = stdout(&out);
    assert!(
        !summary.contains("s3cret") && !summary.contains("from-env-file"),
        "{summary}"
    );
    assert!(
        summary.contains("imported 2 of 2 service(s)"),
        "profiles: debug is not active:\n{summary}"
    );

    let web = manifest(&ws, "web");
    assert_eq!(web["autostart"].as_bool(), Some(true));
    assert_eq!(web["after"].as_array().unwrap()[0].as_str(), Some("db"));
    let build = web["build"].as_table().unwrap();
    assert_eq!(build["args"]["VERSION"].as_str(), Some("1.2"));
    assert_eq!(build["target"].as_str(), Some("final"));
    let run = web["run"].as_table().unwrap();
    let list = |v: &toml::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        list(&run["command"]),
        ["httpd", "-f", "-p", "8080", "-h", "/www"]
    );
    assert_eq!(list(&run["entrypoint"]), ["/bin/sh", "-c"]);
    assert_eq!(
        list(&run["ports"]),
        ["127.0.0.1:18092:8080", "19090:9090/udp", "[::1]:18443:443"]
    );
    assert_eq!(run["env"]["MODE"].as_str(), Some("production"));
    assert!(
        run["env"].get("API").is_none(),
        "an interpolated value is a site's: dk.local.toml"
    );
    assert_eq!(list(&run["tmpfs"]), ["/scratch", "/run"]);
    let hc = run["healthcheck"].as_table().unwrap();
    assert_eq!(
        list(&hc["command"]),
        ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/"]
    );
    assert_eq!(hc["interval"].as_str(), Some("90s"));
    assert_eq!(hc["timeout"].as_str(), Some("5s"));
    assert_eq!(hc["start_period"].as_str(), Some("10s"));
    assert_eq!(hc["retries"].as_integer(), Some(3));
    assert_eq!(run["restart"]["policy"].as_str(), Some("on-failure"));
    assert_eq!(run["restart"]["max_retries"].as_integer(), Some(3));
    assert_eq!(run["user"].as_str(), Some("1000:1000"));
    assert_eq!(list(&run["cap_add"]), ["NET_BIND_SERVICE"]);
    assert_eq!(run["read_only"].as_bool(), Some(false));
    assert_eq!(list(&run["security_opt"]), ["no-new-privileges:true"]);
    assert_eq!(run["sysctls"]["net.core.somaxconn"].as_str(), Some("1024"));
    assert_eq!(run["ulimits"]["nofile"]["hard"].as_integer(), Some(4096));
    assert_eq!(run["ulimits"]["nproc"].as_integer(), Some(512));
    assert_eq!(list(&run["devices"]), ["/dev/null:/dev/xnull"]);
    assert_eq!(list(&run["dns"]), ["10.0.0.53"]);
    assert_eq!(list(&run["dns_search"]), ["internal"]);
    assert_eq!(list(&run["extra_hosts"]), ["db.internal:10.0.0.2"]);
    assert_eq!(run["hostname"].as_str(), Some("webhost"));
    assert_eq!(list(&run["network_aliases"]), ["www"]);
    assert_eq!(run["labels"]["com.example.team"].as_str(), Some("ops"));
    assert_eq!(run["log"]["driver"].as_str(), Some("syslog"));
    assert_eq!(
        run["log"]["options"]["syslog-address"].as_str(),
        Some("udp://127.0.0.1:514")
    );
    assert_eq!(run["cpus"].as_float(), Some(0.5));
    assert_eq!(run["memory"].as_str(), Some("64m"));
    assert_eq!(run["pids"].as_integer(), Some(100));
    assert_eq!(run["stop_signal"].as_str(), Some("SIGQUIT"));
    assert_eq!(run["stop_timeout"].as_str(), Some("60s"));
    assert_eq!(run["init"].as_bool(), Some(true));
    assert_eq!(run["working_dir"].as_str(), Some("/srv"));
    assert_eq!(run["tty"].as_bool(), Some(true));
    assert_eq!(run["stdin_open"].as_bool(), Some(true));
    assert_eq!(run["shm_size"].as_str(), Some("64m"));
    assert_eq!(list(&run["group_add"]), ["audio"]);
    let mounts = web["mount"].as_array().unwrap();
    let mount = |target: &str| {
        mounts
            .iter()
            .find(|m| m["target"].as_str() == Some(target))
            .unwrap_or_else(|| panic!("no mount {target}: {mounts:?}"))
    };
    let root = ws.root().canonicalize().unwrap();
    assert_eq!(mount("/www")["kind"].as_str(), Some("ro"));
    assert_eq!(
        mount("/www")["host"].as_str(),
        Some(root.join("www").to_str().unwrap())
    );
    assert_eq!(mount("/data")["volume"].as_str(), Some("data"));
    assert_eq!(mount("/data")["kind"].as_str(), Some("persistent"));
    assert_eq!(
        mount("/run/secrets/db_pass")["host"].as_str(),
        Some(root.join("db_pass.txt").to_str().unwrap())
    );
    assert_eq!(mount("/run/secrets/db_pass")["file"].as_bool(), Some(true));
    assert_eq!(mount("/etc/app.conf")["kind"].as_str(), Some("ro"));

    // What has no dk equivalent is a TODO with its line, in the manifest and the summary.
    let text = std::fs::read_to_string(ws.path("containers/web/container.toml")).unwrap();
    for todo in [
        "# TODO(import): build.cache_from",
        "# TODO(import): image: example/web:1",
        "# TODO(import): ports: \"9000\"",
        "# TODO(import): volumes: \"/tmp\"",
        "# TODO(import): deploy.resources.reservations",
        "# TODO(import): container_name",
        "# TODO(import): expose",
        "# TODO(import): privileged",
    ] {
        assert!(text.contains(todo), "{todo} in:\n{text}");
        assert!(
            summary.contains(&todo[2..]),
            "{todo} in the summary:\n{summary}"
        );
    }
    assert!(text.contains("(compose.yaml:"), "{text}");
    // Site values: interpolated ones and env files, in dk.local.toml (and git-ignored).
    let local: toml::Table = std::fs::read_to_string(ws.path("dk.local.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        local["containers"]["web"]["env"]["API"].as_str(),
        Some("http://api:18092")
    );
    assert_eq!(
        local["containers"]["web"]["env"]["TOKEN"].as_str(),
        Some("from-env-file")
    );
    assert!(
        std::fs::read_to_string(ws.path(".gitignore"))
            .unwrap()
            .contains("dk.local.toml")
    );

    let db = manifest(&ws, "db");
    let db_run = db["run"].as_table().unwrap();
    assert_eq!(list(&db_run["command"]), ["sleep", "600"]);
    assert_eq!(db_run["memory"].as_str(), Some("128m"));
    assert_eq!(db_run["cpus"].as_float(), Some(1.0));
    assert_eq!(db_run["pids"].as_integer(), Some(64));
    assert_eq!(db_run["network"].as_str(), Some("none"));
    let dockerfile = std::fs::read_to_string(ws.path("containers/db/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("FROM docker.io/library/busybox:1.36.1"),
        "written as the registry names it: {dockerfile}"
    );
    // The summary names what runs differently, and why.
    assert!(
        summary.contains("root filesystem is read-only"),
        "db: {summary}"
    );
    assert!(summary.contains("not privileged"), "{summary}");
    // The result loads and lints (findings are fine; a definition error is not).
    ws.ok(&["plan"]);
    let lint = ws.dk().args(["lint"]).output().unwrap();
    assert_ne!(lint.status.code(), Some(2), "{}", stderr(&lint));
}

#[test]
fn files_merge_in_order_with_extends_profiles_and_variables() {
    let ws = TestWs::empty();
    ws.write(".env", "IMAGE_TAG=from-dotenv\nLEVEL=debug\n");
    ws.write(
        "base.yaml",
        "services:\n  common:\n    image: busybox:1.36.1\n    environment:\n      SHARED: base\n    restart: always\n",
    );
    ws.write(
        "compose.yaml",
        "services:\n  api:\n    extends:\n      file: base.yaml\n      service: common\n    image: busybox:${IMAGE_TAG}\n    environment:\n      LOG: ${LEVEL:-info}\n      MISSING: ${NOPE:-fallback}\n    ports: [\"8080:80\"]\n  tools:\n    image: busybox:1.36.1\n    profiles: [ops]\n",
    );
    ws.write(
        "compose.override.yaml",
        "services:\n  api:\n    ports: [\"8081:81\"]\n    environment:\n      SHARED: override\n",
    );
    let out = ws
        .dk()
        .args([
            "import",
            "compose",
            "compose.yaml",
            "compose.override.yaml",
            "--profile",
            "ops",
        ])
        .current_dir(ws.root())
        .env("IMAGE_TAG", "from-env")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let api = manifest(&ws, "api");
    let run = api["run"].as_table().unwrap();
    let ports: Vec<&str> = run["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(ports, ["8080:80", "8081:81"], "lists are appended");
    assert_eq!(
        run["env"]["SHARED"].as_str(),
        Some("override"),
        "later files win"
    );
    assert_eq!(
        run["restart"]["policy"].as_str(),
        Some("always"),
        "from extends"
    );
    let local: toml::Table = std::fs::read_to_string(ws.path("dk.local.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        local["containers"]["api"]["env"]["LOG"].as_str(),
        Some("debug"),
        ".env"
    );
    assert_eq!(
        local["containers"]["api"]["env"]["MISSING"].as_str(),
        Some("fallback")
    );
    let dockerfile = std::fs::read_to_string(ws.path("containers/api/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("FROM docker.io/library/busybox:from-env"),
        "the environment wins over .env: {dockerfile}"
    );
    assert!(
        ws.path("containers/tools").exists(),
        "--profile ops enables it"
    );
}

#[test]
fn malformed_compose_files_are_exit_2_at_their_file_line_and_key() {
    let cases = [
        (
            "services:\n  web:\n    image: busybox:1\n    portz: [\"80:80\"]\n",
            "compose.yaml:4: services.web.portz: unknown key",
            Some("did you mean `ports`?"),
        ),
        (
            "services:\n  web:\n    image: busybox:1\n    read_only: maybe\n",
            "compose.yaml:4: services.web.read_only: must be a boolean",
            None,
        ),
        (
            "services:\n  web:\n    image: busybox:1\n    environment:\n      KEY: ${MUST:?set MUST first}\n",
            "compose.yaml:5: services.web.environment.KEY: required variable MUST is missing a value: set MUST first",
            None,
        ),
        (
            "services:\n  a:\n    image: busybox:1\n    depends_on: [b]\n  b:\n    image: busybox:1\n    depends_on: [a]\n",
            "depends_on: a cycle",
            None,
        ),
        (
            "services:\n  a:\n    image: busybox:1\n    depends_on: [dbb]\n  db:\n    image: busybox:1\n",
            "compose.yaml:4: services.a.depends_on: `dbb` is not a service",
            Some("did you mean `db`?"),
        ),
        (
            "services:\n  a:\n    image: busybox:1\n    healthcheck:\n      intervall: 5s\n",
            "compose.yaml:5: services.a.healthcheck.intervall: unknown key",
            Some("did you mean `interval`?"),
        ),
        (
            "services:\n  a: [\n",
            "compose.yaml:",
            Some("not valid YAML"),
        ),
    ];
    for (text, want, help) in cases {
        let ws = TestWs::empty();
        ws.write("compose.yaml", text);
        let out = import(&ws, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}\n{err}");
        assert!(err.contains(want), "want `{want}` for\n{text}\ngot:\n{err}");
        if let Some(h) = help {
            assert!(err.contains(h), "want `{h}` in:\n{err}");
        }
        assert!(!ws.path("containers").exists(), "nothing written:\n{text}");
    }
}

#[test]
fn an_import_into_a_workspace_overwrites_nothing() {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    ws.container("web", "FROM baseline\n# mine\n");
    ws.write(
        "compose.yaml",
        "services:\n  web:\n    image: busybox:1.36.1\n  cache:\n    image: busybox:1.36.1\n",
    );
    let before = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("web → skipped: containers/web/ exists"), "{s}");
    assert!(s.contains("imported 1 of 2"), "{s}");
    assert_eq!(
        std::fs::read_to_string(ws.path("containers/web/Dockerfile")).unwrap(),
        "FROM baseline\n# mine\n"
    );
    assert_eq!(std::fs::read_to_string(ws.path("dk.toml")).unwrap(), before);
    assert!(ws.path("containers/cache/container.toml").exists());
}

#[test]
fn shapes_of_real_compose_files_import() {
    // Seen in real Compose files: a service named like its image (`redis` of
    // `redis:alpine`), an empty host address (`${IP:-}:2283:2283`), `network_mode: bridge`,
    // a mount target with a trailing `/` (awesome-compose's apache-php and plex).
    let ws = compose_only(
        "services:\n  redis:\n    image: redis:7-alpine\n    network_mode: bridge\n  app:\n    image: busybox:1.36.1\n    ports:\n      - \":2283:2283\"\n      - target: 80\n        published: \"8080\"\n        host_ip: \"\"\n    volumes:\n      - appdata:/var/www/html/\nvolumes:\n  appdata: {}\n",
    );
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("imported 2 of 2"), "{s}");
    assert!(
        s.contains("TODO(import): network_mode: \"bridge\"")
            && s.contains("not on Docker's default bridge"),
        "{s}"
    );
    let app = manifest(&ws, "app");
    assert_eq!(
        app["run"]["ports"],
        toml::Value::Array(vec!["2283:2283".into(), "8080:80".into()]),
        "{app:?}"
    );
    assert_eq!(
        app["mount"][0]["target"].as_str(),
        Some("/var/www/html"),
        "Compose's form of the target: {app:?}"
    );
    // It loads: `redis` builds on the upstream image, not on itself.
    let redis = ws.ls_node("redis");
    assert_eq!(redis["parents"], serde_json::json!([]), "{redis}");
}

#[test]
fn a_missing_build_context_is_named_by_service_key_and_line_and_nothing_is_written() {
    let ws = compose_only(
        "services:\n  api:\n    image: busybox:1.36.1\n  web:\n    build:\n      context: ./web\n",
    );
    let out = import(&ws, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("compose.yaml:6: services.web.build.context:")
            && err.contains("is not a directory")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!ws.path("dk.toml").exists() && !ws.path("containers").exists());
}

#[test]
fn a_missing_dockerfile_is_named_by_service_key_line_and_variable() {
    // OpenTelemetry's demo names each Dockerfile through a variable its .env sets
    // (`dockerfile: ${AD_DOCKERFILE}`); with the Dockerfile or the variable missing, dk said
    // `error: copy …/src/ad/Dockerfile: No such file or directory`, naming nothing.
    let ws = compose_only(
        "services:\n  ad:\n    build:\n      context: ./\n      dockerfile: ${AD_DOCKERFILE}\n  web:\n    build: ./web\n  db:\n    image: busybox:1.36.1\n",
    );
    std::fs::create_dir_all(ws.path("web")).unwrap();
    ws.write(".env", "AD_DOCKERFILE=./src/ad/Dockerfile\n");
    let out = import(&ws, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("compose.yaml:5: services.ad.build.dockerfile:")
            && err.contains("src/ad/Dockerfile is not a file")
            && !err.contains("/./")
            && err.contains("compose.yaml:7: services.web.build.context:")
            && err.contains("web/Dockerfile is not a file")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!ws.path("dk.toml").exists() && !ws.path("containers").exists());
    // The variable unset: the message says so.
    std::fs::remove_file(ws.path(".env")).unwrap();
    let err = stderr(&import(&ws, &[]));
    assert!(
        err.contains("services.ad.build.dockerfile:")
            && err.contains("the variable AD_DOCKERFILE is not set"),
        "{err}"
    );
    // Both Dockerfiles there: it imports.
    ws.write(".env", "AD_DOCKERFILE=./src/ad/Dockerfile\n");
    app_context(&ws.path("web"));
    ws.write("src/ad/Dockerfile", "FROM busybox:1.36.1\n");
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn real_compose_files_that_found_dk_bugs_import_and_plan() {
    // stefanprodan/dockprom: a bcrypt hash in a default (`${H:-$2a$14$…}`), whose `$`s start no
    // variable and stay as written (the specification; dk refused it). temporalio's
    // multirole file: a log driver plugin (`driver: loki`; dk knew only Docker's own).
    // open-telemetry/opentelemetry-demo: every Dockerfile named through .env.
    let c = crate::conformance_support::corpus().join("compose");
    let files: Vec<_> = [
        "stefanprodan-dockprom/docker-compose.yml",
        "temporalio-docker-compose__multirole/compose.yaml",
        "opentelemetry-demo/compose.yaml",
    ]
    .iter()
    .map(|f| c.join(f))
    .collect();
    let stats = crate::conformance_support::compose_corpus(
        &crate::common::dk_path(),
        &files,
        &unique("dkbugs"),
    );
    assert_eq!(stats.planned, 3, "{stats:?}");
    assert!(stats.key_differences.is_empty(), "{stats:?}");
    assert!(stats.keys_compared > 100, "{stats:?}");
    // The hash reaches the container's environment unchanged.
    let ws = compose_only(&std::fs::read_to_string(&files[0]).unwrap());
    for d in ["caddy", "grafana", "prometheus", "alertmanager"] {
        std::fs::create_dir_all(ws.path(d)).unwrap();
    }
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    // (A value from a variable is the site's: dk.local.toml.)
    let local: toml::Table = std::fs::read_to_string(ws.path("dk.local.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        local["containers"]["caddy"]["env"]["ADMIN_PASSWORD_HASH"].as_str(),
        Some("$2a$14$1l.IozJx7xQRVmlkEQ32OeEEfP5mRxTpbDTCTcXRqn19gXD8YK1pO"),
        "{local:?}"
    );
}

#[test]
fn what_runs_differently_is_said_as_the_workspace_resolves_it() {
    // The notes on dk's defaults follow the target workspace's [defaults], not dk's own.
    let ws = TestWs::empty();
    ws.append(
        "dk.toml",
        "\n[defaults]\nread_only = false\nrestart = { policy = \"always\" }\n",
    );
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    ws.write(
        "compose.yaml",
        "services:\n  cache:\n    image: busybox:1.36.1\n",
    );
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(!s.contains("root filesystem is read-only"), "{s}");
    assert!(
        s.contains(
            "it is restarted by the policy `always` (this workspace's setting; Compose: never)"
        ),
        "{s}"
    );
    // Into a new workspace: dk's own defaults.
    let fresh = compose_only("services:\n  cache:\n    image: busybox:1.36.1\n");
    let out = import(&fresh, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("root filesystem is read-only"), "{s}");
    assert!(
        s.contains("restarted by the policy `on-failure`, up to 5 times"),
        "{s}"
    );
}

/// docker-compose (Debian's 1.29), removed with its volumes and images on drop.
struct ComposeProject {
    name: String,
    dir: std::path::PathBuf,
}

impl ComposeProject {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker-compose")
            .args(["-p", &self.name])
            .args(args)
            .current_dir(&self.dir)
            .env("DOCKER_BUILDKIT", "0")
            .env("COMPOSE_DOCKER_CLI_BUILD", "0")
            .output()
            .unwrap_or_else(|e| panic!("this test runs docker-compose, which is missing ({e}): apt-get install -y docker-compose"))
    }
}

impl Drop for ComposeProject {
    fn drop(&mut self) {
        // dk's container uses the project's volume: it goes first, so that the volume can.
        let users = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("volume={}_data", self.name),
        ]);
        for id in stdout(&users).split_whitespace() {
            let _ = docker(&["rm", "-f", id]);
        }
        let _ = self.run(&["down", "-v", "--rmi", "local", "--remove-orphans"]);
    }
}

/// What both must agree on, from `docker inspect`.
fn observed(container: &str, env_keys: &[&str]) -> String {
    let out = docker(&[
        "inspect",
        "--format",
        "{{json .HostConfig.PortBindings}}|{{json .Config.Env}}|{{json .Config.User}}|{{json .Config.Cmd}}|{{range .Mounts}}{{.Destination}}={{.RW}}:{{if .Name}}{{.Name}}{{else}}{{.Source}}{{end}} {{end}}",
        container,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let parts: Vec<&str> = text.trim().split('|').collect();
    let mut env: Vec<String> = serde_json::from_str::<Vec<String>>(parts[1])
        .unwrap()
        .into_iter()
        .filter(|e| env_keys.iter().any(|k| e.starts_with(&format!("{k}="))))
        .collect();
    env.sort();
    let mut mounts: Vec<&str> = parts[4].split_whitespace().collect();
    mounts.sort();
    format!(
        "ports {}\nenv {env:?}\nuser {}\ncmd {}\nmounts {mounts:?}",
        parts[0], parts[2], parts[3]
    )
}

#[test]
fn the_same_service_under_docker_compose_and_under_dk_after_import() {
    let ws = TestWs::for_services();
    app_context(&ws.path("app"));
    std::fs::create_dir_all(ws.path("www")).unwrap();
    std::fs::write(ws.path("www/index.html"), "hello\n").unwrap();
    let project = ComposeProject {
        name: unique("dkcompose"),
        dir: ws.root().to_path_buf(),
    };
    ws.write("app.env", "TOKEN=abc\n");
    ws.write(
        "compose.yaml",
        "services:\n  web:\n    build: ./app\n    ports: [\"127.0.0.1:18093:8080\"]\n    environment:\n      MODE: production\n    env_file: app.env\n    user: \"1000:1000\"\n    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n    volumes:\n      - ./www:/www:ro\n      - data:/data\nvolumes:\n  data: {}\n",
    );
    let up = project.run(&["up", "-d", "--build"]);
    assert!(up.status.success(), "{}", stderr(&up));
    let compose_container = stdout(&project.run(&["ps", "-q", "web"]))
        .trim()
        .to_string();
    let keys = ["MODE", "TOKEN"];
    let theirs = observed(&compose_container, &keys);
    let stop = project.run(&["stop"]);
    assert!(stop.status.success(), "{}", stderr(&stop));

    let out = ws
        .dk()
        .args(["import", "compose"])
        .current_dir(ws.root())
        .env("COMPOSE_PROJECT_NAME", &project.name)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    // Compose's volume already exists: used as it is, so its data stays.
    assert!(
        stdout(&out).contains(&format!("Compose's volume `{}_data`", project.name)),
        "{}",
        stdout(&out)
    );
    ws.ok(&["up", "web"]);
    let ours = observed(&format!("{}-web", ws.ns), &keys);
    assert_eq!(
        ours, theirs,
        "dk after the import runs it as docker-compose did"
    );
    ws.ok(&["down", "web"]);
}

#[test]
fn a_static_address_carries_its_networks_subnet_into_dk_toml() {
    // A Compose network with an ipam subnet and a service at a static address in it.
    let ws = compose_only(
        "services:\n  dns:\n    image: busybox:1.36.1\n    networks:\n      lan:\n        ipv4_address: 172.28.5.53\nnetworks:\n  lan:\n    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n  other:\n    ipam:\n      config:\n        - subnet: 10.255.0.0/16\n",
    );
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.contains("the live network has Compose network `lan`'s subnet 172.28.0.0/16")
            && s.contains("the test network gets 10.254.0.0/16"),
        "the test subnet avoids the file's other subnets: {s}"
    );
    let toml: toml::Table = std::fs::read_to_string(ws.path("dk.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        toml["network"]["live"]["subnet"].as_str(),
        Some("172.28.0.0/16")
    );
    assert_eq!(
        toml["network"]["test"]["subnet"].as_str(),
        Some("10.254.0.0/16")
    );
    assert_eq!(
        manifest(&ws, "dns")["run"]["ip"].as_str(),
        Some("172.28.5.53")
    );
    // It loads, and plans.
    let out = ws.dk().args(["plan"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_unset_variable_that_breaks_an_image_is_one_error_naming_it_and_nothing_is_written() {
    let ws = compose_only(
        "x-common: &common\n  image: frappe/erpnext:${ERPNEXT_VERSION}\n  environment:\n    DB_HOST: db\nservices:\n  backend:\n    <<: *common\n  frontend:\n    <<: *common\n    ports: [\"8080:8080\"]\n  db:\n    image: mariadb:${DB_TAG:-10.6}\n",
    );
    let out = import(&ws, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("services.backend.image: `frappe/erpnext:` is not an image reference: the variable ERPNEXT_VERSION is not set")
            && err.contains("services.frontend.image:")
            && err.contains("compose.yaml:2:"),
        "{err}"
    );
    assert!(err.contains(".env") && err.contains("--env-file"), "{err}");
    assert!(
        !err.contains("DB_TAG"),
        "a variable with a default is not the cause: {err}"
    );
    assert!(!err.contains("no such container"), "no cascade: {err}");
    assert!(!ws.path("dk.toml").exists() && !ws.path("containers").exists());
    // Set in .env, it imports.
    ws.write(".env", "ERPNEXT_VERSION=v15.0.0\n");
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_unset_variable_that_empties_a_volume_source_is_one_error_naming_it() {
    // Immich's own docker-compose.yml with the example.env of its day, which lacks
    // DB_DATA_LOCATION (tests/corpus/compose/immich-app-immich__docker).
    let corpus = crate::conformance_support::corpus().join("compose/immich-app-immich__docker");
    let ws = compose_only(&std::fs::read_to_string(corpus.join("docker-compose.yml")).unwrap());
    std::fs::rename(ws.path("compose.yaml"), ws.path("docker-compose.yml")).unwrap();
    ws.write(
        ".env",
        &std::fs::read_to_string(corpus.join(".env")).unwrap(),
    );
    let out = import(&ws, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docker-compose.yml:69: services.database.volumes: `:/var/lib/postgresql/data` has an empty part: the variable DB_DATA_LOCATION is not set"),
        "{err}"
    );
    assert!(!err.contains("no such container"), "no cascade: {err}");
    assert!(!ws.path("dk.toml").exists() && !ws.path("containers").exists());
    let env = std::fs::read_to_string(ws.path(".env")).unwrap();
    ws.write(".env", &format!("{env}\nDB_DATA_LOCATION=./postgres\n"));
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_flow_sequence_closing_on_a_less_indented_line_reads_as_compose_reads_it() {
    // Seen in getsentry/self-hosted: go-yaml (and PyYAML) accept it; a strict reader does not.
    let ws = compose_only(
        "services:\n  web:\n    image: busybox:1.36.1\n    command: [\"sh\",\n  \"-c\", \"true\"]\n    healthcheck:\n      test:\n        [\n          \"CMD\",\n          # the probe\n          \"true\",\n      ]\n",
    );
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let web = manifest(&ws, "web");
    assert_eq!(
        web["run"]["command"],
        toml::Value::Array(vec!["sh".into(), "-c".into(), "true".into()])
    );
    assert_eq!(
        web["run"]["healthcheck"]["command"],
        toml::Value::Array(vec!["CMD".into(), "true".into()])
    );
}

#[test]
fn every_service_element_of_the_specification_is_read_and_what_dk_lacks_is_a_todo() {
    // Seen in docker-library/docs (espocrm): `volumes_from`, which the specification has.
    let ws = compose_only(
        "services:\n  app:\n    image: busybox:1.36.1\n  daemon:\n    image: busybox:1.36.1\n    volumes_from: [app]\n    uts: host\n    cpu_count: 2\n",
    );
    let out = import(&ws, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.contains("TODO(import): volumes_from: [\"app\"]")
            && s.contains("from = \"<container>:<path>\""),
        "{s}"
    );
    assert!(
        s.contains("TODO(import): uts:") && s.contains("TODO(import): cpu_count:"),
        "{s}"
    );
}
