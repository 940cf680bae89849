//! Usage alerts: when a customer's usage this period reaches a threshold (`USAGE_ALERT_THRESHOLDS`,
//! percent of the plan's included units), one email through the mail outbox — once per
//! threshold, meter and period (the email's cause key says so).

use std::collections::BTreeSet;

use crate::domain::usage::thresholds_reached;
use crate::server::{
    billing::emails::{enqueue, usage_alert},
    db::{begin_write, users},
    http::app_url::AppUrl,
    state::AppState,
};

use super::record::period_total;

/// Mails the thresholds that `(user, customer, meter)`'s usage has reached and no mail has told.
pub async fn mail_crossed(state: &AppState, grown: &BTreeSet<(i64, String, String)>, now: i64) -> anyhow::Result<()> {
    let pool = state.db.pool();
    let catalog = &state.prices.current().catalog;
    let account_url = AppUrl::new(state.config.app_url.as_str()).join("/account");
    for (user_id, customer, meter_key) in grown {
        let (period, used) = period_total(pool, customer, meter_key, now).await?;
        let Some(price) = period.plan.as_deref().and_then(|plan| catalog.usage.price(plan, meter_key)) else {
            continue;
        };
        let included = price.included();
        let reached = thresholds_reached(&state.config.usage.alert_thresholds, used, included);
        if reached.is_empty() {
            continue;
        }
        let Some(user) = users::find_by_id(pool, *user_id).await? else { continue };
        let meter_name = catalog.usage.meter(meter_key).map_or(meter_key.as_str(), |m| m.name.as_str());
        let mut tx = begin_write(pool).await?;
        for percent in reached {
            let email = usage_alert(
                user.email.as_str(),
                user.id,
                (meter_key, meter_name),
                period.start,
                percent,
                (used, included),
                &account_url,
            );
            enqueue(&mut tx, &email, now).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
