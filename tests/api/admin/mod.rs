//! The admin area: who may enter, its pages, and the figures they show.

mod access;
mod coupons;
mod disputes;
mod events;
mod marketplace;
mod pages;
mod pause;
mod payments;
mod plan_change;
mod revenue;
mod sorting;
