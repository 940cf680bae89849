//! One spelling per path. `//admin`, `/admin/./`, `/x/../admin` and `/%61dmin` all name `/admin`
//! to a router that normalises, but not to a guard that compares strings: requests spelled any
//! other way are redirected (308) to their canonical path before any guard or page sees them.

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Whether `path` is `prefix` or lies below it (whole segments: `/administrator` is not under
/// `/admin`).
pub fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// The canonical spelling of `path`: unreserved characters percent-decoded, empty segments
/// dropped, `.` and `..` resolved (RFC 3986 §5.2.4; `..` never climbs above the root). A
/// trailing slash is kept.
pub fn canonical(path: &str) -> String {
    let decoded = decode_unreserved(path);
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = decoded.split('/').collect();
    let last = parts.len() - 1;
    let mut trailing_slash = false;
    for (i, segment) in parts.iter().enumerate() {
        match *segment {
            "" => trailing_slash = i == last && i > 0,
            "." => trailing_slash = i == last,
            ".." => {
                segments.pop();
                trailing_slash = i == last;
            }
            other => {
                segments.push(other);
                trailing_slash = false;
            }
        }
    }
    let mut out = format!("/{}", segments.join("/"));
    if trailing_slash && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// `%41` → `A` for the characters RFC 3986 calls unreserved; every other escape stays as sent.
fn decode_unreserved(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                    out.push(byte);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    // Only ASCII was decoded, so valid UTF-8 stays valid.
    String::from_utf8(out).unwrap_or_else(|_| path.to_owned())
}

/// Redirects a request whose path is not canonical to the canonical one, query kept.
pub async fn canonical_paths(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let wanted = canonical(path);
    if wanted == path {
        return next.run(req).await;
    }
    let location = match req.uri().query() {
        Some(query) => format!("{wanted}?{query}"),
        None => wanted,
    };
    match HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(under("/admin", "/admin"));
        assert!(under("/admin/events", "/admin"));
        assert!(!under("/administrator", "/admin"));
        assert!(!under("/", "/admin"));
    }

    #[test]
    fn canonical_paths_are_left_alone() {
        for path in ["/", "/admin", "/admin/events", "/account/", "/pkg/tollgate.wasm", "/a%2Fb", "/caf%C3%A9"] {
            assert_eq!(canonical(path), path);
        }
    }

    #[test]
    fn every_other_spelling_of_a_path_is_made_canonical() {
        for (sent, meant) in [
            ("//admin", "/admin"),
            ("/admin//events", "/admin/events"),
            ("/admin/./events", "/admin/events"),
            ("/x/../admin", "/admin"),
            ("/admin/../admin", "/admin"),
            ("/../../admin", "/admin"),
            ("/%61dmin", "/admin"),
            ("/admin/%2e%2e/account", "/account"),
            ("/admin/.", "/admin/"),
            ("/admin/..", "/"),
            ("//", "/"),
            ("/%7e", "/~"),
        ] {
            assert_eq!(canonical(sent), meant, "{sent}");
        }
    }
}
