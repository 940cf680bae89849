//! The session user as the pages see it, and the flash a refused sign-up or log-in leaves.

use serde::{Deserialize, Serialize};

/// Who is logged in, as the pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub email: String,
    pub is_admin: bool,
}

/// The form a flash message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthForm {
    Signup,
    Login,
}

impl AuthForm {
    pub fn path(self) -> &'static str {
        match self {
            AuthForm::Signup => "/signup",
            AuthForm::Login => "/login",
        }
    }
}

/// A refused plain form post: the message, and the email to fill back in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormFlash {
    pub message: String,
    pub email: String,
}
