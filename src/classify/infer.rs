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
use crate::vocab::conv::ConvKey;
use crate::vocab::ports::TrafficClass;

/// Infers vmks from conversations.
pub fn infer(convs: &[(ConvKey, ConvStats)], macs: &BTreeMap<IpAddr, Mac>) -> VmkInventory {
    let mut services: BTreeMap<IpAddr, BTreeSet<Service>> = BTreeMap::new();
    let mut storage: BTreeSet<IpAddr> = BTreeSet::new();
    let mut nfc: BTreeSet<IpAddr> = BTreeSet::new();
    let mut api_servers: BTreeSet<IpAddr> = BTreeSet::new();
    let mut vlans: BTreeMap<IpAddr, u16> = BTreeMap::new();
    fn add(m: &mut BTreeMap<IpAddr, BTreeSet<Service>>, ip: IpAddr, s: Service) {
        m.entry(ip).or_default().insert(s);
    }
    for (k, _) in convs {
        if let Some(v) = k.vlan {
            vlans.entry(k.client).or_insert(v);
            vlans.entry(k.server).or_insert(v);
        }
        match k.class {
            TrafficClass::Vmotion => {
                add(&mut services, k.client, Service::Vmotion);
                add(&mut services, k.server, Service::Vmotion);
            }
            TrafficClass::Heartbeat => add(&mut services, k.client, Service::Management),
            TrafficClass::Nfc => {
                nfc.insert(k.client);
                nfc.insert(k.server);
            }
            TrafficClass::Nfs | TrafficClass::Iscsi => {
                storage.insert(k.client);
            }
            TrafficClass::Vsan => {
                add(&mut services, k.client, Service::Vsan);
                add(&mut services, k.server, Service::Vsan);
            }
            TrafficClass::Ft => {
                add(&mut services, k.client, Service::Ft);
                add(&mut services, k.server, Service::Ft);
            }
            TrafficClass::Replication => {
                add(&mut services, k.client, Service::VsphereReplication);
                add(&mut services, k.server, Service::VsphereReplication);
            }
            TrafficClass::VsphereApi => {
                api_servers.insert(k.server);
            }
            _ => {}
        }
    }
    for ip in nfc {
        let has_mgmt = services
            .get(&ip)
            .is_some_and(|s| s.contains(&Service::Management));
        if !has_mgmt {
            add(&mut services, ip, Service::Provisioning);
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
            services: services
                .get(&ip)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default(),
            unknown_services: Vec::new(),
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
                client: client.parse().unwrap(),
                server: server.parse().unwrap(),
                class,
                vlan: None,
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
        let inv = infer(&convs, &BTreeMap::new());
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
