//! The payment failure rate, in basis points (1/100 of a percent) so it stays an integer.

/// Failed attempts among all attempts, in basis points; 0 without attempts.
pub fn basis_points(failed: i64, attempted: i64) -> i64 {
    if attempted <= 0 {
        return 0;
    }
    failed.clamp(0, attempted) * 10_000 / attempted
}

/// Whether the rate fires: enough attempts to mean something, and at or above `percent`.
pub fn fires(failed: i64, attempted: i64, min_attempts: i64, percent: i64) -> bool {
    attempted >= min_attempts.max(1) && basis_points(failed, attempted) >= percent * 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_failures_over_attempts_in_basis_points() {
        assert_eq!(basis_points(0, 0), 0, "no attempts: no rate");
        assert_eq!(basis_points(1, 20), 500);
        assert_eq!(basis_points(1, 3), 3_333, "rounded down");
        assert_eq!(basis_points(5, 5), 10_000);
        assert_eq!(basis_points(7, 5), 10_000, "never above everything");
    }

    #[test]
    fn one_failure_of_one_is_not_an_alert_but_a_burst_is() {
        assert!(!fires(1, 1, 20, 5), "too few attempts to mean a trend");
        assert!(!fires(19, 19, 20, 5), "still below the minimum");
        assert!(fires(1, 20, 20, 5), "5% of 20 is at the threshold");
        assert!(!fires(1, 21, 20, 5), "4.76% is under 5%");
        assert!(fires(3, 3, 0, 50), "a minimum of 0 still needs one attempt");
        assert!(!fires(0, 0, 0, 0), "no attempts never fire");
    }
}
