//! Accounts: sign-up, log-in and -out, sessions and their cookies, rate limits, email
//! verification, password reset, and what sign-up does not tell.

mod accounts;
mod csrf;
mod enumeration;
mod limits;
mod password_reset;
mod verification;
