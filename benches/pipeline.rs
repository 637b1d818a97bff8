//! Throughput benchmarks: the decoder per frame, and the whole analysis over generated captures.
//!
//! `cargo bench --bench pipeline` (all), `cargo bench --bench pipeline -- decode` (one group).
//! Captures are generated once per run into the system temporary directory with
//! `vmkflow::synth::generate` and removed at the end; the page cache is warm after the first pass.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use vmkflow::analyze::{self, AnalyzeOptions};
use vmkflow::capture::{CaptureReader, Source};
use vmkflow::decode::{self, Transport};
use vmkflow::synth::{self, SynthConfig, frame::Encap};
use vmkflow::vocab::wire::LinkType;

/// Full-size capture for the pipeline benchmark (bytes).
const FULL_SIZE: u64 = 150_000_000;
/// Header-only capture (snap length 96): about a million packets.
const HEADER_ONLY_SIZE: u64 = 100_000_000;
/// The capture set's scale (`--size` of its generator run), header-only.
const SET_SIZE: u64 = 100_000_000;

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vmkflow-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

fn generate(dir: &Path, name: &str, cfg: SynthConfig) -> (PathBuf, u64) {
    let out = dir.join(name);
    let s = synth::generate(&SynthConfig {
        out: out.clone(),
        ..cfg
    })
    .expect("synth");
    (out, s.packets)
}

/// The first frame of a generated capture carrying TCP payload (a bulk-transfer data segment).
fn data_frame(dir: &Path, name: &str, cfg: SynthConfig) -> (LinkType, Vec<u8>) {
    let (path, _) = generate(
        dir,
        name,
        SynthConfig {
            memory_mb: 1,
            disk_mb: 1,
            ..cfg
        },
    );
    let mut r = CaptureReader::open(&Source::Path(path)).expect("open");
    while let Some(f) = r.next_frame().expect("frame") {
        let d = decode::decode(f.link_type, f.data);
        if let Transport::Tcp {
            payload_len: Some(n),
            ..
        } = d.transport
        {
            if n > 1000 {
                return (f.link_type, f.data.to_vec());
            }
        }
    }
    panic!("no TCP data frame in {name}");
}

fn decoder(c: &mut Criterion) {
    let dir = scratch();
    let frames = [
        ("tcp_full", SynthConfig::default()),
        (
            "tcp_header_only",
            SynthConfig {
                snaplen: Some(96),
                ..SynthConfig::default()
            },
        ),
        (
            "tcp_vlan",
            SynthConfig {
                vlan: true,
                ..SynthConfig::default()
            },
        ),
        (
            "tcp_erspan3_vlan",
            SynthConfig {
                vlan: true,
                encap: Encap::Erspan3,
                ..SynthConfig::default()
            },
        ),
        (
            "tcp_ipv6",
            SynthConfig {
                ipv6: true,
                ..SynthConfig::default()
            },
        ),
    ];
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1));
    for (name, cfg) in frames {
        let (lt, bytes) = data_frame(&dir, &format!("{name}.pcap"), cfg);
        g.bench_with_input(BenchmarkId::from_parameter(name), &bytes, |b, f| {
            b.iter(|| decode::decode(black_box(lt), black_box(f)))
        });
    }
    g.finish();
    std::fs::remove_dir_all(&dir).ok();
}

fn analyze_file(path: &Path, threads: usize) -> u64 {
    let reader = CaptureReader::open(&Source::Path(path.to_path_buf())).expect("open");
    let out = vmkflow::parallel::run(reader, &AnalyzeOptions::default(), threads, &mut |_| {});
    out.report.capture.packets
}

/// Thread counts measured: 1, 2 and every core (when more than 2).
fn thread_counts() -> Vec<usize> {
    let all = vmkflow::parallel::available_threads();
    let mut t = vec![1, 2];
    if all > 2 {
        t.push(all);
    }
    t
}

fn pipeline(c: &mut Criterion) {
    let dir = scratch();
    let captures = [
        (
            "full_1500",
            generate(
                &dir,
                "full.pcap",
                SynthConfig {
                    size: Some(FULL_SIZE),
                    ..SynthConfig::default()
                },
            ),
        ),
        (
            "header_only_96",
            generate(
                &dir,
                "hdr.pcap",
                SynthConfig {
                    size: Some(HEADER_ONLY_SIZE),
                    snaplen: Some(96),
                    ..SynthConfig::default()
                },
            ),
        ),
    ];
    for (group, by_bytes) in [("analyze_bytes", true), ("analyze_packets", false)] {
        let mut g = c.benchmark_group(group);
        g.sample_size(10).measurement_time(Duration::from_secs(8));
        for (name, (path, packets)) in &captures {
            let len = std::fs::metadata(path).expect("capture").len();
            g.throughput(if by_bytes {
                Throughput::Bytes(len)
            } else {
                Throughput::Elements(*packets)
            });
            for threads in thread_counts() {
                let id = BenchmarkId::new(*name, format!("threads_{threads}"));
                g.bench_with_input(id, path, |b, p| b.iter(|| analyze_file(p, threads)));
            }
        }
        g.finish();
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A capture set (one file per host and vmk, both directions, esx02's clock 2 ms ahead) against
/// one input of the same total size: the same frames merged into one file by `mergecap` (when
/// it is installed; the like-for-like comparison), and a generated capture of as many bytes whose
/// frames are all different (no copies to find).
fn capture_set(c: &mut Criterion) {
    let dir = scratch();
    let set_dir = dir.join("set");
    let summary = synth::generate(&SynthConfig {
        out: set_dir.clone(),
        format: synth::Format::Pcapng,
        size: Some(SET_SIZE),
        snaplen: Some(96),
        split: Some(synth::SplitConfig {
            clock_skew_ms: 2.0,
            ..synth::SplitConfig::default()
        }),
        ..SynthConfig::default()
    })
    .expect("synth set");
    let mut sources: Vec<Source> = summary
        .files
        .iter()
        .map(|f| Source::Path(f.path.clone()))
        .collect();
    sources.sort_by_key(|s| s.display_name());
    let (single, _) = generate(
        &dir,
        "single.pcapng",
        SynthConfig {
            format: synth::Format::Pcapng,
            size: Some(summary.file_bytes),
            snaplen: Some(96),
            ..SynthConfig::default()
        },
    );
    let merged = dir.join("merged.pcapng");
    let merged_ok = std::process::Command::new("mergecap")
        .arg("-w")
        .arg(&merged)
        .args(sources.iter().filter_map(Source::path))
        .status()
        .is_ok_and(|s| s.success());
    if !merged_ok {
        eprintln!("capture_set: mergecap not found, the merged one-input case is left out");
    }
    let mut g = c.benchmark_group("capture_set");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Bytes(summary.file_bytes));
    if merged_ok {
        g.bench_function("same_frames_merged_one_input", |b| {
            b.iter(|| analyze_file(&merged, 1))
        });
    }
    g.bench_function("set_of_8_inputs", |b| {
        b.iter(|| {
            let o = analyze::run_set(&sources, &AnalyzeOptions::default(), &mut |_| {})
                .expect("run_set");
            black_box(o.report.capture.packets)
        })
    });
    g.bench_function("other_frames_one_input_same_size", |b| {
        b.iter(|| analyze_file(&single, 1))
    });
    g.finish();
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group!(benches, decoder, pipeline, capture_set);
criterion_main!(benches);
