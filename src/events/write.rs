//! Exports written from labels (`vmkflow synth --events-out`): what vCenter's events and the
//! hosts' vmkernel logs would have recorded of the migrations, in the formats [`super::read`]
//! reads. They make the synthetic captures testable without typing labels.

use crate::labels::Migration;
use crate::vocab::kind::{MigrationKind, PowerState};

/// Civil time with `digits` fractional digits (7: .NET's round-trip `o` format; 3: ESXi logs).
fn stamp(ns: i64, digits: u32) -> String {
    let full = crate::vocab::time::rfc3339(ns);
    // `…SS.fffffffffZ`: keep `digits` of the nine.
    let cut = full.len() - 1 - (9 - digits as usize);
    format!("{}Z", &full[..cut])
}

/// `ns` rounded down (`up`: up) to a multiple of `unit`.
fn round(ns: i64, unit: i64, up: bool) -> i64 {
    let down = ns.div_euclid(unit) * unit;
    if up && down != ns { down + unit } else { down }
}

/// The datastores of a migration: storage kinds move from `ds01` to `ds02`.
fn datastores(m: &Migration) -> (&'static str, &'static str) {
    match m.kind {
        MigrationKind::Vmotion => ("ds01", "ds01"),
        _ => ("ds01", "ds02"),
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A PowerCLI events export (`Get-VIEvent | Select-Object … | Export-Csv -NoTypeInformation`
/// with the columns README.md lists): a start and a completion event per migration, times in
/// the round-trip format (100 ns; start rounded down, end up, so the window holds the labels').
pub fn powercli_csv(migrations: &[Migration]) -> String {
    let cols = [
        "EventType",
        "CreatedTime",
        "Key",
        "ChainId",
        "UserName",
        "Vm",
        "Host",
        "Ds",
        "DestHost",
        "DestDatastore",
        "SourceHost",
        "SourceDatastore",
        "PowerState",
        "MemoryMB",
        "ProvisionedSpaceGB",
        "Version",
        "FullFormattedMessage",
    ];
    let mut out = cols.map(quote).join(",");
    out.push_str("\r\n");
    let mut key = 1000u64;
    for m in migrations {
        let (src_ds, dst_ds) = datastores(m);
        let vm = m.vm.clone().unwrap_or_else(|| m.id.clone());
        let src = m.source_host.clone().unwrap_or_default();
        // vCenter records a Storage vMotion on the host that runs the VM: the host stays.
        let dst = match m.kind {
            MigrationKind::StorageVmotion => src.clone(),
            _ => m.dest_host.clone().unwrap_or_default(),
        };
        let relocation = m.kind == MigrationKind::StorageVmotion && m.state == PowerState::Cold;
        let (start_type, end_type) = match (m.state, relocation) {
            (PowerState::Hot, _) => ("VmBeingHotMigratedEvent", "VmMigratedEvent"),
            (PowerState::Cold, false) => ("VmBeingMigratedEvent", "VmMigratedEvent"),
            (PowerState::Cold, true) => ("VmBeingRelocatedEvent", "VmRelocatedEvent"),
        };
        let power = match m.state {
            PowerState::Hot => "PoweredOn",
            PowerState::Cold => "PoweredOff",
        };
        let num = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        let disk_gb = m
            .disk_mb
            .map(|d| (d as f64 / 1024.0).to_string())
            .unwrap_or_default();
        let version = m.vsphere_version.clone().unwrap_or_default();
        let chain = key;
        let start_msg = format!("Migrating {vm} from {src}, {src_ds} to {dst}, {dst_ds}");
        let end_msg = format!(
            "Migration of virtual machine {vm} from {src}, {src_ds} to {dst}, {dst_ds} completed"
        );
        let rows: [[String; 17]; 2] = [
            [
                start_type.into(),
                stamp(round(m.start.0, 100, false), 7),
                key.to_string(),
                chain.to_string(),
                "VSPHERE.LOCAL\\Administrator".into(),
                vm.clone(),
                src.clone(),
                src_ds.into(),
                dst.clone(),
                dst_ds.into(),
                String::new(),
                String::new(),
                power.into(),
                num(m.memory_mb),
                disk_gb.clone(),
                version.clone(),
                start_msg,
            ],
            [
                end_type.into(),
                stamp(round(m.end.0, 100, true), 7),
                (key + 1).to_string(),
                chain.to_string(),
                "VSPHERE.LOCAL\\Administrator".into(),
                vm.clone(),
                dst.clone(),
                dst_ds.into(),
                String::new(),
                String::new(),
                src.clone(),
                src_ds.into(),
                power.into(),
                num(m.memory_mb),
                disk_gb,
                version,
                end_msg,
            ],
        ];
        for r in rows {
            out.push_str(&r.iter().map(|f| quote(f)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        key += 2;
    }
    out
}

/// vmkernel log lines of the hot migrations that move a VM between hosts (vMotion, xvMotion),
/// as a syslog server stores both hosts' lines (`<PRI>TIME HOST vmkernel: …`): the start line on
/// each host, with the migration id and the vMotion addresses `vmotion_ip` gives, and the
/// source's switchover line at the end. Times in milliseconds: start rounded down, end up.
pub fn vmkernel_log(
    migrations: &[Migration],
    vmotion_ip: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::new();
    for (n, m) in migrations.iter().enumerate() {
        if m.state != PowerState::Hot || m.kind == MigrationKind::StorageVmotion {
            continue;
        }
        let src = m.source_host.clone().unwrap_or_else(|| "esx-source".into());
        let dst = m.dest_host.clone().unwrap_or_else(|| "esx-dest".into());
        let ip = |h: &str| vmotion_ip(h).unwrap_or_else(|| "0.0.0.0".into());
        let id = m.start.0.div_euclid(1000) + n as i64;
        let (start, end) = (
            stamp(round(m.start.0, 1_000_000, false), 3),
            stamp(round(m.end.0, 1_000_000, true), 3),
        );
        let (wid_s, wid_d) = (2_100_000 + n * 10, 2_200_000 + n * 10);
        let (a, b) = (ip(&src), ip(&dst));
        out.push_str(&format!(
            "<166>{start} {src} vmkernel: cpu1:{wid_s})Migrate: 314: vmotion: Source vmmLeaderID = {wid_s}, ts = {id}, srcIP = <{a}> dstIP = <{b}> Dest wid = {wid_d} using SHARED swap, encrypted\n"
        ));
        out.push_str(&format!(
            "<166>{start} {dst} vmkernel: cpu2:{wid_d})Migrate: 314: vmotion: Dest vmmLeaderID = {wid_d}, ts = {id}, srcIP = <{a}> dstIP = <{b}> Dest wid = 0 using SHARED swap, encrypted\n"
        ));
        out.push_str(&format!(
            "<166>{end} {src} vmkernel: cpu1:{wid_s})VMotion: 4914: {id} S: Stopping pre-copy: only 0 pages left to send, which can be sent within the switchover time goal of 0.500 seconds\n"
        ));
    }
    out
}
