//! The operator's brand on the sandbox's hosted pages (Customer Portal, hosted invoices). Stripe
//! shows there the account's Branding settings, which its API cannot set on the platform's own
//! account (they are kept in the Dashboard), so in sandbox mode the app hands its brand to the
//! sandbox's control API once at start-up, as an operator would fill in the Dashboard.

use anyhow::Context;
use serde_json::{json, Value};

use crate::domain::brand::Brand;
use crate::server::http::app_url::AppUrl;

/// The body of `POST /_sandbox/branding`: only what the operator set, as for Checkout's
/// `branding_settings` (an unset brand leaves the account's own); the sandbox's hosted pages are
/// on another origin, so the logo's path becomes a URL on the app.
pub fn branding_body(brand: &Brand, app: &AppUrl) -> Value {
    let defaults = Brand::default();
    json!({
        "business_name": (brand.name != defaults.name).then_some(&brand.name),
        "logo_url": brand.logo_url.as_deref().map(|path| app.join(path)),
        "primary_color": (brand.accent != defaults.accent).then(|| brand.accent.as_str()),
    })
}

/// Sends the brand to the sandbox at `api_base`. Only in sandbox mode: Stripe has no such route.
pub async fn send(api_base: &str, brand: &Brand, app: &AppUrl) -> anyhow::Result<()> {
    let url = format!("{}/_sandbox/branding", api_base.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .json(&branding_body(brand, app))
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .with_context(|| format!("sending the brand to the sandbox ({url})"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        anyhow::bail!("the sandbox refused the brand ({status}): {body}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::brand::Accent;

    #[test]
    fn the_logo_path_becomes_a_url_on_the_app() {
        let brand = Brand {
            name: "Acme Cloud".into(),
            logo_url: Some("/acme.svg".into()),
            accent: Accent::parse("#0b6e4f").unwrap(),
            support_email: None,
        };
        let body = branding_body(&brand, &AppUrl::new("http://127.0.0.1:3000/"));
        assert_eq!(
            body,
            json!({"business_name": "Acme Cloud", "logo_url": "http://127.0.0.1:3000/acme.svg", "primary_color": "#0b6e4f"})
        );
        assert_eq!(
            branding_body(&Brand::default(), &AppUrl::new("http://x.test")),
            json!({"business_name": null, "logo_url": null, "primary_color": null})
        );
    }
}
