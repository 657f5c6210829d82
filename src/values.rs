//! Typed condition values: IAM's legacy date grammar, instants, exact decimals,
//! booleans and CIDR blocks. Used by validation (which values parse) and, once
//! compiled, by evaluation.

use std::cmp::Ordering;
use std::net::IpAddr;

fn int(s: &str) -> Option<i128> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 30 {
        return None;
    }
    s.parse().ok()
}

fn in_range(s: &str, lo: i128, hi: i128) -> bool {
    int(s).is_some_and(|v| (lo..=hi).contains(&v))
}

/// Whether a `Date*` condition value passes IAM's legacy parse (`iam-policy.md` §2.3).
///
/// With `t`/`T` or `-`: `[-]YYYY[-MM[-DD]][T[hh[:mm[:ss[.f]]]][Z|+hh[:mm]]]`; otherwise an
/// integer from 0 to 9223372036854775807.
pub fn legacy_date_ok(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    if !(v.contains('t') || v.contains('-')) {
        return in_range(&v, 0, i64::MAX as i128);
    }
    let (date, time) = match v.split_once('t') {
        Some((d, t)) => (d, t),
        None => (v.as_str(), ""),
    };
    let (neg, date_body) = match date.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, date),
    };
    let parts: Vec<&str> = date_body.split('-').collect();
    if parts.len() > 3 {
        return false;
    }
    let year = if neg {
        format!("-{}", parts[0])
    } else {
        parts[0].to_owned()
    };
    if !in_range(&year, -292_275_054, 292_278_993) {
        return false;
    }
    if parts.len() > 1 && !in_range(parts[1], 1, 12) {
        return false;
    }
    if parts.len() > 2 && !in_range(parts[2], 1, 31) {
        return false;
    }
    let tp: Vec<&str> = time.split(':').collect();
    if !tp[0].is_empty() && !in_range(tp[0], 0, 23) {
        return false;
    }
    if tp.len() > 1 && !in_range(tp[1], 0, 59) {
        return false;
    }
    if tp.len() > 2 {
        let rest = tp[2..].join(":");
        let secs = if let Some((s, after)) = rest.split_once('z') {
            if !after.is_empty() {
                return false;
            }
            s.to_owned()
        } else if let Some((s, tz)) = rest.split_once('+') {
            let (h, m) = match tz.split_once(':') {
                Some((h, m)) => (h, Some(m)),
                None => (tz, None),
            };
            if h.len() != 2 || !in_range(h, 0, 23) {
                return false;
            }
            if let Some(m) = m {
                if m.len() != 2 || !in_range(m, 0, 59) {
                    return false;
                }
            }
            s.to_owned()
        } else {
            // Python's int() would also fail on a third `:` field; so do we.
            if tp.len() > 3 {
                return false;
            }
            rest
        };
        let (s, frac) = match secs.split_once('.') {
            Some((s, f)) => (s, Some(f)),
            None => (secs.as_str(), None),
        };
        if !in_range(s, 0, 59) {
            return false;
        }
        if let Some(f) = frac {
            if !in_range(f, 0, 999_999_999) {
                return false;
            }
        }
    }
    true
}

/// An instant as seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
    pub secs: i64,
    /// Nanoseconds, 0..1e9.
    pub nanos: u32,
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn fixed_digits(s: &str, n: usize) -> Option<u32> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses a date for evaluation: W3C ISO 8601 (`2026-11-24`, `2026-11-24T10:00Z`,
/// `2026-11-24T10:00:00.123+02:00`, `-05:00` offsets too) or epoch seconds (integer
/// or decimal). No offset means UTC; a date alone means 00:00:00Z. `None` if it does not parse.
pub fn parse_instant(value: &str) -> Option<Instant> {
    let v = value.trim();
    if !v.is_ascii() {
        return None;
    }
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !v.contains('-') {
        let (whole, frac) = match v.split_once('.') {
            Some((w, f)) => (w, f),
            None => (v, ""),
        };
        if whole.is_empty()
            || frac.contains('.')
            || frac.len() > 9
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let secs: i64 = whole.parse().ok()?;
        let nanos = nanos_of(frac)?;
        return Some(Instant { secs, nanos });
    }
    let (date, time) = match v.find(['T', 't']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let mut dp = date.splitn(3, '-');
    let year: i64 = fixed_digits(dp.next()?, 4)?.into();
    let month = dp.next().map_or(Some(1), |m| fixed_digits(m, 2))?;
    let day = dp.next().map_or(Some(1), |d| fixed_digits(d, 2))?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut nanos = 0u32;
    if let Some(t) = time {
        let (clock, offset) = match t.find(['Z', 'z', '+', '-']) {
            Some(i) => (&t[..i], Some(&t[i..])),
            None => (t, None),
        };
        let mut cp = clock.splitn(3, ':');
        let h = fixed_digits(cp.next()?, 2)?;
        let m = cp.next().map_or(Some(0), |m| fixed_digits(m, 2))?;
        let (s, f) = match cp.next() {
            Some(sf) => match sf.split_once('.') {
                Some((s, f)) => (fixed_digits(s, 2)?, f),
                None => (fixed_digits(sf, 2)?, ""),
            },
            None => (0, ""),
        };
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        if !f.is_empty() {
            if f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            nanos = nanos_of(f)?;
        }
        secs += i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s);
        match offset {
            None | Some("Z" | "z") => {}
            Some(o) => {
                let sign = if o.starts_with('-') { -1 } else { 1 };
                let body = &o[1..];
                let (oh, om) = match body.split_once(':') {
                    Some((h, m)) => (fixed_digits(h, 2)?, fixed_digits(m, 2)?),
                    None if body.len() == 4 => {
                        (fixed_digits(&body[..2], 2)?, fixed_digits(&body[2..], 2)?)
                    }
                    None => (fixed_digits(body, 2)?, 0),
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                secs -= sign * (i64::from(oh) * 3600 + i64::from(om) * 60);
            }
        }
    }
    Some(Instant { secs, nanos })
}

/// Nanoseconds from up to nine fraction digits (`"5"` → 500,000,000), without allocating.
fn nanos_of(frac: &str) -> Option<u32> {
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n = 0u32;
    for i in 0..9 {
        n = n * 10 + frac.as_bytes().get(i).map_or(0, |b| u32::from(b - b'0'));
    }
    Some(n)
}

/// The current time in epoch seconds (0 if the clock is before 1970).
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Formats epoch seconds as ISO 8601 UTC (`2026-11-25T10:00:00Z`), as `aws:CurrentTime` carries it.
pub fn format_iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Inverse of days_from_civil (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// An exact decimal `-?digits(.digits)?`, compared by value (`1.0` = `1`). Borrows its
/// text, so parsing never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal<'a> {
    negative: bool,
    /// Integer digits without leading zeros.
    int: &'a str,
    /// Fraction digits without trailing zeros.
    frac: &'a str,
}

impl<'a> Decimal<'a> {
    /// Parses `-?digits(.digits)?`; exponents, hex, `+` and whitespace are refused.
    pub fn parse(s: &'a str) -> Option<Self> {
        let (negative, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s),
        };
        let (i, f) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if i.is_empty() || !i.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if body.contains('.') && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        let int = i.trim_start_matches('0');
        let frac = f.trim_end_matches('0');
        let zero = int.is_empty() && frac.is_empty();
        Some(Decimal {
            negative: negative && !zero,
            int,
            frac,
        })
    }

    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        self.int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(other.int))
            .then_with(|| self.frac.cmp(other.frac))
    }
}

impl PartialOrd for Decimal<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

/// Parses a `Bool` value: `true`/`false` in any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// An IPv4 or IPv6 network: address with host bits cleared, and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `x::y/n`, or a bare address (`/32`, `/128`). Host bits are ignored.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|&n| n <= max)?
            }
            Some(_) => return None,
            None => max,
        };
        Some(Cidr {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    /// The first and last address of the network.
    pub fn range(&self) -> (IpAddr, IpAddr) {
        match self.addr {
            IpAddr::V4(a) => {
                let host = u32::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                (self.addr, IpAddr::V4((u32::from(a) | host).into()))
            }
            IpAddr::V6(a) => {
                let host = u128::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                (self.addr, IpAddr::V6((u128::from(a) | host).into()))
            }
        }
    }

    /// Whether `ip` is inside the network (never across address families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.addr.is_ipv4() == ip.is_ipv4() && mask(ip, self.prefix) == self.addr
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6((bits & m).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_dates_follow_iam() {
        for ok in [
            "2019-07-01T00:00:00Z",
            "2016",
            "2016-12",
            "2016-12-13",
            "2016-12-13t2",
            "2016-12-13T21:20:37.593194+00:00",
            "2016-12-13T21:20:37+01",
            "-292275054",
            "0",
            "9223372036854775807",
            "2016-12-13T21:20:37.593194Z",
        ] {
            assert!(legacy_date_ok(ok), "{ok}");
        }
        for bad in [
            "234-13",
            "2016-12-13t2:00:00.593194+1",
            "2016-12-13T21:20:37.1234567890Z",
            "9223372036854775808",
            "sdfdsf",
            "2026-13-01",
            "2016-12-13T24",
            "2016-12-13T21:60",
            "2016-12-13T21:20:37-05:00",
            "${aws:CurrentTime}",
        ] {
            assert!(!legacy_date_ok(bad), "{bad}");
        }
    }

    #[test]
    fn instants() {
        let p = |s| parse_instant(s).unwrap();
        assert_eq!(p("1970-01-01").secs, 0);
        assert_eq!(p("2026-11-24T10:00:00Z").secs, 1_795_514_400);
        assert_eq!(p("2026-11-24T12:00:00+02:00"), p("2026-11-24T10:00:00Z"));
        assert_eq!(p("2026-11-24T05:00:00-05:00"), p("2026-11-24T10:00:00Z"));
        assert_eq!(p("1795514400"), p("2026-11-24T10:00:00Z"));
        assert_eq!(p("2026-11-24T10:00:00.5Z").nanos, 500_000_000);
        assert_eq!(p("1795514400.25").nanos, 250_000_000);
        assert!(parse_instant("2026-02-30").is_none());
        assert!(parse_instant("2024-02-29").is_some());
        assert!(parse_instant("yesterday").is_none());
        assert!(parse_instant("2026-11-24T25:00Z").is_none());
        // Non-ASCII text never parses (and never splits a character).
        assert!(parse_instant("2026-11-24T10:00:00+aé1").is_none());
        assert!(parse_instant("２０２６-11-24").is_none());
    }

    #[test]
    fn iso8601_round_trips() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2026-11-25T10:00:00Z",
            "2024-02-29T23:59:59Z",
            "1969-12-31T23:59:59Z",
            "2400-03-01T00:00:00Z",
        ] {
            assert_eq!(format_iso8601(parse_instant(s).unwrap().secs), s);
        }
    }

    #[test]
    fn decimals_compare_exactly() {
        let d = |s| Decimal::parse(s).unwrap();
        assert_eq!(d("1.0"), d("1"));
        assert_eq!(d("-0"), d("0.000"));
        assert!(d("10") > d("9.99"));
        assert!(d("-10") < d("-9.99"));
        assert!(d("0.1") < d("0.10001"));
        assert!(d("12345678901234567890123") > d("12345678901234567890122"));
        for bad in ["", "1e3", "0x10", "+1", " 1", "1.", ".5", "--1"] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn cidrs() {
        let c = |s| Cidr::parse(s).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(c("10.0.0.0/8").contains(ip("10.1.2.3")));
        assert!(!c("10.0.0.0/8").contains(ip("192.168.1.1")));
        assert!(
            c("10.1.2.3/8").contains(ip("10.200.0.1")),
            "host bits ignored"
        );
        assert!(c("2001:db8::/32").contains(ip("2001:db8::1")));
        assert!(c("2001:DB8:0::/32").contains(ip("2001:db8:ffff::1")));
        assert!(
            !c("0.0.0.0/0").contains(ip("::1")),
            "v4 range never matches v6"
        );
        assert!(c("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(c("203.0.113.7").contains(ip("203.0.113.7")));
        assert!(!c("203.0.113.7").contains(ip("203.0.113.8")));
        for bad in ["10.0.0.0/33", "10.0.0/8", "::/129", "10.0.0.0/", "x"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn bools() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
