//! `/billing/card`: a new card saved on the app's own page with a SetupIntent (the Payment
//! Element in `setup` mode), without the portal. On the return page the card becomes the
//! default for the customer's invoices and for their subscription, and an open invoice a failed
//! renewal left (past due) is paid with it at once instead of waiting for Stripe's next retry.
//! A customer who never comes back gets the same from `setup_intent.succeeded`.

use std::collections::HashMap;

use anyhow::Context;
use sqlx::AnyPool;
use stripe_billing::invoice::PayInvoice;
use stripe_billing::subscription::UpdateSubscription;
use stripe_core::customer::{UpdateCustomer, UpdateCustomerInvoiceSettings};
use stripe_core::setup_intent::{CreateSetupIntent, CreateSetupIntentAutomaticPaymentMethods, RetrieveSetupIntent};
use stripe_shared::{InvoiceId, SetupIntent, SetupIntentId, SubscriptionId};

use super::{customers, require_verified_email, subscriptions};
use crate::server::db::users::User;
use crate::server::http::app_url::AppUrl;
use crate::server::http::outcome::{refused, FormError};
use crate::server::state::AppState;
use crate::server::stripe::browser::{publishable_key, stripe_js_url};
use crate::server::stripe::client::{api_error, StripeClient};
use crate::server::stripe::idempotency::{check_form_token, new_form_token};
use crate::views::format::money;
use crate::views::payment_element::{
    EmbeddedForm, FormKind, OutcomeStage, PaymentOutcome, PaymentPageView, StartedIntent,
};

pub const RETURN_PATH: &str = "/billing/card/complete";
/// Marks the SetupIntents this page makes, so `setup_intent.succeeded` applies their card (and
/// not, say, a trial's pending SetupIntent, which Stripe applies itself).
pub const PURPOSE_METADATA: &str = "tollgate_purpose";
pub const CARD_UPDATE: &str = "card_update";
const PAYS_INVOICE_METADATA: &str = "tollgate_pays_invoice";
const NO_SUCH_SETUP: &str = "We could not find that card update.";

/// An invoice a failed renewal left open.
struct OpenInvoice {
    id: String,
    amount_due: i64,
    currency: String,
}

async fn open_invoice(pool: &AnyPool, customer: &str) -> anyhow::Result<Option<OpenInvoice>> {
    let row: Option<(String, i64, String)> = sqlx::query_as(
        "SELECT id, amount_remaining, currency FROM invoices \
         WHERE customer_id = $1 AND status = 'open' AND amount_remaining > 0 ORDER BY created DESC, id DESC LIMIT 1",
    )
    .bind(customer)
    .fetch_optional(pool)
    .await
    .context("reading the customer's open invoice")?;
    Ok(row.map(|(id, amount_due, currency)| OpenInvoice { id, amount_due, currency }))
}

pub async fn page(state: &AppState, user: &User) -> Result<PaymentPageView, FormError> {
    let customer = user.stripe_customer_id.as_ref().ok_or_else(|| refused("You have no billing account yet."))?;
    let open = open_invoice(state.db.pool(), customer.as_str()).await?;
    let paused_for_card = subscriptions::current_subscription(state.db.pool(), &customer.as_str().into())
        .await?
        .is_some_and(|sub| super::pause::awaits_card(&sub));
    let words = match &open {
        None if paused_for_card => {
            "Your trial has ended: your new card pays your subscription's first period now and resumes it.".to_owned()
        }
        Some(invoice) => format!(
            "Your new card pays your open invoice of {} now, and your payments after it.",
            money(invoice.amount_due, &invoice.currency)
        ),
        None => "Your new card pays your next invoices.".to_owned(),
    };
    let form =
        publishable_key(&state.stripe.api_base, state.stripe.publishable_key.as_deref()).map(|publishable_key| {
            EmbeddedForm {
                publishable_key,
                kind: FormKind::Setup,
                amount: 0,
                currency: state.prices.current().catalog.currency.as_str().to_ascii_lowercase(),
                attempt: new_form_token(),
                button: "Save card".into(),
                stripe_account: None,
            }
        });
    Ok(PaymentPageView {
        title: "Update your card".into(),
        price: words,
        stripe_js_url: stripe_js_url(&state.stripe.api_base),
        form,
    })
}

/// "Save card": the SetupIntent of this attempt.
pub async fn start(state: &AppState, user: &User, attempt: &str) -> Result<StartedIntent, FormError> {
    require_verified_email(user)?;
    check_form_token(attempt)?;
    if user.stripe_customer_id.is_none() {
        return Err(refused("You have no billing account yet."));
    }
    let customer = customers::customer_of(state, user).await?;
    let mut metadata = HashMap::from([
        ("user_id".to_owned(), user.id.to_string()),
        (PURPOSE_METADATA.to_owned(), CARD_UPDATE.to_owned()),
    ]);
    // The invoice the page said the card pays, named on the intent: the return page and the
    // webhook pay that one, whichever of them comes first.
    if let Some(open) = open_invoice(state.db.pool(), customer.as_str()).await? {
        metadata.insert(PAYS_INVOICE_METADATA.to_owned(), open.id);
    }
    let create = CreateSetupIntent::new()
        .customer(customer.as_str())
        .usage(stripe_core::setup_intent::CreateSetupIntentUsage::OffSession)
        .metadata(metadata)
        .automatic_payment_methods(CreateSetupIntentAutomaticPaymentMethods { allow_redirects: None, enabled: true });
    let key = format!("card-update-{}-{attempt}", user.id);
    let setup = state.stripe_client.send(&create, Some(&key)).await.context("creating the SetupIntent")?;
    Ok(StartedIntent {
        client_secret: setup.client_secret.context("Stripe returned a SetupIntent without a client secret")?,
        kind: FormKind::Setup.as_str().to_owned(),
        return_url: AppUrl::new(state.config.app_url.as_str()).join(RETURN_PATH),
    })
}

/// `/billing/card/complete?setup_intent=…`: the saved card becomes the default, and pays what
/// is open.
pub async fn outcome(state: &AppState, user: &User, id: &str) -> Result<PaymentOutcome, FormError> {
    let setup = own_setup_intent(state, user, id).await?;
    let retry = |headline: String| PaymentOutcome {
        stage: OutcomeStage::Failed,
        headline,
        next_href: "/billing/card".into(),
        next_label: "Try again".into(),
    };
    match OutcomeStage::of_status(setup.status.as_str()) {
        OutcomeStage::Succeeded => {}
        OutcomeStage::Pending => {
            return Ok(PaymentOutcome {
                stage: OutcomeStage::Pending,
                headline: "Your bank has not confirmed the card yet.".into(),
                next_href: format!("{RETURN_PATH}?setup_intent={}", setup.id.as_str()),
                next_label: "Check again".into(),
            })
        }
        OutcomeStage::Failed => {
            let why = setup.last_setup_error.as_deref().and_then(|e| e.message.clone());
            return Ok(retry(format!(
                "{} Your card was not saved.",
                why.unwrap_or_else(|| "The card was refused.".into())
            )));
        }
    }
    let customer = user.stripe_customer_id.as_ref().context("checked by own_setup_intent")?.as_str().to_owned();
    let applied = apply_saved_card(state.db.pool(), &state.stripe_client, &customer, &setup).await?;
    let account = |stage, headline| PaymentOutcome {
        stage,
        headline,
        next_href: "/account".into(),
        next_label: "Go to your account".into(),
    };
    Ok(match applied {
        CardApplied::Saved => account(OutcomeStage::Succeeded, "Your card is saved: your next payments use it.".into()),
        CardApplied::Paid { amount } => {
            account(OutcomeStage::Succeeded, format!("Your card is saved and your open invoice of {amount} is paid."))
        }
        CardApplied::Processing { amount } => {
            account(OutcomeStage::Pending, format!("Your card is saved; the payment of {amount} is being processed."))
        }
        CardApplied::Refused { amount, why } => {
            retry(format!("Your card is saved, but the payment of {amount} was refused: {why} Try another card."))
        }
        CardApplied::Resumed => {
            account(OutcomeStage::Succeeded, "Your card is saved and your subscription is active again.".into())
        }
        CardApplied::ResumeRefused => retry(
            "Your card is saved, but the payment for your subscription was refused, so it stays paused. \
             Try another card."
                .into(),
        ),
    })
}

/// What a saved card did besides becoming the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardApplied {
    /// Nothing was open.
    Saved,
    /// It paid the open invoice of `amount`.
    Paid { amount: String },
    /// The payment is under way (or another request is making it right now).
    Processing { amount: String },
    /// The bank refused the open invoice's payment.
    Refused { amount: String, why: String },
    /// It paid the first period of a subscription its trial left paused without a card, which
    /// is active again.
    Resumed,
    /// That payment was refused: the subscription stays paused.
    ResumeRefused,
}

/// The card of succeeded SetupIntent `setup` becomes `customer`'s default (and their
/// subscription's) and pays the invoice a failed renewal left open. The return page and
/// `setup_intent.succeeded` both call it, with idempotency keys of the SetupIntent: whichever
/// comes second gets Stripe's first answers again and pays nothing twice.
pub async fn apply_saved_card(
    pool: &AnyPool,
    stripe: &StripeClient,
    customer: &str,
    setup: &SetupIntent,
) -> anyhow::Result<CardApplied> {
    let payment_method = setup
        .payment_method
        .as_ref()
        .map(|pm| pm.id().as_str().to_owned())
        .context("a succeeded SetupIntent names its card")?;
    make_default(pool, stripe, customer, &payment_method, setup.id.as_str()).await?;
    let Some(invoice) = setup.metadata.as_ref().and_then(|m| m.get(PAYS_INVOICE_METADATA)) else {
        // Nothing open: a subscription its trial paused for want of a card resumes now. (Once
        // a resumption was refused, its open invoice is what the next card pays.)
        let resumed = super::pause::resume_after_cardless_trial(pool, stripe, customer, setup.id.as_str()).await?;
        return Ok(resumed.unwrap_or(CardApplied::Saved));
    };
    let amount = invoice_amount(pool, invoice).await?;
    let pay = PayInvoice::new(InvoiceId::from(invoice.as_str())).payment_method(payment_method.as_str());
    let key = format!("card-pay-{invoice}-{}", setup.id.as_str());
    match stripe.send(&pay, Some(&key)).await {
        Ok(paid) if paid.status == Some(stripe_shared::InvoiceStatus::Paid) => Ok(CardApplied::Paid { amount }),
        Ok(_) => Ok(CardApplied::Processing { amount }),
        Err(e) => match api_error(&e) {
            Some((402, _)) => Ok(CardApplied::Refused { amount, why: stripe_message(&e) }),
            // The same key in flight: the other request (page or webhook) is paying it.
            Some((409, _)) => Ok(CardApplied::Processing { amount }),
            // Paid meanwhile (Stripe's own retry, or the key's day is over): nothing to pay.
            Some((400, _)) if invoice_is_paid(stripe, invoice).await? => Ok(CardApplied::Saved),
            _ => Err(anyhow::Error::from(e).context(format!("paying invoice {invoice}"))),
        },
    }
}

/// What invoice `id` asks, in words ("$29.00").
async fn invoice_amount(pool: &AnyPool, id: &str) -> anyhow::Result<String> {
    let (amount, currency): (i64, String) = sqlx::query_as("SELECT amount_due, currency FROM invoices WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("reading the invoice the card pays")?
        .with_context(|| format!("invoice {id} is not stored"))?;
    Ok(money(amount, &currency))
}

async fn invoice_is_paid(stripe: &StripeClient, id: &str) -> anyhow::Result<bool> {
    let invoice = stripe
        .send(&stripe_billing::invoice::RetrieveInvoice::new(InvoiceId::from(id)), None)
        .await
        .context("reading the invoice the card was to pay")?;
    Ok(invoice.status == Some(stripe_shared::InvoiceStatus::Paid))
}

/// The message Stripe gave with an error, for the customer.
fn stripe_message(error: &stripe::StripeError) -> String {
    match error {
        stripe::StripeError::Stripe(api, _) => api.message.clone().unwrap_or_else(|| "the bank declined it.".into()),
        _ => "the bank declined it.".into(),
    }
}

/// The card becomes the default of the customer's invoices and of their subscription (which
/// Checkout gave a default of its own, which would win over the customer's).
async fn make_default(
    pool: &AnyPool,
    stripe: &StripeClient,
    customer: &str,
    payment_method: &str,
    setup: &str,
) -> anyhow::Result<()> {
    let update = UpdateCustomer::new(customer).invoice_settings(UpdateCustomerInvoiceSettings {
        default_payment_method: Some(payment_method.to_owned()),
        ..Default::default()
    });
    stripe
        .send(&update, Some(&format!("card-default-{setup}")))
        .await
        .context("making the card the customer's default")?;
    if let Some(current) = subscriptions::current_subscription(pool, &customer.into()).await? {
        if current.is_live() {
            let id = SubscriptionId::from(current.id.as_str());
            let update = UpdateSubscription::new(&id).default_payment_method(payment_method);
            stripe
                .send(&update, Some(&format!("card-subscription-{setup}")))
                .await
                .context("making the card the subscription's default")?;
        }
    }
    Ok(())
}

async fn own_setup_intent(state: &AppState, user: &User, id: &str) -> Result<SetupIntent, FormError> {
    let customer = user.stripe_customer_id.as_ref().ok_or_else(|| refused(NO_SUCH_SETUP))?;
    let setup = super::retrieve_named(&state.stripe_client, id, "seti_", NO_SUCH_SETUP, |id| {
        RetrieveSetupIntent::new(SetupIntentId::from(id))
    })
    .await?;
    if setup.customer.as_ref().map(|c| c.id().as_str()) != Some(customer.as_str()) {
        return Err(refused(NO_SUCH_SETUP));
    }
    Ok(setup)
}
