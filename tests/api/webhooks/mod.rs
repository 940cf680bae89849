//! The webhook pipeline: the route's refusals, money events, healing what was never delivered,
//! and chaos.

mod chaos;
mod connect;
mod healing;
mod instances;
mod money;
mod rate_limit;
mod route;
