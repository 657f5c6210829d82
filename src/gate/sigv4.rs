//! AWS Signature Version 4, verified the way AWS does it (`swf.md` §1.2): canonical
//! request → string to sign → derived key → HMAC, compared in constant time, with the
//! signed date within 15 minutes of now. Each stage is a type with `Display`, so a
//! mismatch can be traced to its stage (at debug level; secrets never appear).

use crate::config::Secret;
use crate::swf::arn::check_region;
use crate::swf::wire::{WireError, MSG_BAD_SIGNATURE};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// The only algorithm SigV4 headers name.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far `X-Amz-Date` may be from now, in seconds (15 minutes).
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Access key ID.
    pub access_key_id: String,
    /// Scope date, `YYYYMMDD`.
    pub date: String,
    /// Scope region.
    pub region: String,
    /// Scope service.
    pub service: String,
    /// Signed header names, lowercase, as listed.
    pub signed_headers: Vec<String>,
    /// The signature, decoded.
    pub signature: Vec<u8>,
}

/// Parses an `Authorization` header with AWS's one grammar: the algorithm, one or more
/// spaces, then exactly the three parameters `Credential`, `SignedHeaders` and
/// `Signature`, separated by commas (optional spaces after each), each once. Errors are
/// `IncompleteSignatureException`s that name what is wrong, as AWS's do. The scope's
/// region must be a region name ([`check_region`]); whether the endpoint serves it is
/// [`verify`]'s question.
pub fn parse_authorization(header: &str) -> Result<Authorization, WireError> {
    let incomplete =
        |what: &str| WireError::IncompleteSignature(format!("{what} Authorization={header}"));
    let malformed_scope = || {
        incomplete(
            "Credential should be of the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request.",
        )
    };
    let (algorithm, rest) = header.split_once(' ').unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(
            "Unsupported AWS 'algorithm': only AWS4-HMAC-SHA256 is supported.",
        ));
    }
    let rest = rest.trim_start_matches(' ');
    let (mut credential, mut signed, mut signature) = (None, None, None);
    if !rest.is_empty() {
        for part in rest.split(',') {
            let part = part.trim_start_matches(' ');
            let Some((name, value)) = part.split_once('=') else {
                return Err(WireError::IncompleteSignature(format!(
                    "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'"
                )));
            };
            let slot = match name {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed,
                "Signature" => &mut signature,
                other => {
                    return Err(incomplete(&format!(
                        "Authorization header has an unknown parameter '{other}'."
                    )))
                }
            };
            if slot.is_some() {
                return Err(incomplete(&format!(
                    "Authorization header has more than one '{name}' parameter."
                )));
            }
            if value.is_empty() || value.bytes().any(|b| !b.is_ascii_graphic()) {
                return Err(incomplete(&format!(
                    "Authorization header has a malformed '{name}' parameter."
                )));
            }
            *slot = Some(value);
        }
    }
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signed.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(incomplete(&missing.join(" ")));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, terminator] = scope.as_slice() else {
        return Err(malformed_scope());
    };
    if *terminator != "aws4_request"
        || akid.is_empty()
        || service.is_empty()
        || date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(malformed_scope());
    }
    if check_region(region).is_err() {
        return Err(WireError::InvalidSignature(invalid_region_message(region)));
    }
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(WireError::IncompleteSignature(format!(
            "Signature must be 64 lowercase hexadecimal characters. Authorization={header}"
        )));
    }
    let signature = hex::decode(signature).map_err(|_| {
        WireError::IncompleteSignature(format!(
            "Signature must be 64 lowercase hexadecimal characters. Authorization={header}"
        ))
    })?;
    let signed_headers: Vec<String> = signed.split(';').map(str::to_owned).collect();
    let token = |h: &str| {
        !h.is_empty()
            && h.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.!#$%&'*+^`|~".contains(&b)
            })
    };
    // A handful of names: a quadratic scan is cheaper than a set.
    let distinct = signed_headers
        .iter()
        .enumerate()
        .all(|(i, h)| !signed_headers[..i].contains(h));
    if !distinct || !signed_headers.iter().all(|h| token(h)) {
        return Err(incomplete(
            "SignedHeaders must be distinct lowercase header names separated by ';'.",
        ));
    }
    Ok(Authorization {
        access_key_id: (*akid).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        signed_headers,
        signature,
    })
}

/// AWS's answer to a credential scope whose region is not one the endpoint serves.
pub fn invalid_region_message(region: &str) -> String {
    format!("Credential should be scoped to a valid region, not '{region}'. ")
}

/// The canonical request of SigV4, as the bytes that are hashed (header values are
/// bytes, not necessarily UTF-8); `Display` shows it as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalRequest(pub Vec<u8>);

impl fmt::Display for CanonicalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

/// The string to sign of SigV4, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringToSign(pub String);

impl fmt::Display for StringToSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let hexval = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hexval(bytes[i + 1]), hexval(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical URI: the normalized path with each segment encoded twice (every
/// service but S3), `/` when empty.
fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::from("/");
    let encoded: Vec<String> = segments
        .iter()
        .map(|s| uri_encode(&uri_encode(&percent_decode(s), false), false))
        .collect();
    out.push_str(&encoded.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical query string: parameters decoded, re-encoded, sorted by name then value.
fn canonical_query(query: &str) -> String {
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    params.sort();
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Appends a header value as SigV4 canonicalizes it: its bytes as sent (never decoded,
/// so no two different values fold into one), leading and trailing spaces and tabs
/// removed, each inner run of them folded to one space.
fn push_canonical_value(v: &[u8], out: &mut impl Extend<u8>) {
    let mut first = true;
    for word in v
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|w| !w.is_empty())
    {
        if !first {
            out.extend([b' ']);
        }
        first = false;
        out.extend(word.iter().copied());
    }
}

/// Builds the canonical request for `method`, `path_and_query`, the listed headers and
/// the body. A signed header the request lacks is an error.
pub fn canonical_request(
    method: &str,
    path_and_query: &str,
    headers: &http::HeaderMap,
    signed_headers: &[String],
    body: &[u8],
) -> Result<CanonicalRequest, WireError> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut sorted: Vec<&String> = signed_headers.iter().collect();
    sorted.sort();
    let mut canon_headers: Vec<u8> = Vec::new();
    for name in &sorted {
        let values: Vec<Vec<u8>> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                let mut out = Vec::new();
                push_canonical_value(v.as_bytes(), &mut out);
                out
            })
            .collect();
        if values.is_empty() {
            return Err(WireError::InvalidSignature(format!(
                "{MSG_BAD_SIGNATURE} (signed header `{name}` is not in the request)"
            )));
        }
        canon_headers.extend_from_slice(name.as_bytes());
        canon_headers.push(b':');
        canon_headers.extend_from_slice(&values.join(&b","[..]));
        canon_headers.push(b'\n');
    }
    let payload = hex::encode(Sha256::digest(body));
    let signed_list: Vec<&str> = sorted.iter().map(|s| s.as_str()).collect();
    let mut out = format!(
        "{method}\n{}\n{}\n",
        canonical_uri(path),
        canonical_query(query)
    )
    .into_bytes();
    out.extend_from_slice(&canon_headers);
    out.extend_from_slice(format!("\n{}\n{payload}", signed_list.join(";")).as_bytes());
    Ok(CanonicalRequest(out))
}

/// The SHA-256 of the canonical request, streamed into the hasher without building the
/// text (the verifier's hot path; [`canonical_request`] builds the same bytes as text).
pub fn canonical_request_digest(
    method: &str,
    path_and_query: &str,
    headers: &http::HeaderMap,
    signed_headers: &[String],
    body: &[u8],
) -> Result<[u8; 32], WireError> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    if path == "/" || path.is_empty() {
        h.update(b"/");
    } else {
        h.update(canonical_uri(path).as_bytes());
    }
    h.update(b"\n");
    if !query.is_empty() {
        h.update(canonical_query(query).as_bytes());
    }
    h.update(b"\n");
    let mut sorted: Vec<&str> = signed_headers.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    for name in &sorted {
        let mut values = headers.get_all(*name).iter().peekable();
        if values.peek().is_none() {
            return Err(WireError::InvalidSignature(format!(
                "{MSG_BAD_SIGNATURE} (signed header `{name}` is not in the request)"
            )));
        }
        h.update(name.as_bytes());
        h.update(b":");
        let mut first_value = true;
        for v in values {
            if !first_value {
                h.update(b",");
            }
            first_value = false;
            let mut first_word = true;
            for word in v
                .as_bytes()
                .split(|b| *b == b' ' || *b == b'\t')
                .filter(|w| !w.is_empty())
            {
                if !first_word {
                    h.update(b" ");
                }
                first_word = false;
                h.update(word);
            }
        }
        h.update(b"\n");
    }
    h.update(b"\n");
    for (i, name) in sorted.iter().enumerate() {
        if i > 0 {
            h.update(b";");
        }
        h.update(name.as_bytes());
    }
    h.update(b"\n");
    let mut hex_buf = [0u8; 64];
    if hex::encode_to_slice(Sha256::digest(body), &mut hex_buf).is_err() {
        return Err(WireError::InternalFailure("hex encoding failed".into()));
    }
    h.update(hex_buf);
    Ok(h.finalize().into())
}

/// The signature over a canonical-request digest, computed without building the string
/// to sign (the same bytes as [`string_to_sign`]). Empty only if HMAC cannot be keyed.
fn signature_of_digest(
    key: &[u8],
    amz_date: &str,
    auth: &Authorization,
    creq_digest: &[u8; 32],
) -> Vec<u8> {
    let mut hex_buf = [0u8; 64];
    if hex::encode_to_slice(creq_digest, &mut hex_buf).is_err() {
        return Vec::new();
    }
    match HmacSha256::new_from_slice(key) {
        Ok(mut m) => {
            for part in [
                ALGORITHM.as_bytes(),
                b"\n",
                amz_date.as_bytes(),
                b"\n",
                auth.date.as_bytes(),
                b"/",
                auth.region.as_bytes(),
                b"/",
                auth.service.as_bytes(),
                b"/aws4_request\n",
                &hex_buf,
            ] {
                m.update(part);
            }
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// The string to sign for a canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, creq: &CanonicalRequest) -> StringToSign {
    StringToSign(format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(&creq.0))
    ))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// The signing key: `"AWS4"+secret` → date → region → service → `aws4_request`.
pub fn signing_key(secret: &Secret, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(
        format!("AWS4{}", secret.expose()).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// The hex signature of a string to sign.
pub fn signature(key: &[u8], sts: &StringToSign) -> String {
    hex::encode(hmac(key, sts.0.as_bytes()))
}

/// A cache of derived signing keys, by access key, date, region, service and secret (a
/// key changes once a day; deriving it costs four HMACs). Bounded: cleared past 4,096 keys.
#[derive(Default)]
pub struct KeyCache(std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>);

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyCache")
    }
}

impl KeyCache {
    fn get(&self, auth: &Authorization, secret: &Secret) -> Vec<u8> {
        let id = format!(
            "{}\n{}\n{}\n{}\n{}",
            auth.access_key_id,
            auth.date,
            auth.region,
            auth.service,
            secret.expose()
        );
        if let Ok(map) = self.0.lock() {
            if let Some(k) = map.get(&id) {
                return k.clone();
            }
        }
        let key = signing_key(secret, &auth.date, &auth.region, &auth.service);
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= 4096 {
                map.clear();
            }
            map.insert(id, key.clone());
        }
        key
    }
}

/// Parses `YYYYMMDDTHHMMSSZ` into epoch seconds.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    if !s.is_ascii() || s.len() != 16 || s.as_bytes().get(8) != Some(&b'T') || !s.ends_with('Z') {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    );
    if !s[..8]
        .bytes()
        .chain(s[9..15].bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    crate::values::parse_instant(&iso).map(|i| i.secs)
}

/// `X-Amz-Date` for epoch seconds (`20261207T215000Z`).
pub fn format_amz_date(secs: i64) -> String {
    crate::values::format_iso8601(secs).replace(['-', ':'], "")
}

/// What a verifier knows of an access key: its secret and, for temporary credentials,
/// the session token that must accompany (and be signed with) every request, and when
/// it expires.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The secret access key.
    pub secret: Secret,
    /// The session token of temporary credentials (`None`: a long-term key, which must
    /// not be sent with a token).
    pub session_token: Option<Secret>,
    /// When temporary credentials expire (epoch seconds).
    pub expires: Option<i64>,
}

impl Credential {
    /// A long-term key's credential.
    pub fn long_term(secret: Secret) -> Self {
        Credential {
            secret,
            session_token: None,
            expires: None,
        }
    }
}

/// A request that passed SigV4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key ID that signed it.
    pub access_key_id: String,
    /// The scope region (`aws:RequestedRegion`).
    pub region: String,
}

/// What a verifying endpoint accepts in a credential scope.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    /// The scope service (`swf`, `sts`).
    pub service: &'a str,
    /// Whether `X-Amz-Target` must be signed (JSON protocols name the operation there;
    /// STS's query protocol names it in the signed body).
    pub target_signed: bool,
    /// The regions the endpoint serves; a scope naming another is refused with AWS's
    /// "Credential should be scoped to a valid region". Never empty in practice: an empty
    /// list refuses every request.
    pub regions: &'a [String],
}

/// Headers that must be signed whenever the request carries them: what the gate decides
/// with (`x-amz-target` is the operation, so an unsigned one would let a captured request
/// be replayed as another operation), and what a client's key material rides on.
pub const REQUIRED_SIGNED: [(&str, &str); 3] = [
    ("host", "'Host' or ':authority'"),
    ("x-amz-date", "'X-Amz-Date'"),
    ("x-amz-target", "'X-Amz-Target'"),
];

/// Headers that must be signed when present.
pub const SIGNED_WHEN_PRESENT: [(&str, &str); 2] = [
    ("content-type", "'Content-Type'"),
    ("x-amz-security-token", "'X-Amz-Security-Token'"),
];

/// Verifies a request's signature. `secret_of` finds the secret of an access key ID;
/// `now` is epoch seconds; `endpoint` says which scope service and regions are served.
pub fn verify(
    method: &str,
    path_and_query: &str,
    headers: &http::HeaderMap,
    body: &[u8],
    secret_of: &dyn Fn(&str) -> Option<Credential>,
    now: i64,
    endpoint: &Endpoint<'_>,
) -> Result<Verified, WireError> {
    verify_cached(
        method,
        path_and_query,
        headers,
        body,
        secret_of,
        now,
        endpoint,
        None,
    )
}

/// [`verify`] with a cache of derived signing keys.
#[allow(clippy::too_many_arguments)]
pub fn verify_cached(
    method: &str,
    path_and_query: &str,
    headers: &http::HeaderMap,
    body: &[u8],
    secret_of: &dyn Fn(&str) -> Option<Credential>,
    now: i64,
    endpoint: &Endpoint<'_>,
    cache: Option<&KeyCache>,
) -> Result<Verified, WireError> {
    let Some(header) = headers.get(http::header::AUTHORIZATION) else {
        return Err(WireError::MissingAuthenticationToken);
    };
    let header = header
        .to_str()
        .map_err(|_| WireError::IncompleteSignature("Authorization header is not ASCII.".into()))?;
    let auth = parse_authorization(header)?;
    let Some(amz_date) = headers.get("x-amz-date").and_then(|v| v.to_str().ok()) else {
        return Err(WireError::IncompleteSignature(format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={header}"
        )));
    };
    let signed = |name: &str| auth.signed_headers.iter().any(|h| h == name);
    for (name, shown) in REQUIRED_SIGNED {
        if name == "x-amz-target" && !endpoint.target_signed {
            continue;
        }
        if !signed(name) {
            return Err(WireError::IncompleteSignature(format!(
                "{shown} must be a 'SignedHeader' in the AWS Authorization. Authorization={header}"
            )));
        }
    }
    for (name, shown) in SIGNED_WHEN_PRESENT {
        if headers.contains_key(name) && !signed(name) {
            return Err(WireError::IncompleteSignature(format!(
                "{shown} must be a 'SignedHeader' in the AWS Authorization when it is sent. Authorization={header}"
            )));
        }
    }
    let Some(signed_at) = parse_amz_date(amz_date) else {
        return Err(WireError::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )));
    };
    let Some(credential) = secret_of(&auth.access_key_id) else {
        return Err(WireError::UnrecognizedClient);
    };
    let sent_token = headers.get("x-amz-security-token").map(|v| v.as_bytes());
    match (&credential.session_token, sent_token) {
        (None, None) => {}
        // A token must belong to the key: compared in constant time.
        (Some(t), Some(sent)) => {
            use subtle::ConstantTimeEq;
            if t.expose().as_bytes().ct_eq(sent).unwrap_u8() != 1 {
                return Err(WireError::UnrecognizedClient);
            }
        }
        _ => return Err(WireError::UnrecognizedClient),
    }
    if credential.expires.is_some_and(|e| e <= now) {
        return Err(WireError::ExpiredToken);
    }
    let secret = credential.secret;
    if signed_at < now - MAX_SKEW_SECS {
        return Err(WireError::InvalidSignature(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            format_amz_date(now - MAX_SKEW_SECS),
            format_amz_date(now)
        )));
    }
    if signed_at > now + MAX_SKEW_SECS {
        return Err(WireError::InvalidSignature(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            format_amz_date(now + MAX_SKEW_SECS),
            format_amz_date(now)
        )));
    }
    if auth.date != amz_date[..8] {
        return Err(WireError::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8]
        )));
    }
    if auth.service != endpoint.service {
        return Err(WireError::InvalidSignature(format!(
            "Credential should be scoped to correct service: '{}'. ",
            endpoint.service
        )));
    }
    if !endpoint.regions.contains(&auth.region) {
        return Err(WireError::InvalidSignature(invalid_region_message(
            &auth.region,
        )));
    }
    let digest =
        canonical_request_digest(method, path_and_query, headers, &auth.signed_headers, body)?;
    let key = match cache {
        Some(c) => c.get(&auth, &secret),
        None => signing_key(&secret, &auth.date, &auth.region, &auth.service),
    };
    let expected = signature_of_digest(&key, amz_date, &auth, &digest);
    use subtle::ConstantTimeEq;
    if expected.is_empty() || expected.ct_eq(&auth.signature).unwrap_u8() != 1 {
        if tracing::enabled!(target: "swf_iam::sigv4", tracing::Level::DEBUG) {
            if let Ok(creq) =
                canonical_request(method, path_and_query, headers, &auth.signed_headers, body)
            {
                let scope = format!(
                    "{}/{}/{}/aws4_request",
                    auth.date, auth.region, auth.service
                );
                let sts = string_to_sign(amz_date, &scope, &creq);
                tracing::debug!(target: "swf_iam::sigv4", canonical_request = %creq, string_to_sign = %sts, "signature mismatch");
            }
        }
        return Err(WireError::InvalidSignature(MSG_BAD_SIGNATURE.into()));
    }
    Ok(Verified {
        access_key_id: auth.access_key_id,
        region: auth.region,
    })
}

/// The credentials and scope a request is signed with (for tests and tools).
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// Access key ID.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret: &'a Secret,
    /// Scope region.
    pub region: &'a str,
    /// Scope service.
    pub service: &'a str,
}

impl Signer<'_> {
    /// The `Authorization` header value for a request, signing every header present
    /// except `authorization` and `user-agent` (which must include `host` and `x-amz-date`).
    pub fn sign(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<String, WireError> {
        let amz_date = headers
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| WireError::IncompleteSignature("x-amz-date is required".into()))?;
        let mut names: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
        names.sort();
        names.dedup();
        names.retain(|n| n != "authorization" && n != "user-agent");
        let creq = canonical_request(method, path_and_query, headers, &names, body)?;
        let date = amz_date.get(..8).unwrap_or("");
        let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        let sts = string_to_sign(amz_date, &scope, &creq);
        let sig = signature(
            &signing_key(self.secret, date, self.region, self.service),
            &sts,
        );
        Ok(format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
            self.access_key_id,
            names.join(";")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const DATE: &str = "20150830T123600Z";

    fn headers(extra: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", "example.amazonaws.com".parse().unwrap());
        h.insert("x-amz-date", DATE.parse().unwrap());
        for (k, v) in extra {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn sig(method: &str, pq: &str, h: &HeaderMap, signed: &str, body: &[u8]) -> String {
        let signed: Vec<String> = signed.split(';').map(str::to_owned).collect();
        let creq = canonical_request(method, pq, h, &signed, body).unwrap();
        let sts = string_to_sign(DATE, "20150830/us-east-1/service/aws4_request", &creq);
        signature(
            &signing_key(&Secret::new(SECRET), "20150830", "us-east-1", "service"),
            &sts,
        )
    }

    /// Vectors of AWS's SigV4 test suite (aws-sig-v4-test-suite).
    #[test]
    fn aws_test_suite_vectors() {
        let h = headers(&[]);
        assert_eq!(
            sig("GET", "/", &h, "host;x-amz-date", b""),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(
            sig("POST", "/", &h, "host;x-amz-date", b""),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        assert_eq!(
            sig("POST", "/?Param1=value1", &h, "host;x-amz-date", b""),
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
        );
        assert_eq!(
            sig(
                "GET",
                "/?Param2=value2&Param1=value1",
                &h,
                "host;x-amz-date",
                b""
            ),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
        let h1 = headers(&[("my-header1", "value1")]);
        assert_eq!(
            sig("POST", "/", &h1, "host;my-header1;x-amz-date", b""),
            "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"
        );
        let h4 = headers(&[
            ("my-header1", "value4"),
            ("my-header1", "value1"),
            ("my-header1", "value3"),
            ("my-header1", "value2"),
        ]);
        assert_eq!(
            sig("GET", "/", &h4, "host;my-header1;x-amz-date", b""),
            "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"
        );
        // post-x-www-form-urlencoded: the published canonical request and string to sign.
        let hf = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let signed: Vec<String> = ["content-type", "host", "x-amz-date"]
            .map(str::to_owned)
            .to_vec();
        let creq = canonical_request("POST", "/", &hf, &signed, b"Param1=value1").unwrap();
        assert!(creq.to_string().ends_with("\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"));
        let sts = string_to_sign(DATE, "20150830/us-east-1/service/aws4_request", &creq);
        assert!(sts
            .0
            .ends_with("\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"));
    }

    #[test]
    fn streamed_digest_equals_the_text_stage() {
        let cases: Vec<(&str, &str, HeaderMap, &str, &[u8])> = vec![
            ("POST", "/", headers(&[]), "host;x-amz-date", b""),
            (
                "GET",
                "/?Param2=value2&Param1=value1",
                headers(&[]),
                "host;x-amz-date",
                b"",
            ),
            (
                "GET",
                "/",
                headers(&[("my-header1", "value4"), ("my-header1", "  a   b  ")]),
                "host;my-header1;x-amz-date",
                b"",
            ),
            (
                "POST",
                "/a/./b/../c d",
                headers(&[("x-amz-target", "SimpleWorkflowService.ListDomains")]),
                "host;x-amz-date;x-amz-target",
                b"{}",
            ),
        ];
        for (m, pq, h, signed, body) in cases {
            let signed: Vec<String> = signed.split(';').map(str::to_owned).collect();
            let text = canonical_request(m, pq, &h, &signed, body).unwrap();
            let digest = canonical_request_digest(m, pq, &h, &signed, body).unwrap();
            assert_eq!(
                digest.to_vec(),
                Sha256::digest(&text.0).to_vec(),
                "{m} {pq}"
            );
        }
    }

    #[test]
    fn canonical_request_stage_is_exact() {
        let h = headers(&[]);
        let creq =
            canonical_request("POST", "/", &h, &["host".into(), "x-amz-date".into()], b"").unwrap();
        assert_eq!(
            creq.to_string(),
            "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let sts = string_to_sign(DATE, "20150830/us-east-1/service/aws4_request", &creq);
        assert_eq!(
            sts.to_string(),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87"
        );
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a/./b/../c d"), "/a/c%2520d");
    }

    fn ep(service: &'static str) -> Endpoint<'static> {
        Endpoint {
            service,
            target_signed: true,
            regions: Box::leak(Box::new(vec!["us-east-1".to_owned()])),
        }
    }

    fn lookup(akid: &str) -> Option<Credential> {
        (akid == "AKIDEXAMPLE").then(|| Credential::long_term(Secret::new(SECRET)))
    }

    #[test]
    fn verify_accepts_own_signatures_and_rejects_everything_else() {
        let now = parse_amz_date(DATE).unwrap();
        let mut h = headers(&[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "SimpleWorkflowService.ListDomains"),
        ]);
        let body = br#"{"registrationStatus":"REGISTERED"}"#;
        let secret = Secret::new(SECRET);
        let signer = Signer {
            access_key_id: "AKIDEXAMPLE",
            secret: &secret,
            region: "us-east-1",
            service: "swf",
        };
        let auth = signer.sign("POST", "/", &h, body).unwrap();
        h.insert("authorization", auth.parse().unwrap());
        let ok = verify("POST", "/", &h, body, &lookup, now, &ep("swf")).unwrap();
        assert_eq!(ok.region, "us-east-1");
        // Tampered body, wrong secret, unknown key, wrong service, skew.
        assert!(
            matches!(verify("POST", "/", &h, b"{}", &lookup, now, &ep("swf")), Err(WireError::InvalidSignature(m)) if m == MSG_BAD_SIGNATURE)
        );
        let wrong = |_: &str| Some(Credential::long_term(Secret::new("other")));
        assert!(matches!(
            verify("POST", "/", &h, body, &wrong, now, &ep("swf")),
            Err(WireError::InvalidSignature(_))
        ));
        let none = |_: &str| None;
        assert_eq!(
            verify("POST", "/", &h, body, &none, now, &ep("swf")),
            Err(WireError::UnrecognizedClient)
        );
        assert!(
            matches!(verify("POST", "/", &h, body, &lookup, now, &ep("sqs")), Err(WireError::InvalidSignature(m)) if m.starts_with("Credential should be scoped to correct service: 'sqs'"))
        );
        match verify("POST", "/", &h, body, &lookup, now + 16 * 60, &ep("swf")) {
            Err(WireError::InvalidSignature(m)) => assert_eq!(
                m,
                "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)"
            ),
            other => panic!("{other:?}"),
        }
        assert!(
            verify("POST", "/", &h, body, &lookup, now + 15 * 60, &ep("swf")).is_ok(),
            "15 minutes is still fine"
        );
        assert!(
            matches!(verify("POST", "/", &h, body, &lookup, now - 16 * 60, &ep("swf")), Err(WireError::InvalidSignature(m)) if m.starts_with("Signature not yet current"))
        );
        // A header changed after signing.
        let mut h2 = h.clone();
        h2.insert(
            "x-amz-target",
            "SimpleWorkflowService.DeprecateDomain".parse().unwrap(),
        );
        assert!(matches!(
            verify("POST", "/", &h2, body, &lookup, now, &ep("swf")),
            Err(WireError::InvalidSignature(_))
        ));
    }

    #[test]
    fn malformed_authorization_headers() {
        let now = parse_amz_date(DATE).unwrap();
        let mut h = headers(&[]);
        assert_eq!(
            verify("POST", "/", &h, b"", &lookup, now, &ep("swf")),
            Err(WireError::MissingAuthenticationToken)
        );
        for bad in [
            "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/swf/aws4_request, SignedHeaders=host;x-amz-date",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/swf, SignedHeaders=host;x-amz-date, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/swf/aws4_request, SignedHeaders=host;x-amz-date, Signature=zz",
            "AWS AKIDEXAMPLE:abc",
            "",
        ] {
            h.insert("authorization", bad.parse().unwrap());
            assert!(matches!(verify("POST", "/", &h, b"", &lookup, now, &ep("swf")), Err(WireError::IncompleteSignature(_))), "{bad}");
        }
        let auth = parse_authorization("AWS4-HMAC-SHA256 SignedHeaders=a").unwrap_err();
        assert_eq!(
            auth.message(),
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 SignedHeaders=a"
        );
        // Signed headers must cover host and x-amz-date.
        h.insert(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/swf/aws4_request, SignedHeaders=host, Signature={}", "0".repeat(64))
                .parse()
                .unwrap(),
        );
        assert!(
            matches!(verify("POST", "/", &h, b"", &lookup, now, &ep("swf")),
            Err(WireError::IncompleteSignature(m)) if m.starts_with("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."))
        );
        // A missing x-amz-date.
        h.remove("x-amz-date");
        assert!(matches!(
            verify("POST", "/", &h, b"", &lookup, now, &ep("swf")),
            Err(WireError::IncompleteSignature(_))
        ));
    }

    /// A signed SWF request (target, content type, body) and its verifier inputs.
    fn swf_request(signed_names: Option<&str>) -> (HeaderMap, &'static [u8]) {
        let mut h = headers(&[
            ("content-type", "application/x-amz-json-1.0"),
            (
                "x-amz-target",
                "SimpleWorkflowService.RecordActivityTaskHeartbeat",
            ),
        ]);
        let body: &[u8] = br#"{"taskToken":"t","details":"50%"}"#;
        let secret = Secret::new(SECRET);
        let auth = match signed_names {
            None => Signer {
                access_key_id: "AKIDEXAMPLE",
                secret: &secret,
                region: "us-east-1",
                service: "swf",
            }
            .sign("POST", "/", &h, body)
            .unwrap(),
            Some(list) => {
                let names: Vec<String> = list.split(';').map(str::to_owned).collect();
                let creq = canonical_request("POST", "/", &h, &names, body).unwrap();
                let scope = "20150830/us-east-1/swf/aws4_request";
                let sts = string_to_sign(DATE, scope, &creq);
                let sig = signature(&signing_key(&secret, "20150830", "us-east-1", "swf"), &sts);
                format!("{ALGORITHM} Credential=AKIDEXAMPLE/{scope}, SignedHeaders={list}, Signature={sig}")
            }
        };
        h.insert("authorization", auth.parse().unwrap());
        (h, body)
    }

    /// The operation decides the authorization, so it must be signed: a request whose
    /// SignedHeaders leave out `x-amz-target` is refused even though its signature is
    /// correct for what it does sign (the replay of issue 15).
    #[test]
    fn the_operation_and_content_type_must_be_signed() {
        let now = parse_amz_date(DATE).unwrap();
        let (h, body) = swf_request(None);
        assert!(verify("POST", "/", &h, body, &lookup, now, &ep("swf")).is_ok());
        let (h, body) = swf_request(Some("content-type;host;x-amz-date"));
        match verify("POST", "/", &h, body, &lookup, now, &ep("swf")) {
            Err(WireError::IncompleteSignature(m)) => assert!(
                m.starts_with("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        // The same request with the target swapped: still refused, never a valid signature.
        let mut swapped = h.clone();
        swapped.insert(
            "x-amz-target",
            "SimpleWorkflowService.RespondActivityTaskCompleted"
                .parse()
                .unwrap(),
        );
        assert!(matches!(
            verify("POST", "/", &swapped, body, &lookup, now, &ep("swf")),
            Err(WireError::IncompleteSignature(_))
        ));
        let (h, body) = swf_request(Some("host;x-amz-date;x-amz-target"));
        match verify("POST", "/", &h, body, &lookup, now, &ep("swf")) {
            Err(WireError::IncompleteSignature(m)) => {
                assert!(
                    m.starts_with("'Content-Type' must be a 'SignedHeader'"),
                    "{m}"
                )
            }
            other => panic!("{other:?}"),
        }
        let (h, body) = swf_request(Some("content-type;x-amz-date;x-amz-target"));
        assert!(
            matches!(verify("POST", "/", &h, body, &lookup, now, &ep("swf")),
            Err(WireError::IncompleteSignature(m)) if m.starts_with("'Host' or ':authority' must be a 'SignedHeader'"))
        );
    }

    /// One grammar, each parameter once: every ambiguous form is refused before any
    /// key lookup.
    #[test]
    fn the_authorization_grammar_is_strict() {
        let (h, _) = swf_request(None);
        let good = h["authorization"].to_str().unwrap().to_owned();
        assert!(parse_authorization(&good).is_ok());
        let sig = good.rsplit_once("Signature=").unwrap().1.to_owned();
        let cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/swf/aws4_request";
        let sh = "SignedHeaders=content-type;host;x-amz-date;x-amz-target";
        // Accepted spellings: botocore's ", " and the compact ",".
        assert!(parse_authorization(&format!("{ALGORITHM} {cred},{sh},Signature={sig}")).is_ok());
        for bad in [
            format!("{ALGORITHM}{cred}, {sh}, Signature={sig}"),
            format!("{ALGORITHM}\t{cred}, {sh}, Signature={sig}"),
            format!("{ALGORITHM} {cred}, {cred}, {sh}, Signature={sig}"),
            format!("{ALGORITHM} Credential=AKIDOTHER/20150830/us-east-1/swf/aws4_request, {cred}, {sh}, Signature={sig}"),
            format!("{ALGORITHM} {cred}, {sh}, {sh}, Signature={sig}"),
            format!("{ALGORITHM} {cred}, {sh}, Signature={sig}, Signature={sig}"),
            format!("{ALGORITHM} {cred}, {sh}, Signature={sig}, Extra=1"),
            format!("{ALGORITHM} {cred}, {sh}, Signature={sig},"),
            format!("{ALGORITHM} {cred}, {sh} Signature={sig}"),
            format!("{ALGORITHM} {cred}, {sh}, Signature={}", sig.to_uppercase()),
            format!("{ALGORITHM} {cred}, SignedHeaders=host;host;x-amz-date;x-amz-target, Signature={sig}"),
            format!("{ALGORITHM} {cred}, SignedHeaders=host;;x-amz-date, Signature={sig}"),
            format!("{ALGORITHM} {cred}, SignedHeaders=Host;x-amz-date, Signature={sig}"),
            format!("{ALGORITHM} credential=AKIDEXAMPLE/20150830/us-east-1/swf/aws4_request, {sh}, Signature={sig}"),
            format!("{ALGORITHM} {cred}, {sh}, Signature="),
            format!("aws4-hmac-sha256 {cred}, {sh}, Signature={sig}"),
        ] {
            assert!(
                matches!(parse_authorization(&bad), Err(WireError::IncompleteSignature(_))),
                "{bad}"
            );
        }
    }

    /// A region is a region name, and one the endpoint serves; no scope string can put a
    /// colon, slash or wildcard into the region that ARNs are built from.
    #[test]
    fn the_scope_region_is_checked_and_served() {
        let now = parse_amz_date(DATE).unwrap();
        let secret = Secret::new(SECRET);
        let sign_as = |region: &str| {
            let mut h = headers(&[
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-target", "SimpleWorkflowService.ListDomains"),
            ]);
            let auth = Signer {
                access_key_id: "AKIDEXAMPLE",
                secret: &secret,
                region,
                service: "swf",
            }
            .sign("POST", "/", &h, b"{}")
            .unwrap();
            h.insert("authorization", auth.parse().unwrap());
            h
        };
        assert_eq!(
            verify(
                "POST",
                "/",
                &sign_as("us-east-1"),
                b"{}",
                &lookup,
                now,
                &ep("swf")
            )
            .unwrap()
            .region,
            "us-east-1"
        );
        match verify(
            "POST",
            "/",
            &sign_as("eu-west-1"),
            b"{}",
            &lookup,
            now,
            &ep("swf"),
        ) {
            Err(WireError::InvalidSignature(m)) => assert_eq!(
                m,
                "Credential should be scoped to a valid region, not 'eu-west-1'. "
            ),
            other => panic!("{other:?}"),
        }
        let two = Endpoint {
            service: "swf",
            target_signed: true,
            regions: Box::leak(Box::new(vec![
                "us-east-1".to_owned(),
                "eu-west-1".to_owned(),
            ])),
        };
        assert!(verify(
            "POST",
            "/",
            &sign_as("eu-west-1"),
            b"{}",
            &lookup,
            now,
            &two
        )
        .is_ok());
        for trick in [
            "us-east-1:123456789012",
            "us-east-1:",
            "*",
            "us-east-*",
            "US-EAST-1",
            "useast-1",
            "u-east-1",
            "us-east-",
            "-east-1",
            "us--east-1",
            "us-east-1x",
        ] {
            let mut h = headers(&[("x-amz-target", "SimpleWorkflowService.ListDomains")]);
            h.insert(
                "authorization",
                format!("{ALGORITHM} Credential=AKIDEXAMPLE/20150830/{trick}/swf/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature={}", "0".repeat(64))
                    .parse()
                    .unwrap(),
            );
            assert!(
                matches!(verify("POST", "/", &h, b"{}", &lookup, now, &two), Err(WireError::InvalidSignature(m)) if m.starts_with("Credential should be scoped to a valid region")),
                "{trick}"
            );
        }
        let spaced = format!("{ALGORITHM} Credential=AKIDEXAMPLE/20150830/us-east-1 /swf/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature={}", "0".repeat(64));
        assert!(matches!(
            parse_authorization(&spaced),
            Err(WireError::IncompleteSignature(_))
        ));
    }

    /// Header values are hashed as the bytes sent: two values that differ in one
    /// non-UTF-8 byte have different canonical requests (before, both decoded to U+FFFD).
    #[test]
    fn header_values_are_hashed_as_bytes() {
        let mut a = headers(&[]);
        let mut b = headers(&[]);
        a.insert(
            "x-amz-meta",
            http::HeaderValue::from_bytes(b"v\x80").unwrap(),
        );
        b.insert(
            "x-amz-meta",
            http::HeaderValue::from_bytes(b"v\x81").unwrap(),
        );
        let names: Vec<String> = ["host", "x-amz-date", "x-amz-meta"]
            .map(str::to_owned)
            .to_vec();
        let da = canonical_request_digest("POST", "/", &a, &names, b"").unwrap();
        let db = canonical_request_digest("POST", "/", &b, &names, b"").unwrap();
        assert_ne!(da, db);
        let ta = canonical_request("POST", "/", &a, &names, b"").unwrap();
        assert_eq!(da.to_vec(), Sha256::digest(&ta.0).to_vec());
        assert!(ta.0.windows(4).any(|w| w == b":v\x80\n"));
        // Spaces and tabs still fold as SigV4 says.
        let mut c = headers(&[]);
        c.insert("x-amz-meta", "  a \t  b  ".parse().unwrap());
        let tc = canonical_request("POST", "/", &c, &names, b"").unwrap();
        assert!(tc.to_string().contains("\nx-amz-meta:a b\n"));
    }
}
