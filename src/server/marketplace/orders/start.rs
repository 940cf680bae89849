//! Buying a product: a Checkout Session in payment mode whose payment goes to the creator's
//! connected account minus the platform's fee, and the `pending` order beside it.
//!
//! `CONNECT_CHARGES=destination` (the default): the session lives on the platform, with
//! `payment_intent_data[transfer_data][destination]` and `application_fee_amount`: Stripe
//! transfers the amount to the creator and takes the fee back. `direct`: the session is created
//! on the creator's account (`Stripe-Account`) with the fee; its events reach only the Connect
//! endpoint.

use std::collections::HashMap;

use anyhow::Context;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionPaymentIntentDataTransferData, ProductData,
};
use stripe_shared::CheckoutSessionMode;

use super::{owns, PaidThrough};
use crate::domain::marketplace::{FeeRate, FeeSource, MarketplaceTerms};
use crate::domain::money::{Currency, Money};
use crate::server::billing::customers;
use crate::server::config::ConnectCharges;
use crate::server::http::{
    app_url::AppUrl,
    outcome::{refused, FormError, Next},
};
use crate::server::marketplace::creators::{self, Creator};
use crate::server::marketplace::products;
use crate::server::stripe::client::StripeClient;
use crate::server::{db, db::users::User, state::AppState};

/// A purchase about to start: the product, whom it pays and the platform's fee, agreed now.
pub struct Sale {
    pub product: products::Product,
    pub creator: Creator,
    pub charges: ConnectCharges,
    pub rate: FeeRate,
    pub source: FeeSource,
    pub fee: Money,
}

impl Sale {
    /// The product at `/p/{slug}` as `user` would buy it now; `None` when they own it already.
    pub async fn of(state: &AppState, user: &User, slug: &str) -> Result<Option<Self>, FormError> {
        crate::server::billing::require_verified_email(user)?;
        let pool = state.db.pool();
        let Some(product) = products::on_sale(pool, slug).await? else {
            return Err(refused("This product is not on sale."));
        };
        if product.creator_id == user.id {
            return Err(refused("This is your own product."));
        }
        if owns(pool, user.id, product.id).await? {
            return Ok(None);
        }
        let creator =
            creators::of_user(pool, product.creator_id).await?.context("a product on sale has its creator")?;
        let terms = state.prices.current().catalog.marketplace.clone();
        let (rate, source) = rate_in_force(pool, &terms, &creator, product.price.currency()).await?;
        let fee = rate.fee_on(product.price);
        Ok(Some(Self { product, creator, charges: state.config.connect_charges, rate, source, fee }))
    }

    /// The product's currency as Stripe names it.
    pub fn stripe_currency(&self) -> anyhow::Result<stripe_types::Currency> {
        let currency = self.product.price.currency();
        currency
            .as_str()
            .to_ascii_lowercase()
            .parse::<stripe_types::Currency>()
            .map_err(|_| anyhow::anyhow!("currency {currency} unknown to Stripe"))
    }

    /// The client that acts where the payment lives: the platform for a destination charge, the
    /// creator's account for a direct one.
    pub fn stripe(&self, state: &AppState) -> StripeClient {
        match self.charges {
            ConnectCharges::Destination => state.stripe_client.clone(),
            ConnectCharges::Direct => state.stripe_client.on_account(&self.creator.account_id),
        }
    }

    /// Writes the `pending` order paid through `paid_through`, once (a repeated session or
    /// intent finds its order there).
    pub async fn store_pending(
        &self,
        state: &AppState,
        user: &User,
        paid_through: PaidThrough<'_>,
    ) -> anyhow::Result<()> {
        let (session, intent) = match paid_through {
            PaidThrough::Checkout(id) => (Some(id), None),
            PaidThrough::Intent(id) => (None, Some(id)),
        };
        let conflict = paid_through.column();
        let now = db::now();
        sqlx::query(&format!(
            "INSERT INTO orders (product_id, buyer_id, creator_id, account_id, charge_type, checkout_session_id, \
               payment_intent_id, amount, fee, fee_bps, fee_source, currency, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13, $13) \
             ON CONFLICT ({conflict}) DO NOTHING",
        ))
        .bind(self.product.id)
        .bind(user.id)
        .bind(self.product.creator_id)
        .bind(&self.creator.account_id)
        .bind(self.charges.as_str())
        .bind(session)
        .bind(intent)
        .bind(self.product.price.minor())
        .bind(self.fee.minor())
        .bind(i64::from(self.rate.bps()))
        .bind(self.source.as_str())
        .bind(self.product.price.currency().as_str())
        .bind(now)
        .execute(state.db.pool())
        .await
        .context("storing the pending order")?;
        Ok(())
    }
}

/// Starts paying for the product at `/p/{slug}` on Stripe's Checkout page.
pub async fn buy(state: &AppState, user: &User, slug: &str) -> Result<Next, FormError> {
    let Some(sale) = Sale::of(state, user, slug).await? else {
        return Ok(Next::Redirect("/library".into()));
    };
    let Sale { product, creator, charges, fee, .. } = &sale;
    let app = AppUrl::new(state.config.app_url.as_str());
    let mut payment = CreateCheckoutSessionPaymentIntentData::new();
    payment.application_fee_amount = Some(fee.minor());
    payment.description = Some(product.title.clone());
    payment.metadata = Some(HashMap::from([
        (super::PRODUCT_METADATA.to_owned(), product.id.to_string()),
        ("user_id".to_owned(), user.id.to_string()),
    ]));
    if *charges == ConnectCharges::Destination {
        payment.transfer_data = Some(CreateCheckoutSessionPaymentIntentDataTransferData {
            amount: None,
            destination: creator.account_id.clone(),
        });
    }
    let mut product_data = ProductData::new(product.title.clone());
    if !product.description.is_empty() {
        product_data.description = Some(product.description.clone());
    }
    let mut price = CreateCheckoutSessionLineItemsPriceData::new(sale.stripe_currency()?);
    price.unit_amount = Some(product.price.minor());
    price.product_data = Some(product_data);
    let mut line = CreateCheckoutSessionLineItems::new();
    line.price_data = Some(price);
    line.quantity = Some(1);
    let mut create = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .line_items(vec![line])
        .payment_intent_data(payment)
        .client_reference_id(user.id.to_string())
        .success_url(format!("{}?session_id={{CHECKOUT_SESSION_ID}}", app.join("/library")))
        .cancel_url(app.join(&format!("/p/{}", product.slug)));
    // The platform's customer buys a destination charge; a direct charge lives on the creator's
    // account, where that customer does not exist.
    create = match charges {
        ConnectCharges::Destination => create.customer(customers::customer_of(state, user).await?),
        ConnectCharges::Direct => create.customer_email(user.email.as_str()),
    };
    // A double click within a few minutes reuses one session (and one order).
    let bucket = db::now() / 300;
    let key = format!("market-checkout-{}-{}-{bucket}", user.id, product.id);
    let session = sale.stripe(state).send(&create, Some(&key)).await.context("creating the Checkout Session")?;
    sale.store_pending(state, user, PaidThrough::Checkout(session.id.as_str())).await?;
    Ok(Next::Redirect(session.url.context("Stripe returned a Checkout Session without a URL")?))
}

/// The fee rate `creator`'s next sale in `currency` gets, and which rule set it (their own rate,
/// a tier their lifetime sales reached, the default): what buying charges and the admin's
/// creators table shows.
pub async fn rate_in_force(
    pool: &sqlx::AnyPool,
    terms: &MarketplaceTerms,
    creator: &Creator,
    currency: Currency,
) -> anyhow::Result<(FeeRate, FeeSource)> {
    let lifetime = lifetime_sales(pool, creator.user_id, currency.as_str()).await?;
    Ok(terms.rate_for(creator.fee_rate, lifetime))
}

/// The creator's gross sales so far in `currency` (paid orders, refunds not deducted): what the
/// fee tiers count.
async fn lifetime_sales(pool: &sqlx::AnyPool, creator_id: i64, currency: &str) -> anyhow::Result<i64> {
    let total: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(amount) AS BIGINT) FROM orders WHERE creator_id = $1 AND currency = $2 AND status <> 'pending'",
    )
    .bind(creator_id)
    .bind(currency)
    .fetch_one(pool)
    .await
    .context("summing the creator's sales")?;
    Ok(total.unwrap_or(0))
}
