//! The VMkernel inventory as the classifier uses it: vmks with addresses, VLAN, MAC and services,
//! looked up by endpoint address, and the rule that names an endpoint's network.
//!
//! In: vmk descriptions (from an inventory file or a PowerCLI CSV, read by
//! [`VmkInventory::load`], or inferred from traffic). Out: for an endpoint address (and VLAN, MAC),
//! the host and vmk it belongs to, and for a vmk and a traffic class, the [`Network`] that carried
//! it.
//!
//! The inventory's file forms live in the submodules: [`file`](mod@file) (the JSON file a user
//! edits and `--write-inventory` writes, loading and saving) and [`powercli`] (a PowerCLI CSV
//! export). They convert into [`VmkInventory`]; this module knows nothing of files.

pub mod file;
pub mod powercli;

use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::vocab::Mac;
use crate::vocab::ports::TrafficClass;

pub use file::{Host, InvalidInventory, Inventory, InventoryError, Vmknic};
pub use powercli::{Export, PowerCliError};

/// A VMkernel service tag (vSphere's `HostVirtualNicManagerNicType`, in snake case).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Management traffic.
    Management,
    /// vMotion.
    Vmotion,
    /// Provisioning (`vSphereProvisioning`): NFC for cold migration, clones, snapshots.
    Provisioning,
    /// Fault Tolerance logging.
    Ft,
    /// vSphere Replication.
    VsphereReplication,
    /// vSphere Replication NFC.
    VsphereReplicationNfc,
    /// vSAN.
    Vsan,
    /// vSAN witness.
    VsanWitness,
    /// vSphere Backup NFC.
    BackupNfc,
    /// NVMe over TCP.
    NvmeTcp,
}

impl Service {
    /// The snake_case name used in inventory files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Service::Management => "management",
            Service::Vmotion => "vmotion",
            Service::Provisioning => "provisioning",
            Service::Ft => "ft",
            Service::VsphereReplication => "vsphere_replication",
            Service::VsphereReplicationNfc => "vsphere_replication_nfc",
            Service::Vsan => "vsan",
            Service::VsanWitness => "vsan_witness",
            Service::BackupNfc => "backup_nfc",
            Service::NvmeTcp => "nvme_tcp",
        }
    }

    /// The network a vmk with this service is on.
    pub fn network(self) -> Network {
        match self {
            Service::Management => Network::Management,
            Service::Vmotion => Network::Vmotion,
            Service::Provisioning => Network::Provisioning,
            Service::Ft => Network::Ft,
            Service::VsphereReplication | Service::VsphereReplicationNfc => Network::Replication,
            Service::Vsan | Service::VsanWitness => Network::Vsan,
            Service::BackupNfc => Network::Backup,
            Service::NvmeTcp => Network::Storage,
        }
    }
}

/// The network an endpoint's traffic is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// A management vmk (vmk0 usually).
    Management,
    /// A vMotion vmk.
    Vmotion,
    /// A provisioning vmk.
    Provisioning,
    /// A vmk without service used for NFS/iSCSI/NVMe, or tagged NVMe/TCP.
    Storage,
    /// A vSAN vmk.
    Vsan,
    /// A Fault Tolerance vmk.
    Ft,
    /// A vSphere Replication vmk.
    Replication,
    /// A backup NFC vmk.
    Backup,
    /// Not a vmk; a virtual machine's MAC (VMware OUI).
    Vm,
    /// Not a vmk and not a VM: vCenter, arrays, anything else.
    External,
}

impl Network {
    /// Every network, in report order.
    pub const ALL: [Network; 10] = [
        Network::Management,
        Network::Vmotion,
        Network::Provisioning,
        Network::Storage,
        Network::Vsan,
        Network::Ft,
        Network::Replication,
        Network::Backup,
        Network::Vm,
        Network::External,
    ];

    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Network::Management => "management",
            Network::Vmotion => "vmotion",
            Network::Provisioning => "provisioning",
            Network::Storage => "storage",
            Network::Vsan => "vsan",
            Network::Ft => "ft",
            Network::Replication => "replication",
            Network::Backup => "backup",
            Network::Vm => "vm",
            Network::External => "external",
        }
    }

    /// Whether endpoints on this network are vmks.
    pub fn is_vmk(self) -> bool {
        !matches!(self, Network::Vm | Network::External)
    }
}

/// One VMkernel interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vmk {
    /// The host's name.
    pub host: String,
    /// The vmk's name (`vmk0`, …).
    pub name: String,
    /// Addresses with prefix lengths.
    pub addrs: Vec<(IpAddr, u8)>,
    /// VLAN id, when known.
    pub vlan: Option<u16>,
    /// MAC address, when known.
    pub mac: Option<Mac>,
    /// Link speed of its uplink in Mb/s, when the inventory gives it.
    pub speed_mbps: Option<u32>,
    /// Service tags; empty for a plain storage vmk.
    pub services: Vec<Service>,
    /// Services the inventory could not say (a PowerCLI export without their column): the vmk
    /// may have them or not.
    pub unknown_services: Vec<Service>,
    /// MTU of the vmk, when the inventory gives it.
    pub mtu: Option<u32>,
}

/// Where an inventory came from. JSON: `{"kind": "file", "path": "…"}`, `{"kind": "inferred"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "path")]
pub enum InventorySource {
    /// An inventory JSON file given with `--inventory` or found beside the capture.
    File(String),
    /// A PowerCLI CSV export.
    PowerCliCsv(String),
    /// Inferred from the traffic.
    Inferred,
    /// None: every endpoint is `vm` or `external`.
    None,
}

/// Vmks indexed for endpoint lookup. The vmks and their index are shared: a clone (the report
/// keeps one, the live view another) costs no copy of an inventory of a million vmks.
#[derive(Debug, Clone)]
pub struct VmkInventory {
    /// The vmks, sorted by host then name.
    pub vmks: Arc<Vec<Vmk>>,
    /// Where it came from.
    pub source: InventorySource,
    /// (address, vmk index), sorted by address for binary search.
    by_addr: Arc<Vec<(IpAddr, u32)>>,
    /// What a reader of the report should know about this inventory (e.g. service columns
    /// missing from an export).
    pub notes: Vec<String>,
}

impl VmkInventory {
    /// Indexes vmks.
    pub fn new(mut vmks: Vec<Vmk>, source: InventorySource) -> VmkInventory {
        vmks.sort_by(|a, b| (&a.host, &a.name).cmp(&(&b.host, &b.name)));
        let mut by_addr: Vec<(IpAddr, u32)> =
            Vec::with_capacity(vmks.iter().map(|v| v.addrs.len()).sum());
        for (i, v) in vmks.iter().enumerate() {
            // More than 2³² vmks would not fit in memory anyway.
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            by_addr.extend(v.addrs.iter().map(|(a, _)| (*a, i)));
        }
        by_addr.sort_unstable();
        VmkInventory {
            vmks: Arc::new(vmks),
            source,
            by_addr: Arc::new(by_addr),
            notes: Vec::new(),
        }
    }

    /// The host names, in inventory order (vmks are sorted by host), once each.
    pub fn host_names(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> = self.vmks.iter().map(|v| v.host.as_str()).collect();
        hosts.dedup();
        hosts
    }

    /// The services some vmk's inventory entry could not say, once each.
    pub fn unknown_services(&self) -> Vec<Service> {
        let mut all: Vec<Service> = self
            .vmks
            .iter()
            .flat_map(|v| v.unknown_services.iter().copied())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The other reading of an inventory with unknown services: each vmk without a known
    /// service has them all. `None` when no service is unknown.
    pub fn with_unknown_services(&self) -> Option<VmkInventory> {
        if self.vmks.iter().all(|v| v.unknown_services.is_empty()) {
            return None;
        }
        let mut other = self.clone();
        for v in Arc::make_mut(&mut other.vmks) {
            if v.services.is_empty() {
                v.services = v.unknown_services.clone();
            }
        }
        Some(other)
    }

    /// An empty inventory.
    pub fn empty() -> VmkInventory {
        VmkInventory::new(Vec::new(), InventorySource::None)
    }

    /// The vmk owning `ip`. When several vmks share the address (separate hosts on separate
    /// VLANs), the one whose VLAN matches wins; then the first by host and name.
    pub fn lookup(&self, ip: IpAddr, vlan: Option<u16>) -> Option<usize> {
        let start = self.by_addr.partition_point(|(a, _)| *a < ip);
        let matches = self.by_addr[start..]
            .iter()
            .take_while(|(a, _)| *a == ip)
            .map(|(_, i)| *i as usize);
        let mut first = None;
        for i in matches {
            if first.is_none() {
                first = Some(i);
            }
            if vlan.is_some() && self.vmks[i].vlan == vlan {
                return Some(i);
            }
        }
        first
    }

    /// The vmk whose subnet holds `ip` with the longest prefix (for endpoints that are no vmk).
    pub fn subnet_of(&self, ip: IpAddr) -> Option<usize> {
        let mut best: Option<(u8, usize)> = None;
        for (i, v) in self.vmks.iter().enumerate() {
            for (a, p) in &v.addrs {
                if in_prefix(ip, *a, *p) && best.is_none_or(|(bp, _)| *p > bp) {
                    best = Some((*p, i));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// The network of an endpoint: its vmk's service narrowed by the flow's class, or `vm` /
    /// `external` when it is no vmk.
    pub fn network(&self, vmk: Option<usize>, mac: Option<Mac>, class: TrafficClass) -> Network {
        match vmk.and_then(|i| self.vmks.get(i)) {
            Some(v) => network_for(&v.services, class),
            None if mac.is_some_and(Mac::is_vmware) => Network::Vm,
            None => Network::External,
        }
    }
}

/// Parses `10.0.20.11/24`, `fd00::1/64` or a bare address (a host prefix).
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip: IpAddr = a.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match p {
        Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
        None => max,
    };
    Some((ip, prefix))
}

impl VmkInventory {
    /// The vmks of a host. `vmks` is sorted by host (see `new`): the host's run is searched
    /// instead of scanned, which made reports of captures with tens of thousands of addresses
    /// quadratic.
    pub fn host_vmks(&self, host: &str) -> &[Vmk] {
        let start = self.vmks.partition_point(|v| v.host.as_str() < host);
        let len = self.vmks[start..]
            .iter()
            .take_while(|v| v.host == host)
            .count();
        &self.vmks[start..start + len]
    }

    /// Whether a host has a vmk tagged provisioning.
    pub fn host_has_provisioning(&self, host: &str) -> bool {
        self.host_vmks(host)
            .iter()
            .any(|v| v.services.contains(&Service::Provisioning))
    }
}

/// Whether `ip` is inside `net/prefix`.
pub fn in_prefix(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let p = prefix.min(32) as u32;
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let p = prefix.min(128) as u32;
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// Services that may carry a class, most specific first.
fn preferred(class: TrafficClass) -> &'static [Service] {
    use Service::*;
    match class {
        TrafficClass::Vmotion => &[Vmotion, Provisioning, Management],
        TrafficClass::Nfc => &[
            Provisioning,
            Management,
            VsphereReplicationNfc,
            BackupNfc,
            Vmotion,
        ],
        TrafficClass::Nfs | TrafficClass::Iscsi => &[NvmeTcp],
        TrafficClass::Vsan => &[Vsan, VsanWitness],
        TrafficClass::Ft => &[Ft],
        TrafficClass::Replication => &[VsphereReplication, VsphereReplicationNfc],
        TrafficClass::VsphereApi
        | TrafficClass::Heartbeat
        | TrafficClass::Mks
        | TrafficClass::Dns
        | TrafficClass::Ntp => &[Management],
        TrafficClass::Dvssync | TrafficClass::Overlay | TrafficClass::Other => &[],
    }
}

/// The network a vmk with `services` uses for `class`.
///
/// The first of the class's preferred services the vmk has names the network (a vmk0 tagged
/// management + vmotion carrying TCP 8000 is on `vmotion`). Storage classes on a vmk without
/// a matching tag are `storage`; otherwise the vmk's first service names it, and a vmk without
/// any service is `storage`.
pub fn network_for(services: &[Service], class: TrafficClass) -> Network {
    if let Some(s) = preferred(class).iter().find(|s| services.contains(s)) {
        return s.network();
    }
    if matches!(class, TrafficClass::Nfs | TrafficClass::Iscsi) {
        return Network::Storage;
    }
    services.first().map_or(Network::Storage, |s| s.network())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vmk(host: &str, name: &str, ip: &str, vlan: u16, services: &[Service]) -> Vmk {
        Vmk {
            host: host.into(),
            name: name.into(),
            addrs: vec![(ip.parse().unwrap(), 24)],
            vlan: Some(vlan),
            mac: None,
            speed_mbps: None,
            services: services.to_vec(),
            unknown_services: Vec::new(),
            mtu: None,
        }
    }

    #[test]
    fn service_names_are_their_json() {
        use Service::*;
        for s in [
            Management,
            Vmotion,
            Provisioning,
            Ft,
            VsphereReplication,
            VsphereReplicationNfc,
            Vsan,
            VsanWitness,
            BackupNfc,
            NvmeTcp,
        ] {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.name())
            );
        }
    }

    #[test]
    fn service_narrowed_by_class() {
        use Service::*;
        assert_eq!(
            network_for(&[Management, Vmotion], TrafficClass::Vmotion),
            Network::Vmotion
        );
        assert_eq!(
            network_for(&[Management, Vmotion], TrafficClass::Nfc),
            Network::Management
        );
        assert_eq!(
            network_for(&[Provisioning], TrafficClass::Vmotion),
            Network::Provisioning
        );
        assert_eq!(network_for(&[], TrafficClass::Nfs), Network::Storage);
        assert_eq!(
            network_for(&[Vmotion], TrafficClass::Iscsi),
            Network::Storage
        );
        assert_eq!(network_for(&[Vsan], TrafficClass::Other), Network::Vsan);
        assert_eq!(network_for(&[], TrafficClass::Other), Network::Storage);
    }

    #[test]
    fn lookup_by_address_and_vlan() {
        let inv = VmkInventory::new(
            vec![
                vmk("esx02", "vmk1", "10.0.20.12", 20, &[Service::Vmotion]),
                vmk("esx01", "vmk1", "10.0.20.11", 20, &[Service::Vmotion]),
                vmk("esx03", "vmk1", "10.0.20.11", 21, &[Service::Vmotion]),
            ],
            InventorySource::None,
        );
        let i = inv.lookup("10.0.20.12".parse().unwrap(), None).unwrap();
        assert_eq!(inv.vmks[i].host, "esx02");
        let i = inv.lookup("10.0.20.11".parse().unwrap(), Some(21)).unwrap();
        assert_eq!(inv.vmks[i].host, "esx03");
        let i = inv.lookup("10.0.20.11".parse().unwrap(), None).unwrap();
        assert_eq!(inv.vmks[i].host, "esx01");
        assert_eq!(inv.lookup("10.0.20.13".parse().unwrap(), None), None);
        let s = inv.subnet_of("10.0.20.200".parse().unwrap()).unwrap();
        assert_eq!(inv.vmks[s].host, "esx01");
        assert_eq!(
            inv.network(
                None,
                Some(Mac([0, 0x50, 0x56, 1, 2, 3])),
                TrafficClass::Other
            ),
            Network::Vm
        );
        assert_eq!(
            inv.network(None, None, TrafficClass::Nfs),
            Network::External
        );
    }

    #[test]
    fn prefixes() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_prefix(ip("10.1.2.3"), ip("10.1.0.0"), 16));
        assert!(!in_prefix(ip("10.2.2.3"), ip("10.1.0.0"), 16));
        assert!(in_prefix(ip("fd00:20::5"), ip("fd00:20::11"), 64));
        assert!(!in_prefix(ip("fd00:21::5"), ip("fd00:20::11"), 64));
        assert!(in_prefix(ip("1.2.3.4"), ip("9.9.9.9"), 0));
        assert!(!in_prefix(ip("1.2.3.4"), ip("::1"), 0));
    }

    #[test]
    fn a_clone_shares_the_vmks() {
        let inv = VmkInventory::new(
            vec![Vmk {
                host: "esx01".into(),
                name: "vmk0".into(),
                addrs: vec![("10.0.10.11".parse().unwrap(), 24)],
                vlan: None,
                mac: None,
                speed_mbps: None,
                services: Vec::new(),
                unknown_services: vec![Service::Provisioning],
                mtu: None,
            }],
            InventorySource::None,
        );
        let copy = inv.clone();
        assert!(Arc::ptr_eq(&inv.vmks, &copy.vmks));
        // The other reading of unknown services is its own.
        let other = inv.with_unknown_services().unwrap();
        assert!(!Arc::ptr_eq(&inv.vmks, &other.vmks));
        assert!(inv.vmks[0].services.is_empty());
        assert_eq!(other.vmks[0].services, [Service::Provisioning]);
    }
}
