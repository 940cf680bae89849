//! `/subscribe/:plan`: a plan bought on the app's own page, with embedded Checkout (a Checkout
//! Session in `embedded_page` mode that Stripe.js mounts, returning to `/checkout/success`) or with
//! the Payment Element (a subscription in `default_incomplete`, its first invoice's PaymentIntent
//! confirmed by the browser — or, for a trial, its `pending_setup_intent`). Either way the return
//! page re-reads Stripe and applies what it says, as the webhooks do.

use std::collections::HashMap;

use anyhow::Context;
use stripe_billing::subscription::{
    CancelSubscription, CreateSubscription, CreateSubscriptionItems, CreateSubscriptionPaymentBehavior,
    CreateSubscriptionPaymentSettings, CreateSubscriptionPaymentSettingsSaveDefaultPaymentMethod,
};
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_shared::{PaymentIntentId, Subscription, SubscriptionId, SubscriptionStatus};

use super::checkout::{self, SessionUi, Started};
use super::price_book::{PlanPrice, PRICES_NOT_LOADED};
use super::{customers, require_verified_email, subscriptions};
use crate::domain::catalog::{BillingInterval, TrialWithoutCard};
use crate::domain::subscription::SubscriptionStatus as StoredStatus;
use crate::server::db::{self, users::User};
use crate::server::http::app_url::AppUrl;
use crate::server::http::outcome::{refused, FormError};
use crate::server::state::AppState;
use crate::server::stripe::browser::{publishable_key, stripe_js_url};
use crate::server::stripe::client::api_error;
use crate::server::stripe::idempotency::{check_form_token, new_form_token};
use crate::views::format;
use crate::views::payment_element::{
    CheckoutUi, EmbeddedForm, FormKind, OutcomeStage, PaymentOutcome, PaymentPageView, StartedIntent,
};

const NO_SUCH_SUBSCRIPTION: &str = "We could not find that subscription.";

/// The embedded ways only: `hosted` is Stripe's page, reached from the pricing page's form.
pub fn embedded_ui(requested: Option<&str>, setting: CheckoutUi) -> CheckoutUi {
    match requested.map(CheckoutUi::parse) {
        Some(Ok(ui @ (CheckoutUi::Embedded | CheckoutUi::Elements))) => ui,
        _ if setting == CheckoutUi::Embedded => CheckoutUi::Embedded,
        _ => CheckoutUi::Elements,
    }
}

/// Where `/subscribe/:plan` lives for a plan at an interval, in a way.
pub fn subscribe_path(plan: &str, interval: BillingInterval, ui: CheckoutUi) -> String {
    format!("/subscribe/{plan}?interval={}&ui={}", interval.as_str(), ui.as_str())
}

fn plan_for_sale(state: &AppState, plan: &str, interval: BillingInterval) -> Result<PlanPrice, FormError> {
    let book = state.prices.current();
    if !book.is_resolved() {
        return Err(refused(PRICES_NOT_LOADED));
    }
    book.plan_price(plan, interval)
        .ok_or_else(|| refused(format!("There is no {plan:?} plan billed {}.", format::interval_words(interval))))
}

/// A live plan is changed from the account, never bought twice; an abandoned attempt
/// (`incomplete`) does not count.
async fn refuse_second_plan(state: &AppState, user: &User) -> Result<(), FormError> {
    match subscriptions::subscription_of(state.db.pool(), user).await? {
        Some(current) if current.is_live() && current.status != StoredStatus::Incomplete => {
            Err(refused("You have a plan already: change it from your account."))
        }
        _ => Ok(()),
    }
}

/// The page: the plan, its price, and the form for the way asked.
pub async fn page(
    state: &AppState,
    user: &User,
    plan: &str,
    interval: BillingInterval,
    ui: CheckoutUi,
) -> Result<PaymentPageView, FormError> {
    let price = plan_for_sale(state, plan, interval)?;
    refuse_second_plan(state, user).await?;
    let trial_days = price.plan.trial_days.filter(|_| !user.had_trial);
    let amount = price.spec.amount;
    let per = format!("{amount} {}", format::interval_words(interval));
    let words = match trial_days {
        Some(days) => format!("{days} days free, then {per}"),
        None => per,
    };
    let kind = match (ui, trial_days) {
        (CheckoutUi::Embedded, _) => FormKind::EmbeddedCheckout,
        (_, Some(_)) => FormKind::Setup,
        _ => FormKind::Payment,
    };
    let form =
        publishable_key(&state.stripe.api_base, state.stripe.publishable_key.as_deref()).map(|publishable_key| {
            EmbeddedForm {
                publishable_key,
                kind,
                amount: amount.minor(),
                currency: amount.currency().as_str().to_ascii_lowercase(),
                attempt: new_form_token(),
                button: if trial_days.is_some() {
                    "Start free trial".into()
                } else {
                    format!("Subscribe for {amount}")
                },
                stripe_account: None,
            }
        });
    Ok(PaymentPageView {
        title: format!("{} plan", price.plan.name),
        price: words,
        stripe_js_url: stripe_js_url(&state.stripe.api_base),
        form,
    })
}

/// "Pay" (or mounting embedded Checkout): what the browser confirms, made once per attempt.
pub async fn start(
    state: &AppState,
    user: &User,
    plan: &str,
    interval: BillingInterval,
    ui: CheckoutUi,
    attempt: &str,
) -> Result<StartedIntent, FormError> {
    require_verified_email(user)?;
    check_form_token(attempt)?;
    let price = plan_for_sale(state, plan, interval)?;
    refuse_second_plan(state, user).await?;
    if ui == CheckoutUi::Embedded {
        return match checkout::plan_session(state, user, plan, interval, None, SessionUi::Embedded).await? {
            Started::ChangePlan(_) => Err(refused("You have a plan already: change it from your account.")),
            Started::Session(session) => Ok(StartedIntent {
                client_secret: session.client_secret.context("Stripe returned an embedded session without a secret")?,
                kind: FormKind::EmbeddedCheckout.as_str().to_owned(),
                return_url: session.return_url.unwrap_or_default(),
            }),
        };
    }
    cancel_abandoned_attempt(state, user).await?;
    let customer = customers::customer_of(state, user).await?;
    let trial_days = price.plan.trial_days.filter(|_| !user.had_trial);
    let metadata = HashMap::from([
        ("user_id".to_owned(), user.id.to_string()),
        ("lookup_key".to_owned(), price.spec.lookup_key.clone()),
    ]);
    let book = state.prices.current();
    let metered = book.metered_price_ids(price.plan.key.as_str());
    let mut items = vec![CreateSubscriptionItems { price: Some(price.price_id.clone()), ..Default::default() }];
    items.extend(metered.iter().map(|id| CreateSubscriptionItems { price: Some(id.clone()), ..Default::default() }));
    let mut create = CreateSubscription::new()
        .customer(customer.as_str())
        .items(items)
        .metadata(metadata)
        .payment_behavior(CreateSubscriptionPaymentBehavior::DefaultIncomplete)
        .payment_settings(CreateSubscriptionPaymentSettings {
            // Renewals charge the card the buyer types now.
            save_default_payment_method: Some(
                CreateSubscriptionPaymentSettingsSaveDefaultPaymentMethod::OnSubscription,
            ),
            ..Default::default()
        })
        .expand(vec!["latest_invoice.confirmation_secret".to_owned(), "pending_setup_intent".to_owned()]);
    if let Some(days) = trial_days {
        create = create.trial_period_days(days);
    }
    // This page asks for the card, but a buyer may leave before giving it: the plan's
    // card-less trial rule then decides the trial's end, as it does after Checkout.
    if let Some(without_card) = price.plan.trial_without_card.filter(|_| trial_days.is_some()) {
        use stripe_billing::subscription::{
            CreateSubscriptionTrialSettings as Settings, CreateSubscriptionTrialSettingsEndBehavior as EndBehavior,
            CreateSubscriptionTrialSettingsEndBehaviorMissingPaymentMethod as Missing,
        };
        let missing_payment_method = match without_card {
            TrialWithoutCard::Pause => Missing::Pause,
            TrialWithoutCard::Cancel => Missing::Cancel,
        };
        let end_behavior = EndBehavior { missing_payment_method: Some(missing_payment_method), ..Default::default() };
        create = create.trial_settings(Settings { end_behavior });
    }
    let key = format!("subscribe-elements-{}-{}-{attempt}", user.id, price.price_id);
    let subscription = state.stripe_client.send(&create, Some(&key)).await.context("creating the subscription")?;
    let (client_secret, kind) = client_secret_of(&subscription)?;
    let base = AppUrl::new(state.config.app_url.as_str());
    Ok(StartedIntent {
        client_secret,
        kind: kind.as_str().to_owned(),
        return_url: base.join(&format!(
            "/subscribe/{}/complete?interval={}&subscription={}",
            price.plan.key,
            interval.as_str(),
            subscription.id.as_str()
        )),
    })
}

/// The secret the browser confirms: the first invoice's payment, or (nothing due now: a trial)
/// the SetupIntent that saves the card for the renewals.
fn client_secret_of(subscription: &Subscription) -> Result<(String, FormKind), FormError> {
    let invoice_secret = subscription
        .latest_invoice
        .as_ref()
        .and_then(|invoice| invoice.as_object())
        .filter(|invoice| invoice.amount_due > 0)
        .and_then(|invoice| invoice.confirmation_secret.as_ref())
        .map(|secret| secret.client_secret.clone());
    if let Some(secret) = invoice_secret {
        return Ok((secret, FormKind::Payment));
    }
    let setup_secret = subscription
        .pending_setup_intent
        .as_ref()
        .and_then(|setup| setup.as_object())
        .and_then(|setup| setup.client_secret.clone());
    match setup_secret {
        Some(secret) => Ok((secret, FormKind::Setup)),
        None => Err(FormError::Unexpected(anyhow::anyhow!(
            "subscription {} has neither a payment nor a setup to confirm",
            subscription.id.as_str()
        ))),
    }
}

/// A subscription the user left `incomplete` (a declined first payment, a closed tab) would
/// linger beside the new one until Stripe expires it: cancel it first.
async fn cancel_abandoned_attempt(state: &AppState, user: &User) -> Result<(), FormError> {
    let Some(current) = subscriptions::subscription_of(state.db.pool(), user).await? else { return Ok(()) };
    if current.status != StoredStatus::Incomplete {
        return Ok(());
    }
    let id = SubscriptionId::from(current.id.as_str());
    let key = format!("cancel-incomplete-{}", current.id);
    match state.stripe_client.send(&CancelSubscription::new(&id), Some(&key)).await {
        Ok(_) => Ok(()),
        // Expired or canceled meanwhile: nothing left to cancel.
        Err(e) if api_error(&e).is_some_and(|(status, _)| status == 404 || status == 400) => Ok(()),
        Err(e) => Err(FormError::Unexpected(anyhow::Error::from(e).context("canceling an abandoned subscription"))),
    }
}

/// `/subscribe/:plan/complete?subscription=…&payment_intent=…`: what Stripe says now, applied.
pub async fn outcome(
    state: &AppState,
    user: &User,
    plan: &str,
    interval: BillingInterval,
    subscription_id: &str,
    payment_intent: Option<&str>,
) -> Result<PaymentOutcome, FormError> {
    // One read serves the page and the local row.
    let subscription =
        super::retrieve_named(&state.stripe_client, subscription_id, "sub_", NO_SUCH_SUBSCRIPTION, |id| {
            subscriptions::retrieve_expanded(&SubscriptionId::from(id))
        })
        .await?;
    if subscription.metadata.get("user_id") != Some(&user.id.to_string()) {
        return Err(refused(NO_SUCH_SUBSCRIPTION));
    }
    let cause = format!("subscribe-return:{}", subscription.id);
    let row = subscriptions::row_of(&state.stripe_client, &subscription).await?;
    subscriptions::store_fetched(state.db.pool(), &row, &cause, subscription.created, db::now()).await?;
    let name = state.prices.current().catalog.plan(plan).map(|p| p.name.clone()).unwrap_or_else(|| "new".to_owned());
    let retry = subscribe_path(plan, interval, CheckoutUi::Elements);
    let account = |stage, headline: String| PaymentOutcome {
        stage,
        headline,
        next_href: "/account".into(),
        next_label: "Go to your account".into(),
    };
    Ok(match subscription.status {
        SubscriptionStatus::Active => account(OutcomeStage::Succeeded, format!("Your {name} plan is active.")),
        SubscriptionStatus::Trialing if subscription.pending_setup_intent.is_none() => {
            account(OutcomeStage::Succeeded, format!("Your {name} trial has started."))
        }
        SubscriptionStatus::Trialing => PaymentOutcome {
            stage: OutcomeStage::Failed,
            headline: format!(
                "Your {name} trial has started, but your card was not saved. Add one before the trial ends."
            ),
            next_href: "/billing/card".into(),
            next_label: "Add a card".into(),
        },
        SubscriptionStatus::Incomplete => {
            let failed = match payment_intent.filter(|pi| pi.starts_with("pi_")) {
                Some(pi) => state
                    .stripe_client
                    .send(&RetrievePaymentIntent::new(PaymentIntentId::from(pi)), None)
                    .await
                    .ok()
                    .filter(|intent| OutcomeStage::of_status(intent.status.as_str()) == OutcomeStage::Failed)
                    .map(|intent| {
                        intent
                            .last_payment_error
                            .and_then(|e| e.message)
                            .unwrap_or_else(|| "The payment did not go through.".into())
                    }),
                None => None,
            };
            match failed {
                Some(why) => PaymentOutcome {
                    stage: OutcomeStage::Failed,
                    headline: format!("{why} Nothing was charged."),
                    next_href: retry,
                    next_label: "Try again".into(),
                },
                None => PaymentOutcome {
                    stage: OutcomeStage::Pending,
                    headline: "Your payment is not complete yet. Your account will show the plan once it is.".into(),
                    next_href: "/account".into(),
                    next_label: "Go to your account".into(),
                },
            }
        }
        _ => PaymentOutcome {
            stage: OutcomeStage::Failed,
            headline: "This subscription did not start. Nothing was charged.".into(),
            next_href: retry,
            next_label: "Try again".into(),
        },
    })
}
