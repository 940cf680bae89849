//! Cross-site request forgery: a state-changing request (anything but GET, HEAD, OPTIONS) that a
//! browser sent from another site is refused, whatever form or server function it targets, log-in
//! included. `SameSite=Lax` cookies alone leave top-level cross-site posts from a sibling
//! subdomain, and any post that needs no cookie (log-in, sign-up), open.
//!
//! The browser says where a request comes from: `Sec-Fetch-Site` (every current browser), else
//! `Origin`. A request with neither is not a browser's (curl, Stripe, an SDK) and is let through,
//! as Go's `CrossOriginProtection` does. Stripe's webhooks are verified by signature instead.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::paths::under;

/// This site's origin (`https://billing.example.com`), from `APP_URL`.
#[derive(Clone, Debug)]
pub struct SiteOrigin(pub Arc<str>);

/// Whether a request with these headers came from this site (or from no browser at all).
pub fn same_site_or_not_a_browser(headers: &HeaderMap, site: &str) -> bool {
    if let Some(fetch_site) = headers.get("sec-fetch-site") {
        // `none`: the user typed or bookmarked it; no page made the request.
        return matches!(fetch_site.to_str(), Ok("same-origin" | "none"));
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().is_ok_and(|origin| origin == site),
        None => true,
    }
}

pub async fn refuse_cross_site(State(site): State<SiteOrigin>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // `/api/v1` authenticates by bearer key, which no browser sends on its own: nothing to forge.
    let bearer_api = under(req.uri().path(), "/api/v1");
    if safe || bearer_api || under(req.uri().path(), "/webhooks") || same_site_or_not_a_browser(req.headers(), &site.0)
    {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "cross-site request refused");
    (StatusCode::FORBIDDEN, "Cross-site requests are refused. Go back to the page and submit it again.").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "https://billing.example.com";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn the_fetch_metadata_header_decides_when_present() {
        assert!(same_site_or_not_a_browser(&headers(&[("sec-fetch-site", "same-origin")]), SITE));
        assert!(same_site_or_not_a_browser(&headers(&[("sec-fetch-site", "none")]), SITE));
        assert!(!same_site_or_not_a_browser(&headers(&[("sec-fetch-site", "cross-site")]), SITE));
        assert!(!same_site_or_not_a_browser(&headers(&[("sec-fetch-site", "same-site")]), SITE));
        // Even with a matching Origin: the browser's own word wins.
        let both = headers(&[("sec-fetch-site", "cross-site"), ("origin", SITE)]);
        assert!(!same_site_or_not_a_browser(&both, SITE));
    }

    #[test]
    fn otherwise_the_origin_must_be_this_site() {
        assert!(same_site_or_not_a_browser(&headers(&[("origin", SITE)]), SITE));
        assert!(!same_site_or_not_a_browser(&headers(&[("origin", "https://evil.example")]), SITE));
        assert!(!same_site_or_not_a_browser(&headers(&[("origin", "null")]), SITE));
        assert!(!same_site_or_not_a_browser(&headers(&[("origin", "http://billing.example.com")]), SITE));
        assert!(same_site_or_not_a_browser(&HeaderMap::new(), SITE), "no browser, no forgery");
    }
}
