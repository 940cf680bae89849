//! Manage billing: the Stripe Customer Portal.

use anyhow::Context;
use stripe_billing::billing_portal_session::CreateBillingPortalSession;

use super::customers;
use crate::server::http::{
    app_url::AppUrl,
    outcome::{FormError, Next},
};
use crate::server::{db::users::User, state::AppState};

/// Manage billing: a Customer Portal session returning to /account.
pub async fn open(state: &AppState, user: &User) -> Result<Next, FormError> {
    super::require_verified_email(user)?;
    let customer = customers::customer_of(state, user).await?;
    let return_url = AppUrl::new(state.config.app_url.as_str()).join("/account");
    let create = CreateBillingPortalSession::new().customer(customer).return_url(return_url);
    let session = state.stripe_client.send(&create, None).await.context("creating a portal session")?;
    Ok(Next::Redirect(session.url))
}
