//! Becoming a creator: an Express account for the user, made once (the row is written with the
//! account's id, and the idempotency key makes a retried create return the same account), then
//! Stripe's hosted onboarding. A creator who comes back later continues where they left off.

use std::collections::HashMap;

use anyhow::Context;
use stripe_connect::account::{
    CreateAccount, CreateAccountCapabilities, CreateAccountCapabilitiesCardPayments,
    CreateAccountCapabilitiesTransfers, CreateAccountType,
};

use super::{of_user, onboarding, sync, Creator};
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::{db, db::users::User, state::AppState};

/// Makes the user a creator (once) and sends them to Stripe's onboarding; an enabled creator
/// goes to their page instead.
pub async fn start(state: &AppState, user: &User) -> Result<Next, FormError> {
    if !user.email_verified() {
        return Err(refused(format!(
            "Confirm your email address before selling: open the link we sent to {}.",
            user.email
        )));
    }
    let creator = match of_user(state.db.pool(), user.id).await? {
        Some(creator) => creator,
        None => create(state, user).await?,
    };
    if creator.state.may_publish() {
        return Ok(Next::Redirect("/creator".into()));
    }
    Ok(Next::Redirect(onboarding::link(state, &creator.account_id).await?))
}

async fn create(state: &AppState, user: &User) -> anyhow::Result<Creator> {
    let mut capabilities = CreateAccountCapabilities::new();
    capabilities.card_payments = Some(CreateAccountCapabilitiesCardPayments { requested: Some(true) });
    capabilities.transfers = Some(CreateAccountCapabilitiesTransfers { requested: Some(true) });
    let create = CreateAccount::new()
        .type_(CreateAccountType::Express)
        .email(user.email.as_str())
        .capabilities(capabilities)
        .metadata(HashMap::from([("user_id".to_owned(), user.id.to_string())]));
    let account = state
        .stripe_client
        .send(&create, Some(&format!("creator-account-{}", user.id)))
        .await
        .context("creating the creator's Stripe account")?;
    let now = db::now();
    sqlx::query(
        "INSERT INTO creators (user_id, account_id, created_at, updated_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user.id)
    .bind(account.id.as_str())
    .bind(now)
    .execute(state.db.pool())
    .await
    .context("storing the creator")?;
    sync::store(state.db.pool(), account.id.as_str(), &sync::AccountFacts::from(&account), now).await?;
    of_user(state.db.pool(), user.id).await?.context("the creator just stored")
}
