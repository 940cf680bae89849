//! Reading figures out of rendered pages.

/// The text of the `<dd>` after `<dt>{label}</dt>` (the first one on the page).
pub fn kpi(html: &str, label: &str) -> String {
    let at = html.find(&format!("<dt>{label}</dt><dd>")).unwrap_or_else(|| panic!("no {label} in {html}"));
    let rest = &html[at + label.len() + 13..];
    rest[..rest.find("</dd>").unwrap()].to_owned()
}
