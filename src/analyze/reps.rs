//! Representative values: for each operator family, a finite set of values such that
//! every possible value compares with the policies' constants exactly as one of them does.

use crate::values::{format_iso8601, Cidr, Decimal, Instant};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Decimal constants → values at, just below and just above each (integers scaled by one
/// more fraction digit than any constant has, so "just above" is below the next
/// constant). `None` if a constant has too many digits for exact arithmetic here.
pub fn numeric(constants: &[&str]) -> Option<Vec<String>> {
    let frac = constants
        .iter()
        .filter(|c| Decimal::parse(c).is_some())
        .map(|c| {
            c.split_once('.')
                .map_or(0, |(_, f)| f.trim_end_matches('0').len())
        })
        .max()
        .unwrap_or(0);
    let scale = u32::try_from(frac + 1).ok()?;
    let mut units: Vec<i128> = Vec::new();
    for c in constants.iter().filter(|c| Decimal::parse(c).is_some()) {
        units.push(to_units(c, scale)?);
    }
    if units.is_empty() {
        units.push(0);
    }
    let mut out = Vec::new();
    for u in units {
        for d in [-1i128, 0, 1] {
            out.push(from_units(u.checked_add(d)?, scale));
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

fn to_units(text: &str, scale: u32) -> Option<i128> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let (i, f) = body.split_once('.').unwrap_or((body, ""));
    let f = f.trim_end_matches('0');
    if i.trim_start_matches('0').len() + scale as usize > 36 || f.len() > scale as usize {
        return None;
    }
    let mut digits = String::from(i);
    digits.push_str(f);
    for _ in f.len()..scale as usize {
        digits.push('0');
    }
    let v: i128 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

fn from_units(u: i128, scale: u32) -> String {
    let neg = u < 0;
    let mag = u.unsigned_abs().to_string();
    let s = scale as usize;
    let padded = format!("{mag:0>width$}", width = s + 1);
    let (i, f) = padded.split_at(padded.len() - s);
    let f = f.trim_end_matches('0');
    let body = if f.is_empty() {
        i.to_owned()
    } else {
        format!("{i}.{f}")
    };
    if neg && u != 0 {
        format!("-{body}")
    } else {
        body
    }
}

/// ISO 8601 text of an instant, with nanoseconds when it has any.
pub fn iso(i: Instant) -> String {
    let base = format_iso8601(i.secs);
    if i.nanos == 0 {
        return base;
    }
    let frac = format!("{:09}", i.nanos);
    format!(
        "{}.{}Z",
        base.trim_end_matches('Z'),
        frac.trim_end_matches('0')
    )
}

fn shift(i: Instant, nanos: i64) -> Instant {
    let total = i128::from(i.secs) * 1_000_000_000 + i128::from(i.nanos) + i128::from(nanos);
    Instant {
        secs: total.div_euclid(1_000_000_000) as i64,
        nanos: total.rem_euclid(1_000_000_000) as u32,
    }
}

/// Date constants → instants at, one nanosecond before and after each.
pub fn dates(constants: &[Instant]) -> Vec<String> {
    let mut out: Vec<Instant> = Vec::new();
    for &c in constants {
        out.extend([shift(c, -1), c, shift(c, 1)]);
    }
    if out.is_empty() {
        out.push(Instant { secs: 0, nanos: 0 });
    }
    out.sort();
    out.dedup();
    out.into_iter().map(iso).collect()
}

/// Time constants → whole seconds around each (a request's time is whole seconds).
pub fn seconds(constants: &[Instant]) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    for c in constants {
        out.extend([c.secs - 1, c.secs, c.secs + 1]);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// CIDR constants → one address of every run of addresses between range boundaries
/// (the start of each range, the address after its end), both families' lowest address.
pub fn ips(constants: &[Cidr]) -> Vec<String> {
    let mut v4: Vec<u32> = vec![0];
    let mut v6: Vec<u128> = vec![0];
    for c in constants {
        match c.range() {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                v4.push(u32::from(a));
                if let Some(n) = u32::from(b).checked_add(1) {
                    v4.push(n);
                }
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                v6.push(u128::from(a));
                if let Some(n) = u128::from(b).checked_add(1) {
                    v6.push(n);
                }
            }
            _ => {}
        }
    }
    v4.sort_unstable();
    v4.dedup();
    v6.sort_unstable();
    v6.dedup();
    v4.into_iter()
        .map(|a| Ipv4Addr::from(a).to_string())
        .chain(v6.into_iter().map(|a| Ipv6Addr::from(a).to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse_instant;

    #[test]
    fn numeric_neighbours_are_strictly_between() {
        let r = numeric(&["5", "5.01", "-2"]).unwrap();
        assert_eq!(
            r,
            vec!["-1.999", "-2", "-2.001", "4.999", "5", "5.001", "5.009", "5.01", "5.011"]
        );
        let r = numeric(&[]).unwrap();
        assert_eq!(r, vec!["-0.1", "0", "0.1"]);
        assert!(numeric(&["1234567890123456789012345678901234567"]).is_none());
    }

    #[test]
    fn dates_round_trip_with_nanoseconds() {
        let c = parse_instant("2026-01-01T00:00:00Z").unwrap();
        let r = dates(&[c]);
        assert_eq!(
            r,
            vec![
                "2025-12-31T23:59:59.999999999Z",
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:00:00.000000001Z"
            ]
        );
        for t in &r {
            assert!(parse_instant(t).is_some(), "{t}");
        }
        assert!(parse_instant(&r[0]).unwrap() < c && c < parse_instant(&r[2]).unwrap());
    }

    #[test]
    fn ip_boundaries_cover_every_run() {
        let r = ips(&[
            Cidr::parse("10.0.0.0/8").unwrap(),
            Cidr::parse("10.1.0.0/16").unwrap(),
            Cidr::parse("255.255.255.255/32").unwrap(),
        ]);
        assert_eq!(
            r,
            vec![
                "0.0.0.0",
                "10.0.0.0",
                "10.1.0.0",
                "10.2.0.0",
                "11.0.0.0",
                "255.255.255.255",
                "::"
            ]
        );
    }
}
