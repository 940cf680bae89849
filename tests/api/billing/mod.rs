//! The customer's billing: catalog and Checkout, the account page, renewals on the sandbox's
//! clock, and revenue against Stripe's truth.

mod account_page;
mod brand;
mod cardless_trial;
mod catalog_and_checkout;
mod clock;
mod confirm_payment;
mod discounts;
mod dunning;
mod entitlements;
mod pause;
mod payment_element;
mod price_migration;
mod pricing_page;
mod projects;
mod revenue;
mod seats;
