//! `/billing/confirm/:payment_intent`: a payment the customer's bank wants confirmed. With
//! JavaScript, "Authenticate payment" opens the bank's challenge through Stripe.js
//! (`handleNextAction`) and the page reloads to show what Stripe says; without it, the page says
//! so and links Stripe's hosted invoice page, which does the same.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_params_map};

use crate::api::billing::confirm_payment_page;
use crate::views::confirm_payment::{ConfirmPaymentView, ConfirmStage};
use crate::views::AppError;

#[component]
pub fn ConfirmPaymentPage() -> impl IntoView {
    let params = use_params_map();
    let view = Resource::new(move || params.read().get("payment_intent").unwrap_or_default(), confirm_payment_page);
    view! {
        <Title text="Confirm your payment"/>
        <section class="card narrow confirm-payment">
            <Suspense fallback=|| view! { <p>"Reading your payment…"</p> }>
                {move || {
                    view.get().map(|result| match result {
                        Ok(payment) => view! { <Payment payment/> }.into_any(),
                        Err(AppError::Unauthorized) => view! { <Redirect path="/login"/> }.into_any(),
                        Err(error) => view! {
                            <h1>"Confirm your payment"</h1>
                            <p class="alert" role="alert">{error.to_string()}</p>
                            <p><a href="/account">"Go to your account"</a></p>
                        }
                        .into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn Payment(payment: ConfirmPaymentView) -> impl IntoView {
    let stage = payment.stage;
    let hosted = payment.hosted_invoice_url.clone();
    let confirm = payment.confirm.clone().map(|confirm| {
        let without_js = hosted.clone().map(|url| {
            view! {
                " "<a href=url>"Confirm it on the invoice page"</a>" instead."
            }
        });
        view! {
            // Shown by /confirm-payment.js once Stripe.js is there.
            <div id="confirm-payment" hidden
                data-publishable-key=confirm.publishable_key
                data-client-secret=confirm.client_secret>
                <button type="button" id="confirm-payment-button">"Authenticate payment"</button>
                <p id="confirm-payment-error" class="alert" role="alert" hidden></p>
            </div>
            // Hidden by /confirm-payment.js (a <noscript> is not shown when a browser merely
            // has scripts turned off for the page).
            <p id="confirm-payment-without-js" class="notice">
                "Confirming with your bank here needs JavaScript."{without_js}
            </p>
            <script src=payment.stripe_js_url.clone()></script>
            <script src="/confirm-payment.js"></script>
        }
    });
    // Authentication needed but no way to do it here (no publishable key): the invoice page.
    let fallback = (stage == ConfirmStage::NeedsAuthentication && payment.confirm.is_none())
        .then_some(hosted)
        .flatten()
        .map(|url| view! { <p><a class="button" href=url>"Confirm on the invoice page"</a></p> });
    view! {
        <h1>"Confirm your payment"</h1>
        <p class="amount">{payment.amount}</p>
        <p class="notice" role="status" data-stage=format!("{stage:?}")>{stage.message()}</p>
        {confirm}
        {fallback}
        <p><a href="/account">"Go to your account"</a></p>
    }
}
