//! The webhook pipeline: money events, healing what was never delivered, and chaos.

mod chaos;
mod healing;
mod money;
