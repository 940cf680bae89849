//! The error every server function returns. `Display` is what users may see.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A message written for the user (validation, refused credentials, limits).
    #[error("{0}")]
    User(String),
    #[error("Please log in.")]
    Unauthorized,
    #[error("Forbidden")]
    Forbidden,
    /// Details are logged on the server, never sent.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request itself failed (network, encoding); the detail is for debugging.
    #[error("Something went wrong. Please try again.")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
