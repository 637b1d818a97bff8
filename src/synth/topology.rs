//! The synthetic lab: two ESXi hosts with their vmknics, vCenter, an NFS array, DNS and NTP.
//!
//! In: whether a provisioning vmk exists and whether to use IPv6. Out: a [`Topology`] of nodes
//! (MAC, address, VLAN, capture interface) and the [`crate::classify::inventory::Inventory`] that
//! describes it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::classify::inventory::{Host, Inventory, Service, Vmknic};
use crate::vocab::Mac;

/// Index of a node in [`Topology::nodes`].
pub type NodeId = usize;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A vmknic of a host: (host index, vmk number).
    Vmk(usize, u8),
    /// vCenter Server.
    Vcenter,
    /// The NFS array.
    Array,
    /// The DNS server.
    Dns,
    /// The NTP server.
    Ntp,
}

/// One addressable endpoint.
#[derive(Debug, Clone)]
pub struct Node {
    /// `esx01-vmk1`, `vcenter`, `nfs-array`, …
    pub name: String,
    /// What it is.
    pub role: Role,
    /// Its MAC address.
    pub mac: Mac,
    /// Its address.
    pub ip: IpAddr,
    /// Prefix length of its subnet.
    pub prefix: u8,
    /// The VLAN of its network.
    pub vlan: u16,
}

/// VLAN of the VM network the RARP notifications go to.
pub const VM_VLAN: u16 = 100;
/// MAC of the router between the lab's subnets.
pub const ROUTER_MAC: Mac = Mac([0x00, 0x50, 0x56, 0xfe, 0x00, 0x01]);

/// The nodes of the lab and the hosts' capture interfaces.
#[derive(Debug, Clone)]
pub struct Topology {
    /// All nodes; host vmknics first.
    pub nodes: Vec<Node>,
    /// Host names, `esx01`, `esx02`.
    pub hosts: Vec<String>,
    /// Whether hosts have a provisioning vmk2.
    pub provisioning: bool,
    /// Uplink speed written into the inventory (`speed_mbps` of every vmk), when given.
    pub speed_mbps: Option<u32>,
    /// MTU of each host's vmks (index as `hosts`), when set (`--mtu`): written to the inventory
    /// and advertised as the MSS of their TCP SYNs (MTU − 40, IPv6 − 60).
    pub host_mtu: Vec<Option<u32>>,
}

/// The vmk numbers of extra vMotion vmknics, beyond vmk1 (multi-NIC vMotion, KB 2007467).
pub const EXTRA_VMOTION_VMKS: [u8; 3] = [4, 5, 6];

/// The subnet (second address octet / IPv6 group) and VLAN of each vmk number.
fn vmk_net(vmk: u8) -> u16 {
    match vmk {
        0 => 10,
        1 => 20,
        2 => 30,
        3 => 40,
        n => 10 * u16::from(n) + 10,
    }
}

fn address(ipv6: bool, net: u16, host: u16) -> (IpAddr, u8) {
    if ipv6 {
        // fd00:NET::HOST, written with the decimal digits as hex digits (fd00:20::11).
        let hex = |v: u16| u16::from_str_radix(&v.to_string(), 16).unwrap_or(v);
        (
            IpAddr::V6(Ipv6Addr::new(0xfd00, hex(net), 0, 0, 0, 0, 0, hex(host))),
            64,
        )
    } else {
        (IpAddr::V4(Ipv4Addr::new(10, 0, net as u8, host as u8)), 24)
    }
}

impl Topology {
    /// Builds the lab: management vmk0, vMotion vmk1, provisioning vmk2 (when `provisioning`),
    /// storage vmk3.
    pub fn new(provisioning: bool, ipv6: bool) -> Topology {
        Topology::with_vmotion_vmks(provisioning, ipv6, 1)
    }

    /// Builds the lab with `vmotion_vmks` vMotion vmknics per host (1 to 4): vmk1, then vmk4,
    /// vmk5 and vmk6, each on its own subnet and VLAN (50, 60, 70).
    pub fn with_vmotion_vmks(provisioning: bool, ipv6: bool, vmotion_vmks: usize) -> Topology {
        let hosts = vec!["esx01".to_string(), "esx02".to_string()];
        let mut nodes = Vec::new();
        let extra = vmotion_vmks.clamp(1, 1 + EXTRA_VMOTION_VMKS.len()) - 1;
        let numbers: Vec<u8> = (0..4u8)
            .chain(EXTRA_VMOTION_VMKS[..extra].iter().copied())
            .collect();
        for (h, name) in hosts.iter().enumerate() {
            for &vmk in &numbers {
                if vmk == 2 && !provisioning {
                    continue;
                }
                let net = vmk_net(vmk);
                let (ip, prefix) = address(ipv6, net, 11 + h as u16);
                nodes.push(Node {
                    name: format!("{name}-vmk{vmk}"),
                    role: Role::Vmk(h, vmk),
                    mac: Mac([0x00, 0x50, 0x56, 0x61 + h as u8, 0x00, vmk]),
                    ip,
                    prefix,
                    vlan: net,
                });
            }
        }
        let others = [
            ("vcenter", Role::Vcenter, 10, 5),
            ("nfs-array", Role::Array, 40, 100),
            ("dns", Role::Dns, 10, 2),
            ("ntp", Role::Ntp, 10, 3),
        ];
        for (i, (name, role, net, host)) in others.into_iter().enumerate() {
            let (ip, prefix) = address(ipv6, net, host);
            nodes.push(Node {
                name: name.to_string(),
                role,
                // vCenter is a VM (VMware OUI); the array, DNS and NTP servers are not
                // (locally administered MACs).
                mac: if role == Role::Vcenter {
                    Mac([0x00, 0x50, 0x56, 0xa0, 0x00, i as u8 + 1])
                } else {
                    Mac([0x02, 0x00, 0x00, 0xa0, 0x00, i as u8 + 1])
                },
                ip,
                prefix,
                vlan: net,
            });
        }
        Topology {
            nodes,
            hosts,
            provisioning,
            speed_mbps: None,
            host_mtu: Vec::new(),
        }
    }

    /// A host's vMotion vmknics: vmk1, then the extra ones in order.
    pub fn vmotion_vmks(&self, host: usize) -> Vec<NodeId> {
        std::iter::once(1)
            .chain(EXTRA_VMOTION_VMKS)
            .filter_map(|v| self.vmk(host, v))
            .collect()
    }

    /// The node of a host's vmk, if it exists.
    pub fn vmk(&self, host: usize, vmk: u8) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|n| n.role == Role::Vmk(host, vmk))
    }

    /// The first node with a role.
    pub fn find(&self, role: Role) -> NodeId {
        self.nodes.iter().position(|n| n.role == role).unwrap_or(0)
    }

    /// The vmk NFC uses on a host: provisioning when present, else management (KB 340170).
    pub fn nfc_vmk(&self, host: usize) -> NodeId {
        self.vmk(host, 2).or_else(|| self.vmk(host, 0)).unwrap_or(0)
    }

    /// The vmk of a host with a fixed role (0 management, 1 vMotion, 3 storage).
    pub fn host_vmk(&self, host: usize, vmk: u8) -> NodeId {
        self.vmk(host, vmk).unwrap_or(0)
    }

    /// Whether two nodes share a subnet (else frames go through the router).
    pub fn same_subnet(&self, a: NodeId, b: NodeId) -> bool {
        match (self.nodes.get(a), self.nodes.get(b)) {
            (Some(x), Some(y)) => x.vlan == y.vlan,
            _ => false,
        }
    }

    /// Capture interface names for pcapng: every host vmk, then each host's `vmnic0` (the VM
    /// network, where RARP leaves).
    pub fn interfaces(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| matches!(n.role, Role::Vmk(..)))
            .map(|n| n.name.clone())
            .collect();
        v.extend(self.hosts.iter().map(|h| format!("{h}-vmnic0")));
        v
    }

    /// The interface index of a node that is a host vmk.
    pub fn interface_of(&self, node: NodeId) -> Option<u32> {
        match self.nodes.get(node)?.role {
            Role::Vmk(..) => Some(node as u32),
            _ => None,
        }
    }

    /// The interface index of a host's `vmnic0`.
    pub fn uplink_interface(&self, host: usize) -> u32 {
        let vmks = self
            .nodes
            .iter()
            .filter(|n| matches!(n.role, Role::Vmk(..)))
            .count();
        (vmks + host) as u32
    }

    /// The MTU of `node`'s vmk when `--mtu` set it.
    pub fn mtu_of(&self, node: NodeId) -> Option<u32> {
        match self.nodes.get(node)?.role {
            Role::Vmk(h, _) => self.host_mtu.get(h).copied().flatten(),
            _ => None,
        }
    }

    /// The inventory that describes the hosts.
    pub fn inventory(&self) -> Inventory {
        let hosts = self
            .hosts
            .iter()
            .enumerate()
            .map(|(h, name)| Host {
                name: name.clone(),
                vmknics: self
                    .nodes
                    .iter()
                    .filter_map(|n| match n.role {
                        Role::Vmk(nh, vmk) if nh == h => Some(Vmknic {
                            name: format!("vmk{vmk}"),
                            ip: vec![format!("{}/{}", n.ip, n.prefix)],
                            vlan: Some(n.vlan),
                            mac: Some(n.mac.to_string()),
                            speed_mbps: self.speed_mbps,
                            services: match vmk {
                                0 => vec![Service::Management],
                                1 | 4.. => vec![Service::Vmotion],
                                2 => vec![Service::Provisioning],
                                _ => vec![],
                            },
                            unknown_services: Vec::new(),
                            mtu: self.host_mtu.get(h).copied().flatten(),
                        }),
                        _ => None,
                    })
                    .collect(),
            })
            .collect();
        Inventory { hosts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_addresses() {
        let t = Topology::new(true, false);
        let inv = t.inventory();
        assert_eq!(inv.hosts.len(), 2);
        assert_eq!(
            inv.hosts[0].vmknics[1].ip,
            vec!["10.0.20.11/24".to_string()]
        );
        assert_eq!(
            inv.hosts[1].vmknics[0].ip,
            vec!["10.0.10.12/24".to_string()]
        );
        assert!(inv.validate().is_ok());
        assert_eq!(t.nodes[t.nfc_vmk(0)].name, "esx01-vmk2");
        let t6 = Topology::new(false, true);
        assert_eq!(t6.nodes[t6.nfc_vmk(1)].name, "esx02-vmk0");
        assert_eq!(t6.nodes[t6.host_vmk(0, 1)].ip.to_string(), "fd00:20::11");
        assert_eq!(
            t6.nodes[t6.find(Role::Array)].ip.to_string(),
            "fd00:40::100"
        );
        assert!(t6.inventory().validate().is_ok());
        assert_eq!(t6.interfaces().len(), 8);
        assert_eq!(t6.uplink_interface(1), 7);
    }

    #[test]
    fn extra_vmotion_vmknics_have_their_own_subnets_and_the_vmotion_service() {
        let t = Topology::with_vmotion_vmks(true, false, 3);
        let v: Vec<String> = t
            .vmotion_vmks(1)
            .iter()
            .map(|&n| format!("{} {}", t.nodes[n].name, t.nodes[n].ip))
            .collect();
        assert_eq!(
            v,
            [
                "esx02-vmk1 10.0.20.12",
                "esx02-vmk4 10.0.50.12",
                "esx02-vmk5 10.0.60.12"
            ]
        );
        // Host vmknics stay first: interface numbers are node numbers.
        assert_eq!(t.interfaces().len(), 2 * 6 + 2);
        assert_eq!(t.interface_of(t.vmotion_vmks(1)[2]), Some(11));
        let inv = t.inventory();
        assert!(inv.validate().is_ok());
        let vmotion = inv.hosts[0]
            .vmknics
            .iter()
            .filter(|n| n.services == [Service::Vmotion])
            .count();
        assert_eq!(vmotion, 3);
        // One is what `new` builds.
        assert_eq!(
            Topology::with_vmotion_vmks(true, false, 1).nodes.len(),
            Topology::new(true, false).nodes.len()
        );
    }
}
