//! Usage-based pricing: the meters `catalog.toml` declares (`[[meters]]`) and the metered prices
//! billed on them in arrears (`[[metered_prices]]`), per unit, in graduated tiers (the first
//! `included` units free) or by the package; what a period's usage costs; which late reports
//! Stripe still takes.

use serde::{Deserialize, Serialize};

use super::catalog::{CatalogError, PlanKey};
use super::money::{Currency, Money};

/// Stripe takes meter events up to 35 days old (and up to 5 minutes ahead).
pub const LATE_WINDOW_SECS: i64 = 35 * 24 * 3600;
pub const FUTURE_SKEW_SECS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    Sum,
    Count,
}

impl Aggregation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Count => "count",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meter {
    pub key: PlanKey,
    pub name: String,
    /// The `event_name` meter events carry in Stripe.
    pub event_name: String,
    pub aggregation: Aggregation,
}

/// One graduated tier: units up to `up_to` (inclusive; `None` = the rest) cost `unit_amount` each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    pub up_to: Option<u64>,
    pub unit_amount: i64,
    #[serde(default)]
    pub flat_amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UsagePricing {
    PerUnit {
        unit_amount: i64,
    },
    Graduated {
        tiers: Vec<Tier>,
    },
    /// `amount` per started package of `size` units (Stripe's `transform_quantity`, rounded up).
    Package {
        size: u64,
        amount: i64,
    },
}

/// A metered price on `meter`, billed monthly in arrears beside `plan`'s base fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeteredPrice {
    pub plan: PlanKey,
    pub meter: PlanKey,
    pub lookup_key: String,
    pub currency: Currency,
    pub pricing: UsagePricing,
}

impl MeteredPrice {
    /// What `quantity` units in one period cost.
    pub fn cost(&self, quantity: u64) -> Money {
        let amount = match &self.pricing {
            UsagePricing::PerUnit { unit_amount } => (quantity as i64).saturating_mul(*unit_amount),
            UsagePricing::Package { size, amount } => (quantity.div_ceil(*size) as i64).saturating_mul(*amount),
            UsagePricing::Graduated { tiers } => {
                let (mut total, mut floor) = (0i64, 0u64);
                for tier in tiers {
                    if quantity <= floor {
                        break;
                    }
                    let ceiling = tier.up_to.unwrap_or(u64::MAX).min(quantity);
                    let units = ceiling - floor;
                    total = total.saturating_add(tier.flat_amount).saturating_add((units as i64) * tier.unit_amount);
                    floor = ceiling;
                }
                total
            }
        };
        Money::new(amount, self.currency)
    }

    /// Units that cost nothing: a graduated price's free first tier.
    pub fn included(&self) -> u64 {
        match &self.pricing {
            UsagePricing::Graduated { tiers } => match tiers.first() {
                Some(Tier { up_to: Some(n), unit_amount: 0, flat_amount: 0 }) => *n,
                _ => 0,
            },
            _ => 0,
        }
    }
}

/// The meters and metered prices of a catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageCatalog {
    pub meters: Vec<Meter>,
    pub prices: Vec<MeteredPrice>,
}

impl UsageCatalog {
    pub fn meter(&self, key: &str) -> Option<&Meter> {
        self.meters.iter().find(|m| m.key.as_str() == key)
    }

    /// The metered prices of a plan.
    pub fn prices_of<'a>(&'a self, plan: &'a str) -> impl Iterator<Item = &'a MeteredPrice> + 'a {
        self.prices.iter().filter(move |p| p.plan.as_str() == plan)
    }

    pub fn price(&self, plan: &str, meter: &str) -> Option<&MeteredPrice> {
        self.prices.iter().find(|p| p.plan.as_str() == plan && p.meter.as_str() == meter)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeter {
    pub key: String,
    pub name: String,
    pub event_name: String,
    pub aggregation: Aggregation,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPackage {
    pub size: u64,
    pub amount: i64,
}

/// `[[metered_prices]]`: exactly one of `unit_amount` (with optional `included` free units),
/// `tiers` or `package`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeteredPrice {
    pub plan: String,
    pub meter: String,
    pub unit_amount: Option<i64>,
    pub included: Option<u64>,
    pub tiers: Option<Vec<Tier>>,
    pub package: Option<RawPackage>,
}

/// Validates the usage half of a catalog; `plans` are the keys of its paid plans.
pub fn parse(
    meters: Vec<RawMeter>,
    prices: Vec<RawMeteredPrice>,
    currency: Currency,
    paid_plans: &[&PlanKey],
) -> Result<UsageCatalog, CatalogError> {
    let mut out = UsageCatalog::default();
    for m in meters {
        let key = PlanKey::parse(&m.key)?;
        let event_ok = (1..=100).contains(&m.event_name.len())
            && m.event_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if !event_ok {
            return Err(CatalogError::BadUsage(format!("{key}: event_name must be 1–100 of a-z 0-9 _ .")));
        }
        if out.meter(key.as_str()).is_some() || out.meters.iter().any(|o| o.event_name == m.event_name) {
            return Err(CatalogError::DuplicateKey(key.to_string()));
        }
        out.meters.push(Meter { key, name: m.name, event_name: m.event_name, aggregation: m.aggregation });
    }
    for p in prices {
        let plan = PlanKey::parse(&p.plan)?;
        let meter = PlanKey::parse(&p.meter)?;
        let what = format!("{plan}/{meter}");
        if !paid_plans.contains(&&plan) {
            return Err(CatalogError::BadUsage(format!("{what}: plan must be a paid plan of this catalog")));
        }
        if out.meter(meter.as_str()).is_none() {
            return Err(CatalogError::BadUsage(format!("{what}: no meter {meter}")));
        }
        if out.price(plan.as_str(), meter.as_str()).is_some() {
            return Err(CatalogError::DuplicateKey(what));
        }
        let pricing = pricing(&what, p.unit_amount, p.included, p.tiers, p.package)?;
        let lookup_key = format!("{plan}_{meter}_monthly");
        out.prices.push(MeteredPrice { plan, meter, lookup_key, currency, pricing });
    }
    Ok(out)
}

fn pricing(
    what: &str,
    unit_amount: Option<i64>,
    included: Option<u64>,
    tiers: Option<Vec<Tier>>,
    package: Option<RawPackage>,
) -> Result<UsagePricing, CatalogError> {
    let bad = |why: &str| CatalogError::BadUsage(format!("{what}: {why}"));
    match (unit_amount, tiers, package) {
        (Some(unit_amount), None, None) if unit_amount >= 0 => Ok(match included {
            Some(n) if n > 0 => UsagePricing::Graduated {
                tiers: vec![
                    Tier { up_to: Some(n), unit_amount: 0, flat_amount: 0 },
                    Tier { up_to: None, unit_amount, flat_amount: 0 },
                ],
            },
            _ => UsagePricing::PerUnit { unit_amount },
        }),
        (None, Some(tiers), None) if included.is_none() => {
            let ascending = tiers.windows(2).all(|w| {
                matches!((w[0].up_to, w[1].up_to), (Some(a), Some(b)) if a < b)
                    || matches!((w[0].up_to, w[1].up_to), (Some(_), None))
            });
            let last_open = tiers.last().is_some_and(|t| t.up_to.is_none());
            let non_negative = tiers.iter().all(|t| t.unit_amount >= 0 && t.flat_amount >= 0);
            if tiers.len() < 2 || !ascending || !last_open || !non_negative {
                return Err(bad("tiers need ascending up_to, the last without one, and amounts ≥ 0"));
            }
            Ok(UsagePricing::Graduated { tiers })
        }
        (None, None, Some(RawPackage { size, amount })) if included.is_none() => {
            if size == 0 || amount <= 0 {
                return Err(bad("a package needs a size and an amount above 0"));
            }
            Ok(UsagePricing::Package { size, amount })
        }
        _ => Err(bad("give one of unit_amount (≥ 0, optionally with included), tiers or package")),
    }
}

/// Why a reported event's time is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LateError {
    #[error("the event is older than 35 days: Stripe no longer accepts it")]
    TooOld,
    #[error("the event is more than 5 minutes in the future")]
    InTheFuture,
}

/// Whether an event that happened at `occurred_at` may still be reported at `now`.
pub fn check_event_time(occurred_at: i64, now: i64) -> Result<(), LateError> {
    if occurred_at < now - LATE_WINDOW_SECS {
        Err(LateError::TooOld)
    } else if occurred_at > now + FUTURE_SKEW_SECS {
        Err(LateError::InTheFuture)
    } else {
        Ok(())
    }
}

/// The usage-alert thresholds (percent of included units) `used` has reached, lowest first.
pub fn thresholds_reached(thresholds: &[u32], used: u64, included: u64) -> Vec<u32> {
    if included == 0 {
        return vec![];
    }
    let mut reached: Vec<u32> =
        thresholds.iter().copied().filter(|pct| (used as u128) * 100 >= (included as u128) * (*pct as u128)).collect();
    reached.sort_unstable();
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("usd").unwrap()
    }

    fn price(pricing: UsagePricing) -> MeteredPrice {
        MeteredPrice {
            plan: PlanKey::parse("scale").unwrap(),
            meter: PlanKey::parse("api-calls").unwrap(),
            lookup_key: "scale_api-calls_monthly".into(),
            currency: usd(),
            pricing,
        }
    }

    fn one(unit_amount: Option<i64>, included: Option<u64>) -> Result<UsageCatalog, CatalogError> {
        let scale = PlanKey::parse("scale").unwrap();
        parse(
            vec![RawMeter {
                key: "api-calls".into(),
                name: "API calls".into(),
                event_name: "api_call".into(),
                aggregation: Aggregation::Sum,
            }],
            vec![RawMeteredPrice {
                plan: "scale".into(),
                meter: "api-calls".into(),
                unit_amount,
                included,
                tiers: None,
                package: None,
            }],
            usd(),
            &[&scale],
        )
    }

    #[test]
    fn included_units_become_a_free_first_tier() {
        let catalog = one(Some(2), Some(1000)).unwrap();
        let p = &catalog.prices[0];
        assert_eq!(p.lookup_key, "scale_api-calls_monthly");
        assert_eq!(p.included(), 1000);
        assert_eq!(p.cost(999).minor(), 0);
        assert_eq!(p.cost(1000).minor(), 0);
        assert_eq!(p.cost(1250).minor(), 500, "250 units over at 2 cents");
    }

    #[test]
    fn per_unit_package_and_tiers_cost_what_stripe_bills() {
        assert_eq!(price(UsagePricing::PerUnit { unit_amount: 3 }).cost(7).minor(), 21);
        let package = price(UsagePricing::Package { size: 1000, amount: 500 });
        assert_eq!((package.cost(0).minor(), package.cost(1).minor(), package.cost(2001).minor()), (0, 500, 1500));
        let tiers = price(UsagePricing::Graduated {
            tiers: vec![
                Tier { up_to: Some(10), unit_amount: 5, flat_amount: 100 },
                Tier { up_to: None, unit_amount: 1, flat_amount: 0 },
            ],
        });
        assert_eq!(tiers.cost(4).minor(), 120);
        assert_eq!(tiers.cost(15).minor(), 100 + 50 + 5);
        assert_eq!(tiers.included(), 0);
    }

    #[test]
    fn refuses_prices_on_unknown_meters_or_free_plans_and_mixed_models() {
        assert!(one(Some(-1), None).is_err());
        assert!(one(None, None).is_err());
        let none: [&PlanKey; 0] = [];
        let err = parse(vec![], vec![], usd(), &none).map(|c| c.prices.len());
        assert_eq!(err, Ok(0));
        let free_plan = parse(
            vec![],
            vec![RawMeteredPrice {
                plan: "free".into(),
                meter: "api-calls".into(),
                unit_amount: Some(1),
                included: None,
                tiers: None,
                package: None,
            }],
            usd(),
            &none,
        );
        assert!(matches!(free_plan, Err(CatalogError::BadUsage(_))));
    }

    #[test]
    fn late_events_within_35_days_are_taken() {
        let now = 100 * 86_400;
        assert_eq!(check_event_time(now - LATE_WINDOW_SECS, now), Ok(()));
        assert_eq!(check_event_time(now - LATE_WINDOW_SECS - 1, now), Err(LateError::TooOld));
        assert_eq!(check_event_time(now + 301, now), Err(LateError::InTheFuture));
    }

    #[test]
    fn thresholds_count_against_included_units() {
        assert_eq!(thresholds_reached(&[100, 80], 799, 1000), Vec::<u32>::new());
        assert_eq!(thresholds_reached(&[100, 80], 800, 1000), vec![80]);
        assert_eq!(thresholds_reached(&[80, 100], 1500, 1000), vec![80, 100]);
        assert!(thresholds_reached(&[80], 5, 0).is_empty(), "nothing included, nothing to warn about");
    }
}
