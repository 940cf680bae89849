//! Paying on the app's own pages with Stripe.js: `/buy/:item` (the Payment Element),
//! `/subscribe/:plan` (the Payment Element or embedded Checkout), `/billing/card` (a new card
//! with a SetupIntent), each with its return page (`…/complete`), and `/p/:slug/pay` (a
//! creator's product, back to `/library`). The form is mounted by
//! `/payment-element.js`; without JavaScript the page says so and offers Stripe's hosted way.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::{
    components::Redirect,
    hooks::{use_params_map, use_query_map},
};

use crate::api::billing::{Buy, ManageBilling, Subscribe};
use crate::api::marketplace::{product_pay_page, BuyProduct, StartProductPayment};
use crate::api::pay::{
    card_page, card_update_outcome, item_payment_outcome, pay_item_page, subscribe_page, subscription_outcome,
    StartCardUpdate, StartItemPayment, StartSubscription,
};
use crate::views::payment_element::{FormKind, OutcomeStage, PaymentOutcome, PaymentPageView};
use crate::views::AppError;

type Loaded<T> = Resource<Result<T, AppError>>;

/// A payment page: the form once `page` is loaded (`form` builds it), or why not.
#[component]
fn FormSection<F>(title: &'static str, page: Loaded<PaymentPageView>, form: F) -> impl IntoView
where
    F: Fn(PaymentPageView) -> AnyView + Clone + Send + Sync + 'static,
{
    view! {
        <Title text=title/>
        <section class="card narrow pay">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let form = form.clone();
                    page.get().map(move |result| match result {
                        Ok(page) => form(page),
                        Err(error) => refusal(title, error),
                    })
                }}
            </Suspense>
        </section>
    }
}

/// A return page: what Stripe says of the payment, or why not.
#[component]
fn OutcomeSection(title: &'static str, waiting: &'static str, outcome: Loaded<PaymentOutcome>) -> impl IntoView {
    view! {
        <Title text=title/>
        <section class="card narrow">
            <Suspense fallback=move || view! { <p>{waiting}</p> }>
                {move || {
                    outcome.get().map(|result| match result {
                        Ok(outcome) => view! { <Outcome outcome/> }.into_any(),
                        Err(error) => refusal(title, error),
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
pub fn PayItemPage() -> impl IntoView {
    let params = use_params_map();
    let item = move || params.read().get("item").unwrap_or_default();
    let page = Resource::new(item, pay_item_page);
    let form = move |page: PaymentPageView| {
        let hosted = view! {
            <form method="post" action=Buy::url()>
                <input type="hidden" name="item" value=item()/>
                <button type="submit" class="button secondary">"Pay on Stripe\u{2019}s page"</button>
            </form>
        }
        .into_any();
        let fields = vec![("item", item())];
        view! { <EmbeddedPayment page start=StartItemPayment::url() fields hosted/> }.into_any()
    };
    view! { <FormSection title="Pay" page form/> }
}

/// `/p/{slug}/pay`: a creator's product with the Payment Element; Stripe.js brings the buyer back
/// to `/library`, which confirms the purchase.
#[component]
pub fn PayProductPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let page = Resource::new(slug, product_pay_page);
    let form = move |page: PaymentPageView| {
        let hosted = view! {
            <form method="post" action=BuyProduct::url()>
                <input type="hidden" name="slug" value=slug()/>
                <button type="submit" class="button secondary">"Pay on Stripe\u{2019}s page"</button>
            </form>
        }
        .into_any();
        let fields = vec![("slug", slug())];
        view! { <EmbeddedPayment page start=StartProductPayment::url() fields hosted/> }.into_any()
    };
    view! { <FormSection title="Pay" page form/> }
}

/// The form `/payment-element.js` mounts, and what the page offers without JavaScript.
#[component]
pub fn EmbeddedPayment(
    page: PaymentPageView,
    /// The server function that starts the intent (POSTed the form's fields).
    start: &'static str,
    /// Hidden fields sent with the attempt token.
    fields: Vec<(&'static str, String)>,
    /// The hosted way (Checkout, the invoice page, the portal).
    hosted: AnyView,
) -> impl IntoView {
    let form = page.form.clone().map(|form| {
        let hidden = fields
            .into_iter()
            .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
            .collect_view();
        // Embedded Checkout brings its own button.
        let button = (form.kind != FormKind::EmbeddedCheckout)
            .then(|| view! { <button type="submit" class="button">{form.button.clone()}</button> });
        view! {
            // Shown by /payment-element.js once Stripe.js is there.
            <div id="payment-form" hidden
                data-publishable-key=form.publishable_key
                data-kind=form.kind.as_str()
                data-amount=form.amount.to_string()
                data-currency=form.currency
                data-stripe-account=form.stripe_account
                data-start=start>
                <form>
                    {hidden}
                    <input type="hidden" name="attempt" value=form.attempt/>
                    <div class="payment-element embedded-checkout"></div>
                    <p class="alert" role="alert" hidden></p>
                    {button}
                </form>
            </div>
            <script src=page.stripe_js_url.clone()></script>
            <script src="/payment-element.js"></script>
        }
    });
    view! {
        <h1>{page.title.clone()}</h1>
        <p class="amount">{page.price.clone()}</p>
        {form}
        // Hidden by /payment-element.js (a <noscript> is not shown when a browser merely has
        // scripts turned off for the page).
        <div id="payment-without-js" class="notice">
            <p>"Paying on this page needs JavaScript. You can pay on Stripe\u{2019}s secure page instead."</p>
            {hosted}
        </div>
    }
}

#[component]
pub fn ItemPaymentDonePage() -> impl IntoView {
    let query = use_query_map();
    let outcome = Resource::new(move || query.read().get("payment_intent").unwrap_or_default(), item_payment_outcome);
    view! { <OutcomeSection title="Your payment" waiting="Confirming your payment…" outcome/> }
}

/// What a return page says: paid, still pending, or failed (and what to do next).
#[component]
pub fn Outcome(outcome: PaymentOutcome) -> impl IntoView {
    let (title, class, role) = match outcome.stage {
        OutcomeStage::Succeeded => ("Thank you", "notice", "status"),
        OutcomeStage::Pending => ("Almost there", "notice", "status"),
        OutcomeStage::Failed => ("Payment not completed", "alert", "alert"),
    };
    view! {
        <h1>{title}</h1>
        <p class=class role=role data-stage=format!("{:?}", outcome.stage)>{outcome.headline}</p>
        <p><a class="button" href=outcome.next_href>{outcome.next_label}</a></p>
    }
}

/// A page's error: the log-in page for a visitor, else the message.
pub fn refusal(title: &'static str, error: AppError) -> AnyView {
    match error {
        AppError::Unauthorized => view! { <Redirect path="/login"/> }.into_any(),
        error => view! {
            <h1>{title}</h1>
            <p class="alert" role="alert">{error.to_string()}</p>
            <p><a href="/account">"Go to your account"</a></p>
        }
        .into_any(),
    }
}

#[component]
pub fn SubscribePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let plan = move || params.read().get("plan").unwrap_or_default();
    let interval = move || query.read().get("interval").unwrap_or_else(|| "month".into());
    let ui = move || query.read().get("ui");
    let page =
        Resource::new(move || (plan(), interval(), ui()), |(plan, interval, ui)| subscribe_page(plan, interval, ui));
    let form = move |page: PaymentPageView| {
        let hosted = view! {
            <form method="post" action=Subscribe::url()>
                <input type="hidden" name="plan" value=plan()/>
                <input type="hidden" name="interval" value=interval()/>
                <button type="submit" class="button secondary">"Subscribe on Stripe\u{2019}s page"</button>
            </form>
        }
        .into_any();
        let ui = match page.form.as_ref().map(|form| form.kind) {
            Some(FormKind::EmbeddedCheckout) => "embedded",
            _ => "elements",
        };
        let fields = vec![("plan", plan()), ("interval", interval()), ("ui", ui.to_owned())];
        view! { <EmbeddedPayment page start=StartSubscription::url() fields hosted/> }.into_any()
    };
    view! { <FormSection title="Subscribe" page form/> }
}

#[component]
pub fn SubscriptionDonePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let source = move || {
        let query = query.read();
        (
            params.read().get("plan").unwrap_or_default(),
            query.get("interval").unwrap_or_else(|| "month".into()),
            query.get("subscription").unwrap_or_default(),
            query.get("payment_intent"),
        )
    };
    let outcome = Resource::new(source, |(plan, interval, subscription, payment_intent)| {
        subscription_outcome(plan, interval, subscription, payment_intent)
    });
    view! { <OutcomeSection title="Your subscription" waiting="Confirming your subscription…" outcome/> }
}

#[component]
pub fn CardPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| card_page());
    let form = |page: PaymentPageView| {
        let hosted = view! {
            <form method="post" action=ManageBilling::url()>
                <button type="submit" class="button secondary">"Update it in the billing portal"</button>
            </form>
        }
        .into_any();
        view! { <EmbeddedPayment page start=StartCardUpdate::url() fields=Vec::new() hosted/> }.into_any()
    };
    view! { <FormSection title="Update your card" page form/> }
}

#[component]
pub fn CardDonePage() -> impl IntoView {
    let query = use_query_map();
    let outcome = Resource::new(move || query.read().get("setup_intent").unwrap_or_default(), card_update_outcome);
    view! { <OutcomeSection title="Your card" waiting="Saving your card…" outcome/> }
}
