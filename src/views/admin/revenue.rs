//! The revenue dashboard's data (`/admin`) and the period it covers.

use serde::{Deserialize, Serialize};

use crate::domain::money::Money;

/// The window the movement figures cover, ending now. `?period=` in the URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    Days7,
    #[default]
    Days30,
    Days90,
    Months12,
}

impl Period {
    pub const ALL: [Period; 4] = [Self::Days7, Self::Days30, Self::Days90, Self::Months12];

    /// Whole UTC days covered, today included.
    pub fn days(self) -> i64 {
        match self {
            Self::Days7 => 7,
            Self::Days30 => 30,
            Self::Days90 => 90,
            Self::Months12 => 365,
        }
    }

    /// Days per chart bar: about 7 to 30 bars whatever the period.
    pub fn bucket_days(self) -> i64 {
        match self {
            Self::Days7 | Self::Days30 => 1,
            Self::Days90 => 7,
            Self::Months12 => 30,
        }
    }

    pub fn param(self) -> &'static str {
        match self {
            Self::Days7 => "7d",
            Self::Days30 => "30d",
            Self::Days90 => "90d",
            Self::Months12 => "12m",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Days7 => "Last 7 days",
            Self::Days30 => "Last 30 days",
            Self::Days90 => "Last 90 days",
            Self::Months12 => "Last 12 months",
        }
    }

    /// Unknown or missing values fall back to the default: a bad link still shows the page.
    pub fn from_param(value: Option<&str>) -> Self {
        Self::ALL.into_iter().find(|p| Some(p.param()) == value).unwrap_or_default()
    }
}

/// Movement totals for one currency over the period, and where it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyRevenue {
    pub mrr: Money,
    pub arr: Money,
    /// Subscriptions paying now (MRR above zero).
    pub paying: i64,
    pub arpu: Option<Money>,
    pub new: Money,
    pub expansion: Money,
    pub contraction: Money,
    pub churn: Money,
    pub reactivation: Money,
    pub net_new: Money,
    pub new_count: i64,
    pub churn_count: i64,
    pub reactivation_count: i64,
    /// Paying subscriptions when the period began.
    pub paying_at_start: i64,
    /// `churn_count / paying_at_start` in basis points.
    pub churn_rate_bp: Option<i64>,
}

/// A share as `part` of `whole`, shown as a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratio {
    pub part: i64,
    pub whole: i64,
}

impl Ratio {
    pub fn basis_points(self) -> Option<i64> {
        (self.whole > 0).then(|| (self.part * 10_000 + self.whole / 2) / self.whole)
    }
}

/// `1234` basis points → `12.34%`.
pub fn percent(bp: i64) -> String {
    format!("{}.{:02}%", bp / 100, (bp % 100).abs())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    /// `data:image/svg+xml;base64,…`: an image, so the page's CSP needs no inline styles.
    pub data_uri: String,
    /// The same chart drawn for the dark theme.
    pub dark_data_uri: String,
    /// The same figures as text, for screen readers and the table under the chart.
    pub points: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueReport {
    pub period: Period,
    pub as_of: i64,
    pub active: i64,
    pub trialing: i64,
    pub past_due: i64,
    /// One entry per currency with revenue, largest MRR first.
    pub currencies: Vec<CurrencyRevenue>,
    /// Invoices with a payment attempt in the last 30 days: paid of attempted.
    pub payment_success: Ratio,
    /// Churned subscriptions in the period whose last invoice went unpaid, of all churned.
    pub involuntary_churn: Ratio,
    pub mrr_chart: Option<Chart>,
    pub net_new_chart: Option<Chart>,
    /// The platform's marketplace fees, one entry per currency with any.
    pub marketplace_fees: Vec<super::marketplace::MarketplaceFees>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_round_trip_through_the_url_and_default_to_30_days() {
        for period in Period::ALL {
            assert_eq!(Period::from_param(Some(period.param())), period);
        }
        assert_eq!(Period::from_param(None), Period::Days30);
        assert_eq!(Period::from_param(Some("forever")), Period::Days30);
    }

    #[test]
    fn ratios_round_half_up_and_need_a_whole() {
        assert_eq!(Ratio { part: 1, whole: 3 }.basis_points(), Some(3333));
        assert_eq!(Ratio { part: 2, whole: 3 }.basis_points(), Some(6667));
        assert_eq!(Ratio { part: 0, whole: 0 }.basis_points(), None);
        assert_eq!(percent(1234), "12.34%");
        assert_eq!(percent(5), "0.05%");
    }
}
