//! "Open Stripe dashboard": a single-use login link to the creator's Express dashboard.

use anyhow::Context;
use stripe_connect::login_link::CreateAccountLoginLink;

use super::of_user;
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::{db::users::User, state::AppState};

pub async fn open(state: &AppState, user: &User) -> Result<Next, FormError> {
    let Some(creator) = of_user(state.db.pool(), user.id).await? else {
        return Err(refused("Become a creator first."));
    };
    if !creator.state.may_publish() && matches!(creator.state, crate::domain::marketplace::CreatorState::Pending) {
        return Err(refused("Finish setting up your Stripe account first."));
    }
    let create = CreateAccountLoginLink::new(creator.account_id.as_str());
    let link = state.stripe_client.send(&create, None).await.context("creating a dashboard login link")?;
    Ok(Next::Redirect(link.url))
}
