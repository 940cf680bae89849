//! Security headers on every response.
//!
//! HTML pages get a Content-Security-Policy carrying the per-request nonce Leptos
//! puts on its hydration scripts (set from the shell, see [`page_csp`]); every
//! other response gets a lock-down policy unless it already has one.

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

/// For non-HTML responses: nothing may load, nothing may frame.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The policy for an HTML page whose scripts carry `nonce`.
/// `'wasm-unsafe-eval'` lets the hydration module compile its WebAssembly.
pub fn page_csp(nonce: &str) -> String {
    let reload = if std::env::var_os("LEPTOS_WATCH").is_some() { " ws:" } else { "" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'{reload}; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The script nonce of this request's page, chosen here (not inside Leptos) so the response's
/// policy never depends on the page having set it: Leptos is given the same nonce through
/// context (see [`provide_page_nonce`]).
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

pub async fn security_headers(mut req: Request, next: Next) -> Response {
    let nonce = leptos::nonce::Nonce::new().to_string();
    req.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    let is_html =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if is_html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        // A page whose render did not set its policy (leptos_axum can drop ResponseOptions
        // headers): it still gets the page policy, with the nonce its scripts carry.
        if let Ok(value) = HeaderValue::from_str(&page_csp(&nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
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
        let csp = page_csp("abc123");
        assert!(csp.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
