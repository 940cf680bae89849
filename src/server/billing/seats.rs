//! Seats on per-seat plans: the count a form posts, read strictly. The bounds are the catalog's
//! (`PerSeat::check`), checked where the change or the Checkout is made.

use crate::server::http::outcome::{refused, FormError};

/// A posted seat count: absent or empty is `None` (keep the current count); anything but a
/// whole number is refused with a message the user can act on.
pub fn parse_seats(raw: Option<&str>) -> Result<Option<i64>, FormError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => {
            text.parse::<i64>().map(Some).map_err(|_| refused("Enter the number of seats as a whole number."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_whole_numbers_and_refuses_the_rest() {
        assert_eq!(parse_seats(None).unwrap(), None);
        assert_eq!(parse_seats(Some(" ")).unwrap(), None);
        assert_eq!(parse_seats(Some("5")).unwrap(), Some(5));
        assert_eq!(parse_seats(Some("-2")).unwrap(), Some(-2), "the plan's bounds refuse it, with the bounds");
        assert!(matches!(parse_seats(Some("2.5")), Err(FormError::Refused(_))));
    }
}
