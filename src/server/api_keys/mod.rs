//! API keys for the SaaS's own backend (`/api/v1/*`): platform keys that act for any customer and
//! customer keys that act for one. A key reads `tg_<live|test>_<key id>_<secret>`; the key id
//! finds the row, and only the secret's SHA-256 is stored (the key is shown once, at creation).
//! [`bearer::ApiCaller`] authenticates a request's `Authorization: Bearer …`.

pub mod acting_for;
pub mod bearer;
pub mod issue;
pub mod list;
pub mod revoke;

use sha2::{Digest, Sha256};

/// Who a key acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    /// Any customer (the request names one).
    Platform,
    /// This user only.
    Customer(i64),
}

/// The parts of a presented key, before it is checked against the table.
#[derive(Debug, PartialEq, Eq)]
pub struct PresentedKey<'a> {
    pub mode: &'a str,
    pub key_id: &'a str,
    pub secret: &'a str,
}

/// Splits `tg_<mode>_<key id>_<secret>`; `None` when it is not shaped like one of ours.
pub fn parse(raw: &str) -> Option<PresentedKey<'_>> {
    let mut parts = raw.strip_prefix("tg_")?.splitn(3, '_');
    let (mode, key_id, secret) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = matches!(mode, "live" | "test")
        && key_id.len() == KEY_ID_HEX
        && key_id.bytes().all(|b| b.is_ascii_hexdigit())
        && !secret.is_empty()
        && secret.len() <= 128;
    ok.then_some(PresentedKey { mode, key_id, secret })
}

const KEY_ID_HEX: usize = 16;

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Keys made while Stripe is live say so (`tg_live_`); sandbox and test keys read `tg_test_`.
pub fn mode_for(stripe: crate::server::config::StripeMode) -> &'static str {
    match stripe {
        crate::server::config::StripeMode::Live => "live",
        _ => "test",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_our_key_shape() {
        let key = "tg_test_0123456789abcdef_s3cr_et-x";
        assert_eq!(parse(key), Some(PresentedKey { mode: "test", key_id: "0123456789abcdef", secret: "s3cr_et-x" }));
        assert_eq!(parse("tg_prod_0123456789abcdef_x"), None);
        assert_eq!(parse("tg_live_0123_x"), None, "a short key id");
        assert_eq!(parse("sk_test_0123456789abcdef_x"), None);
        assert_eq!(parse("tg_live_0123456789abcdef_"), None, "no secret");
    }

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
