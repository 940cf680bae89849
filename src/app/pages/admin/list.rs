//! What the admin's paged lists share: their query (filters and page) read from the URL, links
//! to other pages under the same filters, and the pager.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// A list's filters (name and value when set, in a fixed order) and page, as its URL carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    path: &'static str,
    filters: Vec<(&'static str, Option<String>)>,
    pub page: i64,
}

impl ListQuery {
    /// Page 0 of the list at `path` under `filters`.
    pub fn new(path: &'static str, filters: Vec<(&'static str, Option<String>)>) -> Self {
        Self { path, filters, page: 0 }
    }

    /// The value of filter `name`, when set.
    pub fn get(&self, name: &str) -> Option<String> {
        self.filters.iter().find(|(n, _)| *n == name).and_then(|(_, value)| value.clone())
    }

    /// The set filters as a query string, values encoded: `status=paid&email=a%2Bb%40x.test`.
    pub fn filters(&self) -> String {
        self.filters
            .iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={}", encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Page `page` of the list under the same filters.
    pub fn href(&self, page: i64) -> String {
        let filters = self.filters();
        let sep = if filters.is_empty() { "" } else { "&" };
        format!("{}?page={page}{sep}{filters}", self.path)
    }
}

/// The query of the list at `path` from the URL: each filter of `names` unless blank, and `page`.
pub fn use_list_query(path: &'static str, names: &'static [&'static str]) -> Memo<ListQuery> {
    let query_map = use_query_map();
    Memo::new(move |_| {
        let q = query_map.read();
        let filters = names.iter().map(|&name| (name, q.get(name).filter(|v| !v.trim().is_empty()))).collect();
        ListQuery { page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0), ..ListQuery::new(path, filters) }
    })
}

/// "Previous page" and "Next page" around `page` (the one shown), under `query`'s filters.
pub fn pager(query: &ListQuery, page: i64, has_more: bool) -> impl IntoView {
    let newer = (page > 0).then(|| view! { <a href=query.href(page - 1)>"Previous page"</a> });
    let older = has_more.then(|| view! { <a href=query.href(page + 1)>"Next page"</a> });
    view! { <nav class="admin-pager" aria-label="Pages">{newer}" "{older}</nav> }
}

/// Percent-encodes a query value (emails carry `+` and `@`).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_filters_encoded_and_leave_unset_ones_out() {
        let filters = vec![("status", Some("active".into())), ("plan", None), ("email", Some("a+b@x.test".into()))];
        let q = ListQuery::new("/admin/subscriptions", filters);
        assert_eq!(q.href(2), "/admin/subscriptions?page=2&status=active&email=a%2Bb%40x.test");
        assert_eq!(q.get("email").as_deref(), Some("a+b@x.test"));
        assert_eq!(q.get("plan"), None);
        let bare = ListQuery::new("/admin/orders", vec![("status", None)]);
        assert_eq!(bare.href(1), "/admin/orders?page=1");
        assert_eq!(bare.filters(), "");
    }
}
