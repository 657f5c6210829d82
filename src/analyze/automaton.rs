//! Which combinations of wildcard patterns a string can match, each with a shortest witness.
//!
//! IAM's wildcards (`*`, `?`) make regular languages, so the strings that match exactly a
//! given subset of n patterns form a regular language too. [`classes`] runs the product of
//! the patterns' automata breadth-first (subset construction on the fly) and reports every
//! reachable subset with a shortest string reaching it. Characters that appear in no
//! pattern behave alike, so one stands for all of them: the alphabet is the patterns'
//! literal characters (both cases where a pattern ignores case) plus one other.

use super::budget::{Budget, Meter};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<crate::hash::FxHasher>>;

/// One symbol of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sym {
    /// This character exactly.
    Lit(char),
    /// This character in any case (stored lowercase).
    Fold(char),
    /// `?`: any one character.
    One,
    /// `*`: any run of characters.
    Star,
}

/// A pattern to run: symbols, and text every subject starts with before the varying part
/// (`/domain/` before a domain name), consumed first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Glob {
    /// The symbols.
    pub syms: Vec<Sym>,
    /// Text consumed before the varying part.
    pub prefix: String,
}

/// Which strings count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rules {
    /// Shortest length.
    pub min_len: usize,
    /// Longest length.
    pub max_len: usize,
    /// SWF's domain-name rules: no `:`, `/`, `|` or control characters, no leading or
    /// trailing whitespace, not the literal `arn`.
    pub domain_name: bool,
    /// Largest number of automaton states to explore.
    pub max_states: usize,
}

/// The reachable subsets: for each, which patterns match (by index) and a shortest string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    /// `matched[i]`: whether pattern `i` matches.
    pub matched: Vec<bool>,
    /// A shortest string in the class (among the shortest, the first in the alphabet's
    /// order: a character no pattern names, then the patterns' characters in code order).
    pub witness: String,
}

/// Exploration stopped at [`Rules::max_states`], or when the budget was spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    /// The classes found before stopping.
    pub found: Vec<Class>,
    /// States explored.
    pub states: usize,
    /// Why the budget stopped it, if the budget did (not the state bound).
    pub spent: Option<String>,
}

impl TooLarge {
    /// Why exploring `what` stopped, in words.
    pub fn reason(&self, what: &str) -> String {
        match &self.spent {
            Some(s) => format!(
                "{what} were partitioned only in part ({} classes found): {s}",
                self.found.len()
            ),
            None => format!(
                "{what} need more than {} automaton states; {} classes were found",
                self.states,
                self.found.len()
            ),
        }
    }
}

fn fold(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn domain_char_ok(c: char) -> bool {
    !matches!(c, ':' | '/' | '|') && !matches!(c as u32, 0x00..=0x1f | 0x7f..=0x9f)
}

/// The product automaton, bit-parallel: each pattern's positions are bits of its own
/// words (position `i`: the first `i` symbols matched), stepped with shift-and.
struct Machine<'a> {
    globs: &'a [Glob],
    /// First word of each glob.
    offsets: Vec<usize>,
    /// Whether each word is the first of its glob (no carry into it).
    first: Vec<bool>,
    /// Positions holding `*`.
    star: Vec<u64>,
    words: usize,
}

impl<'a> Machine<'a> {
    fn new(globs: &'a [Glob]) -> Self {
        let mut offsets = Vec::with_capacity(globs.len());
        let mut first = Vec::new();
        for g in globs {
            offsets.push(first.len());
            let n = (g.syms.len() + 1).div_ceil(64);
            first.push(true);
            first.extend(std::iter::repeat_n(false, n - 1));
        }
        let words = first.len().max(1);
        let mut m = Machine {
            globs,
            offsets,
            first,
            star: vec![0; words],
            words,
        };
        for (g, glob) in globs.iter().enumerate() {
            for (i, s) in glob.syms.iter().enumerate() {
                if *s == Sym::Star {
                    let bit = m.offsets[g] * 64 + i;
                    m.star[bit / 64] |= 1 << (bit % 64);
                }
            }
        }
        m
    }

    /// Positions whose symbol consumes `c`.
    fn mask(&self, c: char) -> Vec<u64> {
        let mut m = vec![0u64; self.words];
        let fc = fold(c);
        for (g, glob) in self.globs.iter().enumerate() {
            for (i, s) in glob.syms.iter().enumerate() {
                let hit = match *s {
                    Sym::One => true,
                    Sym::Lit(x) => x == c,
                    Sym::Fold(x) => x == fc,
                    Sym::Star => false,
                };
                if hit {
                    let bit = self.offsets[g] * 64 + i;
                    m[bit / 64] |= 1 << (bit % 64);
                }
            }
        }
        m
    }

    /// Adds the positions reachable by skipping stars (`t`: scratch of `words` words).
    fn close(&self, x: &mut [u64], t: &mut [u64]) {
        loop {
            // Stars whose next position is not yet set, shifted in place.
            let mut changed = false;
            let mut carry = 0u64;
            for w in 0..self.words {
                let c = if self.first[w] { 0 } else { carry };
                let starred = x[w] & self.star[w];
                carry = starred >> 63;
                t[w] = (starred << 1) | c;
            }
            for w in 0..self.words {
                let add = t[w] & !x[w];
                if add != 0 {
                    x[w] |= add;
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// One character: positions whose symbol consumes it advance, stars stay.
    fn step_into(&self, from: &[u64], mask: &[u64], to: &mut [u64], t: &mut [u64]) {
        let mut carry = 0u64;
        for w in 0..self.words {
            let c = if self.first[w] { 0 } else { carry };
            let adv = from[w] & mask[w];
            carry = adv >> 63;
            to[w] = (adv << 1) | c | (from[w] & self.star[w]);
        }
        self.close(to, t);
    }

    fn step(&self, from: &[u64], mask: &[u64]) -> Vec<u64> {
        let mut to = vec![0u64; self.words];
        let mut t = vec![0u64; self.words];
        self.step_into(from, mask, &mut to, &mut t);
        to
    }

    fn accepts(&self, bits: &[u64]) -> Vec<bool> {
        self.globs
            .iter()
            .enumerate()
            .map(|(g, glob)| {
                let bit = self.offsets[g] * 64 + glob.syms.len();
                bits[bit / 64] & (1 << (bit % 64)) != 0
            })
            .collect()
    }

    /// The start state of glob `g` alone, its prefix consumed.
    fn start(&self, g: usize) -> Vec<u64> {
        let mut bits = vec![0u64; self.words];
        bits[self.offsets[g]] = 1;
        // Only glob g's words count.
        let keep = |bits: &mut Vec<u64>| {
            let end = self.offsets.get(g + 1).copied().unwrap_or(self.words);
            for (w, b) in bits.iter_mut().enumerate() {
                if w < self.offsets[g] || w >= end {
                    *b = 0;
                }
            }
        };
        let mut t = vec![0u64; self.words];
        self.close(&mut bits, &mut t);
        for c in self.globs[g].prefix.chars() {
            bits = self.step(&bits, &self.mask(c));
            keep(&mut bits);
        }
        bits
    }
}

/// Tracks the domain-name rules along a string: whether it is still a prefix of `arn`
/// (0–3 characters of it), and whether the first and last characters are whitespace.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Shape {
    arn: u8,
    lead_ws: bool,
    last_ws: bool,
}

impl Shape {
    fn push(self, c: char, len_before: usize) -> Shape {
        let arn = match (self.arn, c) {
            (0, 'a') if len_before == 0 => 1,
            (1, 'r') => 2,
            (2, 'n') => 3,
            _ => 4,
        };
        Shape {
            arn,
            lead_ws: if len_before == 0 {
                c.is_whitespace()
            } else {
                self.lead_ws
            },
            last_ws: c.is_whitespace(),
        }
    }
}

/// Every subset of `globs` that some allowed string matches exactly, with a shortest
/// witness each, sorted by witness (length, then text). `Err` when more than
/// [`Rules::max_states`] states would be needed, with what was found so far.
pub fn classes(globs: &[Glob], rules: Rules, budget: Budget) -> Result<Vec<Class>, TooLarge> {
    let mut meter = Meter::new(budget);
    let m = Machine::new(globs);
    let mut start = vec![0u64; m.words];
    for g in 0..globs.len() {
        for (s, b) in start.iter_mut().zip(m.start(g)) {
            *s |= b;
        }
    }
    // The alphabet: literal characters, both cases of folded ones, and one other.
    let mut alphabet: Vec<char> = Vec::new();
    for g in globs {
        for s in &g.syms {
            match *s {
                Sym::Lit(c) => alphabet.push(c),
                Sym::Fold(c) => {
                    alphabet.push(c);
                    alphabet.extend(c.to_uppercase());
                }
                _ => {}
            }
        }
    }
    alphabet.sort_unstable();
    alphabet.dedup();
    if let Some(other) = "xqzjkvwy0123456789XQZ_-."
        .chars()
        .chain('\u{100}'..)
        .find(|c| !alphabet.contains(c))
    {
        // First, so that witnesses prefer a plain character (`x`) to punctuation.
        alphabet.insert(0, other);
    }
    if rules.domain_name {
        alphabet.retain(|&c| domain_char_ok(c));
    }
    let masks: Vec<Vec<u64>> = alphabet.iter().map(|&c| m.mask(c)).collect();

    let shape0 = Shape {
        arn: 0,
        lead_ws: false,
        last_ws: false,
    };
    let mut seen: FxMap<(Vec<u64>, Shape), ()> = FxMap::default();
    let mut found: HashMap<Vec<bool>, String> = HashMap::new();
    let mut frontier: Vec<(Vec<u64>, Shape, String)> = vec![(start.clone(), shape0, String::new())];
    seen.insert((start.clone(), shape0), ());
    let valid = |w: &str, shape: Shape| -> bool {
        let len = w.chars().count();
        len >= rules.min_len
            && len <= rules.max_len
            && (!rules.domain_name || (!shape.lead_ws && !shape.last_ws && shape.arn != 3))
    };
    let mut len = 0usize;
    let mut nb = vec![0u64; m.words];
    let mut scratch = vec![0u64; m.words];
    while !frontier.is_empty() {
        let mut next_frontier = Vec::new();
        for (bits, shape, w) in &frontier {
            if valid(w, *shape) {
                found.entry(m.accepts(bits)).or_insert_with(|| w.clone());
            }
        }
        if len >= rules.max_len {
            break;
        }
        for (bits, shape, w) in &frontier {
            if rules.domain_name && shape.lead_ws {
                continue; // no extension makes a leading space valid
            }
            let dead = bits.iter().all(|b| *b == 0);
            for (&c, mask) in alphabet.iter().zip(&masks) {
                if dead {
                    nb.copy_from_slice(bits);
                } else {
                    m.step_into(bits, mask, &mut nb, &mut scratch);
                }
                let ns = shape.push(c, len);
                let ns = if rules.domain_name { ns } else { shape0 };
                let k = (nb.clone(), ns);
                if seen.contains_key(&k) {
                    continue;
                }
                if seen.len() >= rules.max_states || meter.step() {
                    return Err(TooLarge {
                        found: sorted(found),
                        states: seen.len(),
                        spent: meter.reason().map(str::to_owned),
                    });
                }
                seen.insert(k, ());
                let mut nw = w.clone();
                nw.push(c);
                next_frontier.push((nb.clone(), ns, nw));
            }
        }
        frontier = next_frontier;
        len += 1;
    }
    Ok(sorted(found))
}

fn sorted(found: HashMap<Vec<bool>, String>) -> Vec<Class> {
    let mut v: Vec<Class> = found
        .into_iter()
        .map(|(matched, witness)| Class { matched, witness })
        .collect();
    v.sort_by(|a, b| {
        (a.witness.chars().count(), &a.witness).cmp(&(b.witness.chars().count(), &b.witness))
    });
    v
}

/// Whether `text` matches `syms` (the same semantics as [`classes`], simulated in
/// O(|syms|·|text|) time).
pub fn matches(syms: &[Sym], text: &str) -> bool {
    let n = syms.len();
    let close = |s: &mut Vec<bool>| {
        for i in 0..n {
            if s[i] && syms[i] == Sym::Star {
                s[i + 1] = true;
            }
        }
    };
    let mut cur = vec![false; n + 1];
    cur[0] = true;
    close(&mut cur);
    for c in text.chars() {
        let mut next = vec![false; n + 1];
        for i in 0..n {
            if !cur[i] {
                continue;
            }
            match syms[i] {
                Sym::Star => next[i] = true,
                Sym::One => next[i + 1] = true,
                Sym::Lit(x) if x == c => next[i + 1] = true,
                Sym::Fold(x) if x == fold(c) => next[i + 1] = true,
                _ => {}
            }
        }
        close(&mut next);
        cur = next;
    }
    cur[n]
}

/// Remembers [`classes`] answers: the same patterns recur across action groups and
/// principals. Shared by clones; bounded (cleared when full).
#[derive(Debug, Clone, Default)]
pub struct Cache(Arc<Mutex<CacheMap>>);

/// What [`Cache`] holds: per patterns and rules, the answer.
type CacheMap = FxMap<(Vec<Glob>, Rules), Result<Vec<Class>, TooLarge>>;

impl Cache {
    const MAX: usize = 4096;

    /// [`classes`], remembered (an answer the budget cut short is not remembered).
    pub fn classes(
        &self,
        globs: &[Glob],
        rules: Rules,
        budget: Budget,
    ) -> Result<Vec<Class>, TooLarge> {
        let key = (globs.to_vec(), rules);
        if let Ok(map) = self.0.lock() {
            if let Some(r) = map.get(&key) {
                return r.clone();
            }
        }
        let r = classes(globs, rules, budget);
        if matches!(&r, Err(e) if e.spent.is_some()) {
            return r;
        }
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= Self::MAX {
                map.clear();
            }
            map.insert(key, r.clone());
        }
        r
    }
}

/// The symbols of IAM wildcard text (`*`, `?` special; everything else literal).
pub fn glob_syms(text: &str, fold_case: bool) -> Vec<Sym> {
    text.chars()
        .map(|c| match c {
            '*' => Sym::Star,
            '?' => Sym::One,
            c if fold_case => Sym::Fold(fold(c)),
            c => Sym::Lit(c),
        })
        .collect()
}

/// The symbols of literal text (nothing special).
pub fn literal_syms(text: &str, fold_case: bool) -> Vec<Sym> {
    text.chars()
        .map(|c| {
            if fold_case {
                Sym::Fold(fold(c))
            } else {
                Sym::Lit(c)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Pattern;

    const ANY: Rules = Rules {
        min_len: 0,
        max_len: 256,
        domain_name: false,
        max_states: 100_000,
    };

    fn g(text: &str) -> Glob {
        Glob {
            syms: glob_syms(text, false),
            prefix: String::new(),
        }
    }

    fn vectors(globs: &[Glob], rules: Rules) -> Vec<(Vec<bool>, String)> {
        classes(globs, rules, Budget::default())
            .unwrap()
            .into_iter()
            .map(|c| (c.matched, c.witness))
            .collect()
    }

    #[test]
    fn a_prefix_and_an_exception_make_three_classes() {
        let v = vectors(&[g("team-*"), g("team-prod")], ANY);
        assert_eq!(
            v,
            vec![
                (vec![false, false], String::new()),
                (vec![true, false], "team-".into()),
                (vec![true, true], "team-prod".into()),
            ]
        );
    }

    #[test]
    fn unsatisfiable_combinations_are_not_reported() {
        // `a*` and `b*` never match together; `?` needs exactly one character.
        let v = vectors(&[g("a*"), g("b*"), g("?")], ANY);
        let subsets: Vec<Vec<bool>> = v.iter().map(|(m, _)| m.clone()).collect();
        assert!(!subsets.contains(&vec![true, true, false]));
        assert!(!subsets.contains(&vec![true, true, true]));
        assert!(subsets.contains(&vec![true, false, true]));
        assert!(subsets.contains(&vec![true, false, false]));
        assert!(subsets.contains(&vec![false, false, true]));
        assert!(subsets.contains(&vec![false, false, false]));
        assert_eq!(subsets.len(), 6);
    }

    #[test]
    fn brackets_are_literal_and_witnesses_really_match() {
        let pats = ["[ab]*", "*]", "a?c*", "*x*y*"];
        let globs: Vec<Glob> = pats.iter().map(|p| g(p)).collect();
        for c in classes(&globs, ANY, Budget::default()).unwrap() {
            for (i, p) in pats.iter().enumerate() {
                assert_eq!(
                    Pattern::new(p).matches(&c.witness),
                    c.matched[i],
                    "{p} vs {:?}",
                    c.witness
                );
            }
        }
        let v = vectors(&[g("[ab]")], ANY);
        assert_eq!(v[1], (vec![true], "[ab]".into()));
    }

    #[test]
    fn domain_names_follow_swf_rules() {
        let rules = Rules {
            min_len: 1,
            domain_name: true,
            ..ANY
        };
        // `arn` itself is not a domain; `arn*` is matched by longer names.
        let v = vectors(&[g("arn"), g("arn*"), g("* x")], rules);
        assert!(!v.iter().any(|(m, _)| m[0]));
        assert!(v
            .iter()
            .any(|(m, w)| m[1] && w == "arn " || m[1] && w.starts_with("arn") && w.len() == 4));
        // A name cannot end in a space, so `* ` is never matched; `/` never appears.
        let v = vectors(&[g("* "), g("*/*")], rules);
        assert_eq!(v, vec![(vec![false, false], "x".into())]);
    }

    #[test]
    fn folded_patterns_match_both_cases_and_prefixes_are_consumed() {
        let globs = vec![
            Glob {
                syms: literal_syms("Prod", true),
                prefix: String::new(),
            },
            Glob {
                syms: literal_syms("Prod", false),
                prefix: String::new(),
            },
            Glob {
                syms: glob_syms("/domain/o*", false),
                prefix: "/domain/".into(),
            },
        ];
        let v = vectors(&globs, ANY);
        assert!(v.contains(&(vec![true, true, false], "Prod".into())));
        assert!(v
            .iter()
            .any(|(m, w)| *m == vec![true, false, false] && w.len() == 4));
        assert!(v.contains(&(vec![false, false, true], "o".into())));
    }

    #[test]
    fn patterns_longer_than_a_word_keep_their_positions() {
        let long = format!("{}*{}", "a".repeat(70), "b".repeat(60));
        let pats = [long.as_str(), "*b", "a*", "a?*b"];
        let globs: Vec<Glob> = pats.iter().map(|p| g(p)).collect();
        let cs = classes(&globs, ANY, Budget::default()).unwrap();
        for c in &cs {
            for (i, p) in pats.iter().enumerate() {
                assert_eq!(Pattern::new(p).matches(&c.witness), c.matched[i], "{p}");
                assert_eq!(matches(&globs[i].syms, &c.witness), c.matched[i], "{p}");
            }
        }
        let all = cs.iter().find(|c| c.matched.iter().all(|m| *m)).unwrap();
        assert_eq!(all.witness, format!("{}{}", "a".repeat(70), "b".repeat(60)));
    }

    #[test]
    fn the_state_bound_is_reported() {
        let globs: Vec<Glob> = (0..12).map(|i| g(&format!("*{i}*{i}*"))).collect();
        let r = classes(
            &globs,
            Rules {
                max_states: 50,
                ..ANY
            },
            Budget::default(),
        );
        assert!(matches!(
            r,
            Err(TooLarge {
                states: 50,
                spent: None,
                ..
            })
        ));
    }

    #[test]
    fn a_spent_budget_stops_exploring_and_says_why() {
        let globs: Vec<Glob> = (0..12).map(|i| g(&format!("*{i}*{i}*"))).collect();
        let spent = Budget::within(std::time::Duration::ZERO, u64::MAX);
        let e = classes(&globs, ANY, spent).unwrap_err();
        assert!(e.spent.as_deref().unwrap().contains("time budget"), "{e:?}");
        assert!(e.reason("the values").contains("time budget"));
        // Not remembered: the same patterns with time to spare are answered in full.
        let cache = Cache::default();
        assert!(cache.classes(&globs[..2], ANY, spent).is_err());
        assert!(cache.classes(&globs[..2], ANY, Budget::default()).is_ok());
    }
}
