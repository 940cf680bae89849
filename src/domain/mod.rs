//! Pure domain types: no I/O.

pub mod email;
pub mod password;
pub mod role;

pub use email::{Email, EmailError};
pub use password::{Password, PasswordError};
pub use role::Role;
pub mod brand;
pub mod catalog;
pub mod coupon;
pub mod dunning;
pub mod marketplace;
pub mod money;
pub mod revenue;
pub mod saving;
pub mod subscription;
pub mod text;
pub mod usage;
