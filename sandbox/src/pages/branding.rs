//! The platform's brand on the hosted pages (Customer Portal, invoices, Checkout without its own
//! `branding_settings`): business name, logo and colours, which Stripe takes from the account's
//! Branding settings. Stripe's API cannot set those on the platform's own account (only on
//! connected ones), so the sandbox takes them from `POST /_sandbox/branding`; `GET /v1/account`
//! shows them as `business_profile.name` and `settings.branding`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::layout::escape;
use crate::app::App;
use crate::store::Branding;
use crate::util::hex_color;

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/_sandbox/branding", get(get_branding).post(post_branding))
}

async fn get_branding(AxState(app): AxState<Arc<App>>) -> Json<Branding> {
    Json(app.state.lock().branding.clone())
}

/// Sets the whole brand from a JSON body (`business_name`, `logo_url`, `primary_color`,
/// `secondary_color`; a field left out or empty is unset). A bad value changes nothing.
async fn post_branding(AxState(app): AxState<Arc<App>>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return refuse("The body must be a JSON object.");
    };
    match parse(&body) {
        Ok(branding) => {
            app.state.lock().branding = branding.clone();
            Json(branding).into_response()
        }
        Err(message) => refuse(&message),
    }
}

fn refuse(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

/// The brand a request body describes, or why it cannot be shown.
pub fn parse(body: &Value) -> Result<Branding, String> {
    let text = |field: &str| body[field].as_str().map(str::trim).filter(|v| !v.is_empty());
    let color = |field: &str| match text(field) {
        None => Ok(None),
        Some(value) => hex_color(value)
            .map(Some)
            .ok_or_else(|| format!("Invalid hex color for {field}: must be a # followed by 6 hexadecimal digits.")),
    };
    let business_name = text("business_name").map(str::to_owned);
    if business_name.as_ref().is_some_and(|name| name.chars().count() > 100) {
        return Err("business_name must be at most 100 characters.".into());
    }
    let logo_url = text("logo_url").map(str::to_owned);
    // The hosted pages are on the sandbox's origin: a path would point at the sandbox itself.
    if logo_url.as_ref().is_some_and(|url| !(url.starts_with("https://") || url.starts_with("http://"))) {
        return Err("logo_url must be an absolute http(s) URL.".into());
    }
    Ok(Branding {
        business_name,
        logo_url,
        primary_color: color("primary_color")?,
        secondary_color: color("secondary_color")?,
    })
}

/// The brand above a hosted page's content: logo and business name, and CSS painting buttons in
/// the primary colour (with black or white text, whichever reads better) and the header's rule
/// in the secondary one. Empty when nothing is set.
pub fn header(branding: &Branding) -> String {
    let mut css = String::new();
    if let Some(primary) = &branding.primary_color {
        let ink = readable_text_on(primary);
        css.push_str(&format!("button:not(.secondary){{background:{primary};color:{ink}}}"));
    }
    if let Some(secondary) = &branding.secondary_color {
        css.push_str(&format!(".brand{{border-bottom:4px solid {secondary}}}"));
    }
    let style = if css.is_empty() { String::new() } else { format!("<style>{css}</style>") };
    if branding.business_name.is_none() && branding.logo_url.is_none() {
        return style;
    }
    let name = branding.business_name.as_deref().map(escape).unwrap_or_default();
    let logo = branding.logo_url.as_deref().map(|url| {
        // The logo stands for the name when there is none to read beside it.
        let alt = if name.is_empty() { "Logo" } else { "" };
        format!("<img src=\"{}\" alt=\"{alt}\" height=\"32\"> ", escape(url))
    });
    format!(
        "{style}<header class=\"brand\"><p class=\"seller\">{}<strong>{name}</strong></p></header>",
        logo.unwrap_or_default()
    )
}

/// `#ffffff` or the page's ink, whichever contrasts more with `background` (`#rrggbb`).
fn readable_text_on(background: &str) -> &'static str {
    const INK: &str = "#1a1f36";
    let luminance = |hex: &str| {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    };
    let bg = luminance(background);
    let contrast = |fg: f64| (bg.max(fg) + 0.05) / (bg.min(fg) + 0.05);
    if contrast(1.0) >= contrast(luminance(INK)) {
        "#ffffff"
    } else {
        INK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brand_is_read_checked_and_lower_cased() {
        let brand = parse(&json!({
            "business_name": " Acme Cloud ", "logo_url": "http://127.0.0.1:3000/acme.svg",
            "primary_color": "#0B6E4F", "secondary_color": ""
        }))
        .unwrap();
        assert_eq!(brand.business_name.as_deref(), Some("Acme Cloud"));
        assert_eq!(brand.primary_color.as_deref(), Some("#0b6e4f"));
        assert_eq!(brand.secondary_color, None);
        assert!(parse(&json!({"primary_color": "green"})).unwrap_err().contains("primary_color"));
        assert!(parse(&json!({"logo_url": "/acme.svg"})).unwrap_err().contains("absolute"));
        assert_eq!(parse(&json!({})).unwrap(), Branding::default());
    }

    #[test]
    fn buttons_get_the_text_colour_that_reads_on_the_brand() {
        assert_eq!(readable_text_on("#0b6e4f"), "#ffffff");
        assert_eq!(readable_text_on("#ffd60a"), "#1a1f36");
        let light = header(&Branding { primary_color: Some("#ffd60a".into()), ..Default::default() });
        assert_eq!(light, "<style>button:not(.secondary){background:#ffd60a;color:#1a1f36}</style>");
    }

    #[test]
    fn the_header_escapes_the_name_and_shows_nothing_for_no_brand() {
        assert_eq!(header(&Branding::default()), "");
        let html = header(&Branding { business_name: Some("Tom & Jerry's".into()), ..Default::default() });
        assert!(html.contains("<strong>Tom &amp; Jerry&#39;s</strong>"), "{html}");
    }
}
