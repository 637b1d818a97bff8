//! The picture: the report as one self-contained HTML page (`analyze --html FILE`).
//!
//! Inline CSS and SVG, a few lines of inline script (sorting the flow table, noting that the
//! page was laid out); nothing is fetched, and a Content-Security-Policy forbids fetching.
//! Deterministic: the same report gives the same bytes (no time of the run, maps in key order,
//! fixed float formatting). Every string from the capture, the inventory or the labels is
//! escaped.
//!
//! Parts: the verdict table (and findings), a timeline per migration (bytes per second stacked
//! by network, phases as bands, the switchover RARP as a marker; the series come from
//! [`crate::migration::series`], which folds the same bins with the same attribution as the
//! JSON's `payload_bytes_by_network`), the topology (hosts, vmks, bytes per vmk pair and
//! class), the largest flows, and the capture facts.
//!
//! Colours: the Okabe–Ito palette, each network also with its own fill pattern and a label;
//! verdicts carry a symbol and a word besides their colour.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::Report;
use super::flows::FlowReport;
use crate::classify::inventory::Network;
use crate::migration::series::{MAX_TIMELINES, MigrationSeries};
use crate::verify::Verdict;
use crate::vocab::time::{parse_rfc3339, rfc3339};
use crate::vocab::units::human_bytes;

/// Most flows in the flow table.
pub const MAX_FLOW_ROWS: usize = 200;
/// Most vmks drawn in the topology.
pub const MAX_TOPOLOGY_VMKS: usize = 48;
/// Most vmk pairs drawn (and listed) in the topology.
pub const MAX_TOPOLOGY_EDGES: usize = 60;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The serde name of a unit enum value (`vmotion`, `hot`, …).
fn sname<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A network's colour (Okabe–Ito), pattern stroke, and label.
fn network_style(n: Option<Network>) -> (&'static str, &'static str, &'static str) {
    match n {
        Some(Network::Management) => ("#E69F00", "management", "Management"),
        Some(Network::Vmotion) => ("#0072B2", "vmotion", "vMotion"),
        Some(Network::Provisioning) => ("#009E73", "provisioning", "Provisioning"),
        Some(Network::Storage) => ("#CC79A7", "storage", "Storage"),
        Some(Network::Vsan) => ("#56B4E9", "vsan", "vSAN"),
        Some(Network::Ft) => ("#D55E00", "ft", "FT"),
        Some(Network::Replication) => ("#F0E442", "replication", "Replication"),
        Some(Network::Backup) => ("#000000", "backup", "Backup"),
        Some(Network::Vm) => ("#999999", "vm", "VM network"),
        Some(Network::External) => ("#666666", "external", "External"),
        None => ("#BBBBBB", "none", "No network"),
    }
}

/// The pattern drawn over a network's colour: (stroke path in a 8×8 tile, stroke colour).
fn network_pattern(n: Option<Network>) -> (&'static str, &'static str) {
    match n {
        Some(Network::Management) => ("M0 8L8 0", "#000"),
        Some(Network::Vmotion) => ("", "#fff"),
        Some(Network::Provisioning) => ("M0 0L8 8", "#fff"),
        Some(Network::Storage) => ("M0 4H8", "#000"),
        Some(Network::Vsan) => ("M4 0V8", "#000"),
        Some(Network::Ft) => ("M0 0L8 8M0 8L8 0", "#fff"),
        Some(Network::Replication) => ("M0 4H8M4 0V8", "#000"),
        Some(Network::Backup) => ("M2 2h1v1h-1z", "#fff"),
        Some(Network::Vm) => ("M0 2H8M0 6H8", "#fff"),
        Some(Network::External) => ("M2 0V8M6 0V8", "#fff"),
        None => ("M0 8L8 0M4 8L8 4", "#555"),
    }
}

/// A verdict's CSS class, symbol and words.
fn verdict_style(v: Verdict) -> (&'static str, &'static str, &'static str) {
    match v {
        Verdict::Confirmed => ("confirmed", "✔", "confirmed"),
        Verdict::Contradicted => ("contradicted", "✘", "contradicted"),
        Verdict::Inconclusive => ("inconclusive", "?", "inconclusive"),
        Verdict::Unobservable => ("inconclusive", "?", "unobservable"),
        Verdict::NotApplicable => ("not-observed", "–", "not applicable"),
        Verdict::NotObserved => ("not-observed", "–", "not observed"),
    }
}

/// A rate in bytes per second as people read it.
fn rate(bps: f64) -> String {
    if !bps.is_finite() || bps <= 0.0 {
        return "0 B/s".into();
    }
    format!("{}/s", human_bytes(bps.round().min(u64::MAX as f64) as u64))
}

/// A round number at least `v` (1, 2 or 5 times a power of ten).
fn nice_ceil(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

/// Seconds as an axis label.
fn secs_label(s: f64) -> String {
    if s == 0.0 {
        "0 s".into()
    } else if s.abs() >= 100.0 || s.fract() == 0.0 {
        format!("{s:.0} s")
    } else if (s * 10.0).fract().abs() < 1e-9 {
        format!("{s:.1} s")
    } else {
        format!("{s:.3} s")
    }
}

const CSS: &str = "\
:root{--c:#0072B2;--ok:#009E73;--bad:#D55E00;--maybe:#E69F00;--none:#999}
body{font:14px/1.4 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px;color:#111;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;border-bottom:2px solid #333;margin-top:28px}
h3{font-size:15px;margin:16px 0 4px}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #bbb;padding:3px 6px;vertical-align:top;text-align:left}
th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.v{font-weight:bold;white-space:nowrap;padding:1px 6px;border-radius:3px}
.v.confirmed{background:#009E73;color:#fff}.v.contradicted{background:#D55E00;color:#fff}
.v.inconclusive{background:#F0E442;color:#000;border:1px dashed #000}.v.not-observed{background:#eee;color:#333;border:1px dotted #333}
.side{display:flex;gap:24px;flex-wrap:wrap}.side>div{flex:3 1 640px}.side>#findings{flex:2 1 420px}
table.verdicts{width:100%}
.warn{color:#8a3a00}.err{border:2px solid #D55E00;padding:8px;margin:8px 0}
figure{margin:12px 0;break-inside:avoid}figcaption{font-weight:bold}
.legend span{display:inline-block;margin-right:14px;white-space:nowrap}
.legend svg{vertical-align:middle;margin-right:4px}
.muted{color:#555}.small{font-size:12px}
th.sort{cursor:pointer}
@media print{body{margin:8mm}.noprint{display:none}h2{break-after:avoid}}
";

const SCRIPT: &str = "\
(function(){
var d=document;d.body.setAttribute('data-script','ran');
d.querySelectorAll('figure.timeline').forEach(function(f){var s=f.querySelector('svg');
f.setAttribute('data-rendered-width',s?Math.round(s.getBoundingClientRect().width):0);});
function count(){var r=window.performance&&performance.getEntriesByType?performance.getEntriesByType('resource').length:-1;
d.body.setAttribute('data-resources-fetched',r);}count();window.addEventListener('load',count);
d.querySelectorAll('table.sortable').forEach(function(t){
t.querySelectorAll('th.sort').forEach(function(h,i){h.addEventListener('click',function(){
var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),k=h.getAttribute('data-key'),
dir=h.getAttribute('data-dir')==='asc'?-1:1;h.setAttribute('data-dir',dir>0?'asc':'desc');
rows.sort(function(x,y){var a=x.cells[i].getAttribute('data-v'),c=y.cells[i].getAttribute('data-v');
if(k==='n'){return dir*(Number(a)-Number(c));}return dir*(a<c?-1:a>c?1:0);});
rows.forEach(function(x){b.appendChild(x);});});});});
})();
";

/// Renders the page.
pub fn render(r: &Report) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let title = format!("vmkflow report: {}", r.input.name);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{}\">\n<title>{}</title>\n<style>\n{CSS}</style>\n\
         </head>\n<body>\n",
        esc(&r.generator),
        esc(&title)
    );
    o.push_str(&patterns());
    let _ = writeln!(
        o,
        "<h1>{}</h1>\n<p class=\"muted\">{} · schema {} · labels: {}{}</p>",
        esc(&title),
        esc(&r.generator),
        r.schema_version,
        esc(&r.migration_labels.source),
        r.migration_labels
            .path
            .as_ref()
            .map(|p| format!(" ({})", esc(p)))
            .unwrap_or_default()
    );
    if let Some(e) = &r.capture.error {
        let _ = writeln!(
            o,
            "<div class=\"err\" id=\"capture-error\"><b>The capture could not be read{}:</b> {}</div>",
            e.offset
                .map(|x| format!(" at byte {x}"))
                .unwrap_or_default(),
            esc(&e.message)
        );
    }
    verdicts(&mut o, r);
    timelines(&mut o, r);
    topology(&mut o, r);
    flows(&mut o, r);
    facts(&mut o, r);
    let _ = write!(o, "<script>\n{SCRIPT}</script>\n</body>\n</html>\n");
    o
}

/// The fill patterns of the networks, defined once for every SVG of the page.
fn patterns() -> String {
    let mut o = String::from(
        "<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\"><defs>\n",
    );
    let all = Network::ALL.iter().map(|n| Some(*n)).chain([None]);
    for n in all {
        let (colour, id, _) = network_style(n);
        let (path, stroke) = network_pattern(n);
        let _ = writeln!(
            o,
            "<pattern id=\"p-{id}\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">\
             <rect width=\"8\" height=\"8\" fill=\"{colour}\"/>{}</pattern>",
            if path.is_empty() {
                String::new()
            } else {
                format!(
                    "<path d=\"{path}\" stroke=\"{stroke}\" stroke-width=\"1.2\" \
                     stroke-opacity=\"0.6\" fill=\"none\"/>"
                )
            }
        );
    }
    o.push_str("</defs></svg>\n");
    o
}

/// A legend swatch.
fn swatch(n: Option<Network>) -> String {
    let (_, id, label) = network_style(n);
    format!(
        "<span><svg width=\"18\" height=\"12\"><rect width=\"18\" height=\"12\" \
         fill=\"url(#p-{id})\" stroke=\"#333\"/></svg>{label}</span>"
    )
}

fn verdicts(o: &mut String, r: &Report) {
    o.push_str("<section id=\"verdicts\">\n<h2>1. Verdicts</h2>\n<div class=\"side\"><div>\n");
    if r.verification.is_empty() {
        o.push_str("<p>No claim set was verified.</p>\n");
    }
    let labelled = r.migrations.iter().any(|m| m.labelled);
    if !labelled && !r.migrations.is_empty() {
        o.push_str(
            "<p class=\"muted\">No migration labels: the sessions below were detected, and \
             verdicts need labels (rows of no labelled migration are <i>not observed</i>).</p>\n",
        );
    }
    for set in &r.verification {
        let _ = writeln!(
            o,
            "<h3>{} <span class=\"muted\">({})</span></h3>\n<table class=\"verdicts\" \
             data-claim-set=\"{}\">\n<thead><tr><th>Row</th><th>Migration</th><th>Claims</th>\
             <th>Verdict</th><th>Evidence</th><th>Migrations</th></tr></thead><tbody>",
            esc(&set.title),
            esc(&set.claim_set),
            esc(&set.claim_set)
        );
        for row in &set.rows {
            let (class, sym, word) = verdict_style(row.verdict);
            let _ = writeln!(
                o,
                "<tr data-row=\"{}\" data-verdict=\"{}\"><td class=\"n\">{}</td><td>{} {}</td>\
                 <td>{}</td><td><span class=\"v {class}\">{sym} {word}</span></td><td>{}</td>\
                 <td>{}</td></tr>",
                row.row,
                row.verdict.name(),
                row.row,
                esc(&sname(&row.kind)),
                esc(&sname(&row.state)),
                esc(&row.says),
                esc(&row.reason),
                esc(&row.migrations.join(", "))
            );
        }
        o.push_str("</tbody></table>\n");
    }
    o.push_str(
        "<p class=\"small\">Key: <span class=\"v confirmed\">✔ confirmed</span> \
         <span class=\"v contradicted\">✘ contradicted</span> \
         <span class=\"v inconclusive\">? inconclusive</span> \
         <span class=\"v not-observed\">– not observed</span></p>\n</div>\n",
    );
    if !r.findings.is_empty() {
        // Each distinct reference once, numbered in order of first use: a finding cites its
        // number (and carries the text as its hover title), the list follows the table.
        let mut refs: Vec<&str> = Vec::new();
        o.push_str("<div id=\"findings\">\n<h3>Findings</h3>\n<table><thead><tr><th>Severity</th><th>Migration</th><th>Finding</th></tr></thead><tbody>\n");
        for f in &r.findings {
            let n = match refs.iter().position(|x| *x == f.reference) {
                Some(i) => i + 1,
                None => {
                    refs.push(&f.reference);
                    refs.len()
                }
            };
            let _ = writeln!(
                o,
                "<tr data-finding=\"{}\" title=\"{}\"><td class=\"{}\">{}</td><td>{}</td><td><b>{}</b>: {} <span class=\"small muted\">[{n}]</span></td></tr>",
                esc(f.id),
                esc(&f.reference),
                if f.severity.name() == "warning" {
                    "warn"
                } else {
                    ""
                },
                esc(f.severity.name()),
                esc(f.migration.as_deref().unwrap_or("")),
                esc(f.id),
                esc(&f.message),
            );
        }
        o.push_str("</tbody></table>\n<ol class=\"small\">\n");
        for r in refs {
            let _ = writeln!(o, "<li>{}</li>", esc(r));
        }
        o.push_str("</ol>\n</div>\n");
    }
    o.push_str("</div>\n</section>\n");
}

fn timelines(o: &mut String, r: &Report) {
    o.push_str("<section id=\"timelines\">\n<h2>2. Migrations over time</h2>\n");
    if r.migrations.is_empty() {
        o.push_str("<p>No migration was labelled or detected.</p>\n</section>\n");
        return;
    }
    o.push_str(
        "<p class=\"small muted\">Payload bytes per second by network, stacked; a conversation \
         with ends on two networks counts under both, as in the JSON's \
         <code>payload_bytes_by_network</code>. Bands: phases. Dashed line: the switchover RARP. \
         Grey: context outside the window. Hover a column for exact figures.</p>\n",
    );
    let mut legend = String::from("<p class=\"legend\">");
    for n in Network::ALL.iter().map(|n| Some(*n)).chain([None]) {
        legend.push_str(&swatch(n));
    }
    legend.push_str("</p>\n");
    o.push_str(&legend);
    for (i, m) in r.migrations.iter().enumerate() {
        let _ = writeln!(
            o,
            "<figure class=\"timeline\" id=\"m-{i}\" data-migration=\"{}\" \
             data-payload-bytes=\"{}\" data-data-bytes=\"{}\">\n<figcaption>{}{} — {} {}{} · \
             {:.3} s · payload <span class=\"total\">{}</span> bytes ({}) · data {} bytes</figcaption>",
            esc(&m.id),
            m.breakdown.payload_bytes,
            m.breakdown.data_bytes,
            esc(&m.id),
            m.vm.as_ref()
                .map(|v| format!(" ({})", esc(v)))
                .unwrap_or_default(),
            esc(&sname(&m.kind)),
            esc(&sname(&m.state)),
            match (&m.source_host, &m.dest_host) {
                (Some(a), Some(b)) => format!(" · {} → {}", esc(a), esc(b)),
                _ => String::new(),
            },
            m.duration_s,
            m.breakdown.payload_bytes,
            human_bytes(m.breakdown.payload_bytes),
            m.breakdown.data_bytes
        );
        match r.timelines.get(i).filter(|s| s.id == m.id) {
            Some(s) => chart(o, s),
            None if i >= MAX_TIMELINES => {
                let _ = writeln!(
                    o,
                    "<p class=\"muted\">Not drawn: the page draws the timelines of the first \
                     {MAX_TIMELINES} of the {} migrations.</p>",
                    r.migrations.len()
                );
            }
            None => o.push_str("<p>No timeline was computed for this migration.</p>\n"),
        }
        o.push_str("<table class=\"small\"><tr><th>Network</th>");
        for n in m.breakdown.payload_bytes_by_network.keys() {
            let _ = write!(o, "<th>{}</th>", network_style(Some(*n)).2);
        }
        o.push_str("</tr><tr><td>payload bytes</td>");
        for (n, b) in &m.breakdown.payload_bytes_by_network {
            let _ = write!(
                o,
                "<td class=\"n\" data-network=\"{}\" data-bytes=\"{b}\">{b}</td>",
                n.name()
            );
        }
        o.push_str("</tr></table>\n");
        if !m.phases.is_empty() {
            o.push_str("<p class=\"small\">Phases: ");
            let parts: Vec<String> = m
                .phases
                .iter()
                .map(|p| {
                    format!(
                        "{} {:.3} s ({})",
                        esc(p.name),
                        p.duration_s,
                        human_bytes(p.breakdown.payload_bytes)
                    )
                })
                .collect();
            o.push_str(&parts.join(" · "));
            if let Some(rarp) = m.switchover.as_ref().and_then(|s| s.rarp.as_ref()) {
                let _ = write!(
                    o,
                    " · RARP from {} at {} ({:.3} s after the last vMotion byte)",
                    esc(&rarp.mac),
                    esc(&rarp.ts),
                    rarp.after_last_vmotion_byte_s
                );
            }
            o.push_str("</p>\n");
        }
        for n in &m.notes {
            let _ = writeln!(o, "<p class=\"small warn\">Note: {}</p>", esc(n));
        }
        o.push_str("</figure>\n");
    }
    o.push_str("</section>\n");
}

/// One migration's stacked chart.
fn chart(o: &mut String, s: &MigrationSeries) {
    const W: f64 = 1100.0;
    const H: f64 = 250.0;
    const L: f64 = 80.0;
    const R: f64 = 20.0;
    const T: f64 = 22.0;
    const B: f64 = 46.0;
    let bins = s.len();
    if bins == 0 {
        o.push_str("<p>No bins.</p>\n");
        return;
    }
    let (t0, t1) = (s.edges[0], s.edges[bins]);
    // Saturating: a label's window may reach the ends of the i64 nanosecond range.
    let span = t1.saturating_sub(t0).max(1) as f64;
    let x = |t: i64| L + t.saturating_sub(t0) as f64 / span * (W - L - R);
    let width_s = |i: usize| s.edges[i + 1].saturating_sub(s.edges[i]).max(1) as f64 / 1e9;
    // Layers bottom to top: networks in report order, then bytes under no network.
    let mut layers: Vec<(Option<Network>, &Vec<u64>)> = s
        .by_network
        .iter()
        .filter(|(_, v)| v.iter().any(|b| *b > 0))
        .map(|(n, v)| (Some(*n), v))
        .collect();
    if s.no_network.iter().any(|b| *b > 0) {
        layers.push((None, &s.no_network));
    }
    let totals: Vec<f64> = (0..bins)
        .map(|i| {
            layers
                .iter()
                .map(|(_, v)| v.get(i).copied().unwrap_or(0) as f64)
                .sum::<f64>()
                / width_s(i)
        })
        .collect();
    let ymax = nice_ceil(totals.iter().cloned().fold(0.0, f64::max));
    let y = |v: f64| T + (H - T - B) * (1.0 - (v / ymax).min(1.0));
    let _ = writeln!(
        o,
        "<svg viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-label=\"traffic of {} by network\" \
         data-bins=\"{bins}\" data-window=\"{} {}\" data-bin-ns=\"{}\" data-t0=\"{t0}\" data-t1=\"{t1}\">",
        esc(&s.id),
        s.window.0,
        s.window.1,
        s.bin_ns
    );
    // Context outside the window.
    let (ws, we) = (x(s.start.clamp(t0, t1)), x(s.end.clamp(t0, t1)));
    let _ = writeln!(
        o,
        "<rect x=\"{L:.1}\" y=\"{T:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#eee\"/>\
         <rect x=\"{we:.1}\" y=\"{T:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#eee\"/>",
        (ws - L).max(0.0),
        H - T - B,
        (W - R - we).max(0.0),
        H - T - B
    );
    // Phase bands.
    for (k, (name, a, b)) in s.phases.iter().enumerate() {
        let (xa, xb) = (x((*a).clamp(t0, t1)), x((*b).clamp(t0, t1)));
        let fill = if k % 2 == 0 { "#f6f6f6" } else { "#e4ecf4" };
        let _ = writeln!(
            o,
            "<g class=\"phase\" data-phase=\"{}\"><rect x=\"{xa:.1}\" y=\"{T:.1}\" width=\"{:.1}\" \
             height=\"{:.1}\" fill=\"{fill}\" stroke=\"#999\" stroke-dasharray=\"2 2\"><title>{} {:.3} s</title></rect>\
             {}</g>",
            esc(name),
            (xb - xa).max(0.0),
            H - T - B,
            esc(name),
            b.saturating_sub(*a) as f64 / 1e9,
            if xb - xa >= 7.0 * name.len() as f64 {
                format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#333\">{}</text>",
                    xa + 2.0,
                    T - 6.0,
                    esc(name)
                )
            } else {
                String::new()
            }
        );
    }
    // Stacked layers.
    let mut base = vec![0f64; bins];
    for (n, v) in &layers {
        let (_, id, label) = network_style(*n);
        let tops: Vec<f64> = (0..bins)
            .map(|i| base[i] + v.get(i).copied().unwrap_or(0) as f64 / width_s(i))
            .collect();
        let mut d = String::new();
        for (i, top) in tops.iter().enumerate() {
            let (xa, xb) = (x(s.edges[i]), x(s.edges[i + 1]));
            let c = if i == 0 { 'M' } else { 'L' };
            let _ = write!(d, "{c}{xa:.1} {:.1}L{xb:.1} {:.1}", y(*top), y(*top));
        }
        for i in (0..bins).rev() {
            let (xa, xb) = (x(s.edges[i]), x(s.edges[i + 1]));
            let _ = write!(d, "L{xb:.1} {:.1}L{xa:.1} {:.1}", y(base[i]), y(base[i]));
        }
        let values: Vec<String> = v.iter().map(|b| b.to_string()).collect();
        let window_sum: u64 = v.get(s.window.0..s.window.1).map_or(0, |w| w.iter().sum());
        let _ = writeln!(
            o,
            "<path class=\"series\" data-network=\"{id}\" data-window-bytes=\"{window_sum}\" \
             data-values=\"{}\" d=\"{d}Z\" fill=\"url(#p-{id})\" stroke=\"#222\" stroke-width=\"0.4\">\
             <title>{label}: {window_sum} payload bytes in the window</title></path>",
            values.join(" ")
        );
        base = tops;
    }
    // Window edges, RARP.
    let _ = writeln!(
        o,
        "<line x1=\"{ws:.1}\" x2=\"{ws:.1}\" y1=\"{T:.1}\" y2=\"{:.1}\" stroke=\"#000\"/>\
         <line x1=\"{we:.1}\" x2=\"{we:.1}\" y1=\"{T:.1}\" y2=\"{:.1}\" stroke=\"#000\"/>",
        H - B,
        H - B
    );
    if let Some(t) = s.rarp.filter(|t| (t0..=t1).contains(t)) {
        let xr = x(t);
        let _ = writeln!(
            o,
            "<g class=\"rarp\"><line x1=\"{xr:.1}\" x2=\"{xr:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" \
             stroke=\"#D55E00\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/><text x=\"{:.1}\" \
             y=\"{:.1}\" font-size=\"11\" fill=\"#D55E00\" font-weight=\"bold\">RARP</text>\
             <title>switchover RARP at {}</title></g>",
            T - 2.0,
            H - B,
            xr + 3.0,
            T + 10.0,
            rfc3339(t)
        );
    }
    // Hover columns with exact figures.
    for (i, total) in totals.iter().enumerate() {
        if *total <= 0.0 {
            continue;
        }
        let (xa, xb) = (x(s.edges[i]), x(s.edges[i + 1]));
        let mut t = format!(
            "{:+.3} s to {:+.3} s: {}",
            s.edges[i].saturating_sub(s.start) as f64 / 1e9,
            s.edges[i + 1].saturating_sub(s.start) as f64 / 1e9,
            rate(*total)
        );
        for (n, v) in &layers {
            let b = v.get(i).copied().unwrap_or(0);
            if b > 0 {
                let _ = write!(t, "; {} {b} B", network_style(*n).2);
            }
        }
        let _ = writeln!(
            o,
            "<rect class=\"hover\" x=\"{xa:.1}\" y=\"{T:.1}\" width=\"{:.2}\" height=\"{:.1}\" \
             fill=\"#000\" fill-opacity=\"0\"><title>{t}</title></rect>",
            (xb - xa).max(0.5),
            H - T - B
        );
    }
    // Axes.
    let _ = writeln!(
        o,
        "<g font-size=\"11\" fill=\"#222\"><line x1=\"{L}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#000\"/>\
         <line x1=\"{L}\" x2=\"{L}\" y1=\"{T:.1}\" y2=\"{:.1}\" stroke=\"#000\"/>",
        W - R,
        H - B,
        H - B,
        H - B
    );
    for k in 0..=2 {
        let v = ymax * k as f64 / 2.0;
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            L - 4.0,
            y(v) + 4.0,
            rate(v)
        );
    }
    let from = (t0 - s.start) as f64 / 1e9;
    let to = t1.saturating_sub(s.start) as f64 / 1e9;
    let step = nice_ceil((to - from) / 8.0);
    let mut tick = (from / step).ceil() * step;
    let mut guard = 0;
    while tick <= to && guard < 40 {
        let xt = x(s.start.saturating_add((tick * 1e9) as i64));
        let _ = writeln!(
            o,
            "<line x1=\"{xt:.1}\" x2=\"{xt:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#000\"/>\
             <text x=\"{xt:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            H - B,
            H - B + 4.0,
            H - B + 15.0,
            secs_label(tick)
        );
        tick += step;
        guard += 1;
    }
    let _ = writeln!(
        o,
        "<text x=\"{L}\" y=\"{:.1}\" class=\"utc\">{}</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">seconds from the window start</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"utc\">{}</text></g>\n</svg>",
        H - 6.0,
        rfc3339(t0),
        (L + W - R) / 2.0,
        H - 6.0,
        W - R,
        H - 6.0,
        rfc3339(t1)
    );
}

/// A flow's end as the topology names it.
fn end_name(e: &super::flows::EndpointReport) -> Option<String> {
    match (&e.host, &e.vmk) {
        (Some(h), Some(v)) => Some(format!("{h}/{v}")),
        _ => None,
    }
}

/// Payload bytes of a flow, both directions.
fn flow_bytes(f: &FlowReport) -> u64 {
    f.client_to_server
        .payload_bytes
        .saturating_add(f.server_to_client.payload_bytes)
}

/// A vmk pair, its bytes by class, and their sum.
type Edge<'a> = (&'a (String, String), &'a BTreeMap<String, u64>, u64);

fn topology(o: &mut String, r: &Report) {
    o.push_str("<section id=\"topology\">\n<h2>3. Topology</h2>\n");
    // Hosts and their vmks.
    let mut hosts: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    let mut listed = 0usize;
    for v in r.traffic.interfaces.iter() {
        if listed >= MAX_TOPOLOGY_VMKS {
            break;
        }
        listed += 1;
        let services: Vec<&str> = v.services.iter().map(|s| s.name()).collect();
        hosts.entry(v.host.clone()).or_default().push((
            v.vmk.clone(),
            v.addresses.join(", "),
            if services.is_empty() {
                "no service".into()
            } else {
                services.join(", ")
            },
        ));
    }
    // vmk pairs and classes, from the listed flows.
    let mut edges: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
    let mut other_bytes = 0u64;
    for f in r.traffic.flows.iter() {
        let b = flow_bytes(&f);
        match (end_name(&f.client), end_name(&f.server)) {
            (Some(a), Some(c)) => {
                let key = if a <= c { (a, c) } else { (c, a) };
                let e = edges.entry(key).or_default();
                let v = e.entry(f.class.name().to_string()).or_default();
                *v = v.saturating_add(b);
            }
            _ => other_bytes = other_bytes.saturating_add(b),
        }
    }
    let mut edge_list: Vec<Edge<'_>> = edges
        .iter()
        .map(|(k, v)| (k, v, v.values().fold(0u64, |a, b| a.saturating_add(*b))))
        .collect();
    edge_list.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let edges_shown = edge_list.len().min(MAX_TOPOLOGY_EDGES);
    if hosts.is_empty() {
        o.push_str("<p>The inventory names no vmk.</p>\n");
    } else {
        // Hosts as columns (at most HOSTS_PER_ROW to a row), vmks stacked in each.
        const HOSTS_PER_ROW: usize = 4;
        let col_w = 250.0;
        let gap = 120.0;
        let box_h = 46.0;
        let cols = hosts.len().min(HOSTS_PER_ROW);
        let width = cols as f64 * col_w + (cols.saturating_sub(1)) as f64 * gap + 20.0;
        let list: Vec<_> = hosts.iter().collect();
        // Each row of hosts is as tall as its host with the most vmks.
        let mut row_top = vec![0.0f64];
        for chunk in list.chunks(HOSTS_PER_ROW) {
            let n = chunk.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
            let last = row_top.last().copied().unwrap_or(0.0);
            row_top.push(last + 40.0 + n as f64 * (box_h + 14.0) + 30.0);
        }
        let height = row_top.last().copied().unwrap_or(0.0);
        // Per vmk: the left and right edges of its box, and its middle's height.
        let mut pos: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new();
        let mut body = String::new();
        for (i, (host, vmks)) in list.iter().enumerate() {
            let (c, row) = (i % HOSTS_PER_ROW, i / HOSTS_PER_ROW);
            let top = row_top.get(row).copied().unwrap_or(0.0);
            let host_h = row_top.get(row + 1).copied().unwrap_or(top) - top - 30.0;
            let x0 = 10.0 + c as f64 * (col_w + gap);
            let _ = writeln!(
                body,
                "<g class=\"host\" data-host=\"{}\"><rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{col_w}\" \
                 height=\"{:.1}\" fill=\"#fafafa\" stroke=\"#333\" rx=\"6\"/><text x=\"{:.1}\" \
                 y=\"{:.1}\" font-weight=\"bold\" font-size=\"14\">{}</text>",
                esc(host),
                top + 4.0,
                host_h,
                x0 + 10.0,
                top + 24.0,
                esc(host)
            );
            for (k, (vmk, addr, services)) in vmks.iter().enumerate() {
                let y0 = top + 36.0 + k as f64 * (box_h + 14.0);
                pos.insert(
                    format!("{host}/{vmk}"),
                    (x0 + 10.0, x0 + col_w - 10.0, y0 + box_h / 2.0),
                );
                let _ = writeln!(
                    body,
                    "<g class=\"vmk\"><rect x=\"{:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{box_h}\" \
                     fill=\"#fff\" stroke=\"#0072B2\" rx=\"4\"/><text x=\"{:.1}\" y=\"{:.1}\" \
                     font-size=\"12\"><tspan font-weight=\"bold\">{}</tspan> {}</text><text \
                     x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#555\">{}</text></g>",
                    x0 + 10.0,
                    col_w - 20.0,
                    x0 + 16.0,
                    y0 + 18.0,
                    esc(vmk),
                    esc(addr),
                    x0 + 16.0,
                    y0 + 36.0,
                    esc(services)
                );
            }
            body.push_str("</g>\n");
        }
        let mut lines = String::new();
        for (k, ((a, b), classes, total)) in edge_list.iter().take(edges_shown).enumerate() {
            let (Some(&(al, ar, ay)), Some(&(bl, br, by))) = (pos.get(a), pos.get(b)) else {
                continue;
            };
            // From the sides that face each other; boxes of one column join on their right.
            let (pa, pb) = if ar < bl {
                ((ar, ay), (bl, by))
            } else if br < al {
                ((al, ay), (br, by))
            } else {
                ((ar, ay), (br, by))
            };
            let label: Vec<String> = classes
                .iter()
                .filter(|(_, v)| **v > 0)
                .map(|(c, v)| format!("{c} {}", human_bytes(*v)))
                .collect();
            let (mx, my) = (
                (pa.0 + pb.0) / 2.0,
                (pa.1 + pb.1) / 2.0 + (k % 3) as f64 * 12.0,
            );
            let bend = if (pa.0 - pb.0).abs() < 1.0 { 60.0 } else { 0.0 };
            let _ = writeln!(
                lines,
                "<g class=\"edge\" data-a=\"{}\" data-b=\"{}\" data-bytes=\"{total}\"><path d=\"M{:.1} {:.1}Q{:.1} {:.1} {:.1} {:.1}\" \
                 stroke=\"#444\" stroke-width=\"{:.1}\" fill=\"none\" opacity=\"0.7\"/><text \
                 x=\"{:.1}\" y=\"{my:.1}\" font-size=\"10\" text-anchor=\"middle\" \
                 paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\">{}</text>\
                 <title>{} ↔ {}: {}</title></g>",
                esc(a),
                esc(b),
                pa.0,
                pa.1,
                mx + bend,
                (pa.1 + pb.1) / 2.0,
                pb.0,
                pb.1,
                1.0 + (*total as f64).max(1.0).log10() / 3.0,
                mx + bend,
                esc(&label.join(", ")),
                esc(a),
                esc(b),
                esc(&label.join(", "))
            );
        }
        let _ = writeln!(
            o,
            "<svg viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" style=\"max-width:100%\" \
             role=\"img\" aria-label=\"hosts, vmks and the bytes between them\">\n{body}{lines}</svg>"
        );
    }
    if listed < r.traffic.interfaces.len() {
        let _ = writeln!(
            o,
            "<p class=\"muted\">{} of {} vmks drawn.</p>",
            listed,
            r.traffic.interfaces.len()
        );
    }
    let _ = writeln!(
        o,
        "<p class=\"small muted\">Edges: payload bytes between two vmks by class, from the {} \
         flows the report lists ({} flows not listed, {} bytes); {} bytes of listed flows had an \
         end that is no vmk.</p>",
        r.traffic.flows.len(),
        r.traffic.flow_summary.not_listed,
        r.traffic.flow_summary.not_listed_payload_bytes,
        other_bytes
    );
    if !edge_list.is_empty() {
        o.push_str("<table class=\"small\"><thead><tr><th>vmk</th><th>vmk</th><th>Bytes by class</th><th>Payload bytes</th></tr></thead><tbody>\n");
        for ((a, b), classes, total) in edge_list.iter().take(edges_shown) {
            let label: Vec<String> = classes.iter().map(|(c, v)| format!("{c} {v}")).collect();
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{total}</td></tr>",
                esc(a),
                esc(b),
                esc(&label.join(", "))
            );
        }
        o.push_str("</tbody></table>\n");
        if edges_shown < edge_list.len() {
            let _ = writeln!(
                o,
                "<p class=\"muted\">The {} largest of {} vmk pairs.</p>",
                edges_shown,
                edge_list.len()
            );
        }
    }
    o.push_str("</section>\n");
}

/// Seconds a flow lasted (first to last timestamp of either direction).
fn flow_duration(f: &FlowReport) -> f64 {
    let ts = [
        &f.client_to_server.first_ts,
        &f.client_to_server.last_ts,
        &f.server_to_client.first_ts,
        &f.server_to_client.last_ts,
    ];
    let t: Vec<i64> = ts
        .iter()
        .filter_map(|t| t.as_deref().and_then(parse_rfc3339))
        .collect();
    match (t.iter().min(), t.iter().max()) {
        (Some(a), Some(b)) => (i128::from(*b) - i128::from(*a)) as f64 / 1e9,
        _ => 0.0,
    }
}

fn flows(o: &mut String, r: &Report) {
    let all = r.traffic.flows.len();
    let shown = all.min(MAX_FLOW_ROWS);
    let _ = writeln!(
        o,
        "<section id=\"flows\">\n<h2>4. Largest flows</h2>\n<p class=\"muted\">The {shown} \
         largest of the {all} flows the report lists (at most {MAX_FLOW_ROWS} here; {} more \
         flows were not listed in the report). Click a heading to sort.</p>",
        r.traffic.flow_summary.not_listed
    );
    if shown == 0 {
        o.push_str("</section>\n");
        return;
    }
    o.push_str(
        "<table class=\"sortable small\" id=\"flow-table\"><thead><tr>\
         <th class=\"sort\" data-key=\"n\">#</th><th class=\"sort\" data-key=\"s\">Class</th>\
         <th class=\"sort\" data-key=\"s\">Client</th><th class=\"sort\" data-key=\"s\">Server</th>\
         <th class=\"sort\" data-key=\"n\">Payload bytes</th>\
         <th class=\"sort\" data-key=\"n\">Duration (s)</th></tr></thead><tbody>\n",
    );
    for (i, f) in r.traffic.flows.iter().take(shown).enumerate() {
        let ep = |e: &super::flows::EndpointReport| {
            let at = end_name(e).unwrap_or_else(|| e.network.name().to_string());
            format!("{}:{} ({})", e.ip, e.port, at)
        };
        let (c, s) = (ep(&f.client), ep(&f.server));
        let b = flow_bytes(&f);
        let d = flow_duration(&f);
        let _ = writeln!(
            o,
            "<tr><td class=\"n\" data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td>\
             <td data-v=\"{}\">{}</td><td class=\"n\" data-v=\"{b}\">{b}</td><td class=\"n\" \
             data-v=\"{d:.6}\">{d:.3}</td></tr>",
            i + 1,
            i + 1,
            f.class.name(),
            f.class.name(),
            esc(&c),
            esc(&c),
            esc(&s),
            esc(&s),
        );
    }
    o.push_str("</tbody></table>\n</section>\n");
}

fn facts(o: &mut String, r: &Report) {
    let c = &r.capture;
    let _ = writeln!(
        o,
        "<section id=\"capture\">\n<h2>5. Capture facts</h2>\n<table id=\"capture-facts\" \
         data-packets=\"{}\" data-wire-bytes=\"{}\">\n\
         <tr><th>Input</th><td>{}</td></tr>\n<tr><th>Format</th><td>{}{}</td></tr>\n\
         <tr><th>Time span</th><td>{} to {} ({:.3} s)</td></tr>\n\
         <tr><th>Packets</th><td class=\"n\">{}</td></tr>\n\
         <tr><th>Wire bytes</th><td class=\"n\">{} ({})</td></tr>\n\
         <tr><th>Packets without timestamp</th><td class=\"n\">{}</td></tr>\n\
         <tr><th>Out-of-order timestamps</th><td class=\"n\">{}</td></tr>\n\
         <tr><th>Truncated</th><td>{}</td></tr>\n\
         <tr><th>Duplicates removed</th><td class=\"n\">{} frames ({} bytes)</td></tr>",
        c.packets,
        c.wire_bytes,
        esc(&r.input.name),
        esc(&sname(&c.format)),
        if c.gzip { ", gzip" } else { "" },
        esc(c.first_ts.as_deref().unwrap_or("–")),
        esc(c.last_ts.as_deref().unwrap_or("–")),
        c.duration_s,
        c.packets,
        c.wire_bytes,
        human_bytes(c.wire_bytes),
        c.packets_without_timestamp,
        c.out_of_order_timestamps,
        match &c.truncated_at {
            Some(t) => format!("yes, at byte {}", t.offset),
            None if c.truncated => "yes".into(),
            None => "no".into(),
        },
        c.duplicates.frames,
        c.duplicates.wire_bytes
    );
    let missing = r.traffic.networks.values().fold((0u64, 0u64), |a, t| {
        (
            a.0.saturating_add(t.not_captured_bytes),
            a.1.saturating_add(t.retransmitted_bytes),
        )
    });
    let acknowledged: u64 = r
        .migrations
        .iter()
        .map(|m| m.breakdown.acknowledged_data_bytes)
        .fold(0, u64::saturating_add);
    let _ = writeln!(
        o,
        "<tr><th>Not captured (TCP sequence space never seen)</th><td class=\"n\">{} bytes</td></tr>\n\
         <tr><th>Retransmitted</th><td class=\"n\">{} bytes</td></tr>\n\
         <tr><th>Migration data counted from acknowledgements</th><td class=\"n\">{} bytes</td></tr>\n\
         <tr><th>Inventory</th><td>{} ({} hosts, {} vmks)</td></tr>\n</table>",
        missing.0,
        missing.1,
        acknowledged,
        esc(&sname(&r.traffic.inventory.source)),
        r.traffic.inventory.hosts,
        r.traffic.inventory.vmknics
    );
    o.push_str("<h3>Inputs and vantage points</h3>\n<table class=\"small\"><thead><tr><th>Input</th><th>Format</th><th>Packets</th><th>Wire bytes</th><th>First</th><th>Last</th><th>Vantage</th><th>Problems</th></tr></thead><tbody>\n");
    for i in &c.inputs {
        let vantage = match &i.vantage {
            Some(v) => format!(
                "{}/{} {} ({})",
                v.host.as_deref().unwrap_or("?"),
                v.vmk.as_deref().unwrap_or("?"),
                sname(&v.direction),
                sname(&v.source)
            ),
            None => "mixed".into(),
        };
        let mut problems = Vec::new();
        if let Some(t) = &i.truncated_at {
            problems.push(format!("truncated at byte {}", t.offset));
        }
        if let Some(e) = &i.error {
            problems.push(e.message.clone());
        }
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&i.name),
            esc(&sname(&i.format)),
            if i.gzip { ", gzip" } else { "" },
            i.packets,
            i.wire_bytes,
            esc(i.first_ts.as_deref().unwrap_or("–")),
            esc(i.last_ts.as_deref().unwrap_or("–")),
            esc(&vantage),
            esc(&problems.join("; "))
        );
    }
    o.push_str("</tbody></table>\n");
    if !c.clocks.is_empty() {
        o.push_str("<h3>Clocks</h3>\n<table class=\"small\"><thead><tr><th>Clock</th><th>Offset (ms)</th><th>Spread (ms)</th><th>Samples</th><th>Source</th></tr></thead><tbody>\n");
        for k in &c.clocks {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(&k.clock),
                k.offset_ms,
                k.spread_ms,
                k.samples,
                esc(k.source)
            );
        }
        o.push_str("</tbody></table>\n");
    }
    if !r.warnings.is_empty() {
        o.push_str("<h3>Warnings</h3>\n<ul class=\"warn\">\n");
        for w in &r.warnings {
            let _ = writeln!(o, "<li>{}</li>", esc(w));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five() {
        assert_eq!(
            esc("<script>a&b\"c'</script>"),
            "&lt;script&gt;a&amp;b&quot;c&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn nice_numbers() {
        assert_eq!(nice_ceil(0.0), 1.0);
        assert_eq!(nice_ceil(3.0), 5.0);
        assert_eq!(nice_ceil(120.0), 200.0);
        assert_eq!(secs_label(2.0), "2 s");
        assert_eq!(secs_label(0.5), "0.5 s");
    }
}
