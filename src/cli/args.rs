//! What was typed: the clap structures of the command line, parsed but not yet checked.
//!
//! [`super::config`] turns them into checked settings; nothing else reads them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use vmkflow::vocab::kind::{BadKindState, KindState};

/// Which VMkernel network carried which vSphere migration traffic, from packet captures.
#[derive(Parser, Debug)]
#[command(name = "vmkflow", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse a pcap or pcapng capture (file, FIFO, `-` for stdin; gzip read transparently).
    Analyze(Box<AnalyzeArgs>),
    /// Write a synthetic capture of vSphere migrations, with its inventory and migration labels.
    ///
    /// Beside the capture FILE it writes FILE.inventory.json (hosts, vmknics, addresses, services)
    /// and FILE.migrations.json (what migrated when: the ground truth). The lab is two hosts,
    /// esx01 and esx02, each with vmk0 management (10.0.10.11/.12, VLAN 10), vmk1 vMotion
    /// (10.0.20.x, VLAN 20), vmk2 provisioning (10.0.30.x, VLAN 30) and vmk3 storage (10.0.40.x,
    /// VLAN 40); vCenter at 10.0.10.5, an NFS array at 10.0.40.100.
    ///
    /// With --split it writes a capture set instead, as administrators collect one with
    /// `pktcap-uw --vmk`: a directory of one file per vmk (or per host), with inventory.json and
    /// migrations.json inside.
    ///
    /// Synthetic captures show that vmkflow works, not what vSphere does.
    #[command(after_help = SYNTH_EXAMPLES)]
    Synth(Box<SynthArgs>),
    /// Convert vCenter events and tasks (PowerCLI CSV or JSON exports) and ESXi log lines into
    /// migration labels (the JSON of --migrations), to review before use.
    ///
    /// Each FILE's format is recognised by its content. Failed, cancelled and unfinished
    /// migrations are listed on standard error, not labelled.
    Labels(Box<LabelsArgs>),
}

/// `vmkflow labels`.
#[derive(Args, Debug)]
pub struct LabelsArgs {
    /// Events exports, tasks exports, ESXi logs (vmkernel.log, hostd.log, a syslog server's file).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Where to write the labels (JSON).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The zone of times that carry none (Export-Csv writes local times without one): UTC or a
    /// fixed offset such as +02:00 [default: UTC].
    #[arg(long, value_name = "ZONE", allow_hyphen_values = true)]
    pub events_tz: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

const SYNTH_EXAMPLES: &str = "\
Examples:
  vmkflow synth --scenario xvmotion:hot --model vmware --out x.pcap
  vmkflow synth --scenario all --model article --format pcapng --snaplen 96 --out all.pcapng
  vmkflow synth --scenario vmotion:hot --encap erspan3 --vlan --out mirror.pcap
  vmkflow synth --scenario all --size 1000000000 --out big.pcap      (benchmark input)
  vmkflow synth --scenario all --split vmk --direction tx --clock-skew 2 --out set/
      (a capture set as pktcap-uw --vmk leaves it: set/esx01-vmk0.pcap ... set/esx02-vmk3.pcap,
       set/inventory.json, set/migrations.json)
  vmkflow synth --scenario vmotion:hot --split host --format pcapng --also-mirror erspan3 --out set/";

/// `--scenario`: one migration or all six.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioArg {
    One(KindState),
    All,
}

pub fn parse_scenario(s: &str) -> Result<ScenarioArg, String> {
    if s == "all" {
        return Ok(ScenarioArg::All);
    }
    s.parse().map(ScenarioArg::One).map_err(|e| match e {
        BadKindState::NotKindState(_) => {
            format!("`{s}` is not KIND:STATE or `all` (e.g. vmotion:hot)")
        }
        other => other.to_string(),
    })
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum ModelArg {
    /// Documented vSphere behaviour: hot data over vMotion (TCP 8000), cold data by NFC (TCP 902)
    /// on provisioning (else vmk0), Storage vMotion through the storage vmk (NFS 2049).
    Vmware,
    /// The blog's table taken literally: hot vMotion moves only a few KiB of "ownership",
    /// VMDK data always by NFC over provisioning or management.
    Article,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum FormatArg {
    /// Classic pcap, microsecond timestamps.
    Pcap,
    /// Classic pcap, nanosecond timestamps.
    PcapNs,
    /// pcapng with one interface per vmk (esx01-vmk1, ...), as `pktcap-uw --ng` writes.
    Pcapng,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum EncapArg {
    /// Frames as captured on the host.
    None,
    /// vDS port mirror, GRE transparent Ethernet (0x6558), 10.0.99.1 -> 10.0.99.2.
    Gre,
    /// vDS port mirror, ERSPAN type II (GRE 0x88BE).
    Erspan2,
    /// vDS port mirror, ERSPAN type III (GRE 0x22EB).
    Erspan3,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum SplitArg {
    /// One file per host and vmk: esx01-vmk0.pcapng ... esx02-vmk3.pcapng.
    Vmk,
    /// One file per host: esx01.pcapng, esx02.pcapng (pcapng: one interface per vmk).
    Host,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum DirectionArg {
    /// Only the frames the vmk sent (pktcap-uw's default for a vmk).
    Tx,
    /// Only the frames the vmk received.
    Rx,
    /// Both (pktcap-uw --dir 2).
    Both,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum MirrorArg {
    /// GRE transparent Ethernet (0x6558).
    Gre,
    /// ERSPAN type II (GRE 0x88BE).
    Erspan2,
    /// ERSPAN type III (GRE 0x22EB).
    Erspan3,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Migration to generate: KIND:STATE with KIND vmotion, storage-vmotion or xvmotion and
    /// STATE hot or cold (e.g. `vmotion:hot`); or `all` for all six in sequence, each in its own
    /// time window.
    #[arg(long, value_name = "KIND:STATE|all", value_parser = parse_scenario)]
    pub scenario: ScenarioArg,
    /// Behaviour model: what goes over which vmk.
    #[arg(long, value_enum, default_value = "vmware")]
    pub model: ModelArg,
    /// The capture file to write (labels are written beside it); with --split, the directory
    /// of the capture set (created when missing; labels inside it).
    #[arg(long, value_name = "FILE|DIR")]
    pub out: PathBuf,
    /// VM memory moved by a hot vMotion (first pre-copy pass), in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub memory_mb: u64,
    /// VM disk data moved by Storage vMotion, xvMotion and cold migrations, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub disk_mb: u64,
    /// Parallel vMotion TCP streams (1-16).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub streams: usize,
    /// Hosts have no provisioning vmk2: NFC then uses vmk0 (management).
    #[arg(long)]
    pub no_provisioning: bool,
    /// KB 340170 routed case: the source's NFC uses vmk0, the destination its provisioning vmk.
    #[arg(long)]
    pub nfc_asymmetric: bool,
    /// vMotion vmknics per host (1-4): vmk1, then vmk4, vmk5 and vmk6 (subnets 10.0.50-70.0/24,
    /// VLANs 50-70), all with the vMotion service; the vMotion streams go round-robin over them
    /// (multi-NIC vMotion, KB 2007467).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub vmotion_vmks: usize,
    /// Share of each vMotion stream in the bytes sent, one weight per stream (e.g. `3,1` with
    /// `--streams 2`); default equal shares.
    #[arg(long, value_name = "W,W,...", value_delimiter = ',')]
    pub stream_weights: Vec<u32>,
    /// Time from the end of the vMotion streams to the destination's first RARP, in ms (a long
    /// switchover); default 1.
    #[arg(long, value_name = "MS")]
    pub rarp_delay_ms: Option<u64>,
    /// Write --link-gbps into the inventory as every vmk's `speed_mbps`.
    #[arg(long)]
    pub inventory_speed: bool,
    /// vSphere version in the labels; 8.0 or later moves cold data with UDT (vMotion protocol,
    /// TCP 8000, between the provisioning vmks; NFC 902 only for control) in the vmware model.
    #[arg(long, value_name = "VERSION", default_value = "7.0")]
    pub vsphere: String,
    /// IPv6 addresses throughout (fd00:10::11/64, ...).
    #[arg(long)]
    pub ipv6: bool,
    /// Tag every frame with 802.1Q, using each vmk's VLAN (VM network: VLAN 100).
    #[arg(long)]
    pub vlan: bool,
    /// Deliver frames as a vDS port-mirror session does.
    #[arg(long, value_enum, default_value = "none")]
    pub encap: EncapArg,
    /// Header-only capture: keep the first N bytes of each frame (original length kept).
    #[arg(long, value_name = "N")]
    pub snaplen: Option<u32>,
    /// A mirror session's "mirrored packet length": mirror only the first N bytes of each
    /// frame (60..=9000; needs --encap or --also-mirror). Unlike --snaplen it cuts the inner frame, so the
    /// mirrored frame's own lengths say it is short.
    #[arg(long, value_name = "N")]
    pub mirror_length: Option<u32>,
    /// Capture file format.
    #[arg(long, value_enum, default_value = "pcap")]
    pub format: FormatArg,
    /// Background traffic (vCenter API, UDP 902 heartbeats, DNS, NTP, other VMs' NFS): 0 none,
    /// each level adds about 20 events per second.
    #[arg(long, value_name = "LEVEL", default_value_t = 0)]
    pub noise: u32,
    /// Link speed in Gbit/s: packet timestamps advance by wire size / rate.
    #[arg(long, value_name = "GBPS", default_value_t = 10.0)]
    pub link_gbps: f64,
    /// PRNG seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Scale memory and disk sizes until the capture is about BYTES long (for benchmarks).
    #[arg(long, value_name = "BYTES")]
    pub size: Option<u64>,
    /// Write a capture set as administrators collect one, into the directory --out: one file
    /// per host and vmk (`vmk`: esx01-vmk1.pcapng, as `pktcap-uw --vmk vmk1 --ng` on each host)
    /// or one per host (`host`). Each frame is in the file of the vmk that sent it and of the vmk
    /// that received it (20 µs later); frames of no vmk (RARP) are in none. Needs --encap none.
    #[arg(long, value_enum, value_name = "vmk|host")]
    pub split: Option<SplitArg>,
    /// With --split: which of its vmk's frames each file holds [default: both].
    #[arg(long, value_enum)]
    pub direction: Option<DirectionArg>,
    /// With --split: esx02's clock runs MS milliseconds ahead (negative: behind) of esx01's and
    /// of the labels' true time; every timestamp in esx02's files is shifted [default: 0].
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub clock_skew: Option<f64>,
    /// With --split: also write mirror-ENCAP.pcap(ng), every vmk frame once as a vDS
    /// port-mirror session delivers it (as --encap does; --mirror-length applies), on the
    /// collector's clock (50 µs after the send).
    #[arg(long, value_enum, value_name = "ENCAP")]
    pub also_mirror: Option<MirrorArg>,
    /// Also write the generator's account (payload bytes per migration, port, sender,
    /// receiver) as JSON to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<String>,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write what vCenter and the hosts would have recorded of the migrations into the
    /// directory DIR (created when missing): events.csv (a PowerCLI events export) and
    /// vmkernel.log (the hosts' vmkernel lines of the hot migrations between hosts, as a syslog
    /// server keeps them), for `analyze --events`.
    #[arg(long, value_name = "DIR")]
    pub events_out: Option<PathBuf>,
    /// MTU of esx01's and esx02's vmks, e.g. 9000:1500 (a jumbo-frame mismatch): written to the
    /// inventory and advertised as the MSS of their SYNs; segments are the smaller MSS.
    #[arg(long, value_name = "A:B")]
    pub mtu: Option<String>,
    /// In each hot vMotion's first pre-copy pass the destination advertises a zero window on the
    /// first stream N times, MS milliseconds each, e.g. 2:1500.
    #[arg(long, value_name = "N:MS")]
    pub zero_window_stalls: Option<String>,
    /// Hot vMotion streams' payload (vmware model): `encrypted`, opaque bytes as encrypted
    /// vMotion's look, or `plain`, the unencrypted ESXi 6.0 stream format (stream header, page
    /// bundles, iteration markers) [default: encrypted].
    #[arg(long, value_enum, value_name = "plain|encrypted")]
    pub vmotion_payload: Option<VmotionPayloadArg>,
    /// Pre-copy passes of a hot vMotion, each a quarter of the one before (1..=32) [default: 4].
    #[arg(long, value_name = "N")]
    pub precopy_iterations: Option<u32>,
    /// NFC (TCP 902) opens with authd's banner, then TLS (`yes`) or plaintext (`no`); without
    /// the option NFC carries opaque bytes and no banner.
    #[arg(long, value_enum, value_name = "yes|no")]
    pub nfc_tls: Option<YesNo>,
    /// The vCenter heartbeats of the background noise (--noise 1 or more) carry this ESXi build
    /// number, and the host's address, in the heartbeat's layout (IPv4 only).
    #[arg(long, value_name = "BUILD")]
    pub esxi_build: Option<u32>,
}

/// `--vmotion-payload`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmotionPayloadArg {
    /// Opaque bytes (encrypted vMotion).
    Encrypted,
    /// The unencrypted ESXi 6.0 stream format.
    Plain,
}

/// Yes or no.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum YesNo {
    /// Yes.
    Yes,
    /// No.
    No,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The capture: a path, or `-` for standard input (standard input and FIFOs are read live:
    /// Ctrl-C, SIGTERM or SIGHUP stops reading and still writes the report). Several captures,
    /// or a directory of them, are read as one capture set: merged in time order, each host's
    /// clock aligned, frames seen at two places counted once.
    #[arg(
        value_name = "CAPTURE",
        required_unless_present = "follow",
        conflicts_with = "follow"
    )]
    pub capture: Vec<String>,
    /// Analyse FILE while another program writes it: at its end wait for more bytes (polling
    /// every 200 ms) until SIGINT/SIGTERM/SIGHUP, or --follow-idle.
    #[arg(long, value_name = "FILE")]
    pub follow: Option<PathBuf>,
    /// With --follow: stop after SECONDS without growth of the file.
    #[arg(long, value_name = "SECONDS", requires = "follow")]
    pub follow_idle: Option<f64>,
    /// Write one NDJSON line every SECONDS of capture time (and of wall time when the stream
    /// stalls): counts by network and class, top bulk flows, migration events (the line format:
    /// docs/ndjson.md). Lines go to standard output unless --live-out is given; --json - then
    /// needs --live-out.
    #[arg(long, value_name = "SECONDS")]
    pub interval: Option<f64>,
    /// Write the NDJSON lines of --interval to FILE instead of standard output.
    #[arg(long, value_name = "FILE", requires = "interval")]
    pub live_out: Option<PathBuf>,
    /// Bulk flows listed per interval line.
    #[arg(long, value_name = "N", default_value_t = 5, requires = "interval")]
    pub live_top: usize,
    /// Write the JSON report to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<String>,
    /// Write the picture to FILE: one self-contained HTML page (verdicts, a timeline per
    /// migration, topology, largest flows, capture facts) that fetches nothing.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Threads reading one capture: a reader, decoders and the flow accounting in capture order
    /// (0: one per core available). The report is the same for every count. Files only: capture
    /// sets, standard input, FIFOs, --follow and --interval read as before.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Bytes read at a time (the frames of one read travel between threads as one batch); for
    /// tests of the hand-off between threads.
    #[arg(long, value_name = "BYTES", hide = true, default_value_t = 0)]
    pub read_buffer: usize,
    /// Write the capture, flows, per-second bytes by network and class, migrations and verdicts
    /// as Parquet files under DIR/<table>/capture=<id>/ (one dataset for many captures;
    /// docs/fleet.md).
    #[arg(long, value_name = "DIR")]
    pub parquet: Option<PathBuf>,
    /// With --parquet: the partition id of this capture (default: the inputs' names, made safe).
    #[arg(long, value_name = "ID", requires = "parquet")]
    pub capture_id: Option<String>,
    /// No summary and no progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Add or override a port in the traffic-class catalogue, e.g. `9000/tcp=vmotion` (repeatable).
    #[arg(long = "port", value_name = "PORT/PROTO=CLASS")]
    pub ports: Vec<String>,
    /// List only the N largest flows in the report (all other sections still count every flow).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Most flows listed in the report when --top is not given; the smallest beyond it are
    /// counted in `flow_summary.not_listed`.
    #[arg(long, value_name = "N", default_value_t = vmkflow::classify::MAX_REPORT_FLOWS)]
    pub max_report_flows: usize,
    /// Most conversations (flows without their ports) held one by one; beyond it the smallest
    /// are folded into aggregates that keep every total exact, counted in
    /// `flow_summary.conversations_folded`.
    #[arg(long, value_name = "N", default_value_t = vmkflow::classify::MAX_CONVERSATIONS)]
    pub max_conversations: usize,
    /// Most flows held in the live flow table; beyond it the least recently active are ended.
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    pub max_live_flows: usize,
    /// End a flow after this many seconds of capture time without a packet.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    pub idle_timeout: f64,
    /// Hosts and vmks: inventory JSON, or when FILE ends in .csv a PowerCLI export
    /// (`Get-VMHostNetworkAdapter -VMKernel | Export-Csv FILE.csv -NoTypeInformation`).
    /// Default: CAPTURE.inventory.json when it exists, else an inventory inferred from the
    /// traffic.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Save the inventory used (e.g. the inferred one) as inventory JSON, to edit and reuse.
    #[arg(long, value_name = "FILE")]
    pub write_inventory: Option<PathBuf>,
    /// Migration labels (JSON). Default: CAPTURE.migrations.json when it exists.
    #[arg(long, value_name = "FILE", conflicts_with = "scenario")]
    pub migrations: Option<PathBuf>,
    /// Migration windows from what vCenter and ESXi recorded: an events or tasks export of
    /// PowerCLI (CSV or JSON) or ESXi log lines, recognised by content (repeatable). The
    /// migrations that overlap the capture are its labels; the report's `events` section lists
    /// those without traffic and traffic without events.
    #[arg(long = "events", value_name = "FILE", conflicts_with_all = ["migrations", "scenario"])]
    pub events: Vec<PathBuf>,
    /// The zone of --events times that carry none: UTC or a fixed offset such as +02:00
    /// [default: UTC].
    #[arg(
        long,
        value_name = "ZONE",
        allow_hyphen_values = true,
        requires = "events"
    )]
    pub events_tz: Option<String>,
    /// Label the whole capture as one migration: KIND:STATE with KIND vmotion, storage-vmotion
    /// or xvmotion and STATE hot or cold, e.g. `vmotion:hot`; then, as a label would give them,
    /// `:memory=MIB`, `:disk=MIB`, `:vsphere=X.Y` (e.g. `vmotion:hot:memory=4096`).
    #[arg(long, value_name = "KIND:STATE[:memory=MIB][:disk=MIB][:vsphere=X.Y]")]
    pub scenario: Option<String>,
    /// Verify a claim set of your own (same JSON format as claims/article.json), in addition to
    /// the built-in `article` and `vmware-docs` sets (repeatable).
    #[arg(long = "claims", value_name = "FILE")]
    pub claims: Vec<PathBuf>,
    /// Thresholds and references of the findings, in the format of the built-in
    /// src/verify/findings/findings.json: each key given replaces the built-in one.
    #[arg(long, value_name = "FILE")]
    pub findings_config: Option<PathBuf>,
    /// Print only the summary's Findings block (the JSON report, when asked for, is whole).
    #[arg(long)]
    pub findings_only: bool,
    /// Where an input was captured: FILE (as given, or its file name) was taken on HOST's VMK,
    /// holding the frames it sent (tx, pktcap-uw's default), received (rx) or both (repeatable).
    /// Default: the pcapng interface or file name (`esx01-vmk1`), else the one address in every
    /// frame.
    #[arg(long = "vantage", value_name = "FILE=HOST/VMK[:tx|rx|both]")]
    pub vantages: Vec<String>,
    /// HOST's clock runs MS milliseconds ahead of the first input's (negative: behind);
    /// overrides the estimate from frames both clocks saw (repeatable).
    #[arg(
        long = "clock-offset",
        value_name = "HOST=±MS",
        allow_hyphen_values = true
    )]
    pub clock_offsets: Vec<String>,
    /// Two frames of one identity (addresses, IP id, ports, TCP sequence and acknowledgement,
    /// lengths, first payload bytes) this close in time, after clock alignment, are one frame
    /// seen twice and counted once; 0 keeps every frame.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 5.0,
        allow_negative_numbers = true
    )]
    pub dedup_window: f64,
    /// Do not pick up CAPTURE.inventory.json and CAPTURE.migrations.json beside the capture.
    #[arg(long)]
    pub no_sidecars: bool,
}
