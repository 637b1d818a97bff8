use super::*;

fn evidence(data: u64, nets: &[(Network, u64)], pom: u64) -> Evidence {
    Evidence {
        data_bytes: data,
        by_network: nets.iter().copied().collect(),
        provisioning_or_management: pom,
        ..Evidence::default()
    }
}

fn row(set: &ClaimSet, n: u32) -> &Row {
    set.rows.iter().find(|r| r.row == n).unwrap()
}

#[test]
fn builtin_sets_parse_with_six_rows() {
    let sets = ClaimSet::builtin();
    assert_eq!(sets.len(), 2);
    for s in &sets {
        assert_eq!(
            s.rows.iter().map(|r| r.row).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5, 6]
        );
        assert!(s.rows.iter().all(|r| !r.claims.is_empty()));
    }
}

#[test]
fn article_row1_volume_claim() {
    let set = ClaimSet::parse("article", ARTICLE).unwrap();
    let r1 = row(&set, 1);
    // 64 MiB VM: moving 200 KiB over vMotion fits "ownership only"; moving 70 MiB does not.
    let mut ev = evidence(200 << 10, &[(Network::Vmotion, 200 << 10)], 0);
    ev.memory_mb = Some(64);
    assert_eq!(evaluate_row(&set, r1, &ev).verdict, Verdict::Confirmed);
    let mut ev = evidence(70 << 20, &[(Network::Vmotion, 70 << 20)], 0);
    ev.memory_mb = Some(64);
    let v = evaluate_row(&set, r1, &ev);
    assert_eq!(v.verdict, Verdict::Contradicted);
    assert_eq!(v.claims[0].verdict, Verdict::Confirmed);
    assert_eq!(v.claims[1].verdict, Verdict::Contradicted);
    // What ownership weighs (1 MiB) is below 10% of 64 MiB: the smaller ceiling applies.
    assert_eq!(v.claims[1].threshold, 1_048_576.0);
    // A 1 MiB VM: 10% of its memory is the smaller ceiling.
    let mut ev = evidence(70 << 20, &[(Network::Vmotion, 70 << 20)], 0);
    ev.memory_mb = Some(1);
    let v = evaluate_row(&set, r1, &ev);
    assert_eq!(v.claims[1].threshold, 1024.0 * 1024.0 * 0.1);
    assert!(
        v.claims[1]
            .evidence
            .contains("10% of the labelled 1 MiB memory"),
        "{}",
        v.claims[1].evidence
    );
}

/// One hot vMotion without a memory size: 24.3 MiB of continuous vMotion data is not "only
/// ownership", whatever ceiling a memory size would give; it once came out confirmed against a
/// 64 MiB ceiling that nothing supported.
#[test]
fn ownership_only_is_not_confirmed_by_tens_of_mib() {
    let set = ClaimSet::parse("article", ARTICLE).unwrap();
    let r1 = row(&set, 1);
    let bytes = 25_480_000;
    let ev = evidence(bytes, &[(Network::Vmotion, bytes)], 0);
    let v = evaluate_row(&set, r1, &ev);
    assert_eq!(v.claims[1].verdict, Verdict::Contradicted, "{v:?}");
    assert_eq!(v.verdict, Verdict::Contradicted);
    let text = &v.claims[1].evidence;
    assert!(
        text.contains("24.3 MiB") && text.contains("1.0 MiB"),
        "{text}"
    );
    assert!(text.contains("ownership"), "the basis is named: {text}");
    // A volume claim with neither a memory size nor a fixed threshold cannot decide.
    let claim = Claim {
        kind: ClaimKind::VolumeAtLeast {
            network: NetRef::Net(Network::Vmotion),
            fraction_of_memory: Some(0.5),
            absolute_bytes: None,
            absolute_basis: None,
        },
        when: None,
    };
    let r = evaluate_claim(&claim, &ev);
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(r.evidence.contains("memory"), "{}", r.evidence);
}

#[test]
fn not_used_and_carries_thresholds() {
    let set = ClaimSet::parse("article", ARTICLE).unwrap();
    let r3 = row(&set, 3);
    // All data on storage: provisioning-or-management carries nothing → contradicted.
    let ev = evidence(1 << 20, &[(Network::Storage, 1 << 20)], 0);
    let v = evaluate_row(&set, r3, &ev);
    assert_eq!(v.verdict, Verdict::Contradicted);
    assert_eq!(v.claims[0].verdict, Verdict::Confirmed);
    assert_eq!(v.claims[1].verdict, Verdict::Contradicted);
    // 3% on vMotion breaks "not used" (2% allowed).
    let ev = evidence(
        100_000,
        &[(Network::Vmotion, 3_000), (Network::Provisioning, 97_000)],
        97_000,
    );
    assert_eq!(
        evaluate_row(&set, r3, &ev).claims[0].verdict,
        Verdict::Contradicted
    );
    let ev = evidence(
        100_000,
        &[(Network::Vmotion, 1_000), (Network::Provisioning, 99_000)],
        99_000,
    );
    assert_eq!(evaluate_row(&set, r3, &ev).verdict, Verdict::Confirmed);
}

#[test]
fn too_little_data_or_unknown_addresses_are_inconclusive() {
    let set = ClaimSet::parse("article", ARTICLE).unwrap();
    let r6 = row(&set, 6);
    let ev = evidence(100, &[(Network::Provisioning, 100)], 100);
    let v = evaluate_row(&set, r6, &ev);
    assert_eq!(v.verdict, Verdict::Inconclusive);
    assert!(v.inconclusive_because.unwrap().contains("fewer than"));
    let mut ev = evidence(1 << 20, &[(Network::External, 1 << 20)], 0);
    ev.unknown_bytes = 1 << 20;
    let v = evaluate_row(&set, r6, &ev);
    assert_eq!(v.verdict, Verdict::Inconclusive);
    assert!(v.claims.iter().all(|c| c.verdict == Verdict::Inconclusive));
}

#[test]
fn conditions_on_vsphere_version() {
    let set = ClaimSet::parse("vmware-docs", VMWARE_DOCS).unwrap();
    let r6 = row(&set, 6);
    let mut ev = evidence(1 << 20, &[(Network::Provisioning, 1 << 20)], 1 << 20);
    ev.by_class.insert(TrafficClass::Vmotion, 1 << 20);
    ev.vsphere_version = Some("8.0 U2".into());
    let v = evaluate_row(&set, r6, &ev);
    assert_eq!(v.verdict, Verdict::Confirmed);
    assert_eq!(v.claims[3].verdict, Verdict::NotApplicable);
    ev.vsphere_version = Some("7.0".into());
    let v = evaluate_row(&set, r6, &ev);
    assert_eq!(v.claims[2].verdict, Verdict::NotApplicable);
    assert_eq!(
        v.claims[3].verdict,
        Verdict::Contradicted,
        "no NFC data under 7.0"
    );
    assert_eq!(version("7.0 U3c"), Some((7, 0)));
    assert_eq!(version("8"), Some((8, 0)));
    assert_eq!(version("x"), None);
}

#[test]
fn combine_over_migrations() {
    use Verdict::*;
    assert_eq!(combine(&[]), NotObserved);
    assert_eq!(combine(&[Confirmed, Confirmed]), Confirmed);
    assert_eq!(combine(&[Confirmed, Inconclusive]), Inconclusive);
    assert_eq!(combine(&[Confirmed, Contradicted]), Contradicted);
}

#[test]
fn bad_claim_sets_are_rejected_with_the_reason() {
    let e = ClaimSet::parse("x.json", r#"{"name":"x","title":"t","rows":[{"row":1,"kind":"vmotion","state":"hot","says":"","claims":[{"type":"carries","network":"wan"}]}]}"#).unwrap_err();
    assert!(e.to_string().contains("unknown network \"wan\""), "{e}");
    let e = ClaimSet::parse("x.json", r#"{"name":"x","title":"t","rows":[{"row":1,"kind":"vmotion","state":"hot","says":"","claims":[]},{"row":1,"kind":"vmotion","state":"cold","says":"","claims":[]}]}"#).unwrap_err();
    assert!(e.to_string().contains("row 1 appears twice"));
}

/// Bytes the capture lost could be on the claimed network: a volume claim that they could tip
/// is inconclusive, and every claim's evidence says how much is missing.
#[test]
fn capture_loss_that_could_change_a_volume_claim() {
    let at_most = Claim {
        kind: ClaimKind::VolumeAtMost {
            network: NetRef::Net(Network::Vmotion),
            fraction_of_memory: None,
            absolute_bytes: Some(1 << 20),
            absolute_basis: None,
        },
        when: None,
    };
    let mut ev = evidence(900 << 10, &[(Network::Vmotion, 900 << 10)], 0);
    assert_eq!(evaluate_claim(&at_most, &ev).verdict, Verdict::Confirmed);
    ev.not_captured_bytes = 200 << 10;
    let r = evaluate_claim(&at_most, &ev);
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(
        r.evidence
            .contains("200.0 KiB of the migration's data was not captured"),
        "{}",
        r.evidence
    );
    // Loss too small to tip it: the verdict stands, the loss is still said.
    ev.not_captured_bytes = 10 << 10;
    let r = evaluate_claim(&at_most, &ev);
    assert_eq!(r.verdict, Verdict::Confirmed);
    assert!(r.evidence.contains("not captured"), "{}", r.evidence);
    let at_least = Claim {
        kind: ClaimKind::VolumeAtLeast {
            network: NetRef::Net(Network::Vmotion),
            fraction_of_memory: None,
            absolute_bytes: Some(1 << 20),
            absolute_basis: None,
        },
        when: None,
    };
    ev.not_captured_bytes = 200 << 10;
    assert_eq!(
        evaluate_claim(&at_least, &ev).verdict,
        Verdict::Inconclusive
    );
    ev.not_captured_bytes = 0;
    assert_eq!(
        evaluate_claim(&at_least, &ev).verdict,
        Verdict::Contradicted
    );
}
