//! Claim sets applied to analysed migrations: the verdicts of each labelled migration, the rows a
//! detected session does not contradict, and each row's verdict over all labelled migrations.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ClaimSet, RowVerdict, Verdict, combine, evaluate_row, evaluate_row_unless};
use crate::migration::Analysed;
use crate::vocab::kind::{MigrationKind, PowerState};

/// One verdict per claim set row of the migration's kind and state. Only a labelled migration
/// gets verdicts: a label is the ground truth a verdict needs.
pub fn verdicts(sets: &[ClaimSet], m: &Analysed) -> Vec<RowVerdict> {
    if !m.labelled {
        return Vec::new();
    }
    let ks = m.kind_state;
    sets.iter()
        .flat_map(|set| {
            set.rows
                .iter()
                .filter(|r| r.kind == ks.kind && r.state == ks.state)
                .map(|r| {
                    evaluate_row_unless(
                        set,
                        r,
                        &m.evidence,
                        m.inconclusive_because.as_deref(),
                        m.uncertain.as_ref().map(|u| (&u.evidence, u.what.as_str())),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// For a detected session: per claim set, the rows of the kinds it looks like that no claim
/// contradicts. Empty for a labelled migration.
pub fn consistent_rows(sets: &[ClaimSet], m: &Analysed) -> BTreeMap<String, Vec<u32>> {
    let mut consistent = BTreeMap::new();
    if m.labelled {
        return consistent;
    }
    for set in sets {
        let rows: Vec<u32> = set
            .rows
            .iter()
            .filter(|r| {
                m.looks_like
                    .iter()
                    .any(|k| k.kind == r.kind && k.state == r.state)
            })
            .filter(|r| evaluate_row(set, r, &m.evidence).verdict != Verdict::Contradicted)
            .map(|r| r.row)
            .collect();
        consistent.insert(set.name.clone(), rows);
    }
    consistent
}

/// Per claim set, the verdict of each row over all labelled migrations.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimSetVerification {
    /// Claim set name.
    pub claim_set: String,
    /// Its title.
    pub title: String,
    /// Rows.
    pub rows: Vec<RowVerification>,
}

/// One row's verdict over all labelled migrations.
#[derive(Debug, Clone, Serialize)]
pub struct RowVerification {
    /// Row number.
    pub row: u32,
    /// Kind.
    pub kind: MigrationKind,
    /// State.
    pub state: PowerState,
    /// What the row says.
    pub says: String,
    /// Combined verdict.
    pub verdict: Verdict,
    /// Why, in one line: the evidence of the migration that decided the verdict (the summary
    /// prints the same line).
    pub reason: String,
    /// Labelled migrations behind it.
    pub migrations: Vec<String>,
}

/// One line saying why a migration's row verdict is what it is: the evidence of the claims that
/// decided it. An inconclusive row names first a claim no input could observe (which network of
/// which host was not captured).
pub fn row_reason(v: &RowVerdict) -> String {
    let claims = || {
        v.claims
            .iter()
            .filter(|c| c.verdict != Verdict::NotApplicable)
    };
    match v.verdict {
        Verdict::Contradicted => claims()
            .find(|c| c.verdict == Verdict::Contradicted)
            .map(|c| c.evidence.clone()),
        // An unobservable claim before an inconclusive one: capturing its network is what
        // would decide the row.
        Verdict::Inconclusive => v
            .inconclusive_because
            .clone()
            .or_else(|| {
                claims()
                    .find(|c| c.verdict == Verdict::Unobservable)
                    .map(|c| format!("unobservable: {}", c.evidence))
            })
            .or_else(|| {
                claims()
                    .find(|c| c.verdict == Verdict::Inconclusive)
                    .map(|c| c.evidence.clone())
            }),
        _ => {
            let all: Vec<&str> = claims().map(|c| c.evidence.as_str()).collect();
            (!all.is_empty()).then(|| all.join("; "))
        }
    }
    .unwrap_or_else(|| "no claim applies to this migration".into())
}

/// Combines the labelled migrations' row verdicts per claim set. `verdicts` pairs each labelled
/// migration's id with its [`verdicts`].
pub fn verification(
    sets: &[ClaimSet],
    verdicts: &[(&str, &[RowVerdict])],
) -> Vec<ClaimSetVerification> {
    sets.iter()
        .map(|set| ClaimSetVerification {
            claim_set: set.name.clone(),
            title: set.title.clone(),
            rows: set
                .rows
                .iter()
                .map(|r| {
                    let behind: Vec<(&str, &RowVerdict)> = verdicts
                        .iter()
                        .flat_map(|(id, vs)| vs.iter().map(move |v| (*id, v)))
                        .filter(|(_, v)| v.claim_set == set.name && v.row == r.row)
                        .collect();
                    let vs: Vec<Verdict> = behind.iter().map(|(_, v)| v.verdict).collect();
                    let verdict = combine(&vs);
                    let reason = match behind.iter().find(|(_, v)| v.verdict == verdict) {
                        Some((id, v)) => format!("{id}: {}", row_reason(v)),
                        None => format!(
                            "no labelled {} migration in the capture",
                            crate::vocab::kind::KindState::new(r.kind, r.state)
                        ),
                    };
                    RowVerification {
                        row: r.row,
                        kind: r.kind,
                        state: r.state,
                        says: r.says.clone(),
                        verdict,
                        reason,
                        migrations: behind.iter().map(|(id, _)| id.to_string()).collect(),
                    }
                })
                .collect(),
        })
        .collect()
}
