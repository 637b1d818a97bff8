//! Finding a label's host names in the inventory.
//!
//! Labels are written by people (`esx01`), inventories come from vCenter exports
//! (`esx01.lab.local`), from `--write-inventory` (`host-10.0.10.11`), or from inference. A label's
//! host matches an inventory host by exact name (letter case aside), by short name against a fully
//! qualified one (either way round), or by an address of one of the host's vmks. A short name
//! that two inventory hosts share matches neither.

use std::net::IpAddr;

use serde::Serialize;

use crate::classify::inventory::VmkInventory;

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

/// The host names of an inventory, in inventory order, once each.
pub fn inventory_hosts(inv: &VmkInventory) -> Vec<&str> {
    let mut hosts: Vec<&str> = inv.vmks.iter().map(|v| v.host.as_str()).collect();
    hosts.dedup();
    hosts
}

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// Finds `label` among the inventory's hosts.
pub fn find(label: &str, inv: &VmkInventory) -> HostMatch {
    let hosts = inventory_hosts(inv);
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
                services: Vec::new(),
                unknown_services: Vec::new(),
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
