//! Where each input was captured, decided with the inventory: what the user said
//! (`--vantage`), else what the pcapng interface or the file is named, else the one address in
//! every frame looked up as a vmk. The direction comes from the user, else from whether that
//! vmk's address only sent, only received, or both.

use std::net::IpAddr;

use super::inventory::VmkInventory;
use crate::set::VantageArg;
use crate::set::local::{LocalTracker, vmk_in_name};
use crate::vocab::vantage::{Direction, Vantage, VantageSource};

/// What is known of one capture point (an input, or one interface of a pcapng input).
#[derive(Debug, Clone, Copy, Default)]
pub struct PointFacts<'a> {
    /// `--vantage` for the input.
    pub arg: Option<&'a VantageArg>,
    /// The pcapng interface's name, then its description.
    pub interface_names: [Option<&'a str>; 2],
    /// The input's file name.
    pub file_name: Option<&'a str>,
    /// The addresses its traffic showed.
    pub tracker: Option<&'a LocalTracker>,
}

/// The inventory's spelling of `host`: the same name, ignoring case, or one that starts with
/// it and a dot (`esx01` for `esx01.lab.local`).
fn inventory_host(inv: &VmkInventory, host: &str) -> String {
    inv.host_names()
        .into_iter()
        .find(|h| {
            h.eq_ignore_ascii_case(host)
                || h.to_ascii_lowercase()
                    .starts_with(&format!("{}.", host.to_ascii_lowercase()))
        })
        .unwrap_or(host)
        .to_string()
}

/// The direction of `addrs` in the traffic: only sent, only received, or both; `None` when no
/// address of them was in every frame.
fn direction_of(tracker: Option<&LocalTracker>, addrs: &[IpAddr]) -> Option<Direction> {
    let t = tracker?;
    let (sent, received) = addrs.iter().find_map(|a| t.counts_of(*a))?;
    Some(match (sent > 0, received > 0) {
        (true, false) => Direction::Tx,
        (false, true) => Direction::Rx,
        _ => Direction::Both,
    })
}

/// The vantage of one capture point.
pub fn resolve(p: &PointFacts<'_>, inv: &VmkInventory) -> Vantage {
    let named = p
        .arg
        .map(|a| (Some(a.host.clone()), a.vmk.clone(), VantageSource::Option))
        .or_else(|| {
            p.interface_names
                .iter()
                .flatten()
                .find_map(|n| vmk_in_name(n).map(|(h, v)| (h, v, VantageSource::InterfaceName)))
        })
        .or_else(|| {
            p.file_name
                .and_then(vmk_in_name)
                .map(|(h, v)| (h, v, VantageSource::FileName))
        });
    let local = p.tracker.and_then(LocalTracker::local);
    let local_vmk = local
        .and_then(|l| inv.lookup(l.addr, None))
        .and_then(|i| inv.vmks.get(i));
    let (host, vmk, source) = match named {
        Some((Some(h), v, s)) => (Some(inventory_host(inv, &h)), Some(v), s),
        // A name without host (`vmk1`): the host whose vmk owns the traffic's address.
        Some((None, v, s)) => (local_vmk.map(|m| m.host.clone()), Some(v), s),
        None => match local_vmk {
            Some(m) => (
                Some(m.host.clone()),
                Some(m.name.clone()),
                VantageSource::Traffic,
            ),
            None => return Vantage::unknown(),
        },
    };
    let addrs: Vec<IpAddr> = inv
        .vmks
        .iter()
        .filter(|m| Some(&m.host) == host.as_ref() && Some(&m.name) == vmk.as_ref())
        .flat_map(|m| m.addrs.iter().map(|(a, _)| *a))
        .chain(local.map(|l| l.addr))
        .collect();
    let direction = p
        .arg
        .and_then(|a| a.direction)
        .or_else(|| direction_of(p.tracker, &addrs))
        .unwrap_or(Direction::Both);
    Vantage {
        host,
        vmk,
        direction,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::inventory::{InventorySource, Vmk};
    use crate::set::local::tests::frame;

    fn inv() -> VmkInventory {
        let vmk = |host: &str, name: &str, ip: &str| Vmk {
            host: host.into(),
            name: name.into(),
            addrs: vec![(ip.parse().unwrap(), 24)],
            vlan: None,
            mac: None,
            speed_mbps: None,
            services: Vec::new(),
            unknown_services: Vec::new(),
            mtu: None,
        };
        VmkInventory::new(
            vec![
                vmk("esx01.lab", "vmk1", "10.0.20.11"),
                vmk("esx02.lab", "vmk1", "10.0.20.12"),
            ],
            InventorySource::None,
        )
    }

    fn tracker(frames: &[(&str, &str)]) -> LocalTracker {
        let mut t = LocalTracker::default();
        for (s, d) in frames {
            t.add(&frame(s, d));
        }
        t
    }

    #[test]
    fn from_the_traffic_the_name_and_the_user() {
        let inv = inv();
        // Receiver-side default capture: only its ACKs, plus vCenter talking to it.
        let t = tracker(&[("10.0.20.12", "10.0.20.11"), ("10.0.20.12", "10.0.10.5")]);
        let v = resolve(
            &PointFacts {
                tracker: Some(&t),
                ..PointFacts::default()
            },
            &inv,
        );
        assert_eq!(v.host.as_deref(), Some("esx02.lab"));
        assert_eq!(v.vmk.as_deref(), Some("vmk1"));
        assert_eq!(
            (v.direction, v.source),
            (Direction::Tx, VantageSource::Traffic)
        );

        // Both ends in every frame: the traffic cannot say; the interface name can.
        let both = tracker(&[("10.0.20.12", "10.0.20.11"), ("10.0.20.11", "10.0.20.12")]);
        let unnamed = PointFacts {
            tracker: Some(&both),
            ..PointFacts::default()
        };
        assert_eq!(resolve(&unnamed, &inv), Vantage::unknown());
        let named = PointFacts {
            interface_names: [Some("esx01-vmk1"), None],
            ..unnamed
        };
        let v = resolve(&named, &inv);
        assert_eq!(
            v.host.as_deref(),
            Some("esx01.lab"),
            "the inventory's spelling"
        );
        assert_eq!(
            (v.direction, v.source),
            (Direction::Both, VantageSource::InterfaceName)
        );

        let arg: VantageArg = "esx02.lab/vmk1:rx".parse().unwrap();
        let v = resolve(
            &PointFacts {
                arg: Some(&arg),
                ..named
            },
            &inv,
        );
        assert_eq!(v.host.as_deref(), Some("esx02.lab"));
        assert_eq!(
            (v.direction, v.source),
            (Direction::Rx, VantageSource::Option)
        );

        let file = PointFacts {
            file_name: Some("vmk1.pcap"),
            tracker: Some(&t),
            ..PointFacts::default()
        };
        let v = resolve(&file, &inv);
        assert_eq!(
            v.host.as_deref(),
            Some("esx02.lab"),
            "host from the traffic"
        );
        assert_eq!(v.source, VantageSource::FileName);
    }
}
