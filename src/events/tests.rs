use std::path::Path;

use super::*;

fn run(files: &[(&str, &str)], tz: &str) -> Derived {
    let named: Vec<(&Path, &str)> = files.iter().map(|(p, t)| (Path::new(*p), *t)).collect();
    derive(&named, tz.parse().unwrap()).unwrap()
}

const HEAD: &str = "EventType,CreatedTime,Vm,Host,Ds,DestHost,DestDatastore,SourceHost,SourceDatastore,FullFormattedMessage\n";

#[test]
fn kinds_states_and_outcomes() {
    let csv = format!(
        "{HEAD}\
VmBeingHotMigratedEvent,2026-03-02T10:00:00Z,a,esx01,ds1,esx02,ds1,,,\n\
DrsVmMigratedEvent,2026-03-02T10:00:05Z,a,esx02,ds1,,,esx01,ds1,\n\
VmBeingMigratedEvent,2026-03-02T10:01:00Z,b,esx01,ds1,esx02,ds2,,,\n\
VmMigratedEvent,2026-03-02T10:01:09Z,b,esx02,ds2,,,esx01,ds1,\n\
VmBeingRelocatedEvent,2026-03-02T10:02:00Z,c,esx01,ds1,esx01,ds2,,,\n\
VmRelocatedEvent,2026-03-02T10:02:03Z,c,esx01,ds2,,,esx01,ds1,\n\
VmBeingHotMigratedEvent,2026-03-02T10:03:00Z,a,esx02,ds1,esx01,ds1,,,\n\
VmFailedMigrateEvent,2026-03-02T10:03:02Z,a,esx02,ds1,esx01,,,,Cannot migrate a\n\
VmBeingHotMigratedEvent,2026-03-02T10:04:00Z,a,esx02,ds1,esx01,ds1,,,\n\
VmMigratedEvent,2026-03-02T10:04:04Z,a,esx01,ds1,,,esx02,ds1,\n\
VmPoweredOnEvent,2026-03-02T10:05:00Z,a,esx01,ds1,,,,,\n"
    );
    let d = run(&[("e.csv", &csv)], "UTC");
    let got: Vec<String> = d
        .migrations
        .iter()
        .map(|m| {
            format!(
                "{} {} {}:{} {}>{} {}",
                m.id,
                m.vm.as_deref().unwrap(),
                m.kind.as_str(),
                m.state.as_str(),
                m.source_host.as_deref().unwrap(),
                m.dest_host.as_deref().unwrap(),
                (m.end.0 - m.start.0) / 1_000_000_000
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "m1 a vmotion:hot esx01>esx02 5",
            "m2 b xvmotion:cold esx01>esx02 9",
            "m3 c storage-vmotion:cold esx01>esx01 3",
            "m4 a vmotion:hot esx02>esx01 4",
        ]
    );
    assert!(d.origins[0].drs && !d.origins[1].drs);
    assert_eq!(d.unfinished.len(), 1);
    assert_eq!(d.unfinished[0].outcome, "failed");
    assert_eq!(d.unfinished[0].at, "e.csv: line 9");
    // The relocation said no power state.
    assert!(
        d.warnings
            .iter()
            .any(|w| w.starts_with("e.csv: line 6: nothing says whether c was powered on")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn zones_logs_and_tasks() {
    // Local times two hours ahead of UTC, in Export-Csv's en-US form.
    let csv = format!(
        "{HEAD}\
VmBeingHotMigratedEvent,3/2/2026 12:00:00 PM,a,esx01,ds1,esx02,ds1,,,\n\
VmMigratedEvent,3/2/2026 12:00:10 PM,a,esx02,ds1,,,esx01,ds1,\n\
VmMigratedEvent,3/2/2026 12:05:10 PM,b,esx02,ds1,,,esx01,ds1,\n"
    );
    let log = "\
2026-03-02T10:00:02.500Z esx01 vmkernel: cpu1:1)Migrate: 314: vmotion: Source vmmLeaderID = 1, ts = 123456789, srcIP = <10.0.20.11> dstIP = <10.0.20.12> Dest wid = 2 using SHARED swap
2026-03-02T10:00:02.600Z esx02 vmkernel: cpu1:2)Migrate: 314: vmotion: Dest vmmLeaderID = 2, ts = 123456789, srcIP = <10.0.20.11> dstIP = <10.0.20.12> Dest wid = 0 using SHARED swap
2026-03-02T10:00:07.250Z esx01 vmkernel: cpu1:1)VMotion: 4914: 123456789 S: Stopping pre-copy: only 3 pages left
";
    let tasks = "Name,State,StartTime,FinishTime,Entity\n\
RelocateVM_Task,Success,2026-03-02T12:05:00+02:00,2026-03-02T12:05:11+02:00,b\n\
RelocateVM_Task,Error,2026-03-02T12:09:00+02:00,2026-03-02T12:09:01+02:00,c\n";
    let d = run(
        &[("e.csv", &csv), ("vmkernel.log", log), ("t.csv", tasks)],
        "+02:00",
    );
    assert_eq!(d.migrations.len(), 2);
    let a = &d.migrations[0];
    // Narrowed to the log lines, which lie inside the events' window.
    assert_eq!(rfc3339(a.start.0), "2026-03-02T10:00:02.500000000Z");
    assert_eq!(rfc3339(a.end.0), "2026-03-02T10:00:07.250000000Z");
    assert!(d.origins[0].narrowed);
    // b's start is its task's.
    assert_eq!(
        rfc3339(d.migrations[1].start.0),
        "2026-03-02T10:05:00.000000000Z"
    );
    assert_eq!(d.unfinished.len(), 1);
    assert_eq!(
        (
            d.unfinished[0].vm.as_deref(),
            d.unfinished[0].outcome.as_str()
        ),
        (Some("c"), "failed")
    );
    assert_eq!(d.sources[0].times_without_zone, 3);
    assert_eq!(d.sources[0].read_in.as_deref(), Some("UTC+02:00"));
    assert_eq!(d.sources[1].format, "ESXi log");
    assert_eq!(d.sources[2].read_in, None);
}

#[test]
fn logs_alone_and_errors_name_the_file() {
    let log = "\
2026-03-02T10:00:00.000Z cpu1:1)Migrate: 314: vmotion: Source vmmLeaderID = 1, ts = 987654321, srcIP = <10.0.20.11> dstIP = <10.0.20.12> Dest wid = 2 using SHARED swap
2026-03-02T10:00:01.000Z cpu1:1)VMotion: 4914: 987654321 S: Stopping pre-copy
";
    let d = run(&[("vmkernel.log", log)], "UTC");
    assert_eq!(d.migrations.len(), 1);
    let m = &d.migrations[0];
    assert_eq!(
        (m.source_host.as_deref(), m.dest_host.as_deref(), m.state),
        (Some("10.0.20.11"), Some("10.0.20.12"), PowerState::Hot)
    );
    let bad = format!("{HEAD}VmMigratedEvent,soon,a,esx01,,,,,,\n");
    let e = derive(&[(Path::new("x.csv"), bad.as_str())], Tz::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "x.csv: line 2: CreatedTime `soon` is not a time (RFC 3339, M/d/yyyy h:mm:ss AM, or /Date(ms)/)"
    );
}

#[test]
fn written_exports_read_back() {
    let m = |id: &str, kind, state, s: i64, e: i64| Migration {
        id: id.into(),
        vm: Some(format!("vm-{id}")),
        kind,
        state,
        start: Timestamp(1_772_445_600_000_000_000 + s),
        end: Timestamp(1_772_445_600_000_000_000 + e),
        source_host: Some("esx01".into()),
        dest_host: Some(
            if kind == MigrationKind::StorageVmotion {
                "esx01"
            } else {
                "esx02"
            }
            .into(),
        ),
        memory_mb: Some(4096),
        disk_mb: Some(3),
        vsphere_version: Some("8.0".into()),
    };
    let labels = vec![
        m(
            "m1",
            MigrationKind::Xvmotion,
            PowerState::Hot,
            10_000,
            483_342_000,
        ),
        m(
            "m2",
            MigrationKind::StorageVmotion,
            PowerState::Cold,
            2_000_000_000,
            2_500_000_000,
        ),
        m(
            "m3",
            MigrationKind::Vmotion,
            PowerState::Cold,
            4_000_000_000,
            4_100_000_000,
        ),
    ];
    let csv = write::powercli_csv(&labels);
    let d = run(&[("e.csv", &csv)], "UTC");
    assert_eq!(d.migrations, labels);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    let log = write::vmkernel_log(&labels, &|h| Some(format!("ip-{h}")));
    let d = run(&[("vmkernel.log", &log)], "UTC");
    assert_eq!(d.migrations.len(), 1, "only the hot one between hosts");
    assert_eq!(d.migrations[0].start.0, 1_772_445_600_000_000_000);
    assert_eq!(d.migrations[0].end.0, 1_772_445_600_484_000_000);
    assert_eq!(d.migrations[0].source_host.as_deref(), Some("esx01"));
}

#[test]
fn log_lines_inside_a_task_without_events() {
    let tasks = "Name,State,StartTime,FinishTime,Entity\n\
MigrateVM_Task,Success,2026-03-02T10:00:00Z,2026-03-02T10:01:00Z,vm7\n\
MigrateVM_Task,Success,2026-03-02T11:00:00Z,2026-03-02T11:01:00Z,vm8\n";
    let log = "\
2026-03-02T10:00:10.000Z esx01 vmkernel: cpu1:1)Migrate: 314: vmotion: Source vmmLeaderID = 1, ts = 55555555, srcIP = <10.0.20.11> dstIP = <10.0.20.12> Dest wid = 2 using SHARED swap
2026-03-02T10:00:20.000Z esx01 vmkernel: cpu1:1)VMotion: 4914: 55555555 S: Stopping pre-copy
";
    let d = run(&[("t.csv", tasks), ("vmkernel.log", log)], "UTC");
    assert_eq!(d.migrations.len(), 1);
    let m = &d.migrations[0];
    assert_eq!(m.vm.as_deref(), Some("vm7"));
    assert_eq!((m.kind, m.state), (MigrationKind::Vmotion, PowerState::Hot));
    assert_eq!(rfc3339(m.start.0), "2026-03-02T10:00:10.000000000Z");
    assert_eq!(rfc3339(m.end.0), "2026-03-02T10:00:20.000000000Z");
    assert!(d.origins[0].narrowed);
    assert_eq!(d.origins[0].at, "t.csv: line 2");
    // vm8's task has neither events nor lines: not labelled, said.
    assert!(
        d.warnings
            .iter()
            .any(|w| w.starts_with("t.csv: line 3: task MigrateVM_Task of vm8 completed")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn a_recent_tasks_export_with_spaced_columns() {
    let tasks = "\"Task Name\",\"Target\",\"Status\",\"Start Time\",\"Completion Time\"\n\
\"Relocate virtual machine\",\"vm9\",\"Failed\",\"03/02/2026, 11:00:00 AM\",\"03/02/2026, 11:00:09 AM\"\n\
\"Power On virtual machine\",\"vm9\",\"Completed\",\"03/02/2026, 11:10:00 AM\",\"03/02/2026, 11:10:01 AM\"\n";
    let d = run(&[("tasks.csv", tasks)], "+01:00");
    assert_eq!(d.sources[0].format, "vCenter tasks (CSV)");
    assert_eq!(d.sources[0].records, 1, "the power-on task is no migration");
    assert_eq!(d.unfinished.len(), 1);
    let u = &d.unfinished[0];
    assert_eq!(
        (u.vm.as_deref(), u.outcome.as_str()),
        (Some("vm9"), "failed")
    );
    assert_eq!(rfc3339(u.start.0), "2026-03-02T10:00:00.000000000Z");
    assert_eq!(rfc3339(u.end.0), "2026-03-02T10:00:09.000000000Z");
}
