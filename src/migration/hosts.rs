//! Finding a label's host names in the inventory.
//!
//! Labels are written by people (`esx01`), inventories come from vCenter exports
//! (`esx01.lab.local`), from `--write-inventory` (`host-10.0.10.11`), or from inference. A label's
//! host matches an inventory host by exact name (letter case aside), by short name against a fully
//! qualified one (either way round), or by an address of one of the host's vmks. A short name
//! that two inventory hosts share matches neither.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use super::timeline::{BIN_NS, Timeline};
use crate::classify::inventory::{InventorySource, VmkInventory};
use crate::labels::Migration;
use crate::vocab::ports::TrafficClass;

/// How a label's host was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The same name.
    Name,
    /// The same first label of a dotted name (`esx01` and `esx01.lab.local`).
    ShortName,
    /// The label names an address of one of the host's vmks.
    Address,
}

/// One label host and what it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostMatch {
    /// The name in the label.
    pub label: String,
    /// The inventory host it matched, and how.
    pub matched: Option<(String, MatchedBy)>,
}

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// Finds `label` among the inventory's hosts.
pub fn find(label: &str, inv: &VmkInventory) -> HostMatch {
    let hosts = inv.host_names();
    let one = |found: Vec<&str>, by| match found.as_slice() {
        [h] => Some(((*h).to_string(), by)),
        _ => None,
    };
    let matched = one(
        hosts
            .iter()
            .copied()
            .filter(|h| h.eq_ignore_ascii_case(label))
            .collect(),
        MatchedBy::Name,
    )
    .or_else(|| {
        let s = short(label);
        one(
            hosts
                .iter()
                .copied()
                .filter(|h| short(h).eq_ignore_ascii_case(s))
                .collect(),
            MatchedBy::ShortName,
        )
    })
    .or_else(|| {
        let ip: IpAddr = label.parse().ok()?;
        let mut found: Vec<&str> = inv
            .vmks
            .iter()
            .filter(|v| v.addrs.iter().any(|(a, _)| *a == ip))
            .map(|v| v.host.as_str())
            .collect();
        found.dedup();
        one(found, MatchedBy::Address)
    });
    HostMatch {
        label: label.to_string(),
        matched,
    }
}

/// Names an inferred inventory's hosts after the labels, from each labelled migration's own
/// flows: in its window, the clients of vMotion and NFC connections are on its source host and
/// their servers on its destination host (the source opens the streams and pushes the data); for
/// a migration that stays on one host (Storage vMotion), the clients of its NFS or iSCSI traffic
/// are on that host. An address two labels give different hosts stays as it was. Returns the renamed
/// inventory and a note saying what was named, or `None` when nothing was (a given inventory, no
/// such flows, or labels whose hosts it already names).
pub fn name_from_labels(
    inv: &VmkInventory,
    labels: &[Migration],
    tl: &Timeline,
) -> Option<(VmkInventory, String)> {
    if inv.source != InventorySource::Inferred {
        return None;
    }
    let mut names: BTreeMap<IpAddr, BTreeSet<&str>> = BTreeMap::new();
    for m in labels {
        let (Some(src), Some(dst)) = (&m.source_host, &m.dest_host) else {
            continue;
        };
        if find(src, inv).matched.is_some() || find(dst, inv).matched.is_some() {
            continue;
        }
        let (first, last) = (m.start.0.div_euclid(BIN_NS), m.end.0.div_euclid(BIN_NS));
        for s in &tl.series {
            let in_window = s
                .bins
                .iter()
                .any(|b| b.idx >= first && b.idx <= last && b.bytes[0] + b.bytes[1] > 0);
            if !in_window {
                continue;
            }
            let (client, server) = (s.key.client.ip(), s.key.server.ip());
            match s.key.class {
                // Host to host: the source opens the connections.
                TrafficClass::Vmotion | TrafficClass::Nfc if src != dst => {
                    for (ip, name) in [(client, src), (server, dst)] {
                        if let Some(ip) = ip {
                            names.entry(ip).or_default().insert(name);
                        }
                    }
                }
                // A Storage vMotion on one host: it is the client of the storage traffic.
                TrafficClass::Nfs | TrafficClass::Iscsi if src == dst => {
                    if let Some(ip) = client {
                        names.entry(ip).or_default().insert(src);
                    }
                }
                _ => {}
            }
        }
    }
    let named: BTreeMap<IpAddr, &str> = names
        .into_iter()
        .filter_map(|(ip, hosts)| match hosts.len() {
            1 => hosts.into_iter().next().map(|h| (ip, h)),
            _ => None,
        })
        .collect();
    let mut vmks = inv.vmks.to_vec();
    let mut renamed = 0;
    for v in &mut vmks {
        if let Some(h) = v.addrs.first().and_then(|(a, _)| named.get(a)) {
            v.host = h.to_string();
            renamed += 1;
        }
    }
    if renamed == 0 {
        return None;
    }
    let mut out = VmkInventory::new(vmks, InventorySource::Inferred);
    out.notes = inv.notes.clone();
    let hosts: BTreeSet<&str> = named.values().copied().collect();
    let note = format!(
        "the inferred inventory names {renamed} address{} after the labels' hosts ({}), from the \
         vMotion, NFC and storage connections in their windows",
        if renamed == 1 { "" } else { "es" },
        hosts.into_iter().collect::<Vec<_>>().join(", ")
    );
    Some((out, note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::inventory::{InventorySource, Vmk};

    fn inv(hosts: &[(&str, &str)]) -> VmkInventory {
        let vmks = hosts
            .iter()
            .map(|(h, ip)| Vmk {
                host: h.to_string(),
                name: "vmk0".into(),
                addrs: vec![(ip.parse().expect("ip"), 24)],
                vlan: None,
                mac: None,
                speed_mbps: None,
                services: Vec::new(),
                unknown_services: Vec::new(),
                mtu: None,
            })
            .collect();
        VmkInventory::new(vmks, InventorySource::Inferred)
    }

    fn by(label: &str, inv: &VmkInventory) -> Option<(String, MatchedBy)> {
        find(label, inv).matched
    }

    #[test]
    fn name_short_name_and_address() {
        let i = inv(&[
            ("esx01.lab.local", "10.0.10.11"),
            ("esx02.lab.local", "10.0.10.12"),
        ]);
        assert_eq!(
            by("esx01.lab.local", &i),
            Some(("esx01.lab.local".into(), MatchedBy::Name))
        );
        assert_eq!(
            by("ESX02", &i),
            Some(("esx02.lab.local".into(), MatchedBy::ShortName))
        );
        assert_eq!(
            by("10.0.10.12", &i),
            Some(("esx02.lab.local".into(), MatchedBy::Address))
        );
        assert_eq!(by("esx03", &i), None);
        // A label's FQDN against short inventory names.
        let i = inv(&[("esx01", "10.0.10.11")]);
        assert_eq!(
            by("esx01.lab.local", &i),
            Some(("esx01".into(), MatchedBy::ShortName))
        );
        // What --write-inventory names an inferred host: matched by the address only.
        let i = inv(&[("host-10.0.10.11", "10.0.10.11")]);
        assert_eq!(by("esx01", &i), None);
        assert_eq!(
            by("10.0.10.11", &i),
            Some(("host-10.0.10.11".into(), MatchedBy::Address))
        );
    }

    #[test]
    fn an_ambiguous_short_name_matches_nothing() {
        let i = inv(&[("esx01.a.local", "10.0.1.1"), ("esx01.b.local", "10.0.2.1")]);
        assert_eq!(by("esx01", &i), None);
        assert_eq!(
            by("esx01.b.local", &i),
            Some(("esx01.b.local".into(), MatchedBy::Name))
        );
    }
}
