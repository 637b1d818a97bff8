//! The human summary printed by `vmkflow analyze`.

use std::fmt::Write as _;

use super::Report;

/// Formats a byte count with a binary unit.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

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
    if let Some(t) = &c.truncated_at {
        let _ = writeln!(
            s,
            "  warning: capture truncated at byte offset {}: a record needs {} bytes, {} present",
            t.offset, t.needed, t.available
        );
    }
    s
}
