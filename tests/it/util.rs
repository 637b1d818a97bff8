//! Helpers shared by the topic modules: running the CLI, temporary directories, tool lookup and
//! small synthetic captures.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

/// The `vmkflow` executable built for these tests.
pub fn vmkflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vmkflow"))
}

/// The result of one `vmkflow` run.
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    fn from_output(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Standard output parsed as one JSON document; a report is checked against the schema.
    pub fn json(&self) -> Value {
        let v: Value = serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                String::from_utf8_lossy(&self.stdout),
                self.stderr
            )
        });
        if v.get("schema_version").is_some() {
            assert_report_schema(&v);
        }
        v
    }
}

/// Asserts that a report is valid against `schema/report.schema.json`, naming every violation.
pub fn assert_report_schema(report: &Value) {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let v = VALIDATOR.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json");
        let schema: Value = serde_json::from_slice(&std::fs::read(&path).expect("schema file"))
            .expect("schema JSON");
        jsonschema::validator_for(&schema).expect("schema compiles")
    });
    let errors: Vec<String> = v
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report violates the schema:\n{}",
        errors.join("\n")
    );
}

/// Reads a report file written with `--json FILE` and checks it against the schema.
pub fn read_report(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value = serde_json::from_slice(&bytes).expect("report is JSON");
    assert_report_schema(&v);
    v
}

/// Runs `vmkflow` with `args` and no standard input.
pub fn run(args: &[&str]) -> Run {
    let out = vmkflow()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run vmkflow");
    Run::from_output(out)
}

/// Starts `vmkflow` with `args` and its standard input, output and error all piped.
pub fn spawn_piped(args: &[&str]) -> Child {
    vmkflow()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run vmkflow")
}

/// Runs `vmkflow` with `args`, feeding `input` on standard input.
pub fn run_with_stdin(args: &[&str], input: &[u8]) -> Run {
    use std::io::Write;
    let mut child = spawn_piped(args);
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("vmkflow did not finish");
    writer.join().expect("stdin writer panicked");
    Run::from_output(out)
}

/// `vmkflow analyze PATH --json - --quiet`, asserting exit status 0; returns the report.
pub fn analyze_json(path: &Path) -> Value {
    let p = path.to_str().expect("UTF-8 path");
    let r = run(&["analyze", p, "--json", "-", "--quiet"]);
    assert_eq!(r.code, 0, "vmkflow analyze {p} failed: {}", r.stderr);
    r.json()
}

/// `vmkflow synth ARGS --out OUT --summary-json -`, asserting success; returns the generator's
/// account of what it wrote.
pub fn synth_capture(out: &Path, args: &[&str]) -> Value {
    let mut all = vec![
        "synth",
        "-q",
        "--out",
        out.to_str().expect("UTF-8 path"),
        "--summary-json",
        "-",
    ];
    all.extend_from_slice(args);
    let r = run(&all);
    assert_eq!(r.code, 0, "synth {args:?}: {}", r.stderr);
    r.json()
}

/// `vmkflow analyze PATH EXTRA… --json - -q`, asserting success; returns the report.
pub fn analyze_with(path: &Path, extra: &[&str]) -> Value {
    let mut all = vec!["analyze", path.to_str().expect("UTF-8 path")];
    all.extend_from_slice(extra);
    all.extend_from_slice(&["--json", "-", "-q"]);
    let r = run(&all);
    assert_eq!(r.code, 0, "analyze {extra:?}: {}", r.stderr);
    r.json()
}

/// A file of the repository's `captures/` folder (the bundled captures and the scripts that make
/// them): `<crate>/captures/NAME`.
pub fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// A fresh, empty directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("vmkflow-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cannot create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `bytes` to a file `name` in the directory and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("cannot write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The full path of `tool` when it is on PATH (or in /usr/sbin, /sbin, /usr/bin).
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// Whether this process runs as root (the owner of `/proc/self` is the effective user).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The folder of the shared capture corpus, if present: `$VMKFLOW_CORPUS`, else `shared/corpus`
/// beside the crate's folder, else `<crate>/../shared/corpus`.
pub fn corpus_dir() -> Result<PathBuf, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut tried = Vec::new();
    let mut candidates = Vec::new();
    if let Some(v) = std::env::var_os("VMKFLOW_CORPUS") {
        candidates.push(PathBuf::from(v));
    }
    if let Some(parent) = manifest.parent() {
        candidates.push(parent.join("shared").join("corpus"));
    }
    candidates.push(manifest.join("..").join("shared").join("corpus"));
    for c in candidates {
        if c.is_dir() {
            return Ok(c);
        }
        tried.push(c.display().to_string());
    }
    Err(tried.join(", "))
}

/// Ethernet + IPv4 + TCP frame carrying `payload` bytes of TCP payload (all zero).
pub fn tcp_frame(payload: usize) -> Vec<u8> {
    let ip_len = 20 + 20 + payload;
    let mut f = Vec::with_capacity(14 + ip_len);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
    f.extend_from_slice(&[
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        1,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    f.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
    f.extend_from_slice(&[
        0xc3, 0x50, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff,
    ]);
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.resize(14 + ip_len, 0);
    f
}

/// A little-endian microsecond pcap (Ethernet) holding one TCP frame per payload size, and the
/// byte offset at which each record starts.
pub fn synth_pcap(payloads: &[usize]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    let mut offsets = Vec::new();
    for (i, &p) in payloads.iter().enumerate() {
        offsets.push(out.len());
        let frame = tcp_frame(p);
        out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        out.extend_from_slice(&(1000 * i as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    (out, offsets)
}

/// A little-endian pcapng (one section, one Ethernet interface) holding one Enhanced Packet
/// Block per payload size, and the byte offset at which each EPB starts.
pub fn synth_pcapng(payloads: &[usize]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    // Section Header Block, no options.
    out.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
    out.extend_from_slice(&28u32.to_le_bytes());
    out.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(-1i64).to_le_bytes());
    out.extend_from_slice(&28u32.to_le_bytes());
    // Interface Description Block, Ethernet, snaplen 0, no options.
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&20u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&20u32.to_le_bytes());
    let mut offsets = Vec::new();
    for (i, &p) in payloads.iter().enumerate() {
        offsets.push(out.len());
        let frame = tcp_frame(p);
        let padded = frame.len().div_ceil(4) * 4;
        let total = (32 + padded) as u32;
        let ts = 1_700_000_000_000_000u64 + i as u64;
        out.extend_from_slice(&6u32.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        out.extend_from_slice(&(ts as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
        out.resize(out.len() + padded - frame.len(), 0);
        out.extend_from_slice(&total.to_le_bytes());
    }
    (out, offsets)
}

/// A PowerCLI `Get-VMHostNetworkAdapter -VMKernel | Export-Csv` file for the hosts and vmks of an
/// inventory JSON, each host name followed by `host_suffix` (e.g. `.lab.local`), with every
/// service flag column; without `with_provisioning` the `VSphereProvisioningEnabled` column is
/// left out, as older exports do.
pub fn powercli_csv(inv: &Value, host_suffix: &str, with_provisioning: bool) -> String {
    let flags: Vec<(&str, &str)> = [
        ("ManagementTrafficEnabled", "management"),
        ("VMotionEnabled", "vmotion"),
        ("FaultToleranceLoggingEnabled", "ft"),
        ("VsanTrafficEnabled", "vsan"),
        ("VSphereProvisioningEnabled", "provisioning"),
        ("VSphereReplicationEnabled", "vsphere_replication"),
        ("VSphereReplicationNFCEnabled", "vsphere_replication_nfc"),
        ("VSphereBackupNFCEnabled", "backup_nfc"),
    ]
    .into_iter()
    .filter(|(_, s)| with_provisioning || *s != "provisioning")
    .collect();
    let mut csv = String::from(
        "#TYPE VMware.VimAutomation.ViCore.Impl.V1.Host.Networking.Nic.HostVMKernelVirtualNicImpl\n",
    );
    csv.push_str("\"VMHost\",\"Name\",\"IP\",\"SubnetMask\",\"Mac\"");
    for (column, _) in &flags {
        csv.push_str(&format!(",\"{column}\""));
    }
    csv.push('\n');
    for h in inv["hosts"].as_array().expect("hosts") {
        for v in h["vmknics"].as_array().expect("vmknics") {
            let s: Vec<&str> = v["services"]
                .as_array()
                .expect("services")
                .iter()
                .filter_map(|x| x.as_str())
                .collect();
            let ip = v["ip"].as_str().expect("ip").split('/').next().expect("ip");
            csv.push_str(&format!(
                "\"{}{host_suffix}\",\"{}\",\"{ip}\",\"255.255.255.0\",\"{}\"",
                h["name"].as_str().expect("host"),
                v["name"].as_str().expect("vmk"),
                v["mac"].as_str().expect("mac"),
            ));
            for (_, service) in &flags {
                let flag = if s.contains(service) { "True" } else { "False" };
                csv.push_str(&format!(",\"{flag}\""));
            }
            csv.push('\n');
        }
    }
    csv
}

/// A test whose prerequisite is missing: it skips, saying why, on a developer's machine; under CI
/// (`CI=true`, where `.ci/run` installs every prerequisite and the corpus is beside the clone) a
/// missing prerequisite is a failure, not a silent pass.
pub fn skip_or_fail(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}: CI installs every test prerequisite, so this test must run there");
    }
    eprintln!("skipping: {why}");
}

/// A report without the names its input was given (`input`, `capture.inputs[].name`), to
/// compare the reports of one capture read from different places.
pub fn without_input_names(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("input");
    }
    if let Some(inputs) = v["capture"]["inputs"].as_array_mut() {
        for i in inputs {
            if let Some(o) = i.as_object_mut() {
                o.remove("name");
            }
        }
    }
    v
}

/// A flow's payload bytes both ways, as the report lists it.
pub fn flow_payload(flow: &Value) -> u64 {
    flow["client_to_server"]["payload_bytes"]
        .as_u64()
        .unwrap_or(0)
        + flow["server_to_client"]["payload_bytes"]
            .as_u64()
            .unwrap_or(0)
}

/// One end of a frame: MAC, IPv4 address, port.
pub type End = ([u8; 6], [u8; 4], u16);

/// A little-endian microsecond pcap (Ethernet) written one IPv4 frame at a time, `step_us`
/// apart: enough of real exchanges (handshakes, payload, sequence numbers) for the flow stage.
pub struct PcapWriter {
    /// The file so far.
    pub out: Vec<u8>,
    ts_us: u64,
    step_us: u64,
}

impl PcapWriter {
    pub fn new(step_us: u64) -> PcapWriter {
        let mut out = Vec::new();
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        PcapWriter {
            out,
            ts_us: 1_700_000_000_000_000,
            step_us,
        }
    }

    /// One Ethernet/IPv4 frame from `src` to `dst`: TCP with `(flags, seq)` (acknowledgement
    /// number 0), or UDP when `tcp` is `None`.
    pub fn frame(&mut self, src: End, dst: End, tcp: Option<(u8, u32)>, payload: &[u8]) {
        let l4 = if tcp.is_some() { 20 } else { 8 };
        let ip_len = 20 + l4 + payload.len();
        let mut f = Vec::with_capacity(14 + ip_len);
        f.extend_from_slice(&dst.0);
        f.extend_from_slice(&src.0);
        f.extend_from_slice(&[0x08, 0x00, 0x45, 0, (ip_len >> 8) as u8, ip_len as u8]);
        let proto = if tcp.is_some() { 6 } else { 17 };
        f.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
        f.extend_from_slice(&src.1);
        f.extend_from_slice(&dst.1);
        f.extend_from_slice(&src.2.to_be_bytes());
        f.extend_from_slice(&dst.2.to_be_bytes());
        match tcp {
            Some((flags, seq)) => {
                f.extend_from_slice(&seq.to_be_bytes());
                f.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
            }
            None => {
                f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
                f.extend_from_slice(&[0, 0]);
            }
        }
        f.extend_from_slice(payload);
        self.raw(&f);
    }

    /// One frame of any content, `step_us` after the previous one.
    pub fn raw(&mut self, f: &[u8]) {
        self.ts_us += self.step_us;
        for v in [
            (self.ts_us / 1_000_000) as u32,
            (self.ts_us % 1_000_000) as u32,
            f.len() as u32,
            f.len() as u32,
        ] {
            self.out.extend_from_slice(&v.to_le_bytes());
        }
        self.out.extend_from_slice(f);
    }
}

/// The findings of a report with id `id` about migration `migration`.
pub fn findings_of<'a>(report: &'a Value, id: &str, migration: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["id"] == id && f["migration"] == migration)
        .collect()
}

/// The one finding of a report with id `id` about migration `migration`.
pub fn finding<'a>(report: &'a Value, id: &str, migration: &str) -> &'a Value {
    let f = findings_of(report, id, migration);
    assert_eq!(f.len(), 1, "{id} {migration}: {:?}", report["findings"]);
    f[0]
}

/// The library's options for a bundled capture with its sidecar inventory and labels and the
/// built-in claim sets, as `vmkflow analyze` picks them up.
pub fn bundled_options(capture: &str) -> vmkflow::analyze::AnalyzeOptions {
    use vmkflow::analyze::{AnalyzeOptions, Labels};
    use vmkflow::classify::inventory::VmkInventory;
    use vmkflow::labels::Migrations;
    use vmkflow::verify::ClaimSet;

    let side = |suffix: &str| bundled(&format!("{capture}{suffix}"));
    AnalyzeOptions {
        inventory: Some(VmkInventory::load(&side(".inventory.json")).expect("inventory")),
        labels: Labels::File {
            path: "labels".into(),
            migrations: Migrations::load(&side(".migrations.json"))
                .expect("labels")
                .migrations,
        },
        claim_sets: ClaimSet::builtin(),
        ..AnalyzeOptions::default()
    }
}

/// The child's own peak resident memory so far, in KiB (`VmHWM` in `/proc/PID/status`); `None`
/// once it has exited (a zombie has no memory left to report).
fn child_hwm_kib(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Waits for a child and returns its exit status and its peak resident memory, in KiB.
///
/// `wait4`'s `ru_maxrss` alone is not the child's own: the standard library spawns with
/// `vfork` semantics, and `exec` records the peak of the memory it replaces, the test process's,
/// which other tests running beside it can push past any bound. So the child's `VmHWM` is read
/// every 2 ms while it runs (a high-water mark: the last reading holds every earlier peak), and
/// the smaller of the two is the child's (both include its peak but for the last 2 ms).
pub fn wait_peak_rss(child: &mut Child) -> (i32, i64) {
    let mut hwm = 0;
    while let Some(k) = child_hwm_kib(child.id()) {
        hwm = hwm.max(k);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own unwaited child; status and usage point to live locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4");
    let peak = match hwm {
        0 => usage.ru_maxrss,
        h => h.min(usage.ru_maxrss),
    };
    (libc::WEXITSTATUS(status), peak)
}
