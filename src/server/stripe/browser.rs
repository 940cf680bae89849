//! What the browser side of Stripe needs: where Stripe.js loads from, and which origins a page
//! using it must allow (script, frame, API calls), derived from the Stripe API the app talks to
//! — Stripe itself, or the sandbox standing in for it with its own Stripe.js.

use url::Url;

use crate::server::config::SANDBOX_SECRET_KEY;

/// Stripe's own Stripe.js.
pub const STRIPE_JS_URL: &str = "https://js.stripe.com/v3/";

/// The publishable key pages use against the sandbox when `STRIPE_PUBLISHABLE_KEY` is unset (it
/// accepts any `pk_test_` key), matching [`SANDBOX_SECRET_KEY`].
pub fn sandbox_publishable_key() -> String {
    SANDBOX_SECRET_KEY.replacen("sk_", "pk_", 1)
}

/// The sandbox's origin when `api_base` is not Stripe's.
fn sandbox_origin(api_base: &str) -> Option<String> {
    Url::parse(api_base)
        .ok()
        .filter(|base| base.host_str() != Some("api.stripe.com"))
        .map(|base| base.origin().ascii_serialization())
}

/// Where Stripe.js loads from.
pub fn stripe_js_url(api_base: &str) -> String {
    match sandbox_origin(api_base) {
        Some(origin) => format!("{origin}/v3/"),
        None => STRIPE_JS_URL.to_owned(),
    }
}

/// The publishable key pages hand Stripe.js: the configured one, else the sandbox's.
pub fn publishable_key(api_base: &str, configured: Option<&str>) -> Option<String> {
    configured.map(str::to_owned).or_else(|| sandbox_origin(api_base).map(|_| sandbox_publishable_key()))
}

/// The Content-Security-Policy sources Stripe documents for Stripe.js (Elements, 3-D Secure and
/// embedded Checkout), and nothing more; the sandbox's origin in their place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeJsSources {
    pub script: String,
    pub frame: String,
    pub connect: String,
    pub img: String,
}

impl StripeJsSources {
    pub fn for_api(api_base: &str) -> Self {
        match sandbox_origin(api_base) {
            Some(origin) => {
                Self { script: origin.clone(), frame: origin.clone(), connect: origin.clone(), img: origin }
            }
            None => Self {
                script: "https://js.stripe.com https://*.js.stripe.com".into(),
                frame: "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com \
                        https://checkout.stripe.com"
                    .into(),
                connect: "https://api.stripe.com https://checkout.stripe.com".into(),
                img: "https://*.stripe.com".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_js_comes_from_stripe_or_from_the_sandbox_standing_in_for_it() {
        assert_eq!(stripe_js_url("https://api.stripe.com"), "https://js.stripe.com/v3/");
        assert_eq!(stripe_js_url("http://127.0.0.1:12111/"), "http://127.0.0.1:12111/v3/");
        assert_eq!(publishable_key("https://api.stripe.com", None), None, "live needs its key");
        assert_eq!(publishable_key("https://api.stripe.com", Some("pk_live_x")).as_deref(), Some("pk_live_x"));
        assert_eq!(publishable_key("http://127.0.0.1:12111", None).as_deref(), Some("pk_test_tollgate_sandbox"));
    }

    #[test]
    fn the_policy_allows_stripes_documented_origins_only() {
        let stripe = StripeJsSources::for_api("https://api.stripe.com");
        assert_eq!(stripe.script, "https://js.stripe.com https://*.js.stripe.com");
        assert!(stripe.frame.contains("https://hooks.stripe.com") && !stripe.frame.contains("maps.googleapis.com"));
        let sandbox = StripeJsSources::for_api("http://127.0.0.1:12111");
        assert_eq!(sandbox.script, "http://127.0.0.1:12111");
        assert_eq!(sandbox.connect, "http://127.0.0.1:12111");
    }
}
