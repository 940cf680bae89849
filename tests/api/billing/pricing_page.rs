//! The pricing page as a visitor reads it: cards, the recommended plan, and the yearly saving,
//! checked against what the catalog's own prices imply (computed here independently).

use crate::helpers::*;

/// The `<article>` of plan `key` on a pricing page.
fn card<'a>(html: &'a str, key: &str) -> &'a str {
    let at = html.find(&format!("data-plan=\"{key}\"")).unwrap_or_else(|| panic!("no card for {key}"));
    let start = html[..at].rfind("<article").unwrap();
    let end = at + html[at..].find("</article>").unwrap();
    &html[start..end]
}

/// The value of `attribute` on the first element that has it.
fn attribute<'a>(html: &'a str, attribute: &str) -> Option<&'a str> {
    let at = html.find(&format!("{attribute}=\""))? + attribute.len() + 2;
    Some(&html[at..at + html[at..].find('"')?])
}

/// (percent, words) a yearly price saves over twelve monthly ones, by the page's stated rule:
/// the nearest whole percent, and "N months free" only when the saving is whole months.
fn expected_saving(monthly: i64, yearly: i64) -> Option<(i64, String)> {
    let saved = 12 * monthly - yearly;
    if saved <= 0 {
        return None;
    }
    let percent = (saved as f64 * 100.0 / (12 * monthly) as f64).round() as i64;
    let words = match saved % monthly {
        0 if saved / monthly == 1 => "1 month free".to_string(),
        0 => format!("{} months free", saved / monthly),
        _ => format!("save {percent}%"),
    };
    Some((percent, words))
}

#[tokio::test]
async fn the_yearly_saving_on_every_card_is_what_the_catalog_prices_imply() {
    let app = spawn_app().await;
    let catalog: toml::Value = toml::from_str(&std::fs::read_to_string("catalog.toml").unwrap()).unwrap();
    let plans = catalog["plans"].as_array().unwrap();
    let yearly_page = app.page("/pricing?interval=year").await;
    let monthly_page = app.page("/pricing?interval=month").await;
    let mut checked = 0;
    for plan in plans {
        let key = plan["key"].as_str().unwrap();
        let prices =
            (plan.get("monthly").and_then(|v| v.as_integer()), plan.get("yearly").and_then(|v| v.as_integer()));
        let (yearly_card, monthly_card) = (card(&yearly_page, key), card(&monthly_page, key));
        match prices {
            (Some(monthly), Some(yearly)) if expected_saving(monthly, yearly).is_some() => {
                let (percent, words) = expected_saving(monthly, yearly).unwrap();
                let saved = format!("${}.{:02}", (12 * monthly - yearly) / 100, (12 * monthly - yearly) % 100);
                assert_eq!(attribute(yearly_card, "data-saving-percent"), Some(percent.to_string().as_str()), "{key}");
                assert_eq!(attribute(yearly_card, "data-saving-words"), Some(words.as_str()), "{key}");
                assert!(yearly_card.contains(&format!("You save {saved} a year ({percent}%)")), "{key}: {yearly_card}");
                assert!(yearly_card.contains(&format!("<span class=\"badge ok\">{words}</span>")), "{key}: the tag");
                assert!(monthly_card.contains(&format!("Yearly billing: {words}")), "{key}: {monthly_card}");
                checked += 1;
            }
            _ => {
                assert_eq!(attribute(yearly_card, "data-saving-percent"), None, "{key} saves nothing yearly");
                assert_eq!(attribute(monthly_card, "data-saving-percent"), None, "{key}");
            }
        }
    }
    assert!(checked >= 2, "the catalog has plans sold both ways");

    // The toggle promises what every plan sold both ways gives (or "up to" the best).
    let savings: Vec<_> = plans
        .iter()
        .filter_map(|p| Some((p.get("monthly")?.as_integer()?, p.get("yearly")?.as_integer()?)))
        .map(|(m, y)| expected_saving(m, y))
        .collect();
    let toggle = match savings.first() {
        Some(Some((_, words))) if savings.iter().all(|s| s.as_ref().is_some_and(|(_, w)| w == words)) => words.clone(),
        _ => format!("save up to {}%", savings.iter().flatten().map(|(p, _)| *p).max().unwrap()),
    };
    assert!(yearly_page.contains(&format!("<span class=\"saving\">{toggle}</span>")), "{yearly_page}");
}

#[tokio::test]
async fn cards_mark_the_recommended_plan_and_the_toggle_is_two_links() {
    let app = spawn_app().await;
    let catalog: toml::Value = toml::from_str(&std::fs::read_to_string("catalog.toml").unwrap()).unwrap();
    let recommended: Vec<&str> = catalog["plans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p.get("recommended").and_then(|r| r.as_bool()) == Some(true))
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    let page = app.page("/pricing").await;
    for plan in catalog["plans"].as_array().unwrap() {
        let key = plan["key"].as_str().unwrap();
        let marked = card(&page, key).contains(">Recommended</span>");
        assert_eq!(marked, recommended.contains(&key), "{key}");
    }
    // Works without JavaScript: the control is links, the current one marked for assistive tech.
    assert!(page.contains(r#"<a href="/pricing?interval=month" aria-current="page">Monthly</a>"#), "{page}");
    assert!(page.contains(r#"<a href="/pricing?interval=year">Yearly"#), "{page}");
    // Metered usage is spelled out on its plan.
    assert!(card(&page, "scale").contains("API calls: 10,000 a month included, then $0.01 each"), "{page}");
}
