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

/// "At least half the VM's memory over the vMotion network", with no fixed threshold.
fn half_the_memory_on_vmotion() -> Claim {
    Claim {
        kind: ClaimKind::VolumeAtLeast {
            network: NetRef::Net(Network::Vmotion),
            fraction_of_memory: Some(0.5),
            absolute_bytes: None,
            absolute_basis: None,
        },
        when: None,
    }
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
    let claim = half_the_memory_on_vmotion();
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

mod coverage {
    //! Verdicts under a capture set that saw only some vmks.

    use super::*;
    use crate::classify::inventory::VmkInventory;
    use crate::migration::coverage::{View, two_hosts, view};
    use crate::verify::outcome::row_reason;
    use crate::vocab::vantage::{Coverage, Direction, Vantage, VantageSource};

    const HOSTS: [&str; 2] = ["esx01", "esx02"];

    /// Both readings of the hosts ([`two_hosts`]: with a provisioning vmk, then without), each
    /// with what the provisioning-or-management network means on them.
    fn each_inventory() -> impl Iterator<Item = (bool, VmkInventory, Network)> {
        [true, false].into_iter().map(|provisioning| {
            let pom = if provisioning {
                Network::Provisioning
            } else {
                Network::Management
            };
            (provisioning, two_hosts(provisioning), pom)
        })
    }

    /// Evaluates every row of `sets` on `ev` and on `base`, asserts the two alike, and returns
    /// what `ev` gave.
    fn decides_as(sets: &[ClaimSet], ev: &Evidence, base: &Evidence) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        for set in sets {
            for r in &set.rows {
                let got = serde_json::to_value(evaluate_row(set, r, ev)).unwrap();
                let want = serde_json::to_value(evaluate_row(set, r, base)).unwrap();
                assert_eq!(got, want);
                out.push(got);
            }
        }
        out
    }

    fn coverage(inv: &VmkInventory, vmks: &[&str], direction: Direction) -> Coverage {
        Coverage {
            vantages: inv
                .vmks
                .iter()
                .filter(|v| vmks.contains(&v.name.as_str()))
                .map(|v| Vantage {
                    host: Some(v.host.clone()),
                    vmk: Some(v.name.clone()),
                    direction,
                    source: VantageSource::Option,
                })
                .collect(),
        }
    }

    fn view_of(inv: &VmkInventory, c: &Coverage) -> View {
        let hosts: Vec<String> = HOSTS.iter().map(|h| h.to_string()).collect();
        view(inv, &hosts, c)
    }

    /// Evidence of a few shapes of migration: all data on one network, or split, with a memory
    /// size and either vSphere version; `pom` is what the provisioning-or-management network
    /// means on these hosts.
    fn shapes(pom: Network) -> Vec<Evidence> {
        let mib = 1u64 << 20;
        let class_of = |n: Network| match n {
            Network::Vmotion => TrafficClass::Vmotion,
            Network::Storage => TrafficClass::Nfs,
            _ => TrafficClass::Nfc,
        };
        let mut splits: Vec<Vec<(Network, u64)>> = [
            Network::Vmotion,
            Network::Provisioning,
            Network::Management,
            Network::Storage,
        ]
        .iter()
        .map(|n| vec![(*n, 64 * mib)])
        .collect();
        splits.push(vec![(Network::Vmotion, 40 * mib), (pom, 24 * mib)]);
        splits.push(vec![
            (Network::Vmotion, mib / 2),
            (Network::Storage, 63 * mib),
        ]);
        let mut out = Vec::new();
        for split in splits {
            for version in ["7.0", "8.0"] {
                let data: u64 = split.iter().map(|(_, b)| b).sum();
                let mut ev = evidence(
                    data,
                    &split,
                    split
                        .iter()
                        .filter(|(n, _)| *n == pom)
                        .map(|(_, b)| b)
                        .sum(),
                );
                for (n, b) in &split {
                    *ev.by_class.entry(class_of(*n)).or_default() += b;
                }
                ev.memory_mb = Some(64);
                ev.vsphere_version = Some(version.into());
                out.push(ev);
            }
        }
        out
    }

    fn names(kind: &ClaimKind) -> Vec<NetRef> {
        match kind {
            ClaimKind::Carries { network, .. }
            | ClaimKind::NotUsed { network, .. }
            | ClaimKind::VolumeAtMost { network, .. }
            | ClaimKind::VolumeAtLeast { network, .. } => vec![*network],
            ClaimKind::CarriesAny { networks, .. } => networks.clone(),
            ClaimKind::ClassShare { .. } => Vec::new(),
        }
    }

    /// Every claim of both built-in sets, on every shape of evidence, seen from vmk0 of both
    /// hosts only: nothing is contradicted, and each claim naming the vMotion or provisioning
    /// network (provisioning and provisioning-or-management where the hosts have a provisioning
    /// vmk) is unobservable, its row inconclusive with a reason naming what was not captured.
    #[test]
    fn vmk0_only_never_contradicts() {
        let sets = ClaimSet::builtin();
        for (provisioning, inv, pom) in each_inventory() {
            let seen = view_of(&inv, &coverage(&inv, &["vmk0"], Direction::Both));
            let mut unobservable = 0;
            for base in shapes(pom) {
                let ev = Evidence {
                    view: seen.clone(),
                    ..base
                };
                for set in &sets {
                    for row in &set.rows {
                        let v = evaluate_row(set, row, &ev);
                        assert_ne!(v.verdict, Verdict::Contradicted, "{} {v:?}", set.name);
                        let mut any = false;
                        for c in &v.claims {
                            assert_ne!(c.verdict, Verdict::Contradicted, "{} {c:?}", set.name);
                            let unseen_net = names(&c.claim.kind).iter().any(|n| match n {
                                // Hosts without a provisioning vmk have no provisioning
                                // network to miss: nothing can run there.
                                NetRef::Net(n) => {
                                    *n == Network::Vmotion
                                        || (*n == Network::Provisioning && provisioning)
                                }
                                NetRef::ProvisioningOrManagement => provisioning,
                            });
                            if unseen_net && c.verdict != Verdict::NotApplicable {
                                assert_eq!(c.verdict, Verdict::Unobservable, "{c:?}");
                                assert!(
                                    c.evidence.contains("esx01 vmk1 (vmotion)")
                                        || c.evidence.contains("esx01 vmk2 (provisioning)"),
                                    "{}",
                                    c.evidence
                                );
                            }
                            any |= c.verdict == Verdict::Unobservable;
                        }
                        if any {
                            unobservable += 1;
                            assert_eq!(v.verdict, Verdict::Inconclusive);
                            let reason = row_reason(&v);
                            assert!(reason.starts_with("unobservable: "), "{reason}");
                            assert!(reason.contains("no input captured"), "{reason}");
                        }
                    }
                }
            }
            assert!(unobservable > 0);
        }
    }

    /// The rows the tests above are about, one by one: hot vMotion's "over the vMotion network"
    /// names the vMotion network of both hosts.
    #[test]
    fn vmk0_only_names_the_network_not_captured() {
        let set = ClaimSet::parse("vmware-docs", VMWARE_DOCS).unwrap();
        let inv = two_hosts(true);
        let mut ev = evidence(64 << 20, &[(Network::Vmotion, 64 << 20)], 0);
        ev.memory_mb = Some(64);
        ev.view = view_of(&inv, &coverage(&inv, &["vmk0"], Direction::Tx));
        let v = evaluate_row(&set, row(&set, 1), &ev);
        assert_eq!(v.verdict, Verdict::Inconclusive);
        assert_eq!(v.claims[0].verdict, Verdict::Unobservable);
        assert_eq!(
            v.claims[0].evidence,
            "no input captured the vmotion network of the migration's hosts: esx01 vmk1 \
             (vmotion), esx02 vmk1 (vmotion)"
        );
        // The bytes measured are still reported with the claim.
        assert_eq!(v.claims[0].bytes, 64 << 20);
        // Not used on provisioning: that network was not captured either.
        assert_eq!(v.claims[1].verdict, Verdict::Unobservable);
        assert!(v.claims[1].evidence.contains("esx02 vmk2 (provisioning)"));
        assert_eq!(v.claims[2].verdict, Verdict::Unobservable);
        assert!(
            row_reason(&v).contains("vmotion network"),
            "{}",
            row_reason(&v)
        );
        // Cold vMotion on provisioning: same.
        let v = evaluate_row(&set, row(&set, 2), &ev);
        assert_eq!(v.verdict, Verdict::Inconclusive);
        assert!(v.claims.iter().all(|c| c.verdict == Verdict::Unobservable));
    }

    /// One direction of every vmk is a complete view: the same verdicts and words as a capture
    /// that saw everything.
    #[test]
    fn tx_of_every_vmk_decides_as_everything() {
        let sets = ClaimSet::builtin();
        for (_, inv, pom) in each_inventory() {
            for direction in [Direction::Tx, Direction::Rx] {
                let all = coverage(&inv, &["vmk0", "vmk1", "vmk2", "vmk3"], direction);
                let seen = view_of(&inv, &all);
                assert!(seen.partial && seen.complete());
                for base in shapes(pom) {
                    let ev = Evidence {
                        view: seen.clone(),
                        ..base.clone()
                    };
                    decides_as(&sets, &ev, &base);
                }
            }
        }
    }

    /// `not_used` is confirmed only on a network that was captured: with no byte seen on an
    /// uncaptured network it is unobservable; on a captured network with little data it is
    /// confirmed whatever else was missed (its share of what was seen bounds its share of all);
    /// above the ceiling with a network missed, unobservable.
    #[test]
    fn not_used_needs_its_network_captured() {
        let inv = two_hosts(true);
        let claim = |n: Network| Claim {
            kind: ClaimKind::NotUsed {
                network: NetRef::Net(n),
                max_share: None,
            },
            when: None,
        };
        let mut ev = evidence(64 << 20, &[(Network::Management, 64 << 20)], 0);
        ev.view = view_of(&inv, &coverage(&inv, &["vmk0", "vmk3"], Direction::Both));
        // `claim` on `ev` gets `verdict`, its evidence saying `says`.
        let decided = |claim: &Claim, ev: &Evidence, verdict: Verdict, says: &str| {
            let r = evaluate_claim(claim, ev);
            assert_eq!(r.verdict, verdict, "{}", r.evidence);
            assert!(r.evidence.contains(says), "{}", r.evidence);
        };
        let unobservable = Verdict::Unobservable;
        decided(
            &claim(Network::Vmotion),
            &ev,
            unobservable,
            "esx01 vmk1 (vmotion)",
        );
        decided(
            &claim(Network::Storage),
            &ev,
            unobservable,
            "counts as storage",
        );
        // Management was captured: little of the seen data is there → confirmed, and said how.
        let mut quiet = evidence(64 << 20, &[(Network::Vmotion, 64 << 20)], 0);
        quiet.view = ev.view.clone();
        let management = claim(Network::Management);
        let confirmed = Verdict::Confirmed;
        decided(
            &management,
            &quiet,
            confirmed,
            "at least its share of all the data",
        );
        // Most of the seen data there: unseen vmks could hold more, so nothing is decided.
        let all_data = "the share is of all the migration's data";
        decided(&management, &ev, unobservable, all_data);
        // A complete view decides it as ever.
        ev.view = view_of(
            &inv,
            &coverage(&inv, &["vmk0", "vmk1", "vmk2", "vmk3"], Direction::Tx),
        );
        assert_eq!(
            evaluate_claim(&claim(Network::Management), &ev).verdict,
            Verdict::Contradicted
        );
    }

    /// A volume claim has no denominator: its network captured is enough.
    #[test]
    fn volume_claims_need_only_their_network() {
        let inv = two_hosts(true);
        let at_least = half_the_memory_on_vmotion();
        let mut ev = evidence(10 << 20, &[(Network::Vmotion, 10 << 20)], 0);
        ev.memory_mb = Some(64);
        ev.view = view_of(&inv, &coverage(&inv, &["vmk1"], Direction::Both));
        assert_eq!(
            evaluate_claim(&at_least, &ev).verdict,
            Verdict::Contradicted
        );
        ev.view = view_of(&inv, &coverage(&inv, &["vmk0"], Direction::Both));
        assert_eq!(
            evaluate_claim(&at_least, &ev).verdict,
            Verdict::Unobservable
        );
    }

    /// A capture that sees everything decides exactly as before coverage existed; a view the
    /// inventory cannot place decides nothing.
    #[test]
    fn everything_is_as_before_and_unknown_is_nothing() {
        let sets = ClaimSet::builtin();
        let inv = two_hosts(true);
        let everything = view_of(&inv, &Coverage::everything());
        assert_eq!(everything, View::everything());
        for base in shapes(Network::Provisioning) {
            let ev = Evidence {
                view: everything.clone(),
                ..base.clone()
            };
            assert_eq!(ev, base);
            for got in decides_as(&sets, &ev, &base) {
                assert!(!got.to_string().contains("unobservable"), "{got}");
            }
            let unknown = Evidence {
                view: view(
                    &inv,
                    &["esx09".into()],
                    &coverage(&inv, &["vmk0"], Direction::Both),
                ),
                ..base
            };
            for set in &sets {
                for r in &set.rows {
                    let v = evaluate_row(set, r, &unknown);
                    assert_eq!(v.verdict, Verdict::Inconclusive);
                    assert!(v.claims.iter().all(|c| matches!(
                        c.verdict,
                        Verdict::Unobservable | Verdict::NotApplicable
                    )));
                }
            }
        }
    }

    /// Rows made inconclusive by a migration-level reason keep their unobservable claims, and
    /// the verification section counts an unobservable row as inconclusive.
    #[test]
    fn unobservable_rows_combine_as_inconclusive() {
        let set = ClaimSet::parse("article", ARTICLE).unwrap();
        let inv = two_hosts(true);
        let mut ev = evidence(100, &[(Network::Vmotion, 100)], 0);
        ev.view = view_of(&inv, &coverage(&inv, &["vmk0"], Direction::Both));
        let v = evaluate_row(&set, row(&set, 1), &ev);
        assert_eq!(v.verdict, Verdict::Inconclusive);
        assert!(v.inconclusive_because.is_some());
        assert_eq!(v.claims[0].verdict, Verdict::Unobservable);
        let rows = [v];
        let out = verification(std::slice::from_ref(&set), &[("m1", &rows)]);
        assert_eq!(out[0].rows[0].verdict, Verdict::Inconclusive);
        assert_eq!(
            combine(&[Verdict::Confirmed, Verdict::Unobservable]),
            Verdict::Inconclusive
        );
    }
}
