//! Absolute links to the app (emails, Stripe's redirects, the webhook endpoint), built from
//! `APP_URL` in one place.

/// The app's public base URL, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUrl(String);

impl AppUrl {
    pub fn new(base: &str) -> Self {
        Self(base.trim_end_matches('/').to_owned())
    }

    /// `path` (starting with `/`) on the app, e.g. `https://billing.example.com/account`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::AppUrl;

    #[test]
    fn joins_with_or_without_a_trailing_slash() {
        assert_eq!(AppUrl::new("http://127.0.0.1:3000/").join("/account"), "http://127.0.0.1:3000/account");
        assert_eq!(AppUrl::new("https://x.example").join("/pricing"), "https://x.example/pricing");
    }
}
