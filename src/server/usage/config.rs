//! Usage settings: `USAGE_ALERT_THRESHOLDS` (percent of included units that mail the customer,
//! default `80,100`), `USAGE_RECONCILE_INTERVAL_SECS` (how often the leader compares local totals
//! with Stripe's summaries; 0 turns it off; default 3600).

use crate::server::config::ConfigError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageConfig {
    pub alert_thresholds: Vec<u32>,
    pub reconcile_interval_secs: u64,
}

impl Default for UsageConfig {
    fn default() -> Self {
        Self { alert_thresholds: vec![80, 100], reconcile_interval_secs: 3600 }
    }
}

impl UsageConfig {
    pub fn read(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let alert_thresholds = match get("USAGE_ALERT_THRESHOLDS") {
            None => defaults.alert_thresholds,
            Some(raw) => raw
                .split(',')
                .map(|pct| pct.trim().parse::<u32>().ok().filter(|p| (1..=1000).contains(p)))
                .collect::<Option<Vec<u32>>>()
                .ok_or_else(|| ConfigError::new("USAGE_ALERT_THRESHOLDS", "expected percentages like 80,100"))?,
        };
        let reconcile_interval_secs = match get("USAGE_RECONCILE_INTERVAL_SECS") {
            None => defaults.reconcile_interval_secs,
            Some(raw) => raw.parse().map_err(|_| {
                ConfigError::new("USAGE_RECONCILE_INTERVAL_SECS", "expected whole seconds (0 turns it off)")
            })?,
        };
        Ok(Self { alert_thresholds, reconcile_interval_secs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_thresholds_and_refuses_nonsense() {
        let config = UsageConfig::read(|name| (name == "USAGE_ALERT_THRESHOLDS").then(|| "50, 90,100".to_owned()));
        assert_eq!(config.unwrap().alert_thresholds, vec![50, 90, 100]);
        assert!(UsageConfig::read(|_| Some("eighty".to_owned())).is_err());
        assert_eq!(UsageConfig::read(|_| None).unwrap(), UsageConfig::default());
    }
}
