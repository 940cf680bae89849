//! The webhook pipeline: the route's refusals, money events, Radar's early fraud warnings,
//! healing what was never delivered, and chaos.

mod chaos;
mod connect;
mod fraud;
mod healing;
mod instances;
mod money;
mod rate_limit;
mod route;
