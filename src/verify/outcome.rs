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
    /// Labelled migrations behind it.
    pub migrations: Vec<String>,
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
                    let mut ids = Vec::new();
                    let mut vs = Vec::new();
                    for (id, row_verdicts) in verdicts {
                        for v in row_verdicts.iter() {
                            if v.claim_set == set.name && v.row == r.row {
                                ids.push(id.to_string());
                                vs.push(v.verdict);
                            }
                        }
                    }
                    RowVerification {
                        row: r.row,
                        kind: r.kind,
                        state: r.state,
                        says: r.says.clone(),
                        verdict: combine(&vs),
                        migrations: ids,
                    }
                })
                .collect(),
        })
        .collect()
}
