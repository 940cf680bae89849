//! `/buy/:item`: a one-time item paid on the app's own page with the Payment Element. The page
//! gives the browser a one-per-visit attempt token; "Pay" asks the server for a PaymentIntent
//! under that token (so a double click or a retry after a decline confirms the same intent),
//! Stripe.js confirms it, and `/buy/:item/complete` reads the intent back from Stripe and grants the
//! item — as the `payment_intent.succeeded` webhook does; whichever comes second changes nothing.

use std::collections::HashMap;

use anyhow::Context;
use stripe_core::payment_intent::{
    CreatePaymentIntent, CreatePaymentIntentAutomaticPaymentMethods, RetrievePaymentIntent,
};
use stripe_shared::{PaymentIntent, PaymentIntentId};

use super::entitlements::{self, ITEM_METADATA};
use super::price_book::PRICES_NOT_LOADED;
use super::{customers, require_verified_email};
use crate::domain::catalog::OneTimeItem;
use crate::server::db::{self, users::User};
use crate::server::http::app_url::AppUrl;
use crate::server::http::outcome::{refused, FormError};
use crate::server::state::AppState;
use crate::server::stripe::browser::{publishable_key, stripe_js_url};
use crate::server::stripe::idempotency::{check_form_token, new_form_token};
use crate::views::format::money;
use crate::views::payment_element::{
    EmbeddedForm, FormKind, OutcomeStage, PaymentOutcome, PaymentPageView, StartedIntent,
};

/// The same answer for a payment that does not exist and one of another customer.
const NO_SUCH_PAYMENT: &str = "We could not find that payment.";

/// Where Stripe.js brings the buyer back (it adds `payment_intent`, its client secret and
/// `redirect_status`).
pub fn return_path(item_key: &str) -> String {
    format!("/buy/{item_key}/complete")
}

fn item_for_sale(state: &AppState, key: &str) -> Result<(OneTimeItem, String), FormError> {
    let book = state.prices.current();
    if !book.is_resolved() {
        return Err(refused(PRICES_NOT_LOADED));
    }
    let (item, price_id) = book.one_time(key).ok_or_else(|| refused(format!("There is no item {key:?} for sale.")))?;
    Ok((item.clone(), price_id.to_owned()))
}

/// The page: the item, its price, and what the browser needs to mount the Payment Element.
pub async fn page(state: &AppState, key: &str) -> Result<PaymentPageView, FormError> {
    let (item, _) = item_for_sale(state, key)?;
    let amount = item.price.amount;
    let form =
        publishable_key(&state.stripe.api_base, state.stripe.publishable_key.as_deref()).map(|publishable_key| {
            EmbeddedForm {
                publishable_key,
                kind: FormKind::Payment,
                amount: amount.minor(),
                currency: amount.currency().as_str().to_ascii_lowercase(),
                attempt: new_form_token(),
                button: format!("Pay {amount}"),
                stripe_account: None,
            }
        });
    Ok(PaymentPageView {
        title: item.name.clone(),
        price: amount.to_string(),
        stripe_js_url: stripe_js_url(&state.stripe.api_base),
        form,
    })
}

/// "Pay": the PaymentIntent for this attempt (made once per attempt token), for Stripe.js to
/// confirm with the card the buyer typed.
pub async fn start(state: &AppState, user: &User, key: &str, attempt: &str) -> Result<StartedIntent, FormError> {
    require_verified_email(user)?;
    check_form_token(attempt)?;
    let (item, _) = item_for_sale(state, key)?;
    let customer = customers::customer_of(state, user).await?;
    let amount = item.price.amount;
    let currency = amount
        .currency()
        .as_str()
        .to_ascii_lowercase()
        .parse::<stripe_types::Currency>()
        .map_err(|_| anyhow::anyhow!("currency {} unknown to Stripe", amount.currency()))?;
    let metadata = HashMap::from([
        ("user_id".to_owned(), user.id.to_string()),
        ("lookup_key".to_owned(), item.price.lookup_key.clone()),
        (ITEM_METADATA.to_owned(), item.price.lookup_key.clone()),
    ]);
    let create = CreatePaymentIntent::new(amount.minor(), currency)
        .customer(customer.as_str())
        .description(item.name.as_str())
        .metadata(metadata)
        .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods { allow_redirects: None, enabled: true });
    let key = format!("item-payment-{}-{}-{attempt}", user.id, item.key.as_str());
    let created = state.stripe_client.send(&create, Some(&key)).await.context("creating the PaymentIntent")?;
    // A repeated key replays the creation's answer: read the intent as it is now.
    let intent = state
        .stripe_client
        .send(&RetrievePaymentIntent::new(&created.id), None)
        .await
        .context("reading the PaymentIntent back")?;
    if intent.status == stripe_shared::PaymentIntentStatus::Succeeded {
        return Err(refused("This payment is already complete: open the page again to buy once more."));
    }
    let client_secret = intent.client_secret.context("Stripe returned a PaymentIntent without a client secret")?;
    Ok(StartedIntent {
        client_secret,
        kind: FormKind::Payment.as_str().to_owned(),
        return_url: AppUrl::new(state.config.app_url.as_str()).join(&return_path(item.key.as_str())),
    })
}

/// `/buy/:item/complete?payment_intent=…`: what Stripe says about the payment, granting the item if
/// it succeeded.
pub async fn outcome(state: &AppState, user: &User, id: &str) -> Result<PaymentOutcome, FormError> {
    let intent = own_payment_intent(state, user, id).await?;
    let lookup_key = intent.metadata.get(ITEM_METADATA).cloned().unwrap_or_default();
    let item_key = state
        .prices
        .current()
        .catalog
        .one_time
        .iter()
        .find(|i| i.price.lookup_key == lookup_key)
        .map(|i| i.key.as_str().to_owned());
    let retry = item_key.as_ref().map_or_else(|| "/pricing".to_owned(), |key| format!("/buy/{key}"));
    let stage = OutcomeStage::of_status(intent.status.as_str());
    if stage == OutcomeStage::Succeeded {
        let mut tx = db::begin_write(state.db.pool()).await.context("starting a transaction")?;
        entitlements::grant_for_payment_intent(&mut tx, &intent, db::now()).await?;
        tx.commit().await.context("committing the grant")?;
    }
    let amount = money(intent.amount, &intent.currency.to_string());
    Ok(match stage {
        OutcomeStage::Succeeded => PaymentOutcome {
            stage,
            headline: format!("Thank you: your purchase is complete ({amount})."),
            next_href: "/account".into(),
            next_label: "Go to your account".into(),
        },
        OutcomeStage::Pending => PaymentOutcome {
            stage,
            headline: "Your payment is not complete yet. This page will show it once it is.".into(),
            next_href: format!(
                "{}?payment_intent={}",
                return_path(item_key.as_deref().unwrap_or("item")),
                intent.id.as_str()
            ),
            next_label: "Check again".into(),
        },
        OutcomeStage::Failed => {
            PaymentOutcome { stage, headline: failure_words(&intent), next_href: retry, next_label: "Try again".into() }
        }
    })
}

/// Why the payment failed, as Stripe said it, and that nothing was charged.
fn failure_words(intent: &PaymentIntent) -> String {
    let why = intent
        .last_payment_error
        .as_deref()
        .and_then(|e| e.message.clone())
        .unwrap_or_else(|| "The payment did not go through.".into());
    format!("{why} Nothing was charged.")
}

/// The PaymentIntent, if it is one the app made for this user.
async fn own_payment_intent(state: &AppState, user: &User, id: &str) -> Result<PaymentIntent, FormError> {
    let intent = super::retrieve_named(&state.stripe_client, id, "pi_", NO_SUCH_PAYMENT, |id| {
        RetrievePaymentIntent::new(PaymentIntentId::from(id))
    })
    .await?;
    if intent.metadata.get("user_id").map(String::as_str) != Some(user.id.to_string().as_str()) {
        return Err(refused(NO_SUCH_PAYMENT));
    }
    Ok(intent)
}
