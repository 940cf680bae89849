//! `GET /v1/account`: the account the secret key belongs to. A typed request of our own, so
//! the large Connect resource crate is not compiled for one read; Stripe's `Account` type
//! comes from the shared crate.

use stripe_client_core::{RequestBuilder, StripeMethod, StripeRequest};

/// Retrieves the key's own (platform) account.
pub struct RetrieveOwnAccount;

impl StripeRequest for RetrieveOwnAccount {
    type Output = stripe_shared::Account;

    fn build(&self) -> RequestBuilder {
        RequestBuilder::new(StripeMethod::Get, "/account")
    }
}
