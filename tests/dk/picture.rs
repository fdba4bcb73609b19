//! Pictures as a person sees them: `dk graph --format svg` and the run report, rendered by
//! headless Chromium (Debian's `chromium`; `.ci/run` installs it through `cargo xtask
//! test`). Screenshots are kept under the target directory (`target/tmp/screenshots/`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// Where screenshots are kept.
fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What Chromium made of a page: its DOM after load, and the console lines it logged.
struct Rendered {
    dom: String,
    console: Vec<String>,
}

fn chromium(page: &Path, screenshot: &Path, size: &str) -> Rendered {
    let profile = tempfile::tempdir().unwrap();
    let base = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--timeout=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={size}"));
    };
    let run = |extra: &[String]| {
        let mut c = Command::new("timeout");
        c.args(["90", "chromium"]);
        base(&mut c);
        c.args(extra).arg(format!("file://{}", page.display()));
        c.output().unwrap_or_else(|e| {
            panic!("this test renders pages in headless Chromium, which did not run ({e}): apt-get install chromium (.ci/run installs it)")
        })
    };
    let shot = run(&[format!("--screenshot={}", screenshot.display())]);
    assert!(
        shot.status.success() && screenshot.exists(),
        "chromium --screenshot failed (is Debian's `chromium` installed? apt-get install chromium): {}",
        stderr(&shot)
    );
    let dump = run(&["--dump-dom".to_string()]);
    assert!(
        dump.status.success(),
        "chromium --dump-dom: {}",
        stderr(&dump)
    );
    let console = [stderr(&shot), stderr(&dump)]
        .iter()
        .flat_map(|s| s.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| l.contains(":CONSOLE"))
        .collect();
    Rendered {
        dom: stdout(&dump),
        console,
    }
}

/// The node boxes of a dk SVG: (name, x, y, w, h).
fn boxes(svg: &str) -> Vec<(String, f64, f64, f64, f64)> {
    let attr = |s: &str, key: &str| -> f64 {
        let at = s.find(&format!(" {key}=\"")).unwrap() + key.len() + 3;
        s[at..at + s[at..].find('"').unwrap()].parse().unwrap()
    };
    svg.split(r#"<g class="node "#)
        .skip(1)
        .map(|part| {
            let name_at = part.find("data-node=\"").unwrap() + 11;
            let name = part[name_at..name_at + part[name_at..].find('"').unwrap()].to_string();
            let rect = &part[part.find("<rect").unwrap()..];
            let rect = &rect[..rect.find("/>").unwrap()];
            (
                name,
                attr(rect, "x"),
                attr(rect, "y"),
                attr(rect, "width"),
                attr(rect, "height"),
            )
        })
        .collect()
}

#[test]
fn graph_svg_of_a_100_node_workspace_has_no_overlapping_boxes_and_renders() {
    let ws = TestWs::with_baseline();
    let mut rng = crate::rng::Rng::seeded(20261204);
    for k in 0..99 {
        let parent = if k == 0 {
            "baseline".to_string()
        } else {
            match rng.below(4) {
                0 => "baseline".to_string(),
                _ => format!("n{:02}", rng.below(k)),
            }
        };
        let mut dockerfile = format!("FROM {parent}\nRUN echo {k} > /n\n");
        if k > 2 && rng.below(5) == 0 {
            dockerfile.push_str(&format!("COPY --from=n{:02} /n /from\n", rng.below(k - 1)));
        }
        ws.container(&format!("n{k:02}"), &dockerfile);
    }
    let out = ws.dk().args(["graph", "--format", "svg"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = stdout(&out);
    let b = boxes(&svg);
    assert_eq!(b.len(), 100, "one box per node");
    for (k, a) in b.iter().enumerate() {
        for c in &b[k + 1..] {
            let overlap = a.1 < c.1 + c.3 && c.1 < a.1 + a.3 && a.2 < c.2 + c.4 && c.2 < a.2 + a.4;
            assert!(!overlap, "{a:?} overlaps {c:?}");
        }
    }
    // Nothing was built: every node is stale, and the legend names every state.
    assert_eq!(svg.matches(r#"<g class="node stale""#).count(), 100);
    for word in ["fresh", "stale", "failed", "live", "running", "rolled back"] {
        assert!(
            svg.contains(&format!(">{word}</text></g>")),
            "legend: {word}"
        );
    }
    let page = ws.path("graph.svg");
    std::fs::write(&page, &svg).unwrap();
    let shot = shots().join("graph-100-nodes.png");
    let r = chromium(&page, &shot, "2400,2600");
    assert!(r.console.is_empty(), "console: {:?}", r.console);
    for (name, ..) in &b {
        assert!(r.dom.contains(&format!("data-node=\"{name}\"")), "{name}");
    }
}

#[test]
fn graph_svg_colours_by_state_and_without_a_daemon_says_the_records_were_used() {
    let ws = TestWs::for_services();
    ws.web_service(
        "svc",
        "hello\n",
        "autostart = true\n[test]\nready_port = 8080\n",
    );
    ws.ok(&["up"]);
    let svg = ws.ok(&["graph", "--format", "svg"]);
    assert!(
        svg.contains(r#"<g class="node running" data-node="svc""#),
        "{svg}"
    );
    assert!(
        svg.contains(r#"<g class="node live" data-node="baseline""#),
        "{svg}"
    );

    ws.append("containers/svc/www/index.html", "changed\n");
    let svg = ws.ok(&["graph", "--format", "svg"]);
    assert!(svg.contains("running, stale"), "{svg}");
    assert!(
        svg.contains("index.html"),
        "the reason is in the tooltip: {svg}"
    );

    // No daemon: what the records know, said on stderr and in the picture.
    let out = ws
        .dk()
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args(["graph", "--format", "svg"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the colours are what the records know"),
        "{}",
        stderr(&out)
    );
    let svg = stdout(&out);
    assert!(
        svg.contains(r#"<g class="node live" data-node="svc""#),
        "{svg}"
    );
    ws.ok(&["down", "--all"]);
}

#[test]
fn a_run_report_of_the_examples_up_renders_with_every_node_and_no_console_error() {
    let ws = crate::audit::example();
    // Host ports of its own, so the example never collides with anything running.
    for node in ["filewatch", "proxy", "site"] {
        let path = format!("containers/{node}/container.toml");
        let text = std::fs::read_to_string(ws.path(&path)).unwrap();
        let port = free_port();
        let text = ["18080", "18081", "18082"].iter().fold(text, |t, p| {
            t.replace(&format!("127.0.0.1:{p}:"), &format!("127.0.0.1:{port}:"))
        });
        ws.write(&path, &text);
    }
    std::fs::remove_dir_all(ws.path("containers/unhardened")).unwrap();

    let none = ws.dk().args(["report"]).output().unwrap();
    assert_eq!(none.status.code(), Some(1), "{}", stderr(&none));
    assert!(
        stderr(&none).contains("no run report yet"),
        "{}",
        stderr(&none)
    );

    ws.ok(&["prep"]);
    let out = ws.ok(&["up"]);
    let path = ws.ok(&["report"]).trim().to_string();
    assert!(
        path.contains(".dk/reports/") && path.ends_with("-up.html"),
        "{path}"
    );
    let html = std::fs::read_to_string(&path).unwrap();
    for external in ["http://", "https://", "<script", "<link"] {
        let found = html
            .match_indices(external)
            .map(|(at, _)| &html[at..(at + 60).min(html.len())])
            .filter(|s| !s.starts_with("http://www.w3.org/"))
            .collect::<Vec<_>>();
        assert!(found.is_empty(), "self-contained: {found:?}");
    }
    assert!(html.contains("prefers-color-scheme: dark"));
    assert!(html.contains("Timeline") && html.contains(r#"class="bar build""#));
    assert!(
        html.contains("fresh heartbeat reports all ok"),
        "test checks are shown"
    );

    let shot = shots().join("report-example-up.png");
    let r = chromium(Path::new(&path), &shot, "1400,2200");
    assert!(r.console.is_empty(), "console: {:?}", r.console);
    for node in ["baseline", "filewatch", "web", "site", "proxy"] {
        assert!(
            r.dom.contains(&format!(r##"<a href="#n-{node}">"##)),
            "{node} is a link in the graph"
        );
        assert!(
            r.dom.contains(&format!(r#"id="n-{node}" tabindex="-1""#)),
            "{node} has a section"
        );
    }

    // A no-op run keeps no report; `--output` writes the last one elsewhere.
    ws.ok(&["up"]);
    let reports = std::fs::read_dir(ws.path(".dk/reports")).unwrap().count();
    assert_eq!(reports, 1, "after {out}");
    let copy = ws.path("last.html");
    let printed = ws.ok(&["report", "--output", copy.to_str().unwrap()]);
    assert_eq!(printed.trim(), copy.display().to_string());
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), html);
    ws.ok(&["down", "--all"]);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
