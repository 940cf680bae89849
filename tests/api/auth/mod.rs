//! Accounts: sign-up, log-in and -out, sessions and their cookies, rate limits.

mod accounts;
mod csrf;
mod limits;
