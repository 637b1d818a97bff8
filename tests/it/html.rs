//! `analyze --html FILE`: the self-contained HTML report. Its bytes are the same run after run,
//! what the capture, inventory and labels say is escaped, it names nothing to fetch, its
//! timelines add up to the JSON report's bytes per network, and headless Chromium renders it
//! (each migration's timeline laid out, the page's totals the JSON's, nothing fetched).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{
    TempDir, bundled, find_tool, is_root, read_report, run, run_with_stdin, skip_or_fail,
};

/// The bundled captures with labels beside them.
const LABELLED: [&str; 4] = [
    "all-vmware.pcapng",
    "all-article.pcap",
    "vmotion-hot-erspan3.pcap",
    "xvmotion-hot-ipv6-vlan.pcap",
];

/// `analyze CAPTURE --json DIR/r.json --html DIR/r.html -q` plus `extra`, asserting exit 0;
/// returns the report and the page.
fn analyze_both(capture: &Path, dir: &Path, extra: &[&str]) -> (Value, String) {
    let json = dir.join("r.json");
    let html = dir.join("r.html");
    let mut args = vec![
        "analyze",
        capture.to_str().expect("UTF-8 path"),
        "--json",
        json.to_str().expect("UTF-8 path"),
        "--html",
        html.to_str().expect("UTF-8 path"),
        "-q",
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert_eq!(r.code, 0, "analyze {}: {}", capture.display(), r.stderr);
    let page = std::fs::read_to_string(&html).expect("the HTML report was written");
    (read_report(&json), page)
}

/// The value of attribute `name` in the start tag `tag` (the text from `<` to `>`).
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let len = tag[i..].find('"')?;
    Some(&tag[i..i + len])
}

/// Every start tag of element `el` carrying `class="CLASS"` (or any, for `None`), in order.
fn tags<'a>(page: &'a str, el: &str, class: Option<&str>) -> Vec<&'a str> {
    let open = format!("<{el} ");
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find(&open) {
        let Some(len) = rest[i..].find('>') else {
            break;
        };
        let tag = &rest[i..i + len];
        if class.is_none_or(|c| attr(tag, "class") == Some(c)) {
            out.push(tag);
        }
        rest = &rest[i + len..];
    }
    out
}

/// Per migration id: the plotted bytes inside its window, per network, read from the page's
/// `data-values` and `data-window`.
fn plotted(page: &str) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for fig in page.split("<figure ").skip(1) {
        let fig = &fig[..fig.find("</figure>").expect("figure closed")];
        let id = attr(fig, "data-migration").expect("figure names its migration");
        let svg = tags(fig, "svg", None)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("migration {id} has no timeline"));
        let w: Vec<usize> = attr(svg, "data-window")
            .expect("data-window")
            .split(' ')
            .map(|x| x.parse().expect("bin index"))
            .collect();
        let bins: usize = attr(svg, "data-bins").expect("bins").parse().expect("n");
        assert!(w[0] <= w[1] && w[1] <= bins, "{id}: window {w:?} of {bins}");
        let mut by = BTreeMap::new();
        for p in tags(fig, "path", Some("series")) {
            let values: Vec<u64> = attr(p, "data-values")
                .expect("values")
                .split(' ')
                .map(|x| x.parse().expect("bytes"))
                .collect();
            assert_eq!(values.len(), bins, "{id}: one value per bin");
            let sum: u64 = values[w[0]..w[1]].iter().sum();
            let net = attr(p, "data-network").expect("network").to_string();
            assert_eq!(
                attr(p, "data-window-bytes"),
                Some(sum.to_string().as_str()),
                "{id} {net}: the title's figure is the plotted sum"
            );
            // A network with bytes only in the context has none to compare.
            if sum > 0 {
                by.insert(net, sum);
            }
        }
        out.insert(id.to_string(), by);
    }
    out
}

#[test]
fn timelines_add_up_to_the_reports_bytes_per_network() {
    // The labelled migrations of each capture, and the sessions detected without labels.
    let runs = LABELLED
        .iter()
        .map(|n| (*n, &[][..]))
        .chain([("all-vmware.pcapng", &["--no-sidecars"][..])]);
    for (name, extra) in runs {
        let dir = TempDir::new("html-sums");
        let (report, page) = analyze_both(&bundled(name), dir.path(), extra);
        let plotted = plotted(&page);
        let migrations = report["migrations"].as_array().expect("migrations");
        assert!(!migrations.is_empty(), "{name} {extra:?}: migrations");
        assert_eq!(plotted.len(), migrations.len(), "{name}: one timeline each");
        for m in migrations {
            let id = m["id"].as_str().expect("id");
            let json: BTreeMap<String, u64> = m["payload_bytes_by_network"]
                .as_object()
                .expect("by network")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_u64().expect("bytes")))
                .filter(|(_, v)| *v > 0)
                .collect();
            assert!(!json.is_empty(), "{name} {id}: bytes to compare");
            assert_eq!(plotted[id], json, "{name} {id}: plotted vs JSON");
        }
    }
}

#[test]
fn the_library_series_are_the_breakdowns() {
    use vmkflow::analyze::{self, AnalyzeOptions};
    use vmkflow::capture::{CaptureReader, Source};

    let capture = bundled("all-vmware.pcapng");
    let opts = AnalyzeOptions {
        timelines: true,
        ..crate::util::bundled_options("all-vmware.pcapng")
    };
    let reader =
        CaptureReader::open(&Source::from_arg(capture.to_str().expect("UTF-8"))).expect("opens");
    let out = analyze::run(reader, &opts, &mut |_| {});
    let r = &out.report;
    assert_eq!(r.migrations.len(), 6);
    assert_eq!(r.timelines.len(), r.migrations.len());
    for (m, s) in r.migrations.iter().zip(&r.timelines) {
        assert_eq!(m.id, s.id);
        // About 500 bins: the width is rounded up to 1, 2 or 5 times a power of ten, and the
        // window's last bin may be cut short.
        assert!(s.len() <= 503, "{}: {} bins", m.id, s.len());
        assert!(s.window.0 <= s.window.1 && s.window.1 <= s.len());
        for (n, bytes) in &m.breakdown.payload_bytes_by_network {
            assert_eq!(s.window_bytes(*n), *bytes, "{} {n:?}", m.id);
        }
    }
    // Without the option no series is computed, and the JSON is the same either way.
    let plain = AnalyzeOptions {
        timelines: false,
        ..opts.clone()
    };
    let reader =
        CaptureReader::open(&Source::from_arg(capture.to_str().expect("UTF-8"))).expect("opens");
    let out2 = analyze::run(reader, &plain, &mut |_| {});
    assert!(out2.report.timelines.is_empty());
    assert_eq!(
        serde_json::to_string(&out.report).expect("json"),
        serde_json::to_string(&out2.report).expect("json")
    );
}

#[test]
fn two_runs_write_the_same_bytes() {
    let a = TempDir::new("html-det-a");
    let b = TempDir::new("html-det-b");
    let capture = bundled("all-vmware.pcapng");
    let (_, p1) = analyze_both(&capture, a.path(), &[]);
    let (_, p2) = analyze_both(&capture, b.path(), &[]);
    assert!(p1.len() > 10_000, "a real page: {} bytes", p1.len());
    assert_eq!(p1, p2);
}

#[test]
fn names_from_the_user_are_escaped() {
    let dir = TempDir::new("html-esc");
    let evil = "<script>alert('x')</script>&\"";
    // A file name cannot hold `/`: the same characters but for the closing tag.
    let capture = dir.path().join("<script>alert('f')&\".pcapng");
    std::fs::copy(bundled("all-vmware.pcapng"), &capture).expect("copy");
    let labels = std::fs::read_to_string(bundled("all-vmware.pcapng.migrations.json"))
        .expect("labels")
        .replace(
            "\"web01\"",
            &serde_json::to_string(evil).expect("json string"),
        );
    assert!(labels.contains("alert"));
    let labels_path = dir.write("labels.json", labels.as_bytes());
    let inv = bundled("all-vmware.pcapng.inventory.json");
    let (report, page) = analyze_both(
        &capture,
        dir.path(),
        &[
            "--migrations",
            labels_path.to_str().expect("UTF-8"),
            "--inventory",
            inv.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(report["migrations"][0]["vm"], evil);
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!page.contains("alert('x')"));
    let escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;";
    assert!(page.contains(&format!("({escaped})")), "the VM name");
    assert!(!page.contains("alert('f')"));
    assert!(
        page.contains("&lt;script&gt;alert(&#39;f&#39;)&amp;&quot;.pcapng"),
        "the file name"
    );
}

#[test]
fn the_page_names_nothing_to_fetch() {
    let dir = TempDir::new("html-self");
    let (_, page) = analyze_both(&bundled("all-vmware.pcapng"), dir.path(), &[]);
    let lower = page.to_ascii_lowercase();
    for key in [
        "src=", "href=", "@import", "<link", "<img", "<iframe", "<object",
    ] {
        assert!(!lower.contains(key), "the page holds {key}");
    }
    let mut urls = 0;
    for (i, _) in lower.match_indices("url(") {
        urls += 1;
        assert!(
            lower[i..].starts_with("url(#"),
            "a url() that is not a fragment: {}",
            &page[i..(i + 40).min(page.len())]
        );
    }
    assert!(urls > 0, "the network patterns are referenced as url(#…)");
    assert!(lower.contains("content-security-policy"));
    assert!(lower.contains("default-src 'none'"));
}

#[test]
fn an_unreadable_capture_still_gets_a_page() {
    let dir = TempDir::new("html-empty");
    let empty = dir.write("empty.pcap", b"");
    let html = dir.path().join("e.html");
    let r = run(&[
        "analyze",
        empty.to_str().expect("UTF-8"),
        "--html",
        html.to_str().expect("UTF-8"),
        "-q",
    ]);
    assert_ne!(r.code, 0, "an empty file is no capture");
    let page = std::fs::read_to_string(&html).expect("the page was written");
    assert!(
        page.contains("id=\"capture-error\""),
        "says what went wrong"
    );
    assert!(page.contains("No migration was labelled or detected."));
    assert!(page.ends_with("</html>\n"));
}

#[test]
fn an_unwritable_html_path_is_named() {
    let dir = TempDir::new("html-unwritable");
    let html = dir.path().join("no-such-dir").join("r.html");
    let r = run(&[
        "analyze",
        bundled("all-vmware.pcapng").to_str().expect("UTF-8"),
        "--html",
        html.to_str().expect("UTF-8"),
        "-q",
    ]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains(&html.display().to_string()),
        "names the file: {}",
        r.stderr
    );
}

#[test]
fn live_input_writes_the_same_timelines() {
    let dir = TempDir::new("html-live");
    let capture = bundled("all-vmware.pcapng");
    let (_, file_page) = analyze_both(&capture, dir.path(), &[]);
    let html = dir.path().join("live.html");
    let inv = bundled("all-vmware.pcapng.inventory.json");
    let labels = bundled("all-vmware.pcapng.migrations.json");
    let bytes = std::fs::read(&capture).expect("capture");
    let r = run_with_stdin(
        &[
            "analyze",
            "-",
            "--inventory",
            inv.to_str().expect("UTF-8"),
            "--migrations",
            labels.to_str().expect("UTF-8"),
            "--html",
            html.to_str().expect("UTF-8"),
            "-q",
        ],
        &bytes,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let live_page = std::fs::read_to_string(&html).expect("written at the end");
    let section = |p: &str| {
        let a = p.find("<section id=\"timelines\">").expect("timelines");
        let b = p[a..].find("</section>").expect("end") + a;
        p[a..b].to_string()
    };
    assert_eq!(section(&live_page), section(&file_page));
    assert_eq!(plotted(&live_page).len(), 6);
}

/// Runs `cmd` for at most `limit`, returning its standard output.
fn output_within(mut cmd: Command, limit: Duration) -> Result<String, String> {
    let dir = TempDir::new("chromium-out");
    let out_path = dir.path().join("stdout");
    let out = std::fs::File::create(&out_path).map_err(|e| e.to_string())?;
    let mut child = cmd
        .stdout(out)
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let text = std::fs::read_to_string(&out_path).map_err(|e| e.to_string())?;
            return match status.success() {
                true => Ok(text),
                false => Err(format!("exited with {status}")),
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no answer in {} s", limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Headless Chromium, when installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(find_tool)
}

#[test]
fn chromium_renders_every_timeline_and_fetches_nothing() {
    let Some(browser) = chromium() else {
        skip_or_fail("chromium is not installed (apt-get install chromium)");
        return;
    };
    let dir = TempDir::new("html-chromium");
    let (report, page) = analyze_both(&bundled("all-vmware.pcapng"), dir.path(), &[]);
    assert!(page.contains("data-resources-fetched"));
    let profile = dir.path().join("profile");
    let mut cmd = Command::new(&browser);
    cmd.args([
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        // Anything the page tried to fetch would go to a proxy that is not there.
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        "--virtual-time-budget=5000",
        "--dump-dom",
    ]);
    if is_root() {
        cmd.arg("--no-sandbox");
    }
    cmd.arg(format!("--user-data-dir={}", profile.display()));
    cmd.arg(format!("file://{}", dir.path().join("r.html").display()));
    let dom = match output_within(cmd, Duration::from_secs(90)) {
        Ok(d) => d,
        Err(e) => panic!("{} --dump-dom: {e}", browser.display()),
    };
    let body = tags(&dom, "body", None);
    let body = body.first().expect("a body");
    assert_eq!(
        attr(body, "data-script"),
        Some("ran"),
        "the inline script ran"
    );
    assert_eq!(
        attr(body, "data-resources-fetched"),
        Some("0"),
        "the page fetched nothing"
    );
    let figures = tags(&dom, "figure", Some("timeline"));
    let migrations = report["migrations"].as_array().expect("migrations");
    assert_eq!(figures.len(), migrations.len(), "a timeline per migration");
    for (fig, m) in figures.iter().zip(migrations) {
        assert_eq!(attr(fig, "data-migration"), m["id"].as_str());
        let width: f64 = attr(fig, "data-rendered-width")
            .expect("laid out")
            .parse()
            .expect("a number");
        assert!(width > 300.0, "{}: drawn {width} px wide", m["id"]);
        assert_eq!(
            attr(fig, "data-payload-bytes"),
            Some(m["payload_bytes"].to_string().as_str()),
            "{}: the page's total is the JSON's",
            m["id"]
        );
    }
    // The timelines Chromium holds add up as the report does.
    let sums = plotted(&dom);
    for m in migrations {
        let id = m["id"].as_str().expect("id");
        for (net, b) in m["payload_bytes_by_network"].as_object().expect("map") {
            let b = b.as_u64().expect("bytes");
            assert_eq!(sums[id].get(net).copied().unwrap_or(0), b, "{id} {net}");
        }
    }
    let facts = tags(&dom, "table", None)
        .into_iter()
        .find(|t| attr(t, "id") == Some("capture-facts"))
        .expect("capture facts");
    assert_eq!(
        attr(facts, "data-packets"),
        Some(report["capture"]["packets"].to_string().as_str())
    );
    assert_eq!(
        attr(facts, "data-wire-bytes"),
        Some(report["capture"]["wire_bytes"].to_string().as_str())
    );
    // Every verdict of the report is in the page.
    let rows = tags(&dom, "tr", None)
        .into_iter()
        .filter(|t| attr(t, "data-verdict").is_some())
        .count();
    let want: usize = report["verification"]
        .as_array()
        .expect("verification")
        .iter()
        .map(|s| s["rows"].as_array().map_or(0, |r| r.len()))
        .sum();
    assert!(want > 0);
    assert_eq!(rows, want);
}

#[test]
fn many_migrations_keep_the_page_small() {
    let dir = TempDir::new("html-many");
    let mut labels: Value = serde_json::from_str(
        &std::fs::read_to_string(bundled("all-vmware.pcapng.migrations.json")).expect("labels"),
    )
    .expect("JSON");
    let six = labels["migrations"].as_array().expect("migrations").clone();
    let mut all = Vec::new();
    for k in 0..100 {
        for m in &six {
            let mut m = m.clone();
            m["id"] = Value::from(format!("{}-{k}", m["id"].as_str().expect("id")));
            m["vm"] = Value::from(format!("vm-{}", all.len()));
            all.push(m);
        }
    }
    labels["migrations"] = Value::from(all);
    let path = dir.write("many.json", labels.to_string().as_bytes());
    let (report, page) = analyze_both(
        &bundled("all-vmware.pcapng"),
        dir.path(),
        &["--migrations", path.to_str().expect("UTF-8")],
    );
    assert_eq!(report["migrations"].as_array().map(|m| m.len()), Some(600));
    assert_eq!(tags(&page, "figure", Some("timeline")).len(), 600);
    let drawn = page.matches("<svg viewBox=\"0 0 1100 250\"").count();
    assert_eq!(drawn, 50, "the first 50 timelines are drawn");
    assert_eq!(page.matches("Not drawn: the page draws").count(), 550);
    assert!(page.len() < 4 << 20, "{} bytes", page.len());
}
