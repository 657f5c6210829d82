//! Merging decided cells into extents: the sets of requests an answer holds for, in
//! words.

use super::*;

/// A set of requests in words: the domains (empty: any), and the conditions on keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extent {
    /// The region.
    pub region: String,
    /// The domain classes (empty: every domain, or no domain resource).
    pub domains: Vec<DomainClass>,
    /// Conditions on the time and on context keys (empty: none).
    pub when: Vec<KeyCondition>,
    /// One request of the set, as a `check --requests` line.
    pub witness: Value,
}

/// The values a key may take in an [`Extent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyCondition {
    /// The key as the policies write it (`aws:CurrentTime` for the time).
    pub key: String,
    /// Its classes, in words (any one of them).
    pub values: Vec<String>,
}

/// Merges cells into cubes: groups of cells that agree on every dimension but one
/// become one cell with the union of that dimension's values, until nothing merges.
/// A spent budget stops merging: the cubes then still cover exactly the cells, in more
/// pieces.
pub(super) fn cubes(cells: &[&Cell], dims: usize, budget: Budget) -> Vec<Vec<Vec<usize>>> {
    let mut cs: Vec<Vec<Vec<usize>>> = cells.iter().map(|c| c.sets.clone()).collect();
    let mut meter = budget::Meter::new(budget);
    loop {
        let before = cs.len();
        for d in (0..dims).rev() {
            if meter.step() {
                return cs;
            }
            let mut groups: BTreeMap<Vec<Vec<usize>>, Vec<usize>> = BTreeMap::new();
            for c in cs.drain(..) {
                let mut key = c.clone();
                let vals = std::mem::take(&mut key[d]);
                groups.entry(key).or_default().extend(vals);
            }
            cs = groups
                .into_iter()
                .map(|(mut k, mut v)| {
                    v.sort_unstable();
                    v.dedup();
                    k[d] = v;
                    k
                })
                .collect();
        }
        if cs.len() == before {
            break;
        }
    }
    cs
}

pub(super) fn extents(
    side: &Side<'_>,
    space: &Space,
    cells: &[&Cell],
    action: &str,
    opts: &Options,
) -> Vec<Extent> {
    let radices = space.radices();
    let mut out = Vec::new();
    for cube in cubes(cells, radices.len(), opts.limits.budget) {
        let first: Vec<usize> = cube.iter().map(|v| v[0]).collect();
        let domains = if cube[0].len() == space.resources.len() && space.fixed.is_none() {
            Vec::new()
        } else {
            cube[0]
                .iter()
                .filter_map(|&i| space.resources[i].domain.clone())
                .collect()
        };
        let mut when = Vec::new();
        if !space.time.is_empty() && cube[1].len() < space.time.len() {
            when.push(KeyCondition {
                key: "aws:CurrentTime".into(),
                values: cube[1]
                    .iter()
                    .map(|&i| space.time[i].description.clone())
                    .collect(),
            });
        }
        for (k, vals) in space.keys.iter().zip(&cube[2..]) {
            if vals.len() < k.values.len() {
                when.push(KeyCondition {
                    key: k.display.clone(),
                    values: vals
                        .iter()
                        .map(|&i| k.values[i].description.clone())
                        .collect(),
                });
            }
        }
        out.push(Extent {
            region: space.region.clone(),
            domains,
            when,
            witness: witness(side, space, &first, action, opts),
        });
    }
    out
}
