//! Creators: users who sell through the platform, each with a Stripe Express account. `start`
//! makes the account and sends the user through Stripe's hosted onboarding, `onboarding` takes
//! them back (or to a fresh link when theirs expired), `sync` keeps the row true from
//! `account.updated`, `dashboard` opens Stripe's Express dashboard for them, `report` is their
//! own sales and payouts on `/creator`.

pub mod dashboard;
pub mod onboarding;
pub mod report;
pub mod start;
pub mod sync;

use anyhow::Context;

use crate::domain::marketplace::{CreatorState, FeeRate};

/// A creator as the app last knew their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    pub user_id: i64,
    pub account_id: String,
    pub state: CreatorState,
    /// The admin's rate for this creator, when set.
    pub fee_rate: Option<FeeRate>,
    /// The account disconnected from the platform (`account.application.deauthorized`).
    pub deauthorized: bool,
}

/// A `creators` row as [`select_where!`] reads it (the admin's list reads it too, flattened
/// into its own row).
#[derive(sqlx::FromRow)]
pub struct CreatorRow {
    user_id: i64,
    account_id: String,
    state: String,
    requirements_due: String,
    fee_bps: Option<i64>,
    deauthorized_at: Option<i64>,
}

impl TryFrom<CreatorRow> for Creator {
    type Error = anyhow::Error;

    fn try_from(row: CreatorRow) -> anyhow::Result<Self> {
        let due: Vec<String> = serde_json::from_str(&row.requirements_due).context("reading what is due")?;
        let state = match row.state.as_str() {
            "pending" => CreatorState::Pending,
            "restricted" => CreatorState::Restricted { due },
            "enabled" => CreatorState::Enabled,
            other => anyhow::bail!("unknown creator state {other:?}"),
        };
        let fee_rate = row
            .fee_bps
            .map(|bps| {
                u32::try_from(bps)
                    .map_err(anyhow::Error::from)
                    .and_then(|b| FeeRate::from_bps(b).map_err(anyhow::Error::msg))
            })
            .transpose()?;
        Ok(Self {
            user_id: row.user_id,
            account_id: row.account_id,
            state,
            fee_rate,
            deauthorized: row.deauthorized_at.is_some(),
        })
    }
}

/// The creator columns [`CreatorRow`] reads, from the rows matching `$condition`.
macro_rules! select_where {
    ($condition:literal) => {
        concat!(
            "SELECT user_id, account_id, state, requirements_due, fee_bps, deauthorized_at FROM creators WHERE ",
            $condition
        )
    };
}

/// The user's creator row, if they became one.
pub async fn of_user<'c, E>(executor: E, user_id: i64) -> anyhow::Result<Option<Creator>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    find(executor, select_where!("user_id = $1"), user_id).await
}

/// The creator whose connected account is `account_id`, if any.
pub async fn by_account<'c, E>(executor: E, account_id: &str) -> anyhow::Result<Option<Creator>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    find(executor, select_where!("account_id = $1"), account_id.to_owned()).await
}

/// The one creator `sql` selects (on `$1` = `value`).
async fn find<'c, E, V>(executor: E, sql: &'static str, value: V) -> anyhow::Result<Option<Creator>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
    V: 'c + Send + sqlx::Encode<'c, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    let row: Option<CreatorRow> =
        sqlx::query_as(sql).bind(value).fetch_optional(executor).await.context("reading a creator")?;
    row.map(Creator::try_from).transpose()
}

/// What `/creator` shows the user: only ever their own creator row, products and figures.
pub async fn page(
    pool: &sqlx::AnyPool,
    user: &crate::server::db::users::User,
) -> anyhow::Result<crate::views::marketplace::CreatorPageView> {
    use crate::views::marketplace::{requirement_words, CreatorPageView, CreatorView};
    let Some(creator) = of_user(pool, user.id).await? else {
        return Ok(CreatorPageView { creator: None });
    };
    let products = super::products::of_creator(pool, creator.user_id).await?;
    // Once onboarding is done: a restricted creator still sees their sales and, above all, a
    // failed payout.
    let report = match creator.state {
        CreatorState::Pending => None,
        _ => Some(report::report(pool, &creator, crate::server::db::now()).await?),
    };
    Ok(CreatorPageView {
        creator: Some(CreatorView {
            state: creator.state.as_str().to_owned(),
            due: match &creator.state {
                CreatorState::Restricted { due } => due.iter().map(|r| requirement_words(r)).collect(),
                _ => vec![],
            },
            products: products.iter().map(super::products::card).collect(),
            report,
        }),
    })
}
