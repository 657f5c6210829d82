//! Virtual MFA devices: time-based one-time passwords (RFC 6238: HMAC-SHA1 over 30-second
//! steps, six digits), as IAM's virtual MFA devices and authenticator apps compute them.
//! A code is accepted for the step it was made in and the steps on either side (AWS
//! allows for clock drift likewise).

use hmac::{Hmac, Mac};

/// The seconds a code lasts.
pub const STEP: i64 = 30;

/// The bytes of a base-32 seed (RFC 4648 alphabet; case, spaces and `=` padding
/// ignored), or `None` when it is not base 32.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u64, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u64 - 'A' as u64,
            c @ '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The code of `seed` at step `counter`, with `digits` digits.
pub fn hotp(seed: &[u8], counter: u64, digits: u32) -> Option<u32> {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(seed).ok()?;
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h.get(19)? & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        h.get(offset)? & 0x7f,
        *h.get(offset + 1)?,
        *h.get(offset + 2)?,
        *h.get(offset + 3)?,
    ]);
    Some(bin % 10u32.pow(digits))
}

/// Whether `code` (six digits) is `seed`'s at `now` (epoch seconds), one step either way.
pub fn verify(seed: &[u8], code: &str, now: i64) -> bool {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) || now < 0 {
        return false;
    }
    let step = now / STEP;
    let mut ok = false;
    for s in [step - 1, step, step + 1] {
        let Ok(counter) = u64::try_from(s) else {
            continue;
        };
        if let Some(c) = hotp(seed, counter, 6) {
            use subtle::ConstantTimeEq;
            ok |= format!("{c:06}")
                .as_bytes()
                .ct_eq(code.as_bytes())
                .unwrap_u8()
                == 1;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vectors() {
        // RFC 6238 appendix B, SHA-1, seed "12345678901234567890", eight digits.
        let seed = b"12345678901234567890";
        for (time, code) in [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(seed, (time / STEP) as u64, 8), Some(code), "{time}");
        }
        assert!(verify(seed, "287082", 59));
        assert!(verify(seed, "287082", 59 + 30), "one step late");
        assert!(!verify(seed, "287082", 59 + 60), "two steps late");
        assert!(!verify(seed, "28708", 59));
        assert!(!verify(seed, "28708a", 59));
    }

    #[test]
    fn base32_seeds() {
        assert_eq!(base32_decode("GEZDGNBVGY3TQOJQ").unwrap(), b"1234567890");
        assert_eq!(
            base32_decode("gezd gnbv gy3t qojq====").unwrap(),
            b"1234567890"
        );
        assert!(base32_decode("GEZD1").is_none());
        assert!(base32_decode("").is_none());
    }
}
