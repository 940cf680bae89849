//! What a page may change about the server-rendered HTTP response.
//! Both functions do nothing in the browser.

/// Sets the response status (e.g. 403, 404) during server rendering.
pub fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(res), Ok(status)) =
        (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), axum::http::StatusCode::from_u16(code))
    {
        res.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// Sends the page Content-Security-Policy with this response's script nonce.
pub fn set_page_csp() {
    #[cfg(feature = "ssr")]
    if let (Some(res), Some(nonce)) =
        (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), leptos::nonce::use_nonce())
    {
        if let Ok(value) = crate::server::http::headers::page_csp(&nonce).parse() {
            res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}
