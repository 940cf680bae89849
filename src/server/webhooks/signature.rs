//! Verifies Stripe's `Stripe-Signature` header over the raw request body.
//!
//! The header is `t=<unix seconds>,v1=<hex hmac>[,v1=…][,v0=…]`; each `v1` is
//! HMAC-SHA256(secret, "{t}.{body}"). Any configured secret may match (rotation), and the
//! comparison is constant-time (`Mac::verify_slice`).

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    Missing,
    #[error("malformed Stripe-Signature header")]
    Malformed,
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
        for candidate in &parsed.signatures {
            let mut mac =
                HmacSha256::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes keys of any length");
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            if mac.verify_slice(candidate).is_ok() {
                return Ok(());
            }
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
    signatures: Vec<Vec<u8>>,
}

fn parse_header(header: &str) -> Result<ParsedHeader, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match key {
            "t" => timestamp = Some(value.parse().map_err(|_| SignatureError::Malformed)?),
            // Only v1 is HMAC-SHA256; other schemes (v0 in test mode) are ignored, as Stripe's
            // libraries do. A v1 value that is not hex cannot match and is skipped.
            "v1" => signatures.extend(decode_hex(value)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    Ok(ParsedHeader { timestamp, signatures })
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
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
}
