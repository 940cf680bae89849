//! The client IP used for rate limiting.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The peer address, unless `trust_proxy_headers` is on and `X-Forwarded-For` is present:
/// then its last entry (the one our own proxy appended; earlier ones are client-controlled).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trust_proxy_headers: bool) -> IpAddr {
    if trust_proxy_headers {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "10.0.0.1:5000".parse().unwrap()
    }

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn ignores_forwarded_for_unless_trusted() {
        assert_eq!(client_ip(peer(), &headers("1.2.3.4"), false), peer().ip());
    }

    #[test]
    fn uses_the_last_forwarded_entry_when_trusted() {
        let ip = client_ip(peer(), &headers("6.6.6.6, 1.2.3.4"), true);
        assert_eq!(ip, "1.2.3.4".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn falls_back_to_the_peer_when_the_header_is_garbage() {
        assert_eq!(client_ip(peer(), &headers("nonsense"), true), peer().ip());
        assert_eq!(client_ip(peer(), &HeaderMap::new(), true), peer().ip());
    }
}
