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

/// The kept list is a heap of the cap best flows; it lists exactly the flows the former list
/// did (grown to twice the cap, then sorted and trimmed, with the floor of the last trim),
/// whatever the order flows end in, with many equal payloads.
#[test]
fn kept_heap_lists_what_the_trimmed_list_did() {
    // 5 000 flows, payloads from a few values (ties), created in order.
    let mut t = FlowTable::new(FlowConfig::default());
    let mut flows = Vec::new();
    for i in 0..5_000u32 {
        let client = (0x0a01_0000 + i, 40_000);
        let len = [0, 100, 100, 200, 300, 300, 300, 1_000][(i * 7 % 8) as usize];
        let mut sink = |f: Flow| flows.push(f);
        t.add(
            &tcp(client, (0x0a00_0001, 902), 1, tcp_flags::ACK, len),
            &[],
            Some(i64::from(i)),
            60,
            &mut sink,
        );
    }
    t.finish(&mut |f| flows.push(f));
    // End them in a scrambled order.
    let n = flows.len();
    let mut order: Vec<usize> = (0..n).map(|i| (i * 2_654_435_761usize) % n).collect();
    order.sort_unstable();
    order.dedup();
    assert_eq!(order.len(), n, "a permutation");
    let scrambled: Vec<Flow> = (0..n)
        .map(|i| flows[(i * 2_654_435_761usize) % n].clone())
        .collect();
    for cap in [1usize, 7, 100, 1_000, 3_000, 10_000] {
        // The former algorithm, on (payload, serial).
        let mut list: Vec<(u64, u64)> = Vec::new();
        let mut floor: Option<u64> = None;
        let (mut folded, mut folded_bytes) = (0u64, 0u64);
        let trim = |list: &mut Vec<(u64, u64)>,
                    floor: &mut Option<u64>,
                    folded: &mut u64,
                    fb: &mut u64| {
            list.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            for k in list.drain(cap.min(list.len())..) {
                *folded += 1;
                *fb += k.0;
            }
            if list.len() == cap {
                *floor = list.last().map(|k| k.0);
            }
        };
        for f in &scrambled {
            let p = f.payload_bytes();
            if floor.is_some_and(|fl| p <= fl) {
                folded += 1;
                folded_bytes += p;
                continue;
            }
            list.push((p, f.serial));
            if list.len() >= cap * 2 {
                trim(&mut list, &mut floor, &mut folded, &mut folded_bytes);
            }
        }
        trim(&mut list, &mut floor, &mut folded, &mut folded_bytes);
        let mut cls = Classifier::new(ClassifyConfig {
            top: Some(cap),
            ..ClassifyConfig::default()
        });
        let mut most = 0;
        for f in &scrambled {
            cls.flow_ended(f.clone(), None);
            most = most.max(cls.kept_len());
        }
        assert!(most <= cap, "cap {cap}: held {most}");
        let done = cls.finish();
        let got: Vec<(u64, u64)> = done
            .kept
            .iter()
            .map(|k| (k.flow.payload_bytes(), k.flow.serial))
            .collect();
        assert_eq!(got, list, "cap {cap}");
        assert_eq!(
            (done.folded.flows, done.folded.payload_bytes),
            (folded, folded_bytes),
            "cap {cap}"
        );
    }
}
