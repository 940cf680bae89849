//! "Call the API" on /projects: the demo of a feature gate and of usage recorded by the app
//! itself. The call needs the plan's `api` entitlement; on a plan that bills the `api-calls`
//! meter it is recorded with `usage::record` (and so reaches Stripe as a meter event, counted
//! against the included calls and the spend cap).

use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::usage::{record, Recorded, UsageError, UsageReport};
use crate::server::{db, db::users::User, entitlements, state::AppState};

/// The entitlement the call needs.
pub const FEATURE: &str = "api";
/// The meter a call counts on, where the plan prices it.
pub const METER: &str = "api-calls";

pub async fn call(state: &AppState, user: &User) -> Result<Next, FormError> {
    let entitlements = entitlements::of_user(state, user).await?;
    if !entitlements.allows(FEATURE) {
        return Err(refused(format!(
            "Your {} plan does not include the API. Upgrade your plan to use it.",
            entitlements.plan_name()
        )));
    }
    let book = state.prices.current();
    let billed = entitlements.plan.as_ref().is_some_and(|p| book.catalog.usage.price(p.key.as_str(), METER).is_some());
    if !billed {
        return Ok(Next::Back("API call made (your plan does not count API calls).".to_string()));
    }
    let now = db::now();
    let identifier = format!("demo-{}", uuid::Uuid::new_v4());
    let report = UsageReport { meter: METER, value: 1, identifier: &identifier, occurred_at: now };
    match record(state.db.pool(), &book.catalog, user, &report, now).await {
        Ok(Recorded::Created | Recorded::Duplicate) => Ok(Next::Back("API call made and counted.".to_string())),
        Err(error @ UsageError::SpendCapReached { .. }) => Err(refused(error.to_string())),
        Err(UsageError::Unexpected(error)) => Err(error.into()),
        Err(other) => Err(refused(other.to_string())),
    }
}
