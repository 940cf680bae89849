//! Reading figures out of rendered pages.

/// The text of the `<dd>` after `<dt>{label}</dt>` (the first one on the page).
pub fn kpi(html: &str, label: &str) -> String {
    let at = html.find(&format!("<dt>{label}</dt><dd>")).unwrap_or_else(|| panic!("no {label} in {html}"));
    let rest = &html[at + label.len() + 13..];
    rest[..rest.find("</dd>").unwrap()].to_owned()
}

/// The text of the first element with `class` (up to its first closing tag).
pub fn text_of_class(html: &str, class: &str) -> Option<String> {
    let at = html.find(&format!("class=\"{class}\""))?;
    let open_end = at + html[at..].find('>')? + 1;
    let close = open_end + html[open_end..].find("</")?;
    Some(html[open_end..close].trim().to_string())
}

/// The path (and query) of an absolute link to the app: tests serve on port 0, not on `APP_URL`.
pub fn path_of(url: &str) -> String {
    let url = reqwest::Url::parse(url).expect("an absolute URL");
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The value of the first `data-{name}` attribute in `html`.
pub fn data_attribute(html: &str, name: &str) -> String {
    let marker = format!("data-{name}=\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no data-{name}: {html}")) + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}
