//! One-shot commands outside `serve` (`catalog sync`, `reconcile`): they talk to the Stripe the
//! configuration names. The embedded sandbox only lives inside `serve`, so without a key or an
//! API base there is nothing to talk to.

use std::path::Path;

use anyhow::Context;
use secrecy::SecretString;

use crate::server::config::{Config, SANDBOX_SECRET_KEY};
use crate::server::stripe::client::StripeClient;

pub fn stripe_client(config: &Config) -> anyhow::Result<StripeClient> {
    let stripe = &config.stripe;
    anyhow::ensure!(
        stripe.secret_key.is_some() || stripe.api_base.is_some(),
        "no Stripe to talk to: set STRIPE_SECRET_KEY, or STRIPE_API_BASE for a standalone sandbox \
         (`serve` syncs its embedded sandbox by itself)"
    );
    let key = stripe.secret_key.clone().unwrap_or_else(|| SecretString::from(SANDBOX_SECRET_KEY.to_owned()));
    let base = stripe.api_base.as_ref().map(|u| u.as_str().trim_end_matches('/').to_owned());
    Ok(StripeClient::new(&key, base.as_deref())
        .context("building the Stripe client")?
        .with_rate_limit(config.stripe_rate_limit()))
}

/// `tollgate catalog sync`: prints what changed, or that nothing had to.
pub async fn catalog_sync(config: &Config, path: &Path) -> anyhow::Result<()> {
    let catalog = super::load(path)?;
    let stripe = stripe_client(config)?;
    let report = super::sync::sync(&stripe, &catalog).await?;
    print!("{report}");
    Ok(())
}
