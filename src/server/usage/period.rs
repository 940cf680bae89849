//! The billing period usage counts in: the customer's live subscription's current period, and
//! the plan it is on (whose metered prices price the usage).

use anyhow::Context;

/// A customer's current period and the catalog plan of their live subscription, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub start: i64,
    pub end: i64,
    /// The catalog plan (`scale`), when the subscription's price belongs to one.
    pub plan: Option<String>,
    pub subscription_id: Option<String>,
}

/// Without a live subscription, usage counts in the calendar month (UTC).
pub fn calendar_month(now: i64) -> (i64, i64) {
    let date = time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let first = date.date().replace_day(1).expect("day 1 exists");
    let next = if first.month() == time::Month::December {
        first.replace_year(first.year() + 1).and_then(|d| d.replace_month(time::Month::January))
    } else {
        first.replace_month(first.month().next())
    }
    .expect("the first of next month exists");
    (first.midnight().assume_utc().unix_timestamp(), next.midnight().assume_utc().unix_timestamp())
}

pub async fn current<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    customer_id: &str,
    now: i64,
) -> anyhow::Result<Period> {
    let live: Option<(String, Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT id, lookup_key, current_period_start, current_period_end FROM subscriptions \
         WHERE customer_id = $1 AND status IN ('active', 'trialing', 'past_due') \
         ORDER BY created DESC, id DESC LIMIT 1",
    )
    .bind(customer_id)
    .fetch_optional(db)
    .await
    .context("reading the customer's billing period")?;
    Ok(match live {
        Some((id, lookup_key, start, end)) => Period {
            start,
            end,
            plan: lookup_key.and_then(|k| k.rsplit_once('_').map(|(plan, _)| plan.to_owned())),
            subscription_id: Some(id),
        },
        None => {
            let (start, end) = calendar_month(now);
            Period { start, end, plan: None, subscription_id: None }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_months_run_from_the_first_to_the_first() {
        // 2026-12-15T12:00:00Z
        let (start, end) = calendar_month(1_797_336_000);
        assert_eq!(start, 1_796_083_200, "2026-12-01");
        assert_eq!(end, 1_798_761_600, "2027-01-01");
    }
}
