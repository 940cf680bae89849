//! Every endpoint the app uses, called through async-stripe rc.10: responses parse and carry
//! the right values.

use std::collections::HashMap;

use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::invoice::{
    CreatePreviewInvoice, CreatePreviewInvoiceSubscriptionDetails, CreatePreviewInvoiceSubscriptionDetailsItems,
    ListInvoice, PayInvoice, RetrieveInvoice,
};
use stripe_billing::subscription::{
    CancelSubscription, CreateSubscription, CreateSubscriptionItems, ListSubscription, RetrieveSubscription,
    UpdateSubscription, UpdateSubscriptionItems, UpdateSubscriptionProrationBehavior,
};
use stripe_billing::test_helpers_test_clock::{
    AdvanceTestHelpersTestClock, CreateTestHelpersTestClock, RetrieveTestHelpersTestClock,
};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
    ExpireCheckoutSession, ListLineItemsCheckoutSession, RetrieveCheckoutSession,
};
use stripe_core::customer::{
    CreateCustomer, ListCustomer, RetrieveCustomer, RetrieveCustomerReturned, SearchCustomer, UpdateCustomer,
    UpdateCustomerInvoiceSettings,
};
use stripe_core::event::{ListEvent, RetrieveEvent};
use stripe_misc::webhook_endpoint::{CreateWebhookEndpoint, CreateWebhookEndpointEnabledEvents};
use stripe_payment::payment_method::AttachPaymentMethod;
use stripe_product::price::{CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, ListPrice, UpdatePrice};
use stripe_product::product::CreateProduct;
use stripe_shared::{CheckoutSessionMode, CheckoutSessionStatus, InvoiceStatus, SubscriptionStatus};

use super::*;

async fn catalog(c: &stripe::Client) -> (String, String, String) {
    let prod = CreateProduct::new("Pro").send(c).await.unwrap();
    assert_eq!(prod.name, "Pro");
    let monthly = CreatePrice::new(stripe_types::Currency::USD)
        .product(prod.id.as_str())
        .unit_amount(2000)
        .recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Month))
        .lookup_key("pro_monthly")
        .send(c)
        .await
        .unwrap();
    let yearly = CreatePrice::new(stripe_types::Currency::USD)
        .product(prod.id.as_str())
        .unit_amount(20000)
        .recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Year))
        .lookup_key("pro_yearly")
        .send(c)
        .await
        .unwrap();
    (prod.id.to_string(), monthly.id.to_string(), yearly.id.to_string())
}

async fn customer_with_card(c: &stripe::Client, email: &str) -> String {
    let cus = CreateCustomer::new()
        .email(email)
        .metadata(HashMap::from([("user_id".to_string(), "42".to_string())]))
        .send(c)
        .await
        .unwrap();
    let pm = AttachPaymentMethod::new("pm_card_visa").customer(cus.id.as_str()).send(c).await.unwrap();
    assert!(pm.id.as_str().starts_with("pm_") && pm.id.as_str() != "pm_card_visa");
    let updated = UpdateCustomer::new(cus.id.clone())
        .invoice_settings(UpdateCustomerInvoiceSettings {
            default_payment_method: Some(pm.id.to_string()),
            ..Default::default()
        })
        .send(c)
        .await
        .unwrap();
    assert_eq!(updated.invoice_settings.unwrap().default_payment_method.unwrap().id().as_str(), pm.id.as_str());
    cus.id.to_string()
}

#[tokio::test]
async fn customers_products_prices() {
    let sb = sandbox().await;
    let c = client(&sb);
    let (prod, monthly, yearly) = catalog(&c).await;
    assert!(prod.starts_with("prod_") && monthly.starts_with("price_"));

    let cus = CreateCustomer::new().email("ada@example.com").name("Ada").send(&c).await.unwrap();
    assert!(cus.id.as_str().starts_with("cus_"));
    assert_eq!(cus.email.as_deref(), Some("ada@example.com"));
    match RetrieveCustomer::new(cus.id.clone()).send(&c).await.unwrap() {
        RetrieveCustomerReturned::Customer(r) => assert_eq!(r.name.as_deref(), Some("Ada")),
        other => panic!("unexpected {other:?}"),
    }
    let listed = ListCustomer::new().email("ada@example.com").send(&c).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    let found = SearchCustomer::new("email:'ada@example.com'").send(&c).await.unwrap();
    assert_eq!(found.data.len(), 1);
    assert_eq!(found.data[0].id, cus.id);

    let by_key = ListPrice::new().lookup_keys(vec!["pro_yearly".to_string()]).send(&c).await.unwrap();
    assert_eq!(by_key.data.len(), 1);
    assert_eq!(by_key.data[0].id.as_str(), yearly);
    assert_eq!(by_key.data[0].unit_amount, Some(20000));

    // A new price takes the lookup key over with transfer_lookup_key.
    let newer = CreatePrice::new(stripe_types::Currency::USD)
        .product(prod.as_str())
        .unit_amount(2500)
        .recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Month))
        .lookup_key("pro_monthly")
        .transfer_lookup_key(true)
        .send(&c)
        .await
        .unwrap();
    let by_key = ListPrice::new().lookup_keys(vec!["pro_monthly".to_string()]).send(&c).await.unwrap();
    assert_eq!(by_key.data.len(), 1);
    assert_eq!(by_key.data[0].id, newer.id);
    // Without transfer, a taken key is an error.
    let err = CreatePrice::new(stripe_types::Currency::USD)
        .product(prod.as_str())
        .unit_amount(1)
        .lookup_key("pro_monthly")
        .send(&c)
        .await;
    assert!(err.is_err());
    let old = UpdatePrice::new(monthly.as_str()).active(false).send(&c).await.unwrap();
    assert!(!old.active);
    assert_eq!(old.lookup_key, None);
}

#[tokio::test]
async fn checkout_sessions() {
    let sb = sandbox().await;
    let c = client(&sb);
    let (_, monthly, _) = catalog(&c).await;
    let cus = CreateCustomer::new().email("bo@example.com").send(&c).await.unwrap();
    let cs = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Subscription)
        .customer(cus.id.as_str())
        .client_reference_id("user-7")
        .success_url("http://app.test/checkout/success?session_id={CHECKOUT_SESSION_ID}")
        .cancel_url("http://app.test/pricing")
        .line_items(vec![CreateCheckoutSessionLineItems {
            price: Some(monthly.clone()),
            quantity: Some(1),
            ..Default::default()
        }])
        .subscription_data(CreateCheckoutSessionSubscriptionData { trial_period_days: Some(14), ..Default::default() })
        .allow_promotion_codes(true)
        .metadata(HashMap::from([("user_id".to_string(), "7".to_string())]))
        .send(&c)
        .await
        .unwrap();
    assert!(cs.id.as_str().starts_with("cs_test_"));
    assert_eq!(cs.status, Some(CheckoutSessionStatus::Open));
    assert_eq!(cs.url.as_deref(), Some(format!("{}/checkout/{}", sb.base_url(), cs.id).as_str()));
    assert_eq!(cs.client_reference_id.as_deref(), Some("user-7"));
    assert_eq!(cs.amount_total, Some(2000));
    let got = RetrieveCheckoutSession::new(cs.id.clone()).send(&c).await.unwrap();
    assert_eq!(got.metadata.unwrap()["user_id"], "7");
    let items = ListLineItemsCheckoutSession::new(cs.id.clone()).send(&c).await.unwrap();
    assert_eq!(items.data.len(), 1);
    assert_eq!(items.data[0].price.as_ref().unwrap().id.as_str(), monthly);
    let expired = ExpireCheckoutSession::new(cs.id.clone()).send(&c).await.unwrap();
    assert_eq!(expired.status, Some(CheckoutSessionStatus::Expired));
    assert!(ExpireCheckoutSession::new(cs.id.clone()).send(&c).await.is_err());
}

#[tokio::test]
async fn subscriptions_invoices_portal() {
    let sb = sandbox().await;
    let c = client(&sb);
    let (_, monthly, yearly) = catalog(&c).await;
    let cus = customer_with_card(&c, "cy@example.com").await;

    let sub = CreateSubscription::new()
        .customer(cus.as_str())
        .items(vec![CreateSubscriptionItems { price: Some(monthly.clone()), quantity: Some(1), ..Default::default() }])
        .metadata(HashMap::from([("user_id".to_string(), "42".to_string())]))
        .expand(vec!["latest_invoice".to_string()])
        .send(&c)
        .await
        .unwrap();
    assert_eq!(sub.status, SubscriptionStatus::Active);
    assert!(sub.id.as_str().starts_with("sub_"));
    let item = &sub.items.data[0];
    assert!(item.id.as_str().starts_with("si_"));
    assert_eq!(item.price.id.as_str(), monthly);
    assert!(item.current_period_end > item.current_period_start);
    let latest = sub.latest_invoice.as_ref().unwrap().as_object().expect("expanded invoice");
    assert_eq!(latest.status, Some(InvoiceStatus::Paid));
    assert_eq!(latest.amount_paid, 2000);

    // Preview an upgrade to yearly, then do it.
    let preview = CreatePreviewInvoice::new()
        .subscription(sub.id.as_str())
        .subscription_details(CreatePreviewInvoiceSubscriptionDetails {
            items: Some(vec![CreatePreviewInvoiceSubscriptionDetailsItems {
                id: Some(item.id.to_string()),
                price: Some(yearly.clone()),
                ..Default::default()
            }]),
            ..Default::default()
        })
        .send(&c)
        .await
        .unwrap();
    assert!(preview.lines.data.len() >= 2, "proration preview has credit and charge lines");
    assert!(preview.lines.data.iter().any(|l| l.amount < 0));
    let upgraded = UpdateSubscription::new(sub.id.clone())
        .items(vec![UpdateSubscriptionItems {
            id: Some(item.id.to_string()),
            price: Some(yearly.clone()),
            ..Default::default()
        }])
        .proration_behavior(UpdateSubscriptionProrationBehavior::AlwaysInvoice)
        .send(&c)
        .await
        .unwrap();
    assert_eq!(upgraded.items.data[0].price.id.as_str(), yearly);
    let canceling = UpdateSubscription::new(sub.id.clone()).cancel_at_period_end(true).send(&c).await.unwrap();
    assert!(canceling.cancel_at_period_end);
    let got = RetrieveSubscription::new(sub.id.clone()).send(&c).await.unwrap();
    assert!(got.cancel_at_period_end);
    let listed = ListSubscription::new().customer(cus.as_str()).send(&c).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    let by_price = ListSubscription::new().price(monthly.as_str()).send(&c).await.unwrap();
    assert_eq!(by_price.data.len(), 0);

    let invoices = ListInvoice::new().customer(cus.as_str()).send(&c).await.unwrap();
    assert_eq!(invoices.data.len(), 2);
    let inv = RetrieveInvoice::new(invoices.data[0].id.clone().unwrap()).send(&c).await.unwrap();
    assert_eq!(inv.status, Some(InvoiceStatus::Paid));
    assert!(inv.hosted_invoice_url.unwrap().contains("/invoice/in_"));
    assert!(PayInvoice::new(inv.id.clone().unwrap()).send(&c).await.is_err(), "paying a paid invoice fails");

    let portal = CreateBillingPortalSession::new()
        .customer(cus.as_str())
        .return_url("http://app.test/account")
        .send(&c)
        .await
        .unwrap();
    assert!(portal.url.contains("/portal/bps_"));
    assert_eq!(portal.return_url.as_deref(), Some("http://app.test/account"));

    let canceled = CancelSubscription::new(sub.id.clone()).send(&c).await.unwrap();
    assert_eq!(canceled.status, SubscriptionStatus::Canceled);
}

#[tokio::test]
async fn webhook_endpoint_events_and_clocks() {
    let sb = sandbox().await;
    let c = client(&sb);
    let ep = CreateWebhookEndpoint::new(
        vec![CreateWebhookEndpointEnabledEvents::CustomerCreated],
        "http://127.0.0.1:9/hook",
    )
    .send(&c)
    .await
    .unwrap();
    assert!(ep.secret.as_deref().unwrap().starts_with("whsec_"));
    let cus = CreateCustomer::new().email("ev@example.com").send(&c).await.unwrap();
    let events = ListEvent::new().type_("customer.created").send(&c).await.unwrap();
    assert_eq!(events.data.len(), 1);
    let ev = RetrieveEvent::new(events.data[0].id.clone()).send(&c).await.unwrap();
    assert_eq!(ev.type_.as_str(), "customer.created");
    assert_eq!(ev.api_version.as_deref(), Some("2026-09-30.endive"));

    let clock = CreateTestHelpersTestClock::new(1_800_000_000).send(&c).await.unwrap();
    assert_eq!(clock.frozen_time, 1_800_000_000);
    let advanced = AdvanceTestHelpersTestClock::new(clock.id.clone(), 1_800_086_400).send(&c).await.unwrap();
    assert_eq!(advanced.id, clock.id);
    let ready = RetrieveTestHelpersTestClock::new(clock.id.clone()).send(&c).await.unwrap();
    assert_eq!(ready.frozen_time, 1_800_086_400);
    assert_eq!(ready.status.as_str(), "ready");
    let _ = cus;
}
