//! The human summary printed by `vmkflow analyze`.

use std::fmt::Write as _;

use super::Report;
use crate::vocab::ports::TrafficClass;
use crate::vocab::units::human_bytes;

/// Renders the summary text.
pub fn render(r: &Report) -> String {
    let c = &r.capture;
    let mut s = String::new();
    let fmt = match c.format {
        crate::capture::Format::Pcap => "pcap",
        crate::capture::Format::Pcapng => "pcapng",
        crate::capture::Format::Mixed => "pcap and pcapng",
        crate::capture::Format::Unknown => "unreadable",
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
    if d.tcp_header_cut > 0 {
        let _ = writeln!(
            s,
            "  estimated: {} of the TCP payload, from the IP lengths of {} segments whose TCP \
             header the snap or mirror length cut",
            human_bytes(d.tcp_payload_estimated_bytes),
            d.tcp_header_cut
        );
    }
    let acknowledged: u64 = r
        .traffic
        .classes
        .values()
        .map(|t| t.acknowledged_bytes)
        .sum();
    if acknowledged > 0 {
        let _ = writeln!(
            s,
            "  acknowledged: {} of TCP payload counted from the receivers' acknowledgements: the \
             senders' frames were not captured",
            human_bytes(acknowledged)
        );
    }
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
    if !r.findings.is_empty() {
        s.push_str(&render_findings(r));
    }
    if let Some(t) = &c.truncated_at {
        let _ = writeln!(
            s,
            "  warning: capture truncated at byte offset {}: a record needs {} bytes, {} present",
            t.offset, t.needed, t.available
        );
    }
    s
}

/// The Findings block: one line each, warnings first (the report keeps them in that order);
/// `Findings: none` when there are none.
pub fn render_findings(r: &Report) -> String {
    let mut s = String::new();
    if r.findings.is_empty() {
        let _ = writeln!(s, "Findings: none");
        return s;
    }
    let _ = writeln!(s, "Findings:");
    for f in &r.findings {
        let _ = writeln!(
            s,
            "  {} {}{}: {}",
            f.severity.name(),
            f.id,
            f.migration
                .as_ref()
                .map(|m| format!(" [{m}]"))
                .unwrap_or_default(),
            f.message
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
    let mut classes: Vec<TrafficClass> = m.values().flat_map(|c| c.keys().copied()).collect();
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
    render_vmks(s, r);
    if !t.flows.is_empty() {
        let _ = writeln!(
            s,
            "\n  largest flows (the arrow points the way most bytes went):"
        );
        for f in t.flows.iter().take(SUMMARY_FLOWS) {
            let client = endpoint(&f.client, f.class, false);
            let server = endpoint(&f.server, f.class, true);
            let (c2s, s2c) = (
                f.client_to_server.payload_bytes,
                f.server_to_client.payload_bytes,
            );
            let arrow = if s2c > c2s { "<-" } else { "->" };
            let _ = writeln!(
                s,
                "  {:>11} {:<11} {client} {arrow} {server}",
                human_bytes(c2s + s2c),
                f.class.name(),
            );
        }
    }
}

/// How many vmks the per-vmk table lists.
const SUMMARY_VMKS: usize = 24;

/// One line per vmk: host, vmk, address, services, payload bytes sent and received.
fn render_vmks(s: &mut String, r: &Report) {
    let vmks = &r.traffic.interfaces;
    if vmks.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n  vmks (payload bytes):");
    let _ = writeln!(
        s,
        "  {:<20} {:<6} {:<22} {:<26} {:>11} {:>11}",
        "host", "vmk", "address", "services", "sent", "received"
    );
    for v in vmks.iter().take(SUMMARY_VMKS) {
        let services: Vec<&str> = v.services.iter().map(|x| x.name()).collect();
        let services = if services.is_empty() {
            "-".to_string()
        } else {
            services.join(",")
        };
        let _ = writeln!(
            s,
            "  {:<20} {:<6} {:<22} {:<26} {:>11} {:>11}",
            v.host,
            v.vmk,
            v.addresses.join(","),
            services,
            human_bytes(v.sent_payload_bytes.values().sum()),
            human_bytes(v.received_payload_bytes.values().sum()),
        );
    }
    if vmks.len() > SUMMARY_VMKS {
        let _ = writeln!(
            s,
            "  … {} more in the report's interfaces",
            vmks.len() - SUMMARY_VMKS
        );
    }
}

/// `ip:port (who)`, IPv6 addresses in brackets. A vmk is named with its host and network; an
/// endpoint that is no vmk by what it serves when the flow's class says (a vCenter, an NFS
/// server, an iSCSI target), else by its network (`vm` for a VMware MAC, `external`).
fn endpoint(e: &super::flows::EndpointReport, class: TrafficClass, is_server: bool) -> String {
    let addr = if e.ip.contains(':') {
        format!("[{}]:{}", e.ip, e.port)
    } else {
        format!("{}:{}", e.ip, e.port)
    };
    let who = match (&e.host, &e.vmk) {
        (Some(h), Some(v)) => format!("{h}/{v} {}", e.network.name()),
        _ => match (is_server, class) {
            (true, TrafficClass::VsphereApi | TrafficClass::Heartbeat) => "vCenter".into(),
            (true, TrafficClass::Nfs) => "NFS server".into(),
            (true, TrafficClass::Iscsi) => "iSCSI target".into(),
            _ => e.network.name().to_string(),
        },
    };
    format!("{addr} ({who})")
}

fn render_migrations(s: &mut String, r: &Report) {
    let lab = &r.migration_labels;
    if r.migrations.is_empty() && lab.source == "none" {
        let _ = writeln!(
            s,
            "\n  no vSphere migration traffic found: no bulk vMotion, NFC or storage data between \
             endpoints shown to be vSphere's (VMware MACs, the inventory, the authd banner)"
        );
        return;
    }
    let _ = writeln!(
        s,
        "\n  migrations: {} ({})",
        r.migrations.len(),
        match &lab.path {
            Some(p) if lab.source == "events" => format!("from the events in {p}"),
            Some(p) => format!("labels from {p}"),
            None if lab.source == "none" => "no labels: detected sessions, no verdicts".into(),
            None => lab.source.clone(),
        }
    );
    if let Some(e) = &r.events {
        let _ = writeln!(
            s,
            "  events: {} migration(s) recorded, {} in the capture, {} outside it; {} without \
             traffic, {} traffic session(s) without events, {} failed, cancelled or unfinished",
            e.migrations_recorded,
            e.in_capture.len(),
            e.outside_capture,
            e.without_traffic.len(),
            e.sessions_without_events.len(),
            e.unfinished.len()
        );
    }
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
        let unseen: Vec<String> = m
            .coverage
            .iter()
            .filter(|v| v.directions == "none")
            .map(|v| {
                let nets: Vec<&str> = v.networks.iter().map(|n| n.name()).collect();
                format!("{} {} ({})", v.host, v.vmk, nets.join(", "))
            })
            .collect();
        if !unseen.is_empty() {
            let _ = writeln!(s, "  {:<12} not captured: {}", "", unseen.join(", "));
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
    // Each row of each claim set: what it says, its verdict and why (the JSON's `reason`).
    for set in &r.verification {
        let _ = writeln!(s, "\n  {} ({}):", set.claim_set, set.title);
        for row in &set.rows {
            let _ = writeln!(s, "  row {}: {}", row.row, row.says);
            let _ = writeln!(s, "    {}: {}", row.verdict.name(), row.reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::inventory::Network;
    use crate::report::flows::EndpointReport;

    fn ep(ip: &str, port: u16, network: Network) -> EndpointReport {
        EndpointReport {
            ip: ip.into(),
            port,
            mac: None,
            host: None,
            vmk: None,
            network,
        }
    }

    #[test]
    fn endpoints_say_what_they_are() {
        // vCenter runs in a VM, but a reader wants to see vCenter, not `vm`.
        let vc = ep("10.0.10.5", 443, Network::Vm);
        assert_eq!(
            endpoint(&vc, TrafficClass::VsphereApi, true),
            "10.0.10.5:443 (vCenter)"
        );
        let array = ep("fd00:40::100", 2049, Network::External);
        assert_eq!(
            endpoint(&array, TrafficClass::Nfs, true),
            "[fd00:40::100]:2049 (NFS server)"
        );
        // A client that is no vmk keeps its network.
        let vm = ep("10.0.50.7", 50000, Network::Vm);
        assert_eq!(
            endpoint(&vm, TrafficClass::Nfs, false),
            "10.0.50.7:50000 (vm)"
        );
        let mut vmk = ep("fd00:20::11", 50662, Network::Vmotion);
        vmk.host = Some("esx01".into());
        vmk.vmk = Some("vmk1".into());
        assert_eq!(
            endpoint(&vmk, TrafficClass::Vmotion, false),
            "[fd00:20::11]:50662 (esx01/vmk1 vmotion)"
        );
    }
}
