//! `/admin/orders`: the marketplace's orders, newest first, filtered by status, creator and
//! buyer email, paged; `GET /admin/orders.csv` exports every order the same filters select,
//! amounts in integer minor units beside their currency.

use anyhow::Context;
use axum::{
    extract::{Query, State},
    response::Response,
};
use serde::Deserialize;
use sqlx::AnyPool;
use tower_sessions::Session;

use crate::domain::{
    marketplace::OrderStatus,
    money::{Currency, Money},
};
use crate::server::admin::csv::{self, field};
use crate::server::admin::{like_pattern, order_by, Filtered};
use crate::server::state::AppState;
use crate::views::admin::marketplace::{OrderLine, OrderSort, OrdersPage, ORDERS_PER_PAGE};
use crate::views::admin::sort::Sort;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub status: Option<OrderStatus>,
    /// The creator's user id.
    pub creator: Option<i64>,
    /// Part of the buyer's email, lower-case.
    pub buyer: Option<String>,
    pub sort: Sort<OrderSort>,
    pub page: i64,
}

/// The list's URL query: filters, sort and page, each as given.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrdersQuery {
    pub status: Option<String>,
    pub creator: Option<String>,
    pub email: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<i64>,
}

impl Filter {
    /// The filters as the list's URL carries them; values that mean nothing are ignored (a bad
    /// link still shows the list).
    pub fn parse(query: &OrdersQuery) -> Self {
        Self {
            status: query.status.as_deref().and_then(|s| OrderStatus::parse(s.trim())),
            creator: query.creator.as_deref().and_then(|c| c.trim().parse().ok()),
            buyer: query.email.as_deref().map(|b| b.trim().to_lowercase()).filter(|b| !b.is_empty()),
            sort: Sort::parse(query.sort.as_deref(), query.dir.as_deref()),
            page: query.page.unwrap_or(0).max(0),
        }
    }

    /// The `ORDER BY` of the filter's sort: each column's expression is fixed here.
    fn ordering(&self) -> String {
        let column = match self.sort.column {
            OrderSort::Date => "o.created_at",
            OrderSort::Product => "p.title",
            OrderSort::Buyer => "b.email",
            OrderSort::Creator => "c.email",
            OrderSort::Amount => "o.amount",
            OrderSort::Fee => "o.fee",
            OrderSort::Refunded => "o.refunded",
            OrderSort::Status => "o.status",
        };
        order_by(&[column], self.sort.dir, "o.id")
    }

    fn conditions(&self) -> Filtered {
        let mut filtered = Filtered::default();
        if let Some(status) = self.status {
            filtered.push("o.status = {}", status.as_str().to_owned());
        }
        if let Some(creator) = self.creator {
            // Values are bound as text; the cast keeps the comparison on the indexed integer.
            filtered.push("o.creator_id = CAST({} AS BIGINT)", creator.to_string());
        }
        if let Some(buyer) = &self.buyer {
            filtered.push("b.email LIKE {} ESCAPE '\\'", like_pattern(buyer));
        }
        filtered
    }
}

const SELECT: &str = "SELECT o.id, o.created_at, o.paid_at, p.title, b.email AS buyer_email, \
       c.email AS creator_email, o.account_id, o.charge_type, o.status, o.currency, o.amount, o.fee, \
       o.refunded, o.fee_refunded, o.transfer_reversed, o.payment_intent_id \
     FROM orders o JOIN products p ON p.id = o.product_id JOIN users b ON b.id = o.buyer_id \
       JOIN users c ON c.id = o.creator_id";

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    created_at: i64,
    paid_at: Option<i64>,
    title: String,
    buyer_email: String,
    creator_email: String,
    account_id: String,
    charge_type: String,
    status: String,
    currency: String,
    amount: i64,
    fee: i64,
    refunded: i64,
    fee_refunded: i64,
    transfer_reversed: i64,
    payment_intent_id: Option<String>,
}

impl TryFrom<OrderRow> for OrderLine {
    type Error = anyhow::Error;

    fn try_from(row: OrderRow) -> anyhow::Result<Self> {
        let currency = Currency::parse(&row.currency).context("an order's currency")?;
        Ok(OrderLine {
            id: row.id,
            created_at: row.created_at,
            product: row.title,
            buyer_email: row.buyer_email,
            creator_email: row.creator_email,
            amount: Money::new(row.amount, currency),
            fee: Money::new(row.fee, currency),
            refunded: Money::new(row.refunded, currency),
            status: OrderStatus::parse(&row.status).with_context(|| format!("order status {:?}", row.status))?,
            charge_type: row.charge_type,
        })
    }
}

impl OrderRow {
    /// The CSV line's fields, in [`CSV_HEADER`]'s order.
    fn fields(self) -> [String; 16] {
        [
            self.id.to_string(),
            self.created_at.to_string(),
            self.paid_at.map(|t| t.to_string()).unwrap_or_default(),
            field(self.title),
            field(self.buyer_email),
            field(self.creator_email),
            field(self.account_id),
            field(self.charge_type),
            field(self.status),
            field(self.currency),
            self.amount.to_string(),
            self.fee.to_string(),
            self.refunded.to_string(),
            self.fee_refunded.to_string(),
            self.transfer_reversed.to_string(),
            field(self.payment_intent_id.unwrap_or_default()),
        ]
    }
}

const CSV_HEADER: [&str; 16] = [
    "order_id",
    "created_at",
    "paid_at",
    "product",
    "buyer_email",
    "creator_email",
    "account_id",
    "charge_type",
    "status",
    "currency",
    "amount",
    "fee",
    "refunded",
    "fee_refunded",
    "transfer_reversed",
    "payment_intent_id",
];

pub async fn page(pool: &AnyPool, filter: &Filter) -> anyhow::Result<OrdersPage> {
    let (rows, has_more) =
        filter.conditions().page::<OrderRow>(pool, SELECT, &filter.ordering(), ORDERS_PER_PAGE, filter.page).await?;
    let lines = rows.into_iter().map(OrderLine::try_from).collect::<anyhow::Result<Vec<_>>>()?;
    let creators =
        sqlx::query_as("SELECT c.user_id, u.email FROM creators c JOIN users u ON u.id = c.user_id ORDER BY u.email")
            .fetch_all(pool)
            .await
            .context("listing creators for the filter")?;
    Ok(OrdersPage { lines, creators, sort: filter.sort, page: filter.page, has_more })
}

/// Every order `filter` selects (its page ignored), in the list's order, as CSV.
pub async fn csv_of(pool: &AnyPool, filter: &Filter) -> anyhow::Result<String> {
    let rows = filter.conditions().all::<OrderRow>(pool, SELECT, &filter.ordering()).await?;
    Ok(csv::document(CSV_HEADER, rows.into_iter().map(OrderRow::fields)))
}

/// `GET /admin/orders.csv?status=…&creator=…&email=…&sort=…&dir=…` (a page is ignored).
pub async fn orders_csv(State(state): State<AppState>, session: Session, Query(query): Query<OrdersQuery>) -> Response {
    let filter = Filter { page: 0, ..Filter::parse(&query) };
    csv::admin_download(&state, &session, "marketplace-orders.csv", || csv_of(state.db.pool(), &filter)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_keep_what_means_something() {
        let query = |status: &str, creator: &str, email: &str, sort: &str, page| OrdersQuery {
            status: Some(status.into()),
            creator: Some(creator.into()),
            email: Some(email.into()),
            sort: Some(sort.into()),
            dir: None,
            page,
        };
        let filter = Filter::parse(&query("refunded", " 12 ", " Ann@X ", "amount", Some(-3)));
        assert_eq!(
            filter,
            Filter {
                status: Some(OrderStatus::Refunded),
                creator: Some(12),
                buyer: Some("ann@x".into()),
                sort: Sort { column: OrderSort::Amount, dir: crate::views::admin::sort::Direction::Desc },
                page: 0
            }
        );
        assert_eq!(Filter::parse(&query("lost", "twelve", "  ", "o.id", None)), Filter::default());
    }
}
