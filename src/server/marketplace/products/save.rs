//! Creating and editing a product (a draft until published). Every field is checked here, with a
//! message the creator can act on; the price as `catalog.toml`'s `[marketplace]` allows.

use anyhow::Context;

use super::of_creator_by_id;
use crate::domain::marketplace::slug_of;
use crate::domain::money::Money;
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::marketplace::creators;
use crate::server::{db, db::users::User, state::AppState};

pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
pub const MAX_CONTENT_CHARS: usize = 20_000;

/// What the product form sends.
#[derive(Debug, Clone)]
pub struct ProductForm {
    pub title: String,
    pub description: String,
    pub price: String,
    pub content: String,
}

/// A form that passed every check.
struct Checked {
    title: String,
    description: String,
    price: Money,
    content: String,
}

fn check(state: &AppState, form: &ProductForm) -> Result<Checked, FormError> {
    let title = form.title.trim();
    if title.is_empty() {
        return Err(refused("Give the product a title."));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(refused(format!("A title has at most {MAX_TITLE_CHARS} characters.")));
    }
    let description = form.description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(refused(format!("A description has at most {MAX_DESCRIPTION_CHARS} characters.")));
    }
    let content = form.content.trim();
    if content.is_empty() {
        return Err(refused("Add the content your buyers get (a text, a link, a licence key…)."));
    }
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(refused(format!("The content has at most {MAX_CONTENT_CHARS} characters.")));
    }
    let catalog = state.prices.current().catalog.clone();
    let price = catalog.marketplace.parse_price(&form.price, catalog.currency).map_err(refused)?;
    Ok(Checked { title: title.to_owned(), description: description.to_owned(), price, content: content.to_owned() })
}

/// Saves a new draft for the creator.
pub async fn create(state: &AppState, user: &User, form: &ProductForm) -> Result<Next, FormError> {
    let Some(creator) = creators::of_user(state.db.pool(), user.id).await? else {
        return Err(refused("Become a creator first."));
    };
    let product = check(state, form)?;
    let now = db::now();
    let mut tx = db::begin_write(state.db.pool()).await.context("starting a transaction")?;
    // Two products with one title get `title`, `title-2`…: one slug chooser at a time.
    db::lock_key(&mut tx, "product-slugs").await.context("locking the slugs")?;
    let slug = free_slug(&mut tx, &slug_of(&product.title)).await?;
    sqlx::query(
        "INSERT INTO products (creator_id, slug, title, description, price, currency, content, published, \
           created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $8)",
    )
    .bind(creator.user_id)
    .bind(&slug)
    .bind(&product.title)
    .bind(&product.description)
    .bind(product.price.minor())
    .bind(product.price.currency().as_str())
    .bind(&product.content)
    .bind(now)
    .execute(&mut *tx)
    .await
    .context("storing the product")?;
    tx.commit().await.context("committing the product")?;
    Ok(Next::Back(format!("“{}” saved as a draft at {}.", product.title, product.price)))
}

/// Saves the creator's edits to product `id` (its address stays).
pub async fn update(state: &AppState, user: &User, id: i64, form: &ProductForm) -> Result<Next, FormError> {
    let Some(creator) = creators::of_user(state.db.pool(), user.id).await? else {
        return Err(refused("Become a creator first."));
    };
    let Some(_) = of_creator_by_id(state.db.pool(), creator.user_id, id).await? else {
        return Err(refused("There is no such product of yours."));
    };
    let product = check(state, form)?;
    sqlx::query(
        "UPDATE products SET title = $1, description = $2, price = $3, currency = $4, content = $5, updated_at = $6 \
         WHERE id = $7 AND creator_id = $8",
    )
    .bind(&product.title)
    .bind(&product.description)
    .bind(product.price.minor())
    .bind(product.price.currency().as_str())
    .bind(&product.content)
    .bind(db::now())
    .bind(id)
    .bind(creator.user_id)
    .execute(state.db.pool())
    .await
    .context("saving the product")?;
    Ok(Next::Back(format!("“{}” saved.", product.title)))
}

/// `base`, or `base-2`, `base-3`… whichever no product has.
async fn free_slug(tx: &mut sqlx::Transaction<'static, sqlx::Any>, base: &str) -> anyhow::Result<String> {
    let taken: Vec<String> = sqlx::query_scalar("SELECT slug FROM products WHERE slug = $1 OR slug LIKE $2")
        .bind(base)
        .bind(format!("{base}-%"))
        .fetch_all(&mut **tx)
        .await
        .context("reading taken slugs")?;
    let taken: std::collections::HashSet<String> = taken.into_iter().collect();
    Ok((1..)
        .map(|n| if n == 1 { base.to_owned() } else { format!("{base}-{n}") })
        .find(|s| !taken.contains(s))
        .expect("some number is free"))
}
