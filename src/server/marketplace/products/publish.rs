//! Publishing and unpublishing: only a creator Stripe enabled (and still connected) publishes;
//! unpublishing takes a product out of the store, never out of its buyers' libraries.

use anyhow::Context;

use super::of_creator_by_id;
use crate::domain::marketplace::CreatorState;
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::marketplace::creators;
use crate::server::{db, db::users::User, state::AppState};
use crate::views::marketplace::requirement_words;

pub async fn set_published(state: &AppState, user: &User, id: i64, publish: bool) -> Result<Next, FormError> {
    let Some(creator) = creators::of_user(state.db.pool(), user.id).await? else {
        return Err(refused("Become a creator first."));
    };
    let Some(product) = of_creator_by_id(state.db.pool(), creator.user_id, id).await? else {
        return Err(refused("There is no such product of yours."));
    };
    if publish {
        if creator.deauthorized {
            return Err(refused(
                "Your Stripe account is disconnected from the platform: products cannot be published.",
            ));
        }
        match &creator.state {
            CreatorState::Enabled => {}
            CreatorState::Pending => {
                return Err(refused("Finish setting up your Stripe account before publishing."));
            }
            CreatorState::Restricted { due } => {
                let due: Vec<String> = due.iter().map(|r| requirement_words(r)).collect();
                return Err(refused(format!(
                    "Stripe needs more before you can sell: {}. Continue onboarding, then publish.",
                    due.join(", ")
                )));
            }
        }
    }
    sqlx::query("UPDATE products SET published = $1, updated_at = $2 WHERE id = $3 AND creator_id = $4")
        .bind(publish)
        .bind(db::now())
        .bind(id)
        .bind(creator.user_id)
        .execute(state.db.pool())
        .await
        .context("publishing the product")?;
    Ok(Next::Back(if publish {
        format!("“{}” is on sale at /p/{}.", product.title, product.slug)
    } else {
        format!("“{}” is no longer on sale.", product.title)
    }))
}
