//! The marketplace on Stripe Connect: creators sell digital products through the platform, each
//! sale is a payment to the creator's connected (Express) account minus the platform's fee.
//! `creators` is who may sell and where their Stripe account stands, `products` what they sell,
//! `orders` what buyers paid for (and hold in their library), `payouts` the money Stripe sent
//! on to the creators' banks.

pub mod creators;
pub mod orders;
pub mod payouts;
pub mod products;
