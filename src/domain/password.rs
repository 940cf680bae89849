//! A candidate password: 8 to 128 characters. Its `Debug` never shows it, and
//! it is deliberately neither `Display` nor `Serialize`.

use std::fmt;

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Password must be at least 8 characters.")]
    TooShort,
    #[error("Password must be at most 128 characters.")]
    TooLong,
}

impl Password {
    /// Counts characters, not bytes; does not trim (spaces are allowed).
    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            Err(PasswordError::TooShort)
        } else if chars > MAX_PASSWORD_CHARS {
            Err(PasswordError::TooLong)
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    /// The raw password, for hashing. Keep its use to the hashing code.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds_are_inclusive() {
        assert_eq!(Password::parse("1234567"), Err(PasswordError::TooShort));
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert_eq!(Password::parse(&"x".repeat(129)), Err(PasswordError::TooLong));
    }

    #[test]
    fn counts_characters_not_bytes() {
        // 8 characters, 16 bytes.
        assert!(Password::parse("ééééàààà").is_ok());
        // 128 characters but 256 bytes.
        assert!(Password::parse(&"é".repeat(128)).is_ok());
    }

    #[test]
    fn keeps_surrounding_spaces() {
        assert_eq!(Password::parse(" secret pw ").unwrap().expose(), " secret pw ");
    }

    #[test]
    fn debug_redacts() {
        let shown = format!("{:?}", Password::parse("hunter2-hunter2").unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
