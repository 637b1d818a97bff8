//! What the inputs saw of a migration's hosts: each vmk of them, the networks its traffic counts
//! under, and whether (and in which directions) an input captured it.
//!
//! In: the inventory, the migration's hosts and the capture set's [`Coverage`]. Out: a
//! [`View`] that [`crate::verify`] reads to tell a claim the bytes can decide from one about a
//! network no input saw. A capture of unknown vantage sees everything: its view is
//! [`View::everything`], and nothing is unobserved.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::classify::inventory::{Network, Service, VmkInventory};
use crate::vocab::vantage::{Coverage, Direction};

/// One vmk of one of a migration's hosts, and what the inputs saw of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmkSeen {
    /// The host (as the inventory names it).
    pub host: String,
    /// The vmk (`vmk1`).
    pub vmk: String,
    /// The networks its services name (storage for a vmk without one), with those of services
    /// the inventory could not say. NFS or iSCSI over it counts as storage besides: see
    /// [`VmkSeen::can_carry`].
    pub networks: Vec<Network>,
    /// Whether it can be on its host's provisioning-or-management network (the provisioning
    /// vmk where the host has one, else the management vmk), under either reading of an
    /// inventory that cannot say some services.
    pub provisioning_or_management: bool,
    /// The directions an input captured, `None` when none did.
    pub seen: Option<Direction>,
}

impl VmkSeen {
    /// Whether traffic over this vmk can count under `network`: one of its own networks, or
    /// storage (NFS or iSCSI over any vmk counts as storage; see
    /// [`crate::classify::inventory::network_for`]).
    pub fn can_carry(&self, network: Network) -> bool {
        network == Network::Storage || self.networks.contains(&network)
    }

    /// `esx01 vmk1 (vmotion)`, for reasons and the summary.
    pub fn describe(&self) -> String {
        let nets: Vec<&str> = self.networks.iter().map(|n| n.name()).collect();
        format!("{} {} ({})", self.host, self.vmk, nets.join(", "))
    }
}

/// What the inputs saw of a migration's hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// Whether the inputs saw only some vmks (their vantages name them). `false` for a capture
    /// that sees everything it holds: then `vmks` is empty and every network counts as observed.
    pub partial: bool,
    /// When partial: every vmk of the migration's hosts, with what was seen of it.
    pub vmks: Vec<VmkSeen>,
}

impl View {
    /// The view of a capture that sees everything: nothing is unobserved.
    pub fn everything() -> View {
        View::default()
    }

    /// The vmks of the migration's hosts that no input captured.
    pub fn unseen(&self) -> impl Iterator<Item = &VmkSeen> {
        self.vmks.iter().filter(|v| v.seen.is_none())
    }

    /// Whether every network that could carry the migration's data was captured: the view is
    /// not partial, or it names the hosts' vmks and an input saw each of them (in any
    /// direction: a vmk's flows cross its capture point either way, their data or the
    /// acknowledgements that count it).
    pub fn complete(&self) -> bool {
        !self.partial || (!self.vmks.is_empty() && self.unseen().next().is_none())
    }

    /// Whether the view is partial without naming any vmk of the migration's hosts (the
    /// inventory knows none of them): which networks were seen is then unknown.
    pub fn unknown(&self) -> bool {
        self.partial && self.vmks.is_empty()
    }
}

/// The networks of a vmk with these services: those they name, storage when none.
fn service_networks(services: &[Service]) -> Vec<Network> {
    let nets: BTreeSet<Network> = services.iter().map(|s| s.network()).collect();
    if nets.is_empty() {
        vec![Network::Storage]
    } else {
        nets.into_iter().collect()
    }
}

/// The hosts a migration's coverage is about: the label's hosts found in the inventory, else the
/// hosts its data touched, else every inventory host.
pub fn hosts_of(
    label_hosts: &BTreeSet<String>,
    data_hosts: &[String],
    inv: &VmkInventory,
) -> Vec<String> {
    if !label_hosts.is_empty() {
        label_hosts.iter().cloned().collect()
    } else if !data_hosts.is_empty() {
        data_hosts.to_vec()
    } else {
        inv.host_names().into_iter().map(str::to_string).collect()
    }
}

/// What `coverage` saw of the vmks of `hosts`. [`View::everything`] when the coverage is
/// everything.
pub fn view(inv: &VmkInventory, hosts: &[String], coverage: &Coverage) -> View {
    if coverage.is_everything() {
        return View::everything();
    }
    // The hosts' runs of the inventory (sorted by host), not a scan per vmk and host: with an
    // inferred inventory each address is a host, and tens of thousands made this quadratic.
    let mut hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let vmks = hosts
        .iter()
        .flat_map(|h| inv.host_vmks(h))
        .map(|v| {
            let mut networks = service_networks(&v.services);
            // The other reading of an inventory that cannot say some services: a vmk without a
            // known service may have them.
            let maybe = v.services.is_empty() && !v.unknown_services.is_empty();
            if maybe {
                networks.extend(service_networks(&v.unknown_services));
                networks.sort();
                networks.dedup();
            }
            // The host's provisioning-or-management network under either reading.
            let provisioning_maybe = inv.host_vmks(&v.host).iter().any(|o| {
                o.services.is_empty() && o.unknown_services.contains(&Service::Provisioning)
            });
            let has_provisioning = inv.host_has_provisioning(&v.host);
            let seen = VmkSeen {
                host: v.host.clone(),
                vmk: v.name.clone(),
                networks,
                provisioning_or_management: false,
                seen: coverage.sees(&v.host, &v.name),
            };
            let mut wants = vec![if has_provisioning {
                Network::Provisioning
            } else {
                Network::Management
            }];
            if provisioning_maybe {
                wants.push(Network::Provisioning);
            }
            VmkSeen {
                provisioning_or_management: wants.iter().any(|n| seen.can_carry(*n)),
                ..seen
            }
        })
        .collect();
    View {
        partial: true,
        vmks,
    }
}

/// A test inventory of two hosts, esx01 and esx02: vmk0 management, vmk1 vMotion, vmk3 storage,
/// and vmk2 provisioning when `provisioning` asks for it.
#[cfg(test)]
pub(crate) fn two_hosts(provisioning: bool) -> VmkInventory {
    use crate::classify::inventory::{InventorySource, Vmk};
    let vmk = |host: &str, name: &str, services: &[Service]| Vmk {
        host: host.into(),
        name: name.into(),
        addrs: Vec::new(),
        vlan: None,
        mac: None,
        speed_mbps: None,
        services: services.to_vec(),
        unknown_services: Vec::new(),
        mtu: None,
    };
    let mut vmks = Vec::new();
    for h in ["esx01", "esx02"] {
        vmks.push(vmk(h, "vmk0", &[Service::Management]));
        vmks.push(vmk(h, "vmk1", &[Service::Vmotion]));
        if provisioning {
            vmks.push(vmk(h, "vmk2", &[Service::Provisioning]));
        }
        vmks.push(vmk(h, "vmk3", &[]));
    }
    VmkInventory::new(vmks, InventorySource::None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::inventory::network_for;
    use crate::vocab::ports::TrafficClass;
    use crate::vocab::vantage::{Vantage, VantageSource};

    fn only(views: &[(&str, &str, Direction)]) -> Coverage {
        Coverage {
            vantages: views
                .iter()
                .map(|(h, v, d)| Vantage {
                    host: Some(h.to_string()),
                    vmk: Some(v.to_string()),
                    direction: *d,
                    source: VantageSource::Option,
                })
                .collect(),
        }
    }

    #[test]
    fn can_carry_is_the_attribution_rule() {
        use Service::*;
        let sets: [&[Service]; 7] = [
            &[],
            &[Management],
            &[Vmotion],
            &[Provisioning],
            &[Management, Vmotion],
            &[Vsan],
            &[NvmeTcp, Ft],
        ];
        for services in sets {
            let v = VmkSeen {
                host: "h".into(),
                vmk: "vmk9".into(),
                networks: service_networks(services),
                provisioning_or_management: false,
                seen: None,
            };
            let attributed: BTreeSet<Network> = TrafficClass::ALL
                .iter()
                .map(|c| network_for(services, *c))
                .collect();
            for n in Network::ALL {
                assert_eq!(
                    v.can_carry(n),
                    attributed.contains(&n),
                    "{services:?} {n:?}"
                );
            }
        }
    }

    #[test]
    fn everything_sees_all() {
        let inv = two_hosts(true);
        let v = view(&inv, &["esx01".into()], &Coverage::everything());
        assert_eq!(v, View::everything());
        assert!(v.complete());
        assert_eq!(v.unseen().count(), 0);
    }

    #[test]
    fn vmk0_only_leaves_the_other_networks_unseen() {
        let inv = two_hosts(true);
        let hosts = vec!["esx01".to_string(), "esx02".to_string()];
        let c = only(&[
            ("esx01", "vmk0", Direction::Both),
            ("esx02", "vmk0", Direction::Tx),
        ]);
        let v = view(&inv, &hosts, &c);
        assert!(v.partial);
        assert!(!v.complete());
        assert_eq!(v.vmks.len(), 8);
        let unseen: Vec<String> = v.unseen().map(|v| v.describe()).collect();
        assert_eq!(
            unseen,
            [
                "esx01 vmk1 (vmotion)",
                "esx01 vmk2 (provisioning)",
                "esx01 vmk3 (storage)",
                "esx02 vmk1 (vmotion)",
                "esx02 vmk2 (provisioning)",
                "esx02 vmk3 (storage)",
            ]
        );
        // The hosts have provisioning vmks: those are their provisioning-or-management network.
        let pom: Vec<&str> = v
            .vmks
            .iter()
            .filter(|v| v.provisioning_or_management)
            .map(|v| v.vmk.as_str())
            .collect();
        assert_eq!(pom, ["vmk2", "vmk2"]);
        assert_eq!(v.vmks[1].seen, None);
        assert_eq!(v.vmks[4].seen, Some(Direction::Tx));
        // One host's view says nothing of the other's vmks.
        let one = view(&inv, &["esx01".into()], &c);
        assert_eq!(one.vmks.len(), 4);
    }

    #[test]
    fn tx_of_every_vmk_is_complete() {
        let inv = two_hosts(true);
        let mut views = Vec::new();
        for h in ["esx01", "esx02"] {
            for v in ["vmk0", "vmk1", "vmk2", "vmk3"] {
                views.push((h, v, Direction::Tx));
            }
        }
        let v = view(&inv, &["esx01".into(), "esx02".into()], &only(&views));
        assert!(v.partial);
        assert!(v.complete());
    }

    #[test]
    fn hosts_fall_back_to_data_then_inventory() {
        let inv = two_hosts(true);
        let label: BTreeSet<String> = ["esx02".to_string()].into();
        assert_eq!(hosts_of(&label, &["esx01".into()], &inv), ["esx02"]);
        assert_eq!(
            hosts_of(&BTreeSet::new(), &["esx01".into()], &inv),
            ["esx01"]
        );
        assert_eq!(hosts_of(&BTreeSet::new(), &[], &inv), ["esx01", "esx02"]);
        // A partial view of hosts the inventory does not know says nothing.
        let v = view(
            &inv,
            &["esx09".into()],
            &only(&[("esx09", "vmk0", Direction::Both)]),
        );
        assert!(v.unknown());
        assert!(!v.complete());
    }
}
