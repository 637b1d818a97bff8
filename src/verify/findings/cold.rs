//! Cold data of a migration: findings `cold-data-transport` (NFC or vSphere 8's UDT) and
//! `provisioning-vmk-unused`.
//!
//! *Cold data* is what a migration moves outside the vMotion memory stream: the disks of a cold
//! migration, the non-active snapshot disks of a hot xvMotion. It moves by NFC (TCP 902) or, from
//! vSphere 8 with the provisioning service enabled, by UDT: the vMotion protocol on TCP 8000,
//! with NFC left to control. The flows counted are the flows kept whole of class `nfc` and, for a
//! cold migration, of class `vmotion`, that overlap the migration's window and have an end on one
//! of its hosts; their bytes are their payload bytes both ways over the whole flow.
//!
//! - `cold-data-transport` (`info`): per migration with such bytes, which transport carried the
//!   bulk (`udt` when the TCP 8000 bytes of a cold migration exceed the NFC bytes, else `nfc`),
//!   the bytes of each and the vmk pairs that carried them, with the vmks' services.
//! - `provisioning-vmk-unused` (`warning`, given inventories only): a vmk with the provisioning
//!   service on one of the migration's hosts that is an end of none of those flows with bytes,
//!   while the cold data went over other vmks of that host (KB 340170: e.g. the routed case, where
//!   the source uses vmk0).

use std::collections::BTreeMap;

use serde_json::json;

use super::streams::Names;
use super::{Finding, FindingsConfig, Severity};
use crate::classify::KeptFlow;
use crate::classify::inventory::{InventorySource, Service, VmkInventory};
use crate::migration::Analysed;
use crate::vocab::kind::PowerState;
use crate::vocab::ports::TrafficClass;
use crate::vocab::wire::IpProtocol;

/// Bytes of the cold-data flows of one vmk pair, by transport.
#[derive(Default)]
struct Pair {
    nfc: u64,
    udt: u64,
}

/// The cold-data findings of a migration.
pub fn cold_data(
    cfg: &FindingsConfig,
    m: &Analysed,
    flows: &[KeptFlow],
    inv: &VmkInventory,
) -> Vec<Finding> {
    let names = Names::new(inv);
    let cold = m.kind_state.state == PowerState::Cold;
    let mut pairs: BTreeMap<(String, String), Pair> = BTreeMap::new();
    // Per host: bytes per vmk name of the flows with an end on it.
    let mut by_host: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let (mut nfc, mut udt) = (0u64, 0u64);
    for k in flows {
        let f = &k.flow;
        let udt_flow = cold && k.class == TrafficClass::Vmotion;
        if f.key.proto != IpProtocol::Tcp || !(k.class == TrafficClass::Nfc || udt_flow) {
            continue;
        }
        let (Some(first), Some(last)) = (f.first_ts(), f.last_ts()) else {
            continue;
        };
        let (c, s, vlan) = (f.client().ip, f.server().ip, f.key.vlan);
        if first >= m.end || last < m.start || !names.on_hosts(m, c, s, vlan) {
            continue;
        }
        let bytes = f.payload_bytes();
        if bytes == 0 {
            continue;
        }
        let p = pairs
            .entry((names.name(c, vlan), names.name(s, vlan)))
            .or_default();
        if udt_flow {
            p.udt += bytes;
            udt += bytes;
        } else {
            p.nfc += bytes;
            nfc += bytes;
        }
        for ip in [c, s] {
            if let Some(v) = names.vmk(ip, vlan) {
                *by_host
                    .entry(v.host.clone())
                    .or_default()
                    .entry(v.name.clone())
                    .or_default() += bytes;
            }
        }
    }
    if nfc + udt == 0 {
        return Vec::new();
    }
    let given = !matches!(
        inv.source,
        InventorySource::Inferred | InventorySource::None
    );
    // The services of a given inventory (an inferred one takes them from this very traffic).
    let services = |name: &str| -> Vec<&'static str> {
        if !given {
            return Vec::new();
        }
        name.split_once('/')
            .and_then(|(h, v)| inv.host_vmks(h).iter().find(|x| x.name == v))
            .map(|v| v.services.iter().map(|s| s.name()).collect())
            .unwrap_or_default()
    };
    let transport = if udt > nfc { "udt" } else { "nfc" };
    let bulk: Vec<String> = pairs
        .iter()
        .filter(|(_, p)| if udt > nfc { p.udt > 0 } else { p.nfc > 0 })
        .map(|((a, b), _)| {
            let sv = |n: &str| {
                let s = services(n);
                if s.is_empty() {
                    n.to_string()
                } else {
                    format!("{n} ({})", s.join(", "))
                }
            };
            format!("{} -> {}", sv(a), sv(b))
        })
        .collect();
    let version = m.vsphere_version.as_deref();
    let major = version.and_then(|v| v.split('.').next()?.parse::<u32>().ok());
    let mut message = match transport {
        "udt" => format!(
            "cold data moved with UDT: {udt} bytes over TCP 8000 ({}), NFC on 902 carried {nfc} bytes of control",
            bulk.join("; ")
        ),
        _ => format!(
            "cold data moved with NFC: {nfc} bytes over TCP 902 ({})",
            bulk.join("; ")
        ),
    };
    match (transport, major) {
        ("udt", Some(v)) if v < 8 => message.push_str(&format!(
            "; the labels say vSphere {}, before UDT (vSphere 8)",
            version.unwrap_or_default()
        )),
        ("nfc", Some(v)) if v >= 8 && cold && udt == 0 => message.push_str(
            "; vSphere 8 moves cold data with UDT when both hosts have a provisioning vmk",
        ),
        _ => {}
    }
    let mut out = vec![Finding {
        id: "cold-data-transport",
        severity: Severity::Info,
        migration: Some(m.id.clone()),
        message,
        evidence: json!({
            "transport": transport,
            "nfc_bytes": nfc,
            "udt_bytes": udt,
            "by_vmk_pair": pairs.iter().map(|((a, b), p)| (format!("{a} -> {b}"), json!({
                "nfc_bytes": p.nfc,
                "udt_bytes": p.udt,
                "services": [services(a), services(b)],
            }))).collect::<serde_json::Map<_, _>>(),
            "vsphere_version": version,
        }),
        reference: cfg.reference("cold-data-transport"),
    }];
    if matches!(
        inv.source,
        InventorySource::Inferred | InventorySource::None
    ) {
        return out;
    }
    for h in &m.hosts {
        let carried = by_host.get(h);
        let Some(carried) = carried.filter(|c| c.values().any(|b| *b > 0)) else {
            continue;
        };
        for v in inv.host_vmks(h) {
            if !v.services.contains(&Service::Provisioning)
                || carried.get(&v.name).is_some_and(|b| *b > 0)
            {
                continue;
            }
            let others: Vec<String> = carried
                .iter()
                .map(|(n, b)| format!("{h}/{n} ({b} bytes)"))
                .collect();
            out.push(Finding {
                id: "provisioning-vmk-unused",
                severity: Severity::Warning,
                migration: Some(m.id.clone()),
                message: format!(
                    "{h}/{} has the provisioning service but carried none of the cold data; {h}'s share went over {}",
                    v.name,
                    others.join(", ")
                ),
                evidence: json!({
                    "vmk": format!("{h}/{}", v.name),
                    "cold_bytes": nfc + udt,
                    "carried_by": carried.iter().map(|(n, b)| (format!("{h}/{n}"), json!(b))).collect::<serde_json::Map<_, _>>(),
                }),
                reference: cfg.reference("provisioning-vmk-unused"),
            });
        }
    }
    out
}
