//! The human summary printed by `vmkflow analyze`.

use std::fmt::Write as _;

use super::Report;
use crate::vocab::units::human_bytes;

/// Renders the summary text.
pub fn render(r: &Report) -> String {
    let c = &r.capture;
    let mut s = String::new();
    let fmt = match c.format {
        crate::capture::Format::Pcap => "pcap",
        crate::capture::Format::Pcapng => "pcapng",
    };
    let _ = writeln!(
        s,
        "{}: {}{} capture, {} packets, {} on the wire ({} captured)",
        r.input.name,
        fmt,
        if c.gzip { " (gzip)" } else { "" },
        c.packets,
        human_bytes(c.wire_bytes),
        human_bytes(c.captured_bytes)
    );
    if let (Some(a), Some(b)) = (&c.first_ts, &c.last_ts) {
        let _ = writeln!(s, "  time: {a} .. {b} ({:.3} s)", c.duration_s);
    }
    let lts: Vec<String> = c
        .link_types
        .iter()
        .map(|l| format!("{} ({}): {}", l.name, l.link_type, l.packets))
        .collect();
    if !lts.is_empty() {
        let _ = writeln!(s, "  link types: {}", lts.join(", "));
    }
    if c.format == crate::capture::Format::Pcapng {
        let _ = writeln!(
            s,
            "  sections: {}, interfaces: {}",
            c.sections,
            c.interfaces.len()
        );
    }
    let d = &c.decode;
    let _ = writeln!(
        s,
        "  decoded: ipv4 {} ipv6 {} tcp {} udp {} icmp {} arp {} rarp {} non-ip {}",
        d.ipv4, d.ipv6, d.tcp, d.udp, d.icmp, d.arp, d.rarp, d.non_ip
    );
    let _ = writeln!(
        s,
        "           vlan-tagged {} qinq {} tunnelled {} fragments {} header-only {}",
        d.vlan_tagged, d.qinq, d.tunnelled, d.fragments, d.sliced
    );
    let _ = writeln!(
        s,
        "  payload: tcp {} udp {}",
        human_bytes(d.tcp_payload_bytes),
        human_bytes(d.udp_payload_bytes)
    );
    let bad = d.undecodable_total();
    if bad > 0 {
        let _ = writeln!(
            s,
            "  undecodable: {bad} packets (see capture.decode.undecodable)"
        );
    }
    if c.records_with_unknown_interface > 0 {
        let _ = writeln!(
            s,
            "  skipped: {} records with an undeclared interface",
            c.records_with_unknown_interface
        );
    }
    render_traffic(&mut s, r);
    render_migrations(&mut s, r);
    if let Some(t) = &c.truncated_at {
        let _ = writeln!(
            s,
            "  warning: capture truncated at byte offset {}: a record needs {} bytes, {} present",
            t.offset, t.needed, t.available
        );
    }
    s
}

/// How many flows the summary lists.
const SUMMARY_FLOWS: usize = 10;

fn render_traffic(s: &mut String, r: &Report) {
    use crate::classify::inventory::InventorySource;
    let t = &r.traffic;
    let inv = match &t.inventory.source {
        InventorySource::File(p) => format!("from {p}"),
        InventorySource::PowerCliCsv(p) => format!("from PowerCLI CSV {p}"),
        InventorySource::Inferred => "inferred from the traffic".to_string(),
        InventorySource::None => "none".to_string(),
    };
    let _ = writeln!(
        s,
        "  inventory: {inv} ({} hosts, {} vmknics); flows: {}",
        t.inventory.hosts, t.inventory.vmknics, t.flow_summary.flows
    );
    let m = &t.payload_bytes_by_network_and_class;
    if m.is_empty() {
        return;
    }
    let mut classes: Vec<crate::vocab::ports::TrafficClass> =
        m.values().flat_map(|c| c.keys().copied()).collect();
    classes.sort();
    classes.dedup();
    let _ = writeln!(s, "\n  payload bytes by network and class:");
    let _ = write!(s, "  {:<13}", "network");
    for c in &classes {
        let _ = write!(s, " {:>11}", c.name());
    }
    let _ = writeln!(s);
    for (n, row) in m {
        let _ = write!(s, "  {:<13}", n.name());
        for c in &classes {
            let v = row.get(c).copied().unwrap_or(0);
            let cell = if v == 0 {
                "-".to_string()
            } else {
                human_bytes(v)
            };
            let _ = write!(s, " {cell:>11}");
        }
        let _ = writeln!(s);
    }
    if !t.flows.is_empty() {
        let _ = writeln!(s, "\n  largest flows:");
        for f in t.flows.iter().take(SUMMARY_FLOWS) {
            let side = |e: &super::flows::EndpointReport| {
                let who = match (&e.host, &e.vmk) {
                    (Some(h), Some(v)) => format!(" ({h}/{v} {})", e.network.name()),
                    _ => format!(" ({})", e.network.name()),
                };
                format!("{}:{}{who}", e.ip, e.port)
            };
            let bytes = f.client_to_server.payload_bytes + f.server_to_client.payload_bytes;
            let _ = writeln!(
                s,
                "  {:>11} {:<11} {} -> {}",
                human_bytes(bytes),
                f.class.name(),
                side(&f.client),
                side(&f.server)
            );
        }
    }
}

fn render_migrations(s: &mut String, r: &Report) {
    use crate::verify::Verdict;
    let lab = &r.migration_labels;
    let _ = writeln!(
        s,
        "\n  migrations: {} ({})",
        r.migrations.len(),
        match &lab.path {
            Some(p) => format!("labels from {p}"),
            None if lab.source == "none" => "no labels: detected sessions, no verdicts".into(),
            None => lab.source.clone(),
        }
    );
    for m in &r.migrations {
        let nets: Vec<String> = m
            .breakdown
            .payload_bytes_by_network
            .iter()
            .map(|(n, b)| format!("{} {}", n.name(), human_bytes(*b)))
            .collect();
        let phases: Vec<String> = m
            .phases
            .iter()
            .map(|p| format!("{} {:.3}s", p.name, p.duration_s))
            .collect();
        let _ = writeln!(
            s,
            "  {:<12} {} {}{}: {} data; {}",
            m.id,
            m.kind.as_str(),
            m.state.as_str(),
            if m.labelled { "" } else { " (looks like)" },
            human_bytes(m.breakdown.data_bytes),
            nets.join(", ")
        );
        let _ = writeln!(s, "  {:<12} phases: {}", "", phases.join(", "));
        if let Some(rarp) = m.switchover.as_ref().and_then(|w| w.rarp.as_ref()) {
            let _ = writeln!(
                s,
                "  {:<12} switchover: RARP from {} at {}",
                "", rarp.mac, rarp.ts
            );
        }
        for n in &m.notes {
            let _ = writeln!(s, "  {:<12} note: {n}", "");
        }
    }
    if r.verification.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n  the blog's table, verified:");
    let _ = write!(s, "  {:<3} {:<16} {:<5}", "row", "action", "state");
    for set in &r.verification {
        let _ = write!(s, " {:<14}", set.claim_set);
    }
    let _ = writeln!(s);
    if let Some(first) = r.verification.first() {
        for (i, row) in first.rows.iter().enumerate() {
            let _ = write!(
                s,
                "  {:<3} {:<16} {:<5}",
                row.row,
                row.kind.as_str(),
                row.state.as_str()
            );
            for set in &r.verification {
                let v = set.rows.get(i).map_or("-", |x| x.verdict.name());
                let _ = write!(s, " {v:<14}");
            }
            let _ = writeln!(s);
        }
    }
    for set in &r.verification {
        for row in set
            .rows
            .iter()
            .filter(|x| x.verdict == Verdict::Contradicted)
        {
            // One line of evidence: the first contradicted claim of the first migration behind it.
            let ev = r
                .migrations
                .iter()
                .filter(|m| row.migrations.contains(&m.id))
                .flat_map(|m| m.verdicts.iter().map(move |v| (m, v)))
                .filter(|(_, v)| v.claim_set == set.claim_set && v.row == row.row)
                .find_map(|(m, v)| {
                    v.claims
                        .iter()
                        .find(|c| c.verdict == Verdict::Contradicted)
                        .map(|c| format!("{}: {}", m.id, c.evidence))
                });
            if let Some(ev) = ev {
                let _ = writeln!(s, "  {} row {} contradicted ({ev})", set.claim_set, row.row);
            }
        }
    }
}
