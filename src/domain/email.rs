//! An email address, parsed and normalised (trimmed, lower-cased) so that
//! uniqueness is case-insensitive.

use std::fmt;

/// A syntactically plausible, normalised email address.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an email address.")]
    Empty,
    #[error("That email address is too long.")]
    TooLong,
    #[error("Enter a valid email address, like name@example.com.")]
    Invalid,
}

const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let normalised = trimmed.to_lowercase();
        let (local, domain) = normalised.split_once('@').ok_or(EmailError::Invalid)?;
        if !valid_local(local) || !valid_domain(domain) {
            return Err(EmailError::Invalid);
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LEN
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let email = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn equal_regardless_of_case() {
        assert_eq!(Email::parse("A@B.io").unwrap(), Email::parse("a@b.IO").unwrap());
    }

    #[test]
    fn accepts_plus_addressing_and_subdomains() {
        assert!(Email::parse("ada+billing@mail.example.co.uk").is_ok());
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
    }

    #[test]
    fn rejects_malformed_addresses() {
        for raw in [
            "plainaddress",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "ada@exa mple.com",
            "ada lovelace@example.com",
            ".ada@example.com",
            "ada.@example.com",
            "a..b@example.com",
            "ada@-example.com",
            "ada@example..com",
            "ada@example.com.",
            "<ada@example.com>",
        ] {
            assert_eq!(Email::parse(raw), Err(EmailError::Invalid), "{raw}");
        }
    }

    #[test]
    fn rejects_too_long() {
        let raw = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&raw), Err(EmailError::TooLong));
        let local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&local), Err(EmailError::Invalid));
    }

    #[test]
    fn deserialising_validates() {
        let ok: Result<Email, _> = serde_json::from_str("\"X@Y.org\"");
        assert_eq!(ok.unwrap().as_str(), "x@y.org");
        let bad: Result<Email, _> = serde_json::from_str("\"nope\"");
        assert!(bad.is_err());
    }
}
