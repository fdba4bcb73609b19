//! `dk outdated` and `dk update` against real upstreams: a loopback `docker-registry` where
//! the test publishes new images under the same tag, and a local apt repository (`file:`
//! source, packages built with `dpkg-deb`, indexed by `dpkg-scanpackages`) where it
//! publishes new versions of a package. The machine's own apt sources are never touched.

use std::path::Path;
use std::process::Command;

use crate::common::*;
use crate::parts::TestRegistry;

/// Build and push `reg/up/base:1` whose /upstream says `marker`; its registry digest.
fn publish(ws: &TestWs, reg: &TestRegistry, marker: &str) -> String {
    publish_as(ws, reg, marker, None)
}

/// `docker`, with the client config in `config` when given (a registry login).
fn docker_as(config: Option<&Path>, args: &[&str]) -> std::process::Output {
    let mut c = Command::new("docker");
    if let Some(dir) = config {
        c.arg("--config").arg(dir);
    }
    c.args(args).output().expect("docker")
}

/// `publish`, logged in with the client config in `config`.
fn publish_as(ws: &TestWs, reg: &TestRegistry, marker: &str, config: Option<&Path>) -> String {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::copy(busybox(), ctx.path().join("busybox")).unwrap();
    std::fs::write(ctx.path().join("upstream"), format!("{marker}\n")).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox --install -s /bin && rm /bin/dpkg /bin/dpkg-deb /bin/rpm /bin/rpm2cpio\"]\nCOPY upstream /upstream\nUSER 1000:1000\nCMD [\"sleep\", \"600\"]\n",
    )
    .unwrap();
    let tag = format!("{}/up/base:1", reg.url());
    // Labelled with the workspace: its guard removes every version, tagged or not.
    let out = docker(&[
        "build",
        "-q",
        "--label",
        &format!("dk.workspace={}", ws.id()),
        "-t",
        &tag,
        ctx.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = docker_as(config, &["push", "-q", &tag]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = docker(&[
        "inspect",
        "--format",
        "{{range .RepoDigests}}{{.}} {{end}}",
        &tag,
    ]);
    let digests = stdout(&out);
    let wanted = format!("{}/up/base@", reg.url());
    digests
        .split_whitespace()
        .find_map(|d| d.strip_prefix(&wanted))
        .unwrap_or_else(|| panic!("no registry digest in {digests}"))
        .to_string()
}

const SVC: &str = r#"autostart = true

[test]
ready_port = 8080

[[test.check]]
name = "upstream is not broken"
exec = ["sh", "-c", "cat /upstream && ! grep -q broken /upstream"]
"#;

fn running_id(ws: &TestWs, node: &str) -> String {
    let out = docker(&[
        "inspect",
        "--format",
        "{{.Id}} {{.State.Running}}",
        &format!("{}-{node}", ws.ns),
    ]);
    let s = stdout(&out);
    assert!(s.trim().ends_with("true"), "{node} runs: {s}");
    s.split_whitespace().next().unwrap().to_string()
}

fn upstream_in(ws: &TestWs, node: &str) -> String {
    let out = docker(&["exec", &format!("{}-{node}", ws.ns), "cat", "/upstream"]);
    stdout(&out).trim().to_string()
}

#[test]
fn an_image_pinned_by_digest_is_found_outdated_updated_through_the_graph_and_a_broken_release_changes_nothing()
 {
    let reg = TestRegistry::start(None);
    let ws = TestWs::docker();
    // (Written properly below, once the upstream digest is known.)
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    let d1 = publish(&ws, &reg, "v1");
    ws.write(
        "baseline/Dockerfile",
        &format!(
            "# The upstream base, pinned (dk update re-pins it).\nARG BASE={}/up/base:1@{d1}\nFROM ${{BASE}}\n",
            reg.url()
        ),
    );
    ws.write(
        "containers/svc/Dockerfile",
        "FROM baseline\nCOPY www /www\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
    );
    ws.write("containers/svc/www/index.html", "hello\n");
    ws.write("containers/svc/.dockerignore", "container.toml\n");
    ws.write("containers/svc/container.toml", SVC);
    // The report reaches the hooks.
    ws.append(
        "dk.toml",
        "[hooks]\nafter_update = [\"sh\", \"-c\", \"cp \\\"$DK_REPORT\\\" updated.html && printf '%s' \\\"$DK_REPORT_TEXT\\\" > updated.txt\"]\non_update_failure = [\"sh\", \"-c\", \"printf '%s' \\\"$DK_REPORT_TEXT\\\" > failed.txt\"]\n",
    );
    ws.write("containers/other/Dockerfile", "FROM scratch\nCOPY x /x\n");
    ws.write("containers/other/x", "x\n");
    ws.ok(&["up"]);
    ws.ok(&["build", "other"]);
    assert_eq!(upstream_in(&ws, "svc"), "v1");

    // Up to date: nothing printed, exit 0 even with --check.
    let out = ws.dk().args(["outdated", "--check"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("1 pin(s) checked: 0 outdated"),
        "{}",
        stderr(&out)
    );

    // Upstream moves the tag.
    let d2 = publish(&ws, &reg, "v2");
    assert_ne!(d1, d2);
    let out = ws.dk().args(["outdated", "--check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "--check: outdated is 1");
    let line = stdout(&out);
    let short = |d: &str| d[..19].to_string(); // sha256: + 12 hex
    assert!(line.starts_with("baseline/Dockerfile:2: "), "{line}");
    assert!(
        line.contains(&format!("{} → {}", short(&d1), short(&d2))),
        "{line}"
    );
    assert!(
        line.contains("created 20"),
        "the image's creation time: {line}"
    );
    assert!(line.contains("rebuilds baseline, svc"), "{line}");
    let json: serde_json::Value = serde_json::from_slice(
        &ws.dk()
            .args(["outdated", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["pins"][0]["available"], d2.as_str(), "{json}");

    let svc_before = running_id(&ws, "svc");
    let other_latest = ws.image_id(&ws.image("other", "latest"));
    let out = ws.ok(&["update"]);
    assert!(out.contains("re-pinned"), "{out}");
    let dockerfile = std::fs::read_to_string(ws.path("baseline/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("ARG BASE={}/up/base:1@{d2}\n", reg.url()))
            && dockerfile.starts_with("# The upstream base, pinned"),
        "re-pinned in place, the rest kept: {dockerfile}"
    );
    assert_ne!(running_id(&ws, "svc"), svc_before, "svc was replaced");
    assert_eq!(upstream_in(&ws, "svc"), "v2");
    assert_eq!(
        ws.image_id(&ws.image("other", "latest")),
        other_latest,
        "a node that does not depend on the pin is not rebuilt"
    );
    let report = ws.ok(&["report"]);
    assert!(report.trim().ends_with("-update.html"), "{report}");
    let hook_text = std::fs::read_to_string(ws.path("updated.txt")).unwrap();
    assert!(
        hook_text.contains("re-pinned") && hook_text.contains(&short(&d2)),
        "{hook_text}"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("updated.html")).unwrap(),
        std::fs::read_to_string(report.trim()).unwrap()
    );

    // The next upstream release breaks svc's tests: nothing changes.
    let svc_live = ws.image_id(&ws.image("svc", "live"));
    let base_latest = ws.image_id(&ws.image("baseline", "latest"));
    let svc_id = running_id(&ws, "svc");
    let d3 = publish(&ws, &reg, "broken");
    let out = ws.fails(&["update"]);
    assert!(
        out.contains("broke") && out.contains("upstream is not broken"),
        "{out}"
    );
    assert!(out.contains("the pin stays as it was"), "{out}");
    let now = std::fs::read_to_string(ws.path("baseline/Dockerfile")).unwrap();
    assert_eq!(now, dockerfile, "the Dockerfile keeps the last good digest");
    assert!(!now.contains(&d3));
    assert_eq!(
        ws.image_id(&ws.image("svc", "live")),
        svc_live,
        ":live untouched"
    );
    assert_eq!(
        ws.image_id(&ws.image("baseline", "latest")),
        base_latest,
        ":latest points where it did"
    );
    assert_eq!(
        running_id(&ws, "svc"),
        svc_id,
        "the running container untouched"
    );
    assert_eq!(upstream_in(&ws, "svc"), "v2");
    let failed = std::fs::read_to_string(ws.path("failed.txt")).unwrap();
    assert!(
        failed.contains("failed, the pin stays as it was"),
        "{failed}"
    );
    ws.ok(&["down", "--all"]);
}

/// A local apt repository: `publish` builds `dkprobe_<version>_all.deb` (uncompressed, so
/// its marker is greppable in the image) and re-indexes.
struct AptRepo {
    dir: tempfile::TempDir,
}

impl AptRepo {
    fn new() -> AptRepo {
        let dir = tempfile::tempdir().unwrap();
        for d in ["pool", "lists/partial", "cache/archives/partial"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(
            dir.path().join("sources.list"),
            format!(
                "deb [trusted=yes] file:{} ./\n",
                dir.path().join("pool").display()
            ),
        )
        .unwrap();
        AptRepo { dir }
    }

    fn publish(&self, version: &str, marker: &str) {
        let pool = self.dir.path().join("pool");
        for old in std::fs::read_dir(&pool).unwrap() {
            std::fs::remove_file(old.unwrap().path()).unwrap();
        }
        let pkg = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(pkg.path().join("DEBIAN")).unwrap();
        std::fs::create_dir_all(pkg.path().join("usr/share/dkprobe")).unwrap();
        std::fs::write(
            pkg.path().join("DEBIAN/control"),
            format!("Package: dkprobe\nVersion: {version}\nArchitecture: all\nMaintainer: dk tests <dk@localhost>\nDescription: a package the dk tests publish\n"),
        )
        .unwrap();
        std::fs::write(
            pkg.path().join("usr/share/dkprobe/marker"),
            format!("{marker}\n"),
        )
        .unwrap();
        let deb = pool.join(format!("dkprobe_{version}_all.deb"));
        let out = Command::new("dpkg-deb")
            .args(["-Znone", "--root-owner-group", "--build"])
            .arg(pkg.path())
            .arg(&deb)
            .output()
            .expect("dpkg-deb (dpkg) is needed: apt-get install dpkg");
        assert!(out.status.success(), "{}", stderr(&out));
        let out = Command::new("sh")
            .arg("-c")
            .arg("dpkg-scanpackages . /dev/null > Packages 2>/dev/null")
            .current_dir(&pool)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "dpkg-scanpackages (dpkg-dev) is needed for this test: apt-get install dpkg-dev (.ci/run installs it)"
        );
    }

    /// The fetch command: apt-get pointed at this repository only.
    fn fetch_script(&self) -> String {
        let r = self.dir.path().display();
        format!(
            "#!/bin/sh\nset -e\nO=\"-o Dir::Etc::sourcelist={r}/sources.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists={r}/lists -o Dir::Cache={r}/cache -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1\"\napt-get $O update -qq >/dev/null 2>&1\napt-get $O download -qq dkprobe 2>/dev/null\n"
        )
    }
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    stdout(&out).split_whitespace().next().unwrap().to_string()
}

#[test]
fn a_stage_fetch_pin_goes_stale_in_a_local_apt_repository_and_update_repins_tests_and_deploys_it() {
    let repo = AptRepo::new();
    repo.publish("1.0", "good one");
    let ws = TestWs::for_services();
    ws.write("containers/probe/fetch.sh", &repo.fetch_script());
    // The pin: what the fetch yields today.
    let first = tempfile::tempdir().unwrap();
    let out = Command::new("sh")
        .arg(ws.path("containers/probe/fetch.sh"))
        .current_dir(first.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "apt-get download: {}", stderr(&out));
    let pin1 = sha256(&first.path().join("dkprobe_1.0_all.deb"));
    ws.write(
        "containers/probe/container.toml",
        &format!(
            r#"autostart = true

[[stage.fetch]]
# dkprobe from the local repository
command = ["sh", "-c", "sh \"$DK_NODE_DIR/fetch.sh\""]
sha256 = "{pin1}"
to = "files/dkprobe.deb"

[[test.check]]
name = "the package is not broken"
exec = ["sh", "-c", "! grep -q BROKEN /opt/dkprobe.deb"]
"#
        ),
    );
    ws.write(
        "containers/probe/Dockerfile",
        "FROM baseline\nCOPY files/dkprobe.deb /opt/dkprobe.deb\n",
    );
    ws.write(
        "containers/probe/.dockerignore",
        "container.toml\nfetch.sh\n",
    );
    ws.ok(&["up"]);
    let live1 = ws.image_id(&ws.image("probe", "live")).unwrap();

    let out = ws.dk().args(["outdated"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "up to date");

    repo.publish("2.0", "good two");
    let out = ws.dk().args(["outdated"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stdout(&out);
    assert!(
        line.starts_with("containers/probe/container.toml:6: files/dkprobe.deb "),
        "{line}"
    );
    assert!(
        line.contains("(dkprobe_2.0_all.deb)") && line.contains("rebuilds probe"),
        "{line}"
    );

    // --commit: refused while other changes are staged; then exactly the re-pinned file.
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(ws.root())
            .args(["-c", "user.name=t", "-c", "user.email=t@localhost"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
        stdout(&out)
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "workspace"]);
    ws.write("notes.txt", "staged, not dk's\n");
    git(&["add", "notes.txt"]);
    let out = ws.dk().args(["update", "--commit"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("other changes are staged"),
        "{}",
        stderr(&out)
    );
    git(&["reset", "-q", "notes.txt"]);

    let out = ws.ok(&["update", "--no-deploy", "--commit"]);
    assert!(
        out.contains("re-pinned") && out.contains("committed"),
        "{out}"
    );
    let committed = git(&["show", "--name-only", "--format=%s%n%b", "HEAD"]);
    assert!(
        committed.contains("dk update: re-pin what upstream changed")
            && committed.contains("files/dkprobe.deb")
            && committed
                .trim_end()
                .ends_with("containers/probe/container.toml"),
        "one commit of exactly the re-pinned file: {committed}"
    );
    assert!(git(&["status", "--porcelain"]).contains("?? notes.txt"));
    let toml = std::fs::read_to_string(ws.path("containers/probe/container.toml")).unwrap();
    assert!(
        !toml.contains(&pin1) && toml.contains("# dkprobe from the local repository"),
        "{toml}"
    );
    let live2 = ws.image_id(&ws.image("probe", "live")).unwrap();
    assert_ne!(live1, live2, "the new package went live (promoted)");

    repo.publish("3.0", "BROKEN");
    let out = ws.fails(&["update"]);
    assert!(out.contains("the package is not broken"), "{out}");
    assert_eq!(
        std::fs::read_to_string(ws.path("containers/probe/container.toml")).unwrap(),
        toml,
        "the manifest keeps the last good checksum"
    );
    assert_eq!(ws.image_id(&ws.image("probe", "live")).unwrap(), live2);
    ws.ok(&["down", "--all"]);
}

#[test]
fn systemd_timer_update_prints_and_installs_a_timer_and_its_service() {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    let out = ws.ok(&[
        "systemd",
        "--timer",
        "update",
        "--on-calendar",
        "Mon *-*-* 04:00",
    ]);
    let name = format!("dk-{}-update", ws.ns);
    assert!(out.contains(&format!("# {name}.service")), "{out}");
    assert!(
        out.contains("update\n") && out.contains("ExecStart="),
        "{out}"
    );
    assert!(out.contains("OnCalendar=Mon *-*-* 04:00"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let out = ws.ok(&[
        "systemd",
        "--timer",
        "update",
        "--install",
        "--unit-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.contains(&format!("systemctl enable --now {name}.timer")),
        "{out}"
    );
    let timer = std::fs::read_to_string(dir.path().join(format!("{name}.timer"))).unwrap();
    assert!(timer.contains("OnCalendar=daily") && timer.contains("WantedBy=timers.target"));
    let service = std::fs::read_to_string(dir.path().join(format!("{name}.service"))).unwrap();
    assert!(
        service.contains("ExecStart=") && service.contains(" update\n"),
        "{service}"
    );
}

/// The registry's manifest `reference` of `up/base`: (digest, size, media type, JSON).
fn manifest(reg: &TestRegistry, reference: &str) -> (String, usize, String, serde_json::Value) {
    let out = Command::new("curl")
        .args([
            "-s",
            "-D",
            "-",
            "-H",
            "Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
            &format!("http://{}/v2/up/base/manifests/{reference}", reg.url()),
        ])
        .output()
        .expect("curl");
    let text = stdout(&out);
    let (head, body) = text.split_once("\r\n\r\n").expect("headers and body");
    let digest = head
        .lines()
        .find_map(|l| l.strip_prefix("Docker-Content-Digest: "))
        .expect("a digest header")
        .trim()
        .to_string();
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    let media = json["mediaType"].as_str().unwrap_or_default().to_string();
    (digest, body.len(), media, json)
}

/// Put an index under `tag` whose entries are (manifest digest, architecture).
fn put_index(reg: &TestRegistry, tag: &str, entries: &[(&str, &str)]) -> String {
    let manifests: Vec<serde_json::Value> = entries
        .iter()
        .map(|(digest, arch)| {
            let (d, size, media, _) = manifest(reg, digest);
            serde_json::json!({
                "mediaType": media, "size": size, "digest": d,
                "platform": {"os": "linux", "architecture": arch},
            })
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    let out = Command::new("curl")
        .args([
            "-s",
            "-f",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/vnd.oci.image.index.v1+json",
            "--data-binary",
            &index.to_string(),
            &format!("http://{}/v2/up/base/manifests/{tag}", reg.url()),
        ])
        .output()
        .expect("curl");
    assert!(out.status.success(), "PUT index: {}", stderr(&out));
    manifest(reg, tag).0
}

/// The image manifest of a pushed digest (itself, or its amd64 entry when it is an index).
fn image_manifest(reg: &TestRegistry, digest: &str) -> String {
    let (d, _, _, json) = manifest(reg, digest);
    match json["manifests"].as_array() {
        None => d,
        Some(list) => list
            .iter()
            .find(|m| m["platform"]["architecture"] == "amd64")
            .and_then(|m| m["digest"].as_str())
            .unwrap()
            .to_string(),
    }
}

#[test]
fn an_index_pin_is_compared_per_platform_and_stays_an_index() {
    let reg = TestRegistry::start(None);
    let ws = TestWs::docker();
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    let v1 = image_manifest(&reg, &publish(&ws, &reg, "v1"));
    let i1 = put_index(&reg, "multi", &[(&v1, "amd64")]);
    ws.write(
        "baseline/Dockerfile",
        &format!("FROM {}/up/base:multi@{i1}\n", reg.url()),
    );
    let outdated = || {
        let out = ws.dk().args(["outdated", "--json"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["pins"][0]["available"].as_str().map(String::from)
    };
    assert_eq!(outdated(), None, "up to date");
    // The index gains another platform; this machine's image is the same: not newer.
    let i2 = put_index(&reg, "multi", &[(&v1, "amd64"), (&v1, "arm64")]);
    assert_ne!(i1, i2);
    assert_eq!(outdated(), None, "a new architecture is no news for amd64");
    // A new amd64 image: newer, and the pin stays an index digest.
    let v2 = image_manifest(&reg, &publish(&ws, &reg, "v2"));
    let i3 = put_index(&reg, "multi", &[(&v2, "amd64"), (&v1, "arm64")]);
    assert_eq!(outdated(), Some(i3.clone()));
    // Pinned to the image manifest itself: the new image manifest is offered.
    ws.write(
        "baseline/Dockerfile",
        &format!("FROM {}/up/base:multi@{v1}\n", reg.url()),
    );
    assert_eq!(outdated(), Some(v2));
}

#[test]
fn an_image_by_tag_only_is_compared_with_the_local_copy_and_update_pulls_and_rebuilds() {
    let reg = TestRegistry::start(None);
    let ws = TestWs::docker();
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    publish(&ws, &reg, "v1");
    let tag = format!("{}/up/base:1", reg.url());
    let v1 = ws.image_id(&tag).unwrap();
    ws.write(
        "baseline/Dockerfile",
        &format!("FROM {tag}\nLABEL by=tag\n"),
    );
    ws.ok(&["build"]);
    let built1 = ws.image_id(&ws.image("baseline", "latest"));
    let out = ws.dk().args(["outdated"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "the local copy is the registry's");

    // Upstream moves the tag; this machine still has v1 under it.
    let d2 = publish(&ws, &reg, "v2");
    let out = docker(&["tag", &v1, &tag]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = ws.dk().args(["outdated"]).output().unwrap();
    let line = stdout(&out);
    assert!(line.contains(&format!("→ {}", &d2[..19])), "{line}");

    ws.ok(&["update"]);
    assert_ne!(ws.image_id(&tag).unwrap(), v1, "pulled");
    assert_ne!(
        ws.image_id(&ws.image("baseline", "latest")),
        built1,
        "rebuilt"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("baseline/Dockerfile")).unwrap(),
        format!("FROM {tag}\nLABEL by=tag\n"),
        "nothing to re-pin in the file"
    );
}

#[test]
fn outdated_asks_a_registry_with_the_docker_logins_and_update_dry_run_changes_nothing() {
    let reg = TestRegistry::start(Some(("dkuser", "dk-pass-1")));
    let ws = TestWs::docker();
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    let logged_in = tempfile::tempdir().unwrap();
    let mut login = Command::new("docker")
        .arg("--config")
        .arg(logged_in.path())
        .args(["login", "-u", "dkuser", "--password-stdin", &reg.url()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    login
        .stdin
        .take()
        .unwrap()
        .write_all(b"dk-pass-1\n")
        .unwrap();
    let out = login.wait_with_output().unwrap();
    assert!(out.status.success(), "docker login: {}", stderr(&out));
    let d1 = publish_as(&ws, &reg, "v1", Some(logged_in.path()));
    let dockerfile = format!("FROM {}/up/base:1@{d1}\n", reg.url());
    ws.write("baseline/Dockerfile", &dockerfile);

    // Not logged in: the registry is named with what it said, and the way in; exit 1.
    let nobody = tempfile::tempdir().unwrap();
    let out = ws
        .dk()
        .env("DOCKER_CONFIG", nobody.path())
        .args(["outdated"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("baseline/Dockerfile:1:")
            && err.contains("upstream could not be asked")
            && err.contains(&format!("docker login {}", reg.url())),
        "{err}"
    );
    assert!(err.contains("1 could not be asked"), "{err}");
    assert!(!err.contains("dk-pass-1"), "no secret in the output");

    // With the Docker CLI's login: asked, up to date.
    let with_login = |args: &[&str]| {
        ws.dk()
            .env("DOCKER_CONFIG", logged_in.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = with_login(&["outdated"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");

    // Upstream moves; --dry-run says what it would do and changes nothing.
    let d2 = publish_as(&ws, &reg, "v2", Some(logged_in.path()));
    let out = with_login(&["update", "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("would re-pin; rebuilds baseline") && err.contains(&d2[..19]),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("baseline/Dockerfile")).unwrap(),
        dockerfile
    );
    assert!(
        !ws.path(".dk/reports").exists(),
        "a dry run does nothing, keeps no report"
    );
}
