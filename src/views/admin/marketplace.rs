//! `/admin/marketplace` (creators with their sales and fee rates, the platform's fee revenue by
//! month, failed payouts), `/admin/orders` (the marketplace's orders, filtered and paged) and the
//! revenue page's marketplace figures.

use serde::{Deserialize, Serialize};

use super::sort::{Direction, Sort, SortKey};

use crate::domain::{
    marketplace::{FeeRate, FeeSource, OrderStatus},
    money::Money,
};

/// A creator as the admin's table shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatorLine {
    pub user_id: i64,
    pub email: String,
    pub account_id: String,
    /// `pending`, `restricted` or `enabled`; `deauthorized` once the account left the platform.
    pub state: String,
    /// Products on sale now.
    pub published: i64,
    /// Orders paid (those refunded or disputed since included).
    pub sales: i64,
    /// What buyers paid, per currency.
    pub gross: Vec<Money>,
    /// The platform's fees on those sales less the fees refunded, per currency.
    pub fees: Vec<Money>,
    /// The rate the creator's next sale gets, and which rule set it.
    pub rate: FeeRate,
    pub rate_source: FeeSource,
    /// The admin's own rate for this creator, when set.
    pub own_rate: Option<FeeRate>,
    /// The fee form's one-time token: a double submit is one change.
    pub token: String,
}

/// One month (UTC) of the platform's fees in one currency, from the orders paid that month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeRevenueMonth {
    /// The month's first second (UTC).
    pub month_start: i64,
    pub orders: i64,
    pub gross: Money,
    pub fees: Money,
    pub fees_refunded: Money,
    /// `fees - fees_refunded`: what the platform keeps.
    pub net_fees: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedPayoutLine {
    pub id: String,
    pub account_id: String,
    /// The creator's email, when the account is a creator's.
    pub email: Option<String>,
    pub amount: Money,
    /// Stripe's message, with its code.
    pub failure: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketplaceOverview {
    pub creators: Vec<CreatorLine>,
    pub page: i64,
    pub has_more: bool,
    /// Newest month first.
    pub fee_revenue: Vec<FeeRevenueMonth>,
    /// Newest first.
    pub failed_payouts: Vec<FailedPayoutLine>,
    /// `[marketplace]`'s `fee_percent`, for the form's hint.
    pub default_rate: FeeRate,
}

pub const CREATORS_PER_PAGE: i64 = 50;

/// Which rule set a creator's rate, in words.
pub fn fee_source_words(source: FeeSource) -> &'static str {
    match source {
        FeeSource::Creator => "set for this creator",
        FeeSource::Tier => "tier by lifetime sales",
        FeeSource::Default => "default",
    }
}

/// A marketplace order in the admin's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub id: i64,
    pub created_at: i64,
    pub product: String,
    pub buyer_email: String,
    pub creator_email: String,
    pub amount: Money,
    pub fee: Money,
    /// Refunded to the buyer so far.
    pub refunded: Money,
    pub status: OrderStatus,
    /// `destination` or `direct`.
    pub charge_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersPage {
    pub lines: Vec<OrderLine>,
    /// Every creator (user id, email), for the filter.
    pub creators: Vec<(i64, String)>,
    /// The order the lines are in (the URL's, or the default).
    pub sort: Sort<OrderSort>,
    pub page: i64,
    pub has_more: bool,
}

pub const ORDERS_PER_PAGE: i64 = 50;

/// The orders list's sortable columns (the CSV export follows the same order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderSort {
    Date,
    Product,
    Buyer,
    Creator,
    Amount,
    Fee,
    Refunded,
    Status,
}

impl SortKey for OrderSort {
    const COLUMNS: &'static [(Self, &'static str, Direction)] = &[
        (Self::Date, "date", Direction::Desc),
        (Self::Product, "product", Direction::Asc),
        (Self::Buyer, "buyer", Direction::Asc),
        (Self::Creator, "creator", Direction::Asc),
        (Self::Amount, "amount", Direction::Desc),
        (Self::Fee, "fee", Direction::Desc),
        (Self::Refunded, "refunded", Direction::Desc),
        (Self::Status, "status", Direction::Asc),
    ];
    const DEFAULT: Sort<Self> = Sort { column: Self::Date, dir: Direction::Desc };
}

/// The statuses the orders list filters by, as (value, words).
pub const ORDER_STATUSES: [(OrderStatus, &str); 5] = [
    (OrderStatus::Pending, "Pending"),
    (OrderStatus::Paid, "Paid"),
    (OrderStatus::PartiallyRefunded, "Partially refunded"),
    (OrderStatus::Refunded, "Refunded"),
    (OrderStatus::Disputed, "Disputed"),
];

/// An order's status in words, `Partially refunded`.
pub fn order_status_words(status: OrderStatus) -> &'static str {
    ORDER_STATUSES.iter().find(|(s, _)| *s == status).map_or("", |(_, words)| *words)
}

/// The revenue page's marketplace figures in one currency: the platform's fees (less those
/// refunded) on orders paid this UTC month and in the last 30 UTC days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketplaceFees {
    pub this_month: Money,
    pub last_30_days: Money,
}
