//! Which combinations of wildcard patterns a string can match, each with a shortest witness.
//!
//! IAM's wildcards (`*`, `?`) make regular languages, so the strings that match exactly a
//! given subset of n patterns form a regular language too. [`classes`] runs the product of
//! the patterns' automata breadth-first (subset construction on the fly) and reports every
//! reachable subset with a shortest string reaching it. Characters that appear in no
//! pattern behave alike, so one stands for all of them: the alphabet is the patterns'
//! literal characters (both cases where a pattern ignores case) plus one other.

use std::collections::HashMap;

/// One symbol of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone)]
pub struct Glob {
    /// The symbols.
    pub syms: Vec<Sym>,
    /// Text consumed before the varying part.
    pub prefix: String,
}

/// Which strings count.
#[derive(Debug, Clone, Copy)]
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
    /// A shortest string in the class (the first in alphabet order among the shortest).
    pub witness: String,
}

/// Exploration stopped at [`Rules::max_states`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    /// The classes found before stopping.
    pub found: Vec<Class>,
    /// States explored.
    pub states: usize,
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

struct Machine<'a> {
    globs: &'a [Glob],
    offsets: Vec<usize>,
    words: usize,
}

impl Machine<'_> {
    fn set(bits: &mut [u64], i: usize) {
        bits[i / 64] |= 1 << (i % 64);
    }
    fn get(bits: &[u64], i: usize) -> bool {
        bits[i / 64] & (1 << (i % 64)) != 0
    }

    /// Adds the positions reachable by skipping stars, for glob `g` (positions ascending).
    fn close(&self, bits: &mut [u64], g: usize) {
        let syms = &self.globs[g].syms;
        let off = self.offsets[g];
        for (i, s) in syms.iter().enumerate() {
            if *s == Sym::Star && Self::get(bits, off + i) {
                Self::set(bits, off + i + 1);
            }
        }
    }

    fn step_glob(&self, from: &[u64], to: &mut [u64], g: usize, c: char) {
        let syms = &self.globs[g].syms;
        let off = self.offsets[g];
        for (i, s) in syms.iter().enumerate() {
            if !Self::get(from, off + i) {
                continue;
            }
            match *s {
                Sym::Star => Self::set(to, off + i),
                Sym::One => Self::set(to, off + i + 1),
                Sym::Lit(x) if x == c => Self::set(to, off + i + 1),
                Sym::Fold(x) if x == fold(c) => Self::set(to, off + i + 1),
                _ => {}
            }
        }
        self.close(to, g);
    }

    fn step(&self, from: &[u64], c: char) -> Vec<u64> {
        let mut to = vec![0u64; self.words];
        for g in 0..self.globs.len() {
            self.step_glob(from, &mut to, g, c);
        }
        to
    }

    fn accepts(&self, bits: &[u64]) -> Vec<bool> {
        (0..self.globs.len())
            .map(|g| Self::get(bits, self.offsets[g] + self.globs[g].syms.len()))
            .collect()
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
pub fn classes(globs: &[Glob], rules: Rules) -> Result<Vec<Class>, TooLarge> {
    let mut offsets = Vec::with_capacity(globs.len());
    let mut total = 0;
    for g in globs {
        offsets.push(total);
        total += g.syms.len() + 1;
    }
    let m = Machine {
        globs,
        offsets,
        words: total.div_ceil(64).max(1),
    };
    // Start: each glob at position 0, closed, then its prefix consumed.
    let mut start = vec![0u64; m.words];
    for (g, glob) in globs.iter().enumerate() {
        let mut bits = vec![0u64; m.words];
        Machine::set(&mut bits, m.offsets[g]);
        m.close(&mut bits, g);
        for c in glob.prefix.chars() {
            let mut next = vec![0u64; m.words];
            m.step_glob(&bits, &mut next, g, c);
            bits = next;
        }
        for (s, b) in start.iter_mut().zip(bits) {
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
        alphabet.push(other);
        alphabet.sort_unstable();
    }
    if rules.domain_name {
        alphabet.retain(|&c| domain_char_ok(c));
    }

    let shape0 = Shape {
        arn: 0,
        lead_ws: false,
        last_ws: false,
    };
    let key = |bits: &[u64], shape: Shape| -> (Vec<u64>, Shape) {
        let shape = if rules.domain_name { shape } else { shape0 };
        // Once past `arn` and whitespace matters only at the ends, collapse the shape.
        let shape = Shape {
            arn: if shape.arn == 4 { 4 } else { shape.arn },
            ..shape
        };
        (bits.to_vec(), shape)
    };
    let mut seen: HashMap<(Vec<u64>, Shape), ()> = HashMap::new();
    let mut found: HashMap<Vec<bool>, String> = HashMap::new();
    let mut frontier: Vec<(Vec<u64>, Shape, String)> = vec![(start.clone(), shape0, String::new())];
    seen.insert(key(&start, shape0), ());
    let valid = |w: &str, shape: Shape| -> bool {
        let len = w.chars().count();
        len >= rules.min_len
            && len <= rules.max_len
            && (!rules.domain_name || (!shape.lead_ws && !shape.last_ws && shape.arn != 3))
    };
    let mut len = 0usize;
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
            for &c in &alphabet {
                let nb = if dead { bits.clone() } else { m.step(bits, c) };
                let ns = shape.push(c, len);
                let k = key(&nb, ns);
                if seen.contains_key(&k) {
                    continue;
                }
                if seen.len() >= rules.max_states {
                    return Err(TooLarge {
                        found: sorted(found),
                        states: seen.len(),
                    });
                }
                seen.insert(k, ());
                let mut nw = w.clone();
                nw.push(c);
                next_frontier.push((nb, ns, nw));
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
        classes(globs, rules)
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
        for c in classes(&globs, ANY).unwrap() {
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
    fn the_state_bound_is_reported() {
        let globs: Vec<Glob> = (0..12).map(|i| g(&format!("*{i}*{i}*"))).collect();
        let r = classes(
            &globs,
            Rules {
                max_states: 50,
                ..ANY
            },
        );
        assert!(matches!(r, Err(TooLarge { states: 50, .. })));
    }
}
