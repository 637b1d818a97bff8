use super::*;
use crate::flow::tests::tcp;
use crate::flow::{Flow, FlowConfig, FlowTable, tcp as tcp_flags};

/// A million short flows run through a table capped at 10 000 live flows and a classifier
/// keeping 1 000: neither grows past its bound, and no flow is lost from the totals.
#[test]
fn million_short_flows_bounded_memory() {
    let mut t = FlowTable::new(FlowConfig {
        max_live: 10_000,
        ..FlowConfig::default()
    });
    let mut cls = Classifier::new(ClassifyConfig {
        top: Some(1_000),
        ..ClassifyConfig::default()
    });
    let mut max_kept = 0usize;
    let n: u32 = 1_000_000;
    for i in 0..n {
        // Distinct client ports and addresses, one server; 1 µs apart.
        let client = (0x0a01_0000 + i / 60_000, (1024 + i % 60_000) as u16);
        let server = (0x0a00_0001, 902);
        let ts = Some(i as i64 * 1_000);
        let mut sink = |f: Flow| cls.flow_ended(f, None);
        t.add(
            &tcp(client, server, 1, tcp_flags::SYN, 0),
            &[],
            ts,
            60,
            &mut sink,
        );
        t.add(
            &tcp(client, server, 2, tcp_flags::ACK, 100),
            &[],
            ts,
            154,
            &mut sink,
        );
        max_kept = max_kept.max(cls.kept_len());
    }
    t.finish(&mut |f| cls.flow_ended(f, None));
    assert!(t.peak_live <= 10_000, "peak {}", t.peak_live);
    assert!(max_kept <= 2_000, "kept {max_kept}");
    assert_eq!(t.created, n as u64);
    let done = cls.finish();
    assert_eq!(done.flows, n as u64);
    assert_eq!(done.kept.len(), 1_000);
    assert_eq!(done.folded.flows, n as u64 - 1_000);
    let payload: u64 = done.convs.iter().map(|(_, s)| s.total_payload()).sum();
    assert_eq!(payload, n as u64 * 100);
}
