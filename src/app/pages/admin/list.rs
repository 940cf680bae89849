//! What the admin's lists share: their query (filters, sort and page) read from the URL, links
//! to other pages under the same filters and sort, the pager, and column headers that sort the
//! list by a link (no JavaScript needed; the order survives a reload or a shared link).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::views::admin::sort::{Sort, SortKey};

/// A list's filters (name and value when set, in a fixed order), sort and page, as its URL
/// carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    path: &'static str,
    filters: Vec<(&'static str, Option<String>)>,
    /// `sort` and `dir` as given (the server decides what they mean).
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: i64,
}

impl ListQuery {
    /// Page 0 of the list at `path` under `filters`, in its default order.
    pub fn new(path: &'static str, filters: Vec<(&'static str, Option<String>)>) -> Self {
        Self { path, filters, sort: None, dir: None, page: 0 }
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

    /// The set filters and the sort as a query string (a CSV export's, a sort link's tail).
    pub fn filters_and_sort(&self) -> String {
        let sort = [("sort", &self.sort), ("dir", &self.dir)]
            .into_iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={}", encode(v))));
        let filters = Some(self.filters()).filter(|f| !f.is_empty());
        filters.into_iter().chain(sort).collect::<Vec<_>>().join("&")
    }

    /// Page `page` of the list under the same filters and sort.
    pub fn href(&self, page: i64) -> String {
        let rest = self.filters_and_sort();
        let sep = if rest.is_empty() { "" } else { "&" };
        format!("{}?page={page}{sep}{rest}", self.path)
    }

    /// The list's first page under the same filters, sorted by `sort`.
    pub fn sorted_href<K: SortKey>(&self, sort: Sort<K>) -> String {
        let query = ListQuery {
            sort: Some(sort.column.key().to_owned()),
            dir: Some(sort.dir.as_str().to_owned()),
            ..self.clone()
        };
        query.href(0)
    }
}

/// The query of the list at `path` from the URL: each filter of `names` unless blank, the sort,
/// and `page`.
pub fn use_list_query(path: &'static str, names: &'static [&'static str]) -> Memo<ListQuery> {
    let query_map = use_query_map();
    Memo::new(move |_| {
        let q = query_map.read();
        let given = |name: &str| q.get(name).filter(|v| !v.trim().is_empty());
        let filters = names.iter().map(|&name| (name, given(name))).collect();
        ListQuery {
            sort: given("sort"),
            dir: given("dir"),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
            ..ListQuery::new(path, filters)
        }
    })
}

/// The sort as hidden fields of a list's filter form: new filters keep the order.
pub fn sort_fields(query: &ListQuery) -> impl IntoView {
    let field = |name: &'static str, value: &Option<String>| {
        value.clone().map(|value| view! { <input type="hidden" name=name value=value/> })
    };
    (field("sort", &query.sort), field("dir", &query.dir))
}

/// One column of a list's table: its heading, the sort key its header link sorts by (none: not
/// sortable), and whether it holds figures (right-aligned, heading included).
pub struct Column<K: 'static> {
    pub label: &'static str,
    pub sort: Option<K>,
    pub numeric: bool,
}

impl<K> Column<K> {
    pub const fn text(label: &'static str) -> Self {
        Self { label, sort: None, numeric: false }
    }

    pub const fn sorted(label: &'static str, key: K) -> Self {
        Self { label, sort: Some(key), numeric: false }
    }

    /// A column of figures or money, sorted by `key`.
    pub const fn figures(label: &'static str, key: K) -> Self {
        Self { label, sort: Some(key), numeric: true }
    }
}

/// A list's `<thead>`: each sortable heading is a link to the list sorted by it (the other way
/// round when it is the sorted one), and the sorted heading carries `aria-sort`.
pub fn sortable_heads<K: SortKey>(query: &ListQuery, sort: Sort<K>, columns: &[Column<K>]) -> impl IntoView {
    let heads = columns
        .iter()
        .map(|column| {
            let class = column.numeric.then_some("num");
            let Some(key) = column.sort else {
                return view! { <th scope="col" class=class>{column.label}</th> }.into_any();
            };
            let sorted = (key == sort.column).then_some(sort.dir);
            let arrow = sorted.map(|dir| if dir == crate::views::admin::sort::Direction::Asc { " ▲" } else { " ▼" });
            let href = query.sorted_href(sort.after_click(key));
            view! {
                <th scope="col" class=class aria-sort=sorted.map(|dir| dir.aria())>
                    <a href=href data-sort=key.key()>{column.label}<span aria-hidden="true">{arrow}</span></a>
                </th>
            }
            .into_any()
        })
        .collect_view();
    view! { <thead><tr>{heads}</tr></thead> }
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

    #[test]
    fn sort_links_keep_the_filters_and_start_at_the_first_page_while_pages_keep_the_sort() {
        use crate::views::admin::{
            sort::{Direction, Sort},
            subscriptions::SubscriptionSort,
        };
        let mut q = ListQuery::new("/admin/subscriptions", vec![("status", Some("active".into()))]);
        q.page = 3;
        let by_mrr = Sort { column: SubscriptionSort::Mrr, dir: Direction::Asc };
        assert_eq!(q.sorted_href(by_mrr), "/admin/subscriptions?page=0&status=active&sort=mrr&dir=asc");
        q.sort = Some("mrr".into());
        q.dir = Some("asc".into());
        assert_eq!(q.href(4), "/admin/subscriptions?page=4&status=active&sort=mrr&dir=asc");
    }
}
