//! Keeps a creator's row true to their Stripe account: on `account.updated` (re-read from
//! Stripe, so a late or repeated event changes nothing) and when they come back from onboarding.

use anyhow::Context;
use stripe_connect::account::RetrieveForMyAccountAccount;
use stripe_shared::Account;

use crate::domain::marketplace::CreatorState;
use crate::server::stripe::client::StripeClient;

/// What the app keeps of a connected account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFacts {
    pub details_submitted: bool,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    /// What Stripe needs now: `currently_due` and `past_due`, each once, sorted.
    pub due: Vec<String>,
}

impl From<&Account> for AccountFacts {
    fn from(account: &Account) -> Self {
        let mut due: Vec<String> = account
            .requirements
            .as_ref()
            .map(|r| r.currently_due.iter().chain(r.past_due.iter()).flatten().cloned().collect())
            .unwrap_or_default();
        due.sort();
        due.dedup();
        Self {
            details_submitted: account.details_submitted.unwrap_or(false),
            charges_enabled: account.charges_enabled.unwrap_or(false),
            payouts_enabled: account.payouts_enabled.unwrap_or(false),
            due,
        }
    }
}

impl AccountFacts {
    pub fn state(&self) -> CreatorState {
        CreatorState::of_account(self.details_submitted, self.charges_enabled, self.payouts_enabled, self.due.clone())
    }
}

/// Reads the connected account from Stripe (through a client acting on it).
pub async fn read_account(stripe: &StripeClient) -> anyhow::Result<Account> {
    anyhow::ensure!(stripe.account().is_some(), "reading a connected account needs a client acting on it");
    stripe.send(&RetrieveForMyAccountAccount::new(), None).await.context("reading the connected account")
}

/// Stores `facts` on the creator of `account_id`; false when no creator has that account.
pub async fn store<'c, E>(executor: E, account_id: &str, facts: &AccountFacts, now: i64) -> anyhow::Result<bool>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let due = serde_json::to_string(&facts.due).context("writing what is due")?;
    let updated = sqlx::query(
        "UPDATE creators SET state = $1, details_submitted = $2, charges_enabled = $3, payouts_enabled = $4, \
           requirements_due = $5, updated_at = $6 WHERE account_id = $7",
    )
    .bind(facts.state().as_str())
    .bind(facts.details_submitted)
    .bind(facts.charges_enabled)
    .bind(facts.payouts_enabled)
    .bind(due)
    .bind(now)
    .bind(account_id)
    .execute(executor)
    .await
    .context("storing the creator's account")?;
    Ok(updated.rows_affected() > 0)
}

/// Re-reads the connected account `account_id` and stores it on its creator.
pub async fn refresh(pool: &sqlx::AnyPool, stripe: &StripeClient, account_id: &str, now: i64) -> anyhow::Result<bool> {
    let account = read_account(&stripe.on_account(account_id)).await?;
    store(pool, account_id, &AccountFacts::from(&account), now).await
}
