//! What a form post ends in: where the browser goes next, or why the post was refused. Shared by
//! the customer's billing forms and the admin's confirm steps; `RequestCtx::finish` turns it
//! into the redirect (and notice) or the error.

use crate::views::AppError;

/// Where a form post goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// To Stripe (Checkout, the portal) or another page.
    Redirect(String),
    /// Back to the form's page with this notice.
    Back(String),
}

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// Said to the user as is (an unknown plan, nothing to cancel…).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<FormError> for AppError {
    fn from(error: FormError) -> Self {
        match error {
            FormError::Refused(message) => AppError::User(message),
            FormError::Unexpected(e) => e.into(),
        }
    }
}

/// A refusal said to the user as is.
pub fn refused(message: impl Into<String>) -> FormError {
    FormError::Refused(message.into())
}
