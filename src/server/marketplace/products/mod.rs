//! Creators' digital products: drafts a creator edits, published ones the store lists. Only an
//! enabled creator publishes (`publish.rs`); `content` is what a buyer's library delivers.

pub mod publish;
pub mod save;

use anyhow::Context;
use sqlx::AnyPool;

use crate::domain::money::{Currency, Money};
use crate::views::marketplace::{ProductCardView, StoreView};

/// A product as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: i64,
    pub creator_id: i64,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub price: Money,
    pub content: String,
    pub published: bool,
}

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: i64,
    creator_id: i64,
    slug: String,
    title: String,
    description: String,
    price: i64,
    currency: String,
    content: String,
    published: i64,
}

impl TryFrom<ProductRow> for Product {
    type Error = anyhow::Error;

    fn try_from(row: ProductRow) -> anyhow::Result<Self> {
        Ok(Self {
            id: row.id,
            creator_id: row.creator_id,
            slug: row.slug,
            title: row.title,
            description: row.description,
            price: Money::new(row.price, Currency::parse(&row.currency)?),
            content: row.content,
            published: row.published != 0,
        })
    }
}

/// The columns [`ProductRow`] reads (booleans as integers: the `Any` driver's way).
const COLUMNS: &str =
    "p.id, p.creator_id, p.slug, p.title, p.description, p.price, p.currency, p.content, CAST(p.published AS INTEGER) AS published";

/// The creator's products, newest first.
pub async fn of_creator(pool: &AnyPool, creator_id: i64) -> anyhow::Result<Vec<Product>> {
    let rows: Vec<ProductRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM products p WHERE p.creator_id = $1 ORDER BY p.id DESC"))
            .bind(creator_id)
            .fetch_all(pool)
            .await
            .context("listing the creator's products")?;
    rows.into_iter().map(Product::try_from).collect()
}

/// One of the creator's products.
pub async fn of_creator_by_id<'c, E>(executor: E, creator_id: i64, id: i64) -> anyhow::Result<Option<Product>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row: Option<ProductRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM products p WHERE p.creator_id = $1 AND p.id = $2"))
            .bind(creator_id)
            .bind(id)
            .fetch_optional(executor)
            .await
            .context("reading the creator's product")?;
    row.map(Product::try_from).transpose()
}

/// What the store may sell: published, by an enabled creator still connected to the platform.
const ON_SALE: &str = "p.published = TRUE AND c.state = 'enabled' AND c.deauthorized_at IS NULL";

/// The product on sale at `/p/{slug}`, if any.
pub async fn on_sale(pool: &AnyPool, slug: &str) -> anyhow::Result<Option<Product>> {
    let row: Option<ProductRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM products p JOIN creators c ON c.user_id = p.creator_id WHERE p.slug = $1 AND {ON_SALE}"
    ))
    .bind(slug)
    .fetch_optional(pool)
    .await
    .context("reading a product on sale")?;
    row.map(Product::try_from).transpose()
}

/// `/store`: every product on sale, newest first.
pub async fn store(pool: &AnyPool) -> anyhow::Result<StoreView> {
    let rows: Vec<ProductRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM products p JOIN creators c ON c.user_id = p.creator_id WHERE {ON_SALE} ORDER BY p.id DESC"
    ))
    .fetch_all(pool)
    .await
    .context("listing the store")?;
    let products = rows.into_iter().map(Product::try_from).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(StoreView { products: products.iter().map(card).collect() })
}

/// A product as the store and the creator's page list it.
pub fn card(product: &Product) -> ProductCardView {
    ProductCardView {
        id: product.id,
        slug: product.slug.clone(),
        title: product.title.clone(),
        description: product.description.clone(),
        price: product.price.to_string(),
        published: product.published,
    }
}
