//! Inventory inference: without an inventory, guess which addresses are vmks, and with which
//! service, from the traffic they carried.
//!
//! In: the conversations of the whole capture. Out: a [`VmkInventory`] marked `inferred`, one vmk
//! per address (hosts cannot be told apart from traffic alone, so each address is its own
//! `host-<address>`). The rules, in order of strength:
//! - either end of TCP 8000 (vMotion) → a vMotion vmk;
//! - the client of UDP 902 (heartbeat to vCenter) → a management vmk;
//! - either end of TCP 902 (NFC) → management when the address has management evidence (above),
//!   else provisioning;
//! - the client of NFS or iSCSI → a storage vmk (no service); the server is an array, no vmk;
//! - either end of vSAN, FT or vSphere Replication traffic → a vmk with that service;
//! - the server of TCP 443 → management, only for an address that is already a vmk by the rules
//!   above (vCenter serves 443 too).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::ConvStats;
use super::inventory::{InventorySource, Service, Vmk, VmkInventory};
use crate::vocab::Mac;
use crate::vocab::conv::{ConvKey, Peer};
use crate::vocab::ports::TrafficClass;

/// Infers vmks from conversations. An address for which `may_be_vmk` says no (one beyond the
/// bound on the addresses kept for inference) is never made a vmk; an end folded away is none.
pub fn infer(
    convs: &[(ConvKey, ConvStats)],
    macs: &BTreeMap<IpAddr, Mac>,
    may_be_vmk: &dyn Fn(IpAddr) -> bool,
) -> VmkInventory {
    let mut services: BTreeMap<IpAddr, BTreeSet<Service>> = BTreeMap::new();
    let mut storage: BTreeSet<IpAddr> = BTreeSet::new();
    let mut nfc: BTreeSet<IpAddr> = BTreeSet::new();
    let mut api_servers: BTreeSet<IpAddr> = BTreeSet::new();
    let mut vlans: BTreeMap<IpAddr, u16> = BTreeMap::new();
    fn add(m: &mut BTreeMap<IpAddr, BTreeSet<Service>>, ips: &[Option<IpAddr>], s: Service) {
        for ip in ips.iter().flatten() {
            m.entry(*ip).or_default().insert(s);
        }
    }
    for (k, _) in convs {
        let end = |p: Peer| p.ip().filter(|ip| may_be_vmk(*ip));
        let (client, server) = (end(k.client), end(k.server));
        if let Some(v) = k.vlan {
            for ip in [client, server].into_iter().flatten() {
                vlans.entry(ip).or_insert(v);
            }
        }
        match k.class {
            TrafficClass::Vmotion => add(&mut services, &[client, server], Service::Vmotion),
            TrafficClass::Heartbeat => add(&mut services, &[client], Service::Management),
            TrafficClass::Nfc => nfc.extend([client, server].into_iter().flatten()),
            TrafficClass::Nfs | TrafficClass::Iscsi => storage.extend(client),
            TrafficClass::Vsan => add(&mut services, &[client, server], Service::Vsan),
            TrafficClass::Ft => add(&mut services, &[client, server], Service::Ft),
            TrafficClass::Replication => add(
                &mut services,
                &[client, server],
                Service::VsphereReplication,
            ),
            TrafficClass::VsphereApi => api_servers.extend(server),
            _ => {}
        }
    }
    for ip in nfc {
        let has_mgmt = services
            .get(&ip)
            .is_some_and(|s| s.contains(&Service::Management));
        if !has_mgmt {
            add(&mut services, &[Some(ip)], Service::Provisioning);
        }
    }
    for ip in api_servers {
        if let Some(s) = services.get_mut(&ip) {
            s.insert(Service::Management);
        }
    }
    let mut all: BTreeSet<IpAddr> = services.keys().copied().collect();
    all.extend(storage.iter().copied());
    let vmks = all
        .into_iter()
        .map(|ip| Vmk {
            host: format!("host-{ip}"),
            name: "vmk".to_string(),
            addrs: vec![(ip, if ip.is_ipv4() { 32 } else { 128 })],
            vlan: vlans.get(&ip).copied(),
            mac: macs.get(&ip).copied(),
            speed_mbps: None,
            services: services
                .get(&ip)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default(),
            unknown_services: Vec::new(),
            mtu: None,
        })
        .collect();
    VmkInventory::new(vmks, InventorySource::Inferred)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::wire::IpProtocol;

    fn conv(client: &str, server: &str, class: TrafficClass) -> (ConvKey, ConvStats) {
        (
            ConvKey {
                proto: if class == TrafficClass::Heartbeat {
                    IpProtocol::Udp
                } else {
                    IpProtocol::Tcp
                },
                client: Peer::Addr(client.parse().unwrap()),
                server: Peer::Addr(server.parse().unwrap()),
                class,
                vlan: None,
                shown: None,
            },
            ConvStats::default(),
        )
    }

    #[test]
    fn rules() {
        let convs = vec![
            conv("10.0.20.11", "10.0.20.12", TrafficClass::Vmotion),
            conv("10.0.10.11", "10.0.10.5", TrafficClass::Heartbeat),
            conv("10.0.10.5", "10.0.10.11", TrafficClass::VsphereApi),
            conv("10.0.10.11", "10.0.10.12", TrafficClass::Nfc),
            conv("10.0.30.11", "10.0.30.12", TrafficClass::Nfc),
            conv("10.0.40.11", "10.0.40.100", TrafficClass::Nfs),
        ];
        let inv = infer(&convs, &BTreeMap::new(), &|_| true);
        let svc = |ip: &str| {
            let i = inv.lookup(ip.parse().unwrap(), None)?;
            Some(inv.vmks[i].services.clone())
        };
        assert_eq!(svc("10.0.20.11"), Some(vec![Service::Vmotion]));
        assert_eq!(svc("10.0.10.11"), Some(vec![Service::Management]));
        assert_eq!(svc("10.0.10.12"), Some(vec![Service::Provisioning]));
        assert_eq!(svc("10.0.30.12"), Some(vec![Service::Provisioning]));
        assert_eq!(svc("10.0.40.11"), Some(vec![]));
        assert_eq!(svc("10.0.40.100"), None, "the array is no vmk");
        assert_eq!(svc("10.0.10.5"), None, "vCenter is no vmk");
        assert_eq!(inv.source, InventorySource::Inferred);
    }
}
