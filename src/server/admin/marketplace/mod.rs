//! The admin's view of the marketplace, from local tables only: `/admin/marketplace` (creators
//! with their sales and fee rates and the admin's per-creator override, the platform's fee
//! revenue by month, failed payouts) and `/admin/orders` (the orders list and its CSV).

pub mod creators;
pub mod fee_override;
pub mod fees;
pub mod orders;

use anyhow::Context;
use sqlx::AnyPool;

use crate::domain::money::{Currency, Money};
use crate::server::state::AppState;
use crate::views::admin::marketplace::{FailedPayoutLine, MarketplaceOverview};

/// `/admin/marketplace`, with page `page` of the creators.
pub async fn overview(state: &AppState, page: i64) -> anyhow::Result<MarketplaceOverview> {
    let pool = state.db.pool();
    let (creators, has_more) = creators::page(state, page).await?;
    Ok(MarketplaceOverview {
        creators,
        page,
        has_more,
        fee_revenue: fees::by_month(pool).await?,
        failed_payouts: failed_payouts(pool).await?,
        default_rate: state.prices.current().catalog.marketplace.default_rate,
    })
}

#[derive(sqlx::FromRow)]
struct FailedPayoutRow {
    id: String,
    account_id: String,
    email: Option<String>,
    amount: i64,
    currency: String,
    failure_code: Option<String>,
    failure_message: Option<String>,
    created: i64,
}

impl TryFrom<FailedPayoutRow> for FailedPayoutLine {
    type Error = anyhow::Error;

    fn try_from(row: FailedPayoutRow) -> anyhow::Result<Self> {
        let failure = match (row.failure_message, row.failure_code) {
            (Some(message), Some(code)) => Some(format!("{message} ({code})")),
            (message, code) => message.or(code),
        };
        Ok(FailedPayoutLine {
            amount: Money::new(row.amount, Currency::parse(&row.currency).context("a payout's currency")?),
            id: row.id,
            account_id: row.account_id,
            email: row.email,
            failure,
            created: row.created,
        })
    }
}

/// Creators' payouts Stripe reported `failed`, newest first (the last 100).
async fn failed_payouts(pool: &AnyPool) -> anyhow::Result<Vec<FailedPayoutLine>> {
    sqlx::query_as::<_, FailedPayoutRow>(
        "SELECT p.id, p.account_id, u.email, p.amount, p.currency, p.failure_code, p.failure_message, p.created \
         FROM payouts p LEFT JOIN creators c ON c.account_id = p.account_id LEFT JOIN users u ON u.id = c.user_id \
         WHERE p.status = 'failed' ORDER BY p.created DESC, p.id DESC LIMIT 100",
    )
    .fetch_all(pool)
    .await
    .context("reading failed payouts")?
    .into_iter()
    .map(FailedPayoutLine::try_from)
    .collect()
}
