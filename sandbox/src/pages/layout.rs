//! The one page layout every hosted page renders in, and the one HTML-escaping helper.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}\
label{display:block;margin:.75rem 0 .25rem;font-weight:600}input,select{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box}\
button{margin-top:1rem;font-size:1rem;padding:.6rem 1.2rem;background:#635bff;color:#fff;border:0;border-radius:6px;cursor:pointer}\
button.secondary{background:#e3e8ee;color:#1a1f36}[role=alert]{background:#fde8e8;color:#8a1c1c;padding:.75rem;border-radius:6px}\
table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.35rem;border-bottom:1px solid #e3e8ee}.muted{color:#697386}\
section{margin:1.5rem 0;padding:1rem;border:1px solid #e3e8ee;border-radius:8px}";

fn layout(title: &str, body: &str) -> String {
    format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>", escape(title))
}

pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    (status, Html(layout(title, body))).into_response()
}

pub fn not_found(what: &str) -> Response {
    page(StatusCode::NOT_FOUND, "Not found", &format!("<h1>Not found</h1><p>{}</p>", escape(what)))
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }
}
