//! What paying yearly saves over twelve monthly payments, from the catalog's two prices.
//!
//! Integer arithmetic on minor units only. The percent is rounded to the nearest whole percent,
//! halves up (2 months of 12 = 16.67 % → 17 %); "months free" is said only when the saving is a
//! whole number of monthly payments, so the words never round.

/// The yearly price's saving over `12 × monthly`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearlySaving {
    /// `12 × monthly − yearly`, in minor units (always positive).
    pub amount: i64,
    /// The saving as a whole percent of `12 × monthly`, rounded half up.
    pub percent: u32,
    /// The saving in whole monthly payments, when it is exactly that.
    pub months_free: Option<u32>,
}

impl YearlySaving {
    /// `None` when the yearly price saves nothing (or the prices are not positive).
    pub fn of(monthly: i64, yearly: i64) -> Option<Self> {
        if monthly <= 0 || yearly <= 0 {
            return None;
        }
        let twelve = i128::from(monthly) * 12;
        let saved = twelve - i128::from(yearly);
        if saved <= 0 {
            return None;
        }
        // round(saved × 100 / twelve), halves up: ⌊(200·saved + twelve) / (2·twelve)⌋.
        let percent = u32::try_from((saved * 200 + twelve) / (twelve * 2)).ok()?;
        let months_free =
            (saved % i128::from(monthly) == 0).then(|| u32::try_from(saved / i128::from(monthly)).ok()).flatten();
        Some(Self { amount: i64::try_from(saved).ok()?, percent, months_free })
    }

    /// `2 months free` when exact, else `save 17%`.
    pub fn words(&self) -> String {
        match self.months_free {
            Some(1) => "1 month free".to_string(),
            Some(n) => format!("{n} months free"),
            None => format!("save {}%", self.percent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_months_free_is_seventeen_percent() {
        let s = YearlySaving::of(900, 9000).unwrap();
        assert_eq!((s.amount, s.percent, s.months_free), (1800, 17, Some(2)));
        assert_eq!(s.words(), "2 months free");
    }

    #[test]
    fn an_inexact_saving_is_a_rounded_percent() {
        // 12 × 1000 = 12000; 12000 − 10100 = 1900 = 15.83 % → 16 %, not a whole number of months.
        let s = YearlySaving::of(1000, 10_100).unwrap();
        assert_eq!((s.amount, s.percent, s.months_free), (1900, 16, None));
        assert_eq!(s.words(), "save 16%");
        // 12.5 % exactly rounds half up to 13 %; 1.5 months is not whole.
        let half = YearlySaving::of(1000, 10_500).unwrap();
        assert_eq!((half.amount, half.percent, half.months_free), (1500, 13, None));
        // 0.4 % rounds down to 0 %: still a (tiny) saving, said as such.
        assert_eq!(YearlySaving::of(1000, 11_950).unwrap().percent, 0);
        assert_eq!(YearlySaving::of(2900, 2900 * 11).unwrap().words(), "1 month free");
    }

    #[test]
    fn no_saving_when_yearly_costs_as_much_or_more() {
        assert_eq!(YearlySaving::of(900, 10_800), None);
        assert_eq!(YearlySaving::of(900, 12_000), None);
        assert_eq!(YearlySaving::of(0, 100), None);
        assert_eq!(YearlySaving::of(900, 0), None);
    }

    #[test]
    fn huge_amounts_do_not_overflow() {
        // Sums near i64::MAX are done in i128.
        let s = YearlySaving::of(i64::MAX / 12, i64::MAX / 13).unwrap();
        assert_eq!(s.percent, 92);
        assert_eq!(YearlySaving::of(i64::MAX, 1).map(|s| s.percent), None, "a saving beyond i64 is not stated");
    }
}
