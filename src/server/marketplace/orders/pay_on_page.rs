//! `/p/{slug}/pay`: a creator's product paid on the app's own page with the Payment Element. As
//! with Checkout (`start.rs`), the payment goes to the creator minus the platform's fee: a
//! destination charge on the platform, or (`CONNECT_CHARGES=direct`) a charge on the creator's
//! account that Stripe.js confirms with `stripeAccount`. "Pay" makes the PaymentIntent under the
//! page's attempt token (a double click or a retry after a decline confirms the same intent) and
//! writes its `pending` order; Stripe.js brings the buyer back to `/library?payment_intent=…`,
//! which fulfils it from the intent, as `payment_intent.succeeded` does; whichever comes second
//! changes nothing.

use std::collections::HashMap;

use anyhow::Context;
use stripe_core::payment_intent::{
    CreatePaymentIntent, CreatePaymentIntentAutomaticPaymentMethods, CreatePaymentIntentTransferData,
    RetrievePaymentIntent,
};
use stripe_shared::{PaymentIntent, PaymentIntentId, PaymentIntentStatus};

use super::fulfil::{fulfil_intent, OrderFulfilled, PAID_WORDS};
use super::start::Sale;
use super::{Order, PaidThrough};
use crate::server::billing::customers;
use crate::server::config::ConnectCharges;
use crate::server::db::{self, users::User};
use crate::server::http::app_url::AppUrl;
use crate::server::http::outcome::{refused, FormError};
use crate::server::marketplace::{creators, products};
use crate::server::state::AppState;
use crate::server::stripe::browser::{publishable_key, stripe_js_url};
use crate::server::stripe::idempotency::{check_form_token, new_form_token};
use crate::views::payment_element::{EmbeddedForm, FormKind, PaymentPageView, StartedIntent};

/// Where Stripe.js brings the buyer back (with `payment_intent`, its client secret and
/// `redirect_status`).
const RETURN_PATH: &str = "/library";

/// The page: the product, its price, and what the browser needs to mount the Payment Element.
pub async fn page(state: &AppState, slug: &str) -> Result<PaymentPageView, FormError> {
    let pool = state.db.pool();
    let Some(product) = products::on_sale(pool, slug).await? else {
        return Err(refused("This product is not on sale."));
    };
    let stripe_account = match state.config.connect_charges {
        ConnectCharges::Destination => None,
        ConnectCharges::Direct => {
            let creator =
                creators::of_user(pool, product.creator_id).await?.context("a product on sale has its creator")?;
            Some(creator.account_id)
        }
    };
    let price = product.price;
    let form =
        publishable_key(&state.stripe.api_base, state.stripe.publishable_key.as_deref()).map(|publishable_key| {
            EmbeddedForm {
                publishable_key,
                kind: FormKind::Payment,
                amount: price.minor(),
                currency: price.currency().as_str().to_ascii_lowercase(),
                attempt: new_form_token(),
                button: format!("Pay {price}"),
                stripe_account,
            }
        });
    Ok(PaymentPageView {
        title: product.title,
        price: price.to_string(),
        stripe_js_url: stripe_js_url(&state.stripe.api_base),
        form,
    })
}

/// "Pay": the PaymentIntent of this attempt (made once per attempt token) and its pending order.
pub async fn start(state: &AppState, user: &User, slug: &str, attempt: &str) -> Result<StartedIntent, FormError> {
    check_form_token(attempt)?;
    let Some(sale) = Sale::of(state, user, slug).await? else {
        return Err(refused("You own this product already: it is in your library."));
    };
    let Sale { product, creator, charges, fee, .. } = &sale;
    let metadata = HashMap::from([
        (super::PRODUCT_METADATA.to_owned(), product.id.to_string()),
        ("user_id".to_owned(), user.id.to_string()),
    ]);
    let mut create = CreatePaymentIntent::new(product.price.minor(), sale.stripe_currency()?)
        .description(product.title.as_str())
        .metadata(metadata)
        .application_fee_amount(fee.minor())
        .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods { allow_redirects: None, enabled: true });
    // As with Checkout: the platform's customer pays a destination charge; a direct charge lives
    // on the creator's account, where that customer does not exist.
    if *charges == ConnectCharges::Destination {
        create = create
            .customer(customers::customer_of(state, user).await?.as_str())
            .transfer_data(CreatePaymentIntentTransferData::new(creator.account_id.as_str()));
    } else {
        create = create.receipt_email(user.email.as_str());
    }
    let stripe = sale.stripe(state);
    let key = format!("market-payment-{}-{}-{attempt}", user.id, product.id);
    let created = stripe.send(&create, Some(&key)).await.context("creating the PaymentIntent")?;
    // A repeated key replays the creation's answer: read the intent as it is now.
    let intent =
        stripe.send(&RetrievePaymentIntent::new(&created.id), None).await.context("reading the PaymentIntent back")?;
    if intent.status == PaymentIntentStatus::Succeeded {
        return Err(refused("This payment is already complete: it is in your library."));
    }
    sale.store_pending(state, user, PaidThrough::Intent(intent.id.as_str())).await?;
    let client_secret = intent.client_secret.context("Stripe returned a PaymentIntent without a client secret")?;
    Ok(StartedIntent {
        client_secret,
        kind: FormKind::Payment.as_str().to_owned(),
        return_url: AppUrl::new(state.config.app_url.as_str()).join(RETURN_PATH),
    })
}

/// The return to `/library?payment_intent=…`: the buyer's own order's payment, re-read from
/// Stripe (on the creator's account for a direct charge) and fulfilled if the webhook has not
/// done it yet. Returns the notice to show.
pub async fn confirm(state: &AppState, order: &Order, payment_intent: &str) -> anyhow::Result<String> {
    let read = RetrievePaymentIntent::new(PaymentIntentId::from(payment_intent));
    let intent = order.stripe(state).send(&read, None).await.context("reading the order's payment")?;
    let mut tx = db::begin_write(state.db.pool()).await.context("starting a transaction")?;
    let fulfilled = fulfil_intent(&mut tx, &intent, db::now()).await?;
    tx.commit().await.context("committing the paid order")?;
    Ok(match fulfilled {
        OrderFulfilled::Paid | OrderFulfilled::AlreadyPaid => PAID_WORDS.into(),
        OrderFulfilled::NotReady => not_paid_words(&intent),
    })
}

/// Why an order's payment is not (yet) paid, in the buyer's words.
fn not_paid_words(intent: &PaymentIntent) -> String {
    match intent.status {
        PaymentIntentStatus::Processing | PaymentIntentStatus::RequiresAction => {
            "Your payment is being processed: the product appears here once it is paid.".into()
        }
        _ => {
            let why = intent
                .last_payment_error
                .as_deref()
                .and_then(|e| e.message.clone())
                .unwrap_or_else(|| "The payment did not go through.".into());
            format!("{why} Nothing was charged: you can try again from the product's page.")
        }
    }
}
