//! Security headers on every response.
//!
//! HTML pages get a Content-Security-Policy carrying the per-request nonce Leptos puts on its
//! hydration scripts (see [`page_csp`]); every other response gets a lock-down policy unless it
//! already has one. HSTS when the app is served over https; `Cache-Control: no-store` on what is
//! personal (account, admin, checkout pages and server functions).

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};
use url::Url;

use super::paths::under;
use crate::server::stripe::browser::StripeJsSources;

/// What the headers depend on, fixed at start.
#[derive(Clone, Debug)]
pub struct SecurityPolicy {
    hsts: bool,
    form_action: String,
    stripe_js: StripeJsSources,
}

impl SecurityPolicy {
    /// `app_url`: where the app is served; `stripe_api_base`: the Stripe API it calls, whose
    /// hosted pages (Checkout, the Customer Portal) forms are redirected to.
    pub fn new(app_url: &Url, stripe_api_base: &str) -> Self {
        let hosted_pages = match Url::parse(stripe_api_base) {
            Ok(base) if base.host_str() != Some("api.stripe.com") => base.origin().ascii_serialization(),
            // Checkout, the Customer Portal, and Connect's onboarding and Express dashboard.
            _ => "https://checkout.stripe.com https://billing.stripe.com https://connect.stripe.com".to_owned(),
        };
        Self {
            hsts: app_url.scheme() == "https",
            form_action: format!("'self' {hosted_pages}"),
            stripe_js: StripeJsSources::for_api(stripe_api_base),
        }
    }
}

/// Paths whose responses are personal: never stored by a browser or a proxy.
const PRIVATE_PREFIXES: [&str; 6] = ["/account", "/admin", "/checkout", "/api", "/verify-email", "/reset-password"];

/// One year, subdomains included: the app's cookies must never travel in clear.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// For non-HTML responses: nothing may load, nothing may frame.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The policy for an HTML page whose scripts carry `nonce` and whose forms may post to
/// `form_action` (the redirect after a post is checked against it too); Stripe.js (and the
/// frames and API calls it makes) from `stripe` only.
/// `'wasm-unsafe-eval'` lets the hydration module compile its WebAssembly.
pub fn page_csp(nonce: &str, form_action: &str, stripe: &StripeJsSources) -> String {
    let reload = if std::env::var_os("LEPTOS_WATCH").is_some() { " ws:" } else { "" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval' {script}; \
         style-src 'self'; img-src 'self' data: {img}; font-src 'self'; connect-src 'self' {connect}{reload}; \
         frame-src {frame}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action {form_action}",
        script = stripe.script,
        img = stripe.img,
        connect = stripe.connect,
        frame = stripe.frame,
    )
}

/// The script nonce of this request's page, chosen here (not inside Leptos) so the response's
/// policy never depends on the page: Leptos is given the same nonce through context (see
/// [`provide_page_nonce`]) and this middleware writes the policy.
#[derive(Clone)]
pub struct PageNonce(pub String);

/// Leptos' per-request context hook: uses the request's [`PageNonce`] for the hydration scripts.
pub fn provide_page_nonce() {
    use leptos::prelude::{provide_context, use_context};
    if let Some(nonce) =
        use_context::<axum::http::request::Parts>().and_then(|p| p.extensions.get::<PageNonce>().cloned())
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

pub async fn security_headers(State(policy): State<Arc<SecurityPolicy>>, mut req: Request, next: Next) -> Response {
    let nonce = leptos::nonce::Nonce::new().to_string();
    req.extensions_mut().insert(PageNonce(nonce.clone()));
    let private = PRIVATE_PREFIXES.iter().any(|prefix| under(req.uri().path(), prefix));
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    let is_html =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if is_html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(value) = HeaderValue::from_str(&page_csp(&nonce, &policy.form_action, &policy.stripe_js)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if policy.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()"),
        (header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_allows_only_nonced_scripts_and_forbids_framing() {
        let csp = page_csp("abc123", "'self'", &StripeJsSources::for_api("https://api.stripe.com"));
        assert!(csp.contains(
            "script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval' https://js.stripe.com https://*.js.stripe.com;"
        ));
        assert!(csp.contains("frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com https://checkout.stripe.com;"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("form-action 'self'"));
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn forms_may_go_to_stripes_hosted_pages_and_nowhere_else() {
        let app = Url::parse("https://billing.example.com").unwrap();
        let live = SecurityPolicy::new(&app, "https://api.stripe.com");
        assert_eq!(
            live.form_action,
            "'self' https://checkout.stripe.com https://billing.stripe.com https://connect.stripe.com"
        );
        assert!(live.hsts);
        let sandbox = SecurityPolicy::new(&Url::parse("http://127.0.0.1:3000").unwrap(), "http://127.0.0.1:12111/");
        assert_eq!(sandbox.form_action, "'self' http://127.0.0.1:12111");
        assert!(!sandbox.hsts);
    }
}
