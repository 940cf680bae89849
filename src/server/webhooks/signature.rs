//! Verifies Stripe's `Stripe-Signature` header over the raw request body.
//!
//! The header is `t=<unix seconds>,v1=<hex hmac>[,v1=…][,v0=…]`; each `v1` is
//! HMAC-SHA256(secret, "{t}.{body}"). Any configured secret may match (rotation), and the
//! comparison is constant-time (`Mac::verify_slice`).
//!
//! The work is bounded whatever the header holds: the MAC over the body is computed once per
//! configured secret (not once per candidate), only well-formed candidates (64 hex digits) count,
//! and a header longer than [`MAX_HEADER_LEN`] or with more than [`MAX_CANDIDATES`] of them is
//! refused before any hashing. Stripe sends one `v1` per active endpoint secret.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Longest `Stripe-Signature` header accepted (Stripe's own are about 150 bytes per secret).
pub const MAX_HEADER_LEN: usize = 4096;
/// Most `v1` candidates accepted in one header.
pub const MAX_CANDIDATES: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    Missing,
    #[error("malformed Stripe-Signature header")]
    Malformed,
    #[error("Stripe-Signature header too long or with too many signatures")]
    TooLarge,
    #[error("timestamp outside the tolerance window")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// Checks `header` against `body` with any of `secrets`, at time `now` (unix seconds).
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[SecretString],
    tolerance_secs: u64,
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let parsed = parse_header(header)?;
    if now.abs_diff(parsed.timestamp) > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    let timestamp = parsed.timestamp.to_string();
    for secret in secrets {
        let mut mac =
            HmacSha256::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes keys of any length");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        // One pass over the body per secret; each candidate is a constant-time comparison.
        if parsed.signatures.iter().any(|candidate| mac.clone().verify_slice(candidate).is_ok()) {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// Computes the header Stripe would send; used by tests and the benchmark.
pub fn sign(body: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

struct ParsedHeader {
    timestamp: i64,
    signatures: Vec<[u8; 32]>,
}

fn parse_header(header: &str) -> Result<ParsedHeader, SignatureError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(SignatureError::TooLarge);
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match key {
            "t" => timestamp = Some(value.parse().map_err(|_| SignatureError::Malformed)?),
            // Only v1 is HMAC-SHA256; other schemes (v0 in test mode) are ignored, as Stripe's
            // libraries do. A v1 value that is not 64 hex digits cannot match and is skipped.
            "v1" => {
                if let Some(digest) = decode_digest(value) {
                    if signatures.len() == MAX_CANDIDATES {
                        return Err(SignatureError::TooLarge);
                    }
                    signatures.push(digest);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    Ok(ParsedHeader { timestamp, signatures })
}

/// A SHA-256 digest written as 64 hex digits, or None.
fn decode_digest(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;
    const NOW: i64 = 1_700_000_000;

    fn secrets(list: &[&str]) -> Vec<SecretString> {
        list.iter().map(|s| SecretString::from(s.to_string())).collect()
    }

    #[test]
    fn accepts_a_valid_signature() {
        let header = sign(BODY, "whsec_a", NOW);
        assert_eq!(verify(Some(&header), BODY, &secrets(&["whsec_a"]), 300, NOW), Ok(()));
    }

    #[test]
    fn matches_a_known_vector() {
        // Independently computed: printf '1700000000.{"id":"evt_1","object":"event"}' |
        //   openssl dgst -sha256 -hmac whsec_a
        let header = sign(BODY, "whsec_a", NOW);
        assert_eq!(header, "t=1700000000,v1=df87fbe58f040d9c8b0a699dde357e2fdaaf72826b77a63b875a907f851d0b0d");
    }

    #[test]
    fn any_configured_secret_may_match() {
        let header = sign(BODY, "whsec_new", NOW);
        assert_eq!(verify(Some(&header), BODY, &secrets(&["whsec_old", "whsec_new"]), 300, NOW), Ok(()));
    }

    #[test]
    fn several_v1_values_are_all_tried() {
        let good = sign(BODY, "whsec_a", NOW);
        let good_sig = good.split_once(",v1=").unwrap().1;
        let header = format!("t={NOW},v1={},v1={good_sig}", "00".repeat(32));
        assert_eq!(verify(Some(&header), BODY, &secrets(&["whsec_a"]), 300, NOW), Ok(()));
    }

    #[test]
    fn refuses_a_wrong_secret_or_changed_body() {
        let header = sign(BODY, "whsec_a", NOW);
        assert_eq!(verify(Some(&header), BODY, &secrets(&["whsec_b"]), 300, NOW), Err(SignatureError::Mismatch));
        assert_eq!(verify(Some(&header), b"{}", &secrets(&["whsec_a"]), 300, NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn refuses_stale_and_far_future_timestamps() {
        let header = sign(BODY, "whsec_a", NOW - 301);
        assert_eq!(verify(Some(&header), BODY, &secrets(&["whsec_a"]), 300, NOW), Err(SignatureError::Stale));
        let header = sign(BODY, "whsec_a", NOW + 301);
        assert_eq!(verify(Some(&header), BODY, &secrets(&["whsec_a"]), 300, NOW), Err(SignatureError::Stale));
        let header = sign(BODY, "whsec_a", NOW - 300);
        assert_eq!(verify(Some(&header), BODY, &secrets(&["whsec_a"]), 300, NOW), Ok(()));
    }

    #[test]
    fn refuses_missing_and_malformed_headers() {
        let s = secrets(&["whsec_a"]);
        assert_eq!(verify(None, BODY, &s, 300, NOW), Err(SignatureError::Missing));
        assert_eq!(verify(Some(""), BODY, &s, 300, NOW), Err(SignatureError::Malformed));
        assert_eq!(verify(Some("v1=abcd"), BODY, &s, 300, NOW), Err(SignatureError::Malformed));
        assert_eq!(verify(Some("t=x,v1=abcd"), BODY, &s, 300, NOW), Err(SignatureError::Malformed));
        assert_eq!(verify(Some(&format!("t={NOW}")), BODY, &s, 300, NOW), Err(SignatureError::Mismatch));
        assert_eq!(verify(Some(&format!("t={NOW},v1=zz")), BODY, &s, 300, NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn only_64_hex_digit_candidates_count() {
        let good = sign(BODY, "whsec_a", NOW);
        let good_sig = good.split_once(",v1=").unwrap().1;
        // A prefix of the right digest, or the digest with a digit too many, is no candidate.
        let header = format!("t={NOW},v1={},v1={good_sig}0", &good_sig[..62]);
        assert_eq!(verify(Some(&header), BODY, &secrets(&["whsec_a"]), 300, NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn refuses_a_flood_of_candidates_before_hashing() {
        let s = secrets(&["whsec_a"]);
        let good = sign(BODY, "whsec_a", NOW);
        let good_sig = good.split_once(",v1=").unwrap().1;
        // The right signature last, behind more candidates than Stripe ever sends: refused.
        let flood = format!("t={NOW},{}v1={good_sig}", format!("v1={},", "ab".repeat(32)).repeat(MAX_CANDIDATES));
        assert!(flood.len() <= MAX_HEADER_LEN);
        assert_eq!(verify(Some(&flood), BODY, &s, 300, NOW), Err(SignatureError::TooLarge));
        // Ten thousand short values: refused for the header's length alone.
        let long = format!("t={NOW},{}", "v1=00,".repeat(10_000));
        assert_eq!(verify(Some(&long), BODY, &s, 300, NOW), Err(SignatureError::TooLarge));
        // As many candidates as allowed, the right one among them: accepted.
        let most = format!("t={NOW},{}v1={good_sig}", format!("v1={},", "ab".repeat(32)).repeat(MAX_CANDIDATES - 1));
        assert_eq!(verify(Some(&most), BODY, &s, 300, NOW), Ok(()));
    }
}
