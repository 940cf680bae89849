//! The creators table: each creator's account state, products on sale, sales, gross, the
//! platform's fees, and the fee rate in force — resolved as buying resolves it
//! (`orders::start::rate_in_force`).

use std::collections::HashMap;

use anyhow::Context;
use sqlx::AnyPool;

use crate::domain::money::{Currency, Money};
use crate::server::admin::Filtered;
use crate::server::marketplace::creators::{Creator, CreatorRow};
use crate::server::marketplace::orders::start::rate_in_force;
use crate::server::state::AppState;
use crate::server::stripe::idempotency::new_form_token;
use crate::views::admin::marketplace::{CreatorLine, CREATORS_PER_PAGE};

#[derive(sqlx::FromRow)]
struct CreatorListRow {
    #[sqlx(flatten)]
    creator: CreatorRow,
    email: String,
    published: i64,
}

const SELECT: &str = "SELECT c.user_id, c.account_id, c.state, c.requirements_due, c.fee_bps, c.deauthorized_at, \
       u.email, (SELECT COUNT(*) FROM products p WHERE p.creator_id = c.user_id AND p.published = TRUE) AS published \
     FROM creators c JOIN users u ON u.id = c.user_id";

/// One creator's paid orders in one currency.
#[derive(sqlx::FromRow)]
struct SalesRow {
    creator_id: i64,
    currency: String,
    sales: i64,
    gross: i64,
    fees: i64,
}

/// What a creator sold, per currency.
#[derive(Default)]
struct Sales {
    count: i64,
    gross: Vec<Money>,
    fees: Vec<Money>,
}

/// Page `page` of the creators, newest first, and whether more follow.
pub async fn page(state: &AppState, page: i64) -> anyhow::Result<(Vec<CreatorLine>, bool)> {
    let pool = state.db.pool();
    let (rows, has_more) = Filtered::default()
        .page::<CreatorListRow>(pool, SELECT, "c.created_at DESC, c.user_id DESC", CREATORS_PER_PAGE, page)
        .await?;
    let rows = rows
        .into_iter()
        .map(|row| Ok((Creator::try_from(row.creator)?, row.email, row.published)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ids: Vec<i64> = rows.iter().map(|(creator, ..)| creator.user_id).collect();
    let mut sales = sales_of(pool, &ids).await?;
    let book = state.prices.current();
    let catalog = &book.catalog;
    let mut lines = Vec::with_capacity(rows.len());
    for (creator, email, published) in rows {
        // The rate of the next sale, which is in the catalog's currency.
        let (rate, rate_source) = rate_in_force(pool, &catalog.marketplace, &creator, catalog.currency).await?;
        let sold = sales.remove(&creator.user_id).unwrap_or_default();
        lines.push(CreatorLine {
            user_id: creator.user_id,
            email,
            state: if creator.deauthorized { "deauthorized" } else { creator.state.as_str() }.to_owned(),
            account_id: creator.account_id,
            published,
            sales: sold.count,
            gross: sold.gross,
            fees: sold.fees,
            rate,
            rate_source,
            own_rate: creator.fee_rate,
            token: new_form_token(),
        });
    }
    Ok((lines, has_more))
}

/// The paid orders of the creators `ids` (refunded or disputed since included): how many, their
/// gross, and the fees kept (less fees refunded), per currency.
async fn sales_of(pool: &AnyPool, ids: &[i64]) -> anyhow::Result<HashMap<i64, Sales>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders = (1..=ids.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT creator_id, currency, COUNT(*) AS sales, CAST(SUM(amount) AS BIGINT) AS gross, \
           CAST(SUM(fee - fee_refunded) AS BIGINT) AS fees \
         FROM orders WHERE status <> 'pending' AND creator_id IN ({placeholders}) \
         GROUP BY creator_id, currency ORDER BY creator_id, currency"
    );
    let mut query = sqlx::query_as::<_, SalesRow>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    let mut sales: HashMap<i64, Sales> = HashMap::new();
    for row in query.fetch_all(pool).await.context("summing the creators' sales")? {
        let currency = Currency::parse(&row.currency).context("an order's currency")?;
        let sold = sales.entry(row.creator_id).or_default();
        sold.count += row.sales;
        sold.gross.push(Money::new(row.gross, currency));
        sold.fees.push(Money::new(row.fees, currency));
    }
    Ok(sales)
}
