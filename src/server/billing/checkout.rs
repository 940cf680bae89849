//! Checkout, from start to fulfilment: Subscribe and Buy start a Checkout Session (subscription
//! mode for plans, payment mode for one-time items); the success page confirms it; fulfilment is
//! shared by the webhook worker and the success page (dual confirmation): both re-fetch from
//! Stripe and write the same rows under the same keys, so whichever comes first does the work and
//! the other changes nothing.

use std::collections::HashMap;

use anyhow::Context;
use sqlx::AnyPool;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionBrandingSettings, CreateCheckoutSessionBrandingSettingsLogo,
    CreateCheckoutSessionBrandingSettingsLogoType, CreateCheckoutSessionLineItems,
    CreateCheckoutSessionLineItemsAdjustableQuantity, CreateCheckoutSessionPaymentMethodCollection,
    CreateCheckoutSessionSubscriptionData, CreateCheckoutSessionSubscriptionDataTrialSettings,
    CreateCheckoutSessionSubscriptionDataTrialSettingsEndBehavior,
    CreateCheckoutSessionSubscriptionDataTrialSettingsEndBehaviorMissingPaymentMethod as MissingPaymentMethod,
    RetrieveCheckoutSession,
};
use stripe_shared::{CheckoutSession, CheckoutSessionId, CheckoutSessionMode, CheckoutSessionUiMode};

use super::price_book::PRICES_NOT_LOADED;
use super::{customers, subscriptions};
use crate::domain::brand::Brand;
use crate::domain::catalog::{BillingInterval, TrialWithoutCard};
use crate::server::http::{
    app_url::AppUrl,
    outcome::{refused, FormError, Next},
};
use crate::server::stripe::client::StripeClient;
use crate::server::{db, db::users::User, state::AppState};
use crate::views::billing::CheckoutOutcome;
use crate::views::format;

/// Kept for callers that knew it here.
pub use super::customers::ensure_customer;

/// Checkout Session idempotency keys are bucketed by this many seconds: a double click (or a
/// retried request) reuses one session, a deliberate retry later gets a fresh one.
const CHECKOUT_KEY_BUCKET_SECS: i64 = 300;

// --- Start ---

/// Subscribe: a Checkout Session in subscription mode for the plan at that interval; on a
/// per-seat plan for `seats` (the plan's minimum when not given) that the buyer may still change
/// on Stripe's page, within the plan's bounds.
pub async fn subscribe(
    state: &AppState,
    user: &User,
    plan: &str,
    interval: BillingInterval,
    seats: Option<i64>,
) -> Result<Next, FormError> {
    match plan_session(state, user, plan, interval, seats, SessionUi::Hosted).await? {
        Started::ChangePlan(path) => Ok(Next::Redirect(path)),
        Started::Session(session) => {
            Ok(Next::Redirect(session.url.context("Stripe returned a Checkout Session without a URL")?))
        }
    }
}

/// Where a Checkout Session's page lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionUi {
    /// Stripe's page (`hosted_page`): the session has a `url`.
    Hosted,
    /// Mounted in the app's page by Stripe.js (`embedded_page`): the session has a
    /// `client_secret`, and Stripe returns the buyer to `return_url`.
    Embedded,
}

/// What starting a plan's Checkout gave.
pub enum Started {
    /// The user has a plan already: change it instead (a second subscription would bill twice).
    ChangePlan(String),
    Session(Box<CheckoutSession>),
}

/// The Checkout Session selling `plan` at `interval` to `user` (see [`subscribe`]).
pub async fn plan_session(
    state: &AppState,
    user: &User,
    plan: &str,
    interval: BillingInterval,
    seats: Option<i64>,
    ui: SessionUi,
) -> Result<Started, FormError> {
    let book = state.prices.current();
    if !book.is_resolved() {
        return Err(refused(PRICES_NOT_LOADED));
    }
    let Some(price) = book.plan_price(plan, interval) else {
        return Err(refused(format!("There is no {plan:?} plan billed {}.", format::interval_words(interval))));
    };
    let quantity = match (price.plan.per_seat, seats) {
        (Some(bounds), seats) => Quantity::Seats {
            seats: bounds.check(seats.unwrap_or(i64::from(bounds.min))).map_err(refused)?,
            min: bounds.min,
            max: bounds.max,
        },
        (None, None | Some(1)) => Quantity::One,
        (None, Some(_)) => return Err(refused(format!("The {} plan is not sold per seat.", price.plan.name))),
    };
    if let Some(current) = subscriptions::subscription_of(state.db.pool(), user).await? {
        if current.is_live() {
            // A second subscription would bill twice: change the plan instead.
            let seats = seats.map(|n| format!("&seats={n}")).unwrap_or_default();
            return Ok(Started::ChangePlan(format!(
                "/account/plan/preview?plan={}&interval={}{seats}",
                price.plan.key,
                interval.as_str()
            )));
        }
    }
    let trial = price
        .plan
        .trial_days
        .filter(|_| !user.had_trial)
        .map(|days| Trial { days, without_card: price.plan.trial_without_card });
    let metered = book.metered_price_ids(price.plan.key.as_str());
    let line = Line {
        price_id: &price.price_id,
        lookup_key: &price.spec.lookup_key,
        recurring: true,
        quantity,
        metered: &metered,
    };
    Ok(Started::Session(Box::new(start_checkout(state, user, line, trial, ui).await?)))
}

/// How many of a price a Checkout sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    One,
    /// A per-seat plan: `seats` to start with, adjustable on Stripe's page within `min..=max`.
    Seats {
        seats: u32,
        min: u32,
        max: u32,
    },
}

/// Buy a one-time item: a Checkout Session in payment mode.
pub async fn buy(state: &AppState, user: &User, item: &str) -> Result<Next, FormError> {
    let book = state.prices.current();
    if !book.is_resolved() {
        return Err(refused(PRICES_NOT_LOADED));
    }
    let Some((item, price_id)) = book.one_time(item) else {
        return Err(refused(format!("There is no item {item:?} for sale.")));
    };
    let line =
        Line { price_id, lookup_key: &item.price.lookup_key, recurring: false, quantity: Quantity::One, metered: &[] };
    let session = start_checkout(state, user, line, None, SessionUi::Hosted).await?;
    Ok(Next::Redirect(session.url.context("Stripe returned a Checkout Session without a URL")?))
}

/// What a Checkout sells: one price, and the metered prices that go beside it (a hybrid plan's
/// usage, billed in arrears).
struct Line<'a> {
    price_id: &'a str,
    lookup_key: &'a str,
    recurring: bool,
    quantity: Quantity,
    metered: &'a [String],
}

async fn start_checkout(
    state: &AppState,
    user: &User,
    line: Line<'_>,
    trial: Option<Trial>,
    ui: SessionUi,
) -> Result<CheckoutSession, FormError> {
    super::require_verified_email(user)?;
    let customer = customers::customer_of(state, user).await?;
    let request = CheckoutRequest {
        user_id: user.id,
        customer_id: &customer,
        price_id: line.price_id,
        lookup_key: line.lookup_key,
        recurring: line.recurring,
        quantity: line.quantity,
        trial,
        app_url: state.config.app_url.as_str(),
        now: db::now(),
        brand: Some(&state.config.brand),
        ui,
    };
    Ok(create_session_with(&state.stripe_client, &request, line.metered).await?)
}

pub struct CheckoutRequest<'a> {
    pub user_id: i64,
    pub customer_id: &'a str,
    pub price_id: &'a str,
    pub lookup_key: &'a str,
    /// Subscription mode when true, payment mode for one-time items.
    pub recurring: bool,
    pub quantity: Quantity,
    /// Only offered when the user never had a trial.
    pub trial: Option<Trial>,
    pub app_url: &'a str,
    pub now: i64,
    /// The operator's brand for Checkout's page (`branding_settings`); `None` leaves the Stripe
    /// account's own branding.
    pub brand: Option<&'a Brand>,
    pub ui: SessionUi,
}

/// The trial a Checkout starts the subscription with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trial {
    pub days: u32,
    /// Set: Stripe's page asks for no card, and the trial's end without one does this.
    pub without_card: Option<TrialWithoutCard>,
}

pub async fn create_session(stripe: &StripeClient, request: &CheckoutRequest<'_>) -> anyhow::Result<CheckoutSession> {
    create_session_with(stripe, request, &[]).await
}

/// [`create_session`] with metered prices beside the plan's: Stripe bills them in arrears from
/// meter events, and refuses a quantity on them.
pub async fn create_session_with(
    stripe: &StripeClient,
    request: &CheckoutRequest<'_>,
    metered: &[String],
) -> anyhow::Result<CheckoutSession> {
    let metadata = HashMap::from([
        ("user_id".to_string(), request.user_id.to_string()),
        ("lookup_key".to_string(), request.lookup_key.to_string()),
    ]);
    let base = AppUrl::new(request.app_url);
    let line_item = match request.quantity {
        Quantity::One => CreateCheckoutSessionLineItems {
            price: Some(request.price_id.to_string()),
            quantity: Some(1),
            ..Default::default()
        },
        // Stripe's page lets the buyer change the seats within the plan's bounds.
        Quantity::Seats { seats, min, max } => CreateCheckoutSessionLineItems {
            price: Some(request.price_id.to_string()),
            quantity: Some(u64::from(seats)),
            adjustable_quantity: Some(CreateCheckoutSessionLineItemsAdjustableQuantity {
                enabled: true,
                minimum: Some(i64::from(min)),
                maximum: Some(i64::from(max)),
            }),
            ..Default::default()
        },
    };
    let metered_items =
        metered.iter().map(|price| CreateCheckoutSessionLineItems { price: Some(price.clone()), ..Default::default() });
    let line_items: Vec<_> = std::iter::once(line_item).chain(metered_items).collect();
    let mut create = CreateCheckoutSession::new()
        .customer(request.customer_id)
        .client_reference_id(request.user_id.to_string())
        .line_items(line_items)
        .metadata(metadata.clone())
        .allow_promotion_codes(true);
    let success = base.join("/checkout/success?session_id={CHECKOUT_SESSION_ID}");
    create = match request.ui {
        SessionUi::Hosted => create.success_url(success).cancel_url(base.join("/pricing")),
        // Embedded Checkout has no page to cancel from; Stripe refuses success/cancel URLs.
        SessionUi::Embedded => create.ui_mode(CheckoutSessionUiMode::EmbeddedPage).return_url(success),
    };
    if let Some(branding) = request.brand.and_then(|brand| branding_settings(brand, &base)) {
        create = create.branding_settings(branding);
    }
    if request.recurring {
        let mut data = CreateCheckoutSessionSubscriptionData { metadata: Some(metadata), ..Default::default() };
        data.trial_period_days = request.trial.map(|trial| trial.days);
        if let Some(without_card) = request.trial.and_then(|trial| trial.without_card) {
            // Stripe's page then collects a card only when something is due today.
            create = create.payment_method_collection(CreateCheckoutSessionPaymentMethodCollection::IfRequired);
            data.trial_settings = Some(CreateCheckoutSessionSubscriptionDataTrialSettings {
                end_behavior: CreateCheckoutSessionSubscriptionDataTrialSettingsEndBehavior {
                    missing_payment_method: match without_card {
                        TrialWithoutCard::Pause => MissingPaymentMethod::Pause,
                        TrialWithoutCard::Cancel => MissingPaymentMethod::Cancel,
                    },
                },
            });
        }
        create = create.mode(CheckoutSessionMode::Subscription).subscription_data(data);
    } else {
        create = create.mode(CheckoutSessionMode::Payment);
    }
    let seats = match request.quantity {
        Quantity::One => 1,
        Quantity::Seats { seats, .. } => seats,
    };
    let ui = match request.ui {
        SessionUi::Hosted => "",
        SessionUi::Embedded => "embedded-",
    };
    let key = format!(
        "checkout-{ui}{}-{}-x{seats}-{}-{}",
        request.user_id,
        request.price_id,
        request.trial.map_or(0, |trial| trial.days),
        request.now / CHECKOUT_KEY_BUCKET_SECS
    );
    stripe.send(&create, Some(&key)).await.context("creating the Checkout Session")
}

/// What the operator set of their brand, as Checkout's `branding_settings`: only what differs
/// from tollgate's defaults, so an unset brand keeps the Stripe account's own (Dashboard) one.
fn branding_settings(brand: &Brand, base: &AppUrl) -> Option<CreateCheckoutSessionBrandingSettings> {
    let defaults = Brand::default();
    let settings = CreateCheckoutSessionBrandingSettings {
        display_name: (brand.name != defaults.name).then(|| brand.name.clone()),
        button_color: (brand.accent != defaults.accent).then(|| brand.accent.as_str().to_string()),
        logo: brand.logo_url.as_deref().map(|path| CreateCheckoutSessionBrandingSettingsLogo {
            url: Some(base.join(path)),
            ..CreateCheckoutSessionBrandingSettingsLogo::new(CreateCheckoutSessionBrandingSettingsLogoType::Url)
        }),
        ..Default::default()
    };
    let any = settings.display_name.is_some() || settings.button_color.is_some() || settings.logo.is_some();
    any.then_some(settings)
}

// --- Confirm (the success page) ---

/// The success page's half of the dual confirmation: the session must be this user's; then the
/// same fulfilment as the webhook runs (whichever comes second changes nothing).
pub async fn confirm_checkout(
    state: &AppState,
    user: &User,
    session_id: &CheckoutSessionId,
) -> Result<CheckoutOutcome, FormError> {
    if !session_id.starts_with("cs_") {
        return Err(refused("That is not a Checkout Session."));
    }
    let session = retrieve_session(&state.stripe_client, session_id).await.map_err(|_| {
        // Unknown ids and Stripe errors alike: nothing to show, nothing to leak.
        refused("We could not find that checkout.")
    })?;
    let owner = session.client_reference_id.as_deref().and_then(|id| id.parse::<i64>().ok());
    if owner != Some(user.id) {
        return Err(refused("This checkout belongs to another account."));
    }
    let cause = format!("checkout-success:{session_id}");
    match fulfil_checkout_session(state.db.pool(), &state.stripe_client, &session, &cause, db::now()).await? {
        Fulfilled::Subscription { .. } => {
            let refreshed = crate::server::db::users::find_by_id(state.db.pool(), user.id)
                .await?
                .context("the user disappeared")?;
            let sub = subscriptions::subscription_of(state.db.pool(), &refreshed).await?;
            let book = state.prices.current();
            let name = sub
                .as_ref()
                .and_then(|s| book.plan_of(s.lookup_key.as_deref(), &s.price_id))
                .map(|(plan, _)| plan.name.clone())
                .unwrap_or_else(|| "new".to_string());
            let headline = match sub.map(|s| s.status) {
                Some(crate::domain::subscription::SubscriptionStatus::Trialing) => {
                    format!("Your {name} trial has started.")
                }
                _ => format!("Your {name} plan is active."),
            };
            Ok(CheckoutOutcome { headline, pending: false })
        }
        Fulfilled::Payment { .. } => {
            Ok(CheckoutOutcome { headline: "Thank you: your purchase is complete.".into(), pending: false })
        }
        Fulfilled::NotReady => Ok(CheckoutOutcome {
            headline: "We are waiting for your payment to complete. This page will show it once it has.".into(),
            pending: true,
        }),
    }
}

// --- Fulfil ---

/// What a completed Checkout Session did for its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fulfilled {
    Subscription {
        user_id: Option<i64>,
        subscription_id: String,
    },
    Payment {
        user_id: Option<i64>,
        session_id: String,
        grant: super::entitlements::SessionGrant,
    },
    /// Not complete (or not paid) yet: nothing to do.
    NotReady,
}

pub async fn retrieve_session(
    stripe: &StripeClient,
    session_id: &CheckoutSessionId,
) -> anyhow::Result<CheckoutSession> {
    stripe
        .send(&RetrieveCheckoutSession::new(session_id), None)
        .await
        .with_context(|| format!("retrieving checkout session {session_id}"))
}

/// Links the session's Stripe customer to the user it was created for, then applies it.
pub async fn fulfil_checkout_session(
    pool: &AnyPool,
    stripe: &StripeClient,
    session: &CheckoutSession,
    cause: &str,
    now: i64,
) -> anyhow::Result<Fulfilled> {
    use stripe_shared::CheckoutSessionStatus;
    if session.status != Some(CheckoutSessionStatus::Complete) {
        return Ok(Fulfilled::NotReady);
    }
    let user_id = session.client_reference_id.as_deref().and_then(|id| id.parse::<i64>().ok());
    if let (Some(user_id), Some(customer)) = (user_id, &session.customer) {
        // Only fills a missing link: a user's Stripe customer never silently changes.
        sqlx::query(
            "UPDATE users SET stripe_customer_id = $1, updated_at = $2 \
             WHERE id = $3 AND stripe_customer_id IS NULL",
        )
        .bind(customer.id().as_str())
        .bind(now)
        .bind(user_id)
        .execute(pool)
        .await
        .context("linking the Stripe customer to the user")?;
    }
    match session.mode {
        CheckoutSessionMode::Subscription => {
            let subscription =
                session.subscription.as_ref().context("a completed subscription session has no subscription")?;
            let subscription_id = subscription.id().as_str().to_string();
            subscriptions::sync_subscription(pool, stripe, subscription.id(), cause, session.created, now).await?;
            Ok(Fulfilled::Subscription { user_id, subscription_id })
        }
        _ => {
            let grant = super::entitlements::grant_for_session(pool, stripe, session, user_id, now).await?;
            Ok(Fulfilled::Payment { user_id, session_id: session.id.as_str().to_string(), grant })
        }
    }
}
