//! The product catalog declared in `catalog.toml`: plans with monthly/yearly prices, a free tier,
//! trial days, features, numeric limits, and one-time items. Prices are found in Stripe by
//! `lookup_key`, derived here, so no price id lives in code or config.

use super::marketplace::{FeeRate, FeeTier, MarketplaceTerms};
use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::money::{Currency, Money};
use super::usage::{RawMeter, RawMeteredPrice, UsageCatalog};

/// A catalog key: lowercase letters, digits and `-`, 1–40 characters (`pro`, `team-plus`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlanKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("key {0:?} must be 1–40 lowercase letters, digits or '-'")]
    BadKey(String),
    #[error("key {0:?} is used twice")]
    DuplicateKey(String),
    #[error("{0}: amounts must be positive whole minor units")]
    BadAmount(String),
    #[error("{0}: a paid plan needs a monthly or a yearly price")]
    NoPrice(String),
    #[error("{0}: a free plan cannot have a trial")]
    TrialOnFreePlan(String),
    #[error("{0}: trial days must be between 1 and 730")]
    BadTrial(String),
    #[error("{0}: trial_without_card needs trial_days")]
    CardlessTrialWithoutTrial(String),
    #[error("{0}: per-seat plans need 1 <= min <= max <= 999999 seats")]
    BadSeats(String),
    #[error("{0}: a free plan cannot be per seat")]
    SeatsOnFreePlan(String),
    #[error("{0}")]
    BadUsage(String),
    #[error("entitlement {0:?} must be 1–80 lowercase letters, digits, '_' or '-'")]
    BadEntitlement(String),
    #[error("only one plan can be recommended ({0} and {1} are)")]
    TwoRecommended(String, String),
    #[error("[marketplace]: {0}")]
    BadMarketplace(String),
    #[error(transparent)]
    Money(#[from] super::money::MoneyError),
}

impl PlanKey {
    pub fn parse(raw: &str) -> Result<Self, CatalogError> {
        let ok = (1..=40).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(CatalogError::BadKey(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PlanKey {
    type Error = CatalogError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PlanKey> for String {
    fn from(value: PlanKey) -> Self {
        value.0
    }
}

impl fmt::Display for PlanKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingInterval {
    Month,
    Year,
}

impl BillingInterval {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    fn lookup_suffix(self) -> &'static str {
        match self {
            Self::Month => "monthly",
            Self::Year => "yearly",
        }
    }
}

/// When a seat removal takes effect: at the period end (the customer keeps what they paid for;
/// a subscription schedule lowers the quantity then) or at once (credited as a proration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatRemoval {
    #[default]
    PeriodEnd,
    Now,
}

/// A trial that starts without a card (Checkout's `payment_method_collection=if_required`), and
/// what becomes of the subscription when it ends without one: paused until the customer adds a
/// card (then charged and resumed), or canceled. Plans without it ask for a card up front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialWithoutCard {
    Pause,
    Cancel,
}

/// A per-seat plan's bounds: its price is per seat and the subscription's quantity is the
/// number of seats, between `min` and `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerSeat {
    pub min: u32,
    pub max: u32,
    #[serde(default)]
    pub removal: SeatRemoval,
}

impl PerSeat {
    /// Stripe's Checkout caps an adjustable quantity at 999,999.
    const STRIPE_MAX: u32 = 999_999;

    /// `seats` if within the bounds, else the reason as the customer should read it.
    pub fn check(&self, seats: i64) -> Result<u32, String> {
        match u32::try_from(seats) {
            Ok(n) if (self.min..=self.max).contains(&n) => Ok(n),
            _ => Err(format!("Choose between {} and {} seats.", self.min, self.max)),
        }
    }
}

/// One price the catalog wants in Stripe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceSpec {
    pub lookup_key: String,
    pub amount: Money,
    /// `None` for one-time prices.
    pub interval: Option<BillingInterval>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub key: PlanKey,
    pub name: String,
    pub description: String,
    pub monthly: Option<PriceSpec>,
    pub yearly: Option<PriceSpec>,
    pub trial_days: Option<u32>,
    /// The trial asks for no card (`None`: it does).
    #[serde(default)]
    pub trial_without_card: Option<TrialWithoutCard>,
    pub features: Vec<String>,
    /// Feature keys the plan entitles to: Stripe Entitlements features (`lookup_key`), attached
    /// to the plan's product by `catalog sync`. The free plan's apply without a subscription.
    pub entitlements: Vec<String>,
    pub limits: BTreeMap<String, u64>,
    /// Priced per seat (`None`: one unit per subscription).
    pub per_seat: Option<PerSeat>,
    /// The plan the pricing page marks as recommended (at most one).
    #[serde(default)]
    pub recommended: bool,
}

impl Plan {
    /// What the yearly price saves over twelve monthly payments, when the plan has both.
    pub fn yearly_saving(&self) -> Option<super::saving::YearlySaving> {
        super::saving::YearlySaving::of(self.monthly.as_ref()?.amount.minor(), self.yearly.as_ref()?.amount.minor())
    }

    pub fn is_free(&self) -> bool {
        self.monthly.is_none() && self.yearly.is_none()
    }

    pub fn price(&self, interval: BillingInterval) -> Option<&PriceSpec> {
        match interval {
            BillingInterval::Month => self.monthly.as_ref(),
            BillingInterval::Year => self.yearly.as_ref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeItem {
    pub key: PlanKey,
    pub name: String,
    pub description: String,
    pub price: PriceSpec,
    /// Entitlement granted by buying it.
    pub grants: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub currency: Currency,
    pub plans: Vec<Plan>,
    pub one_time: Vec<OneTimeItem>,
    /// Meters and the metered prices on them (`[[meters]]`, `[[metered_prices]]`).
    #[serde(default)]
    pub usage: UsageCatalog,
    /// The platform's terms for marketplace creators (`[marketplace]`).
    #[serde(default)]
    pub marketplace: MarketplaceTerms,
    /// Customers may pause their subscription themselves from `/account`
    /// (`customers_can_pause = true`; off by default).
    #[serde(default)]
    pub customers_can_pause: bool,
}

/// `catalog.toml` as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    pub currency: String,
    #[serde(default)]
    pub plans: Vec<RawPlan>,
    #[serde(default)]
    pub one_time: Vec<RawOneTime>,
    #[serde(default)]
    pub meters: Vec<RawMeter>,
    #[serde(default)]
    pub metered_prices: Vec<RawMeteredPrice>,
    pub marketplace: Option<RawMarketplace>,
    #[serde(default)]
    pub customers_can_pause: bool,
}

/// `[marketplace]`: `fee_percent = "10"`, `max_price = 1000000` (minor units), and
/// `[[marketplace.fee_tiers]]` with `from_lifetime_sales` (minor units) and `fee_percent`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMarketplace {
    pub fee_percent: Option<String>,
    pub max_price: Option<i64>,
    #[serde(default)]
    pub fee_tiers: Vec<RawFeeTier>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeeTier {
    pub from_lifetime_sales: i64,
    pub fee_percent: String,
}

fn marketplace_terms(raw: Option<RawMarketplace>) -> Result<MarketplaceTerms, CatalogError> {
    let defaults = MarketplaceTerms::default();
    let Some(raw) = raw else { return Ok(defaults) };
    let bad = CatalogError::BadMarketplace;
    let default_rate = raw.fee_percent.map(|p| FeeRate::parse_percent(&p)).transpose().map_err(bad)?;
    let max_price = raw.max_price.unwrap_or(defaults.max_price);
    if max_price <= 0 {
        return Err(bad("max_price must be a positive whole number of minor units".into()));
    }
    let mut tiers = Vec::with_capacity(raw.fee_tiers.len());
    for tier in raw.fee_tiers {
        if tier.from_lifetime_sales <= 0 {
            return Err(bad("a fee tier's from_lifetime_sales must be positive minor units".into()));
        }
        tiers.push(FeeTier {
            from_lifetime_sales: tier.from_lifetime_sales,
            rate: FeeRate::parse_percent(&tier.fee_percent).map_err(bad)?,
        });
    }
    Ok(MarketplaceTerms { default_rate: default_rate.unwrap_or(defaults.default_rate), tiers, max_price })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Minor units per month; absent on the free tier.
    pub monthly: Option<i64>,
    /// Minor units per year.
    pub yearly: Option<i64>,
    pub trial_days: Option<u32>,
    /// `"pause"` or `"cancel"`: the trial starts without a card and, ending without one, pauses
    /// or cancels the subscription.
    pub trial_without_card: Option<TrialWithoutCard>,
    #[serde(default)]
    pub features: Vec<String>,
    /// Feature keys (Stripe Entitlements lookup keys), e.g. `["api", "priority_support"]`.
    #[serde(default)]
    pub entitlements: Vec<String>,
    #[serde(default)]
    pub limits: BTreeMap<String, u64>,
    pub per_seat: Option<PerSeat>,
    /// Marked "Recommended" on the pricing page; at most one plan.
    #[serde(default)]
    pub recommended: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOneTime {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub amount: i64,
    pub grants: Option<String>,
}

impl TryFrom<RawCatalog> for Catalog {
    type Error = CatalogError;

    fn try_from(raw: RawCatalog) -> Result<Self, Self::Error> {
        let currency = Currency::parse(&raw.currency)?;
        let mut seen = HashSet::new();
        let mut claim = |key: &PlanKey| {
            if seen.insert(key.clone()) {
                Ok(())
            } else {
                Err(CatalogError::DuplicateKey(key.to_string()))
            }
        };
        let price = |key: &PlanKey, amount: Option<i64>, interval: Option<BillingInterval>| {
            amount
                .map(|amount| {
                    if amount <= 0 {
                        return Err(CatalogError::BadAmount(key.to_string()));
                    }
                    let lookup_key = match interval {
                        Some(i) => format!("{key}_{}", i.lookup_suffix()),
                        None => format!("{key}_once"),
                    };
                    Ok(PriceSpec { lookup_key, amount: Money::new(amount, currency), interval })
                })
                .transpose()
        };

        let mut plans = Vec::with_capacity(raw.plans.len());
        for p in raw.plans {
            let key = PlanKey::parse(&p.key)?;
            claim(&key)?;
            let monthly = price(&key, p.monthly, Some(BillingInterval::Month))?;
            let yearly = price(&key, p.yearly, Some(BillingInterval::Year))?;
            match p.trial_days {
                Some(_) if monthly.is_none() && yearly.is_none() => {
                    return Err(CatalogError::TrialOnFreePlan(key.to_string()))
                }
                Some(days) if !(1..=730).contains(&days) => return Err(CatalogError::BadTrial(key.to_string())),
                None if p.trial_without_card.is_some() => {
                    return Err(CatalogError::CardlessTrialWithoutTrial(key.to_string()))
                }
                _ => {}
            }
            if let Some(seats) = p.per_seat {
                if monthly.is_none() && yearly.is_none() {
                    return Err(CatalogError::SeatsOnFreePlan(key.to_string()));
                }
                if seats.min < 1 || seats.min > seats.max || seats.max > PerSeat::STRIPE_MAX {
                    return Err(CatalogError::BadSeats(key.to_string()));
                }
            }
            for entitlement in &p.entitlements {
                check_entitlement_key(entitlement)?;
            }
            plans.push(Plan {
                key,
                name: p.name,
                description: p.description,
                monthly,
                yearly,
                trial_days: p.trial_days,
                trial_without_card: p.trial_without_card,
                features: p.features,
                entitlements: p.entitlements,
                limits: p.limits,
                per_seat: p.per_seat,
                recommended: p.recommended,
            });
        }
        let mut recommended = plans.iter().filter(|p| p.recommended);
        if let (Some(first), Some(second)) = (recommended.next(), recommended.next()) {
            return Err(CatalogError::TwoRecommended(first.key.to_string(), second.key.to_string()));
        }

        let mut one_time = Vec::with_capacity(raw.one_time.len());
        for item in raw.one_time {
            let key = PlanKey::parse(&item.key)?;
            claim(&key)?;
            let price = price(&key, Some(item.amount), None)?.ok_or(CatalogError::NoPrice(key.to_string()))?;
            one_time.push(OneTimeItem {
                key,
                name: item.name,
                description: item.description,
                price,
                grants: item.grants,
            });
        }
        let paid: Vec<&PlanKey> = plans.iter().filter(|p| p.monthly.is_some()).map(|p| &p.key).collect();
        let usage = super::usage::parse(raw.meters, raw.metered_prices, currency, &paid)?;
        let marketplace = marketplace_terms(raw.marketplace)?;
        Ok(Catalog { currency, plans, one_time, usage, marketplace, customers_can_pause: raw.customers_can_pause })
    }
}

/// A Stripe feature `lookup_key` (up to 80 characters), kept to what reads well in code.
fn check_entitlement_key(key: &str) -> Result<(), CatalogError> {
    let ok = (1..=80).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(CatalogError::BadEntitlement(key.to_string()))
    }
}

impl Catalog {
    /// Every entitlement key the paid plans name, once each, in catalog order: the features
    /// `catalog sync` makes in Stripe.
    pub fn entitlement_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for plan in self.plans.iter().filter(|p| !p.is_free()) {
            for key in &plan.entitlements {
                if !keys.contains(&key.as_str()) {
                    keys.push(key);
                }
            }
        }
        keys
    }

    pub fn plan(&self, key: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.key.as_str() == key)
    }

    /// Every price the catalog wants in Stripe, plans first.
    pub fn prices(&self) -> impl Iterator<Item = &PriceSpec> {
        self.plans
            .iter()
            .flat_map(|p| p.monthly.iter().chain(p.yearly.iter()))
            .chain(self.one_time.iter().map(|i| &i.price))
    }

    /// The plan and interval a price lookup key belongs to.
    pub fn plan_for_lookup_key(&self, lookup_key: &str) -> Option<(&Plan, BillingInterval)> {
        self.plans.iter().find_map(|plan| {
            [BillingInterval::Month, BillingInterval::Year].into_iter().find_map(|interval| {
                plan.price(interval).filter(|spec| spec.lookup_key == lookup_key).map(|_| (plan, interval))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_plan(key: &str, monthly: Option<i64>, yearly: Option<i64>) -> RawPlan {
        RawPlan {
            key: key.into(),
            name: key.into(),
            description: String::new(),
            monthly,
            yearly,
            trial_days: None,
            trial_without_card: None,
            features: vec![],
            entitlements: vec![],
            limits: BTreeMap::new(),
            per_seat: None,
            recommended: false,
        }
    }

    fn catalog(plans: Vec<RawPlan>) -> Result<Catalog, CatalogError> {
        Catalog::try_from(RawCatalog {
            currency: "usd".into(),
            plans,
            one_time: vec![],
            meters: vec![],
            metered_prices: vec![],
            marketplace: None,
            customers_can_pause: false,
        })
    }

    #[test]
    fn derives_lookup_keys_from_plan_and_interval() {
        let c = catalog(vec![raw_plan("free", None, None), raw_plan("pro", Some(2900), Some(29000))]).unwrap();
        let keys: Vec<_> = c.prices().map(|p| p.lookup_key.as_str()).collect();
        assert_eq!(keys, ["pro_monthly", "pro_yearly"]);
        assert!(c.plan("free").unwrap().is_free());
        let (plan, interval) = c.plan_for_lookup_key("pro_yearly").unwrap();
        assert_eq!((plan.key.as_str(), interval), ("pro", BillingInterval::Year));
        assert!(c.plan_for_lookup_key("pro_weekly").is_none());
    }

    #[test]
    fn refuses_bad_keys_duplicates_amounts_and_trials() {
        assert!(matches!(catalog(vec![raw_plan("Pro", Some(1), None)]), Err(CatalogError::BadKey(_))));
        assert!(matches!(
            catalog(vec![raw_plan("pro", Some(1), None), raw_plan("pro", Some(2), None)]),
            Err(CatalogError::DuplicateKey(_))
        ));
        assert!(matches!(catalog(vec![raw_plan("pro", Some(0), None)]), Err(CatalogError::BadAmount(_))));
        let mut free_trial = raw_plan("free", None, None);
        free_trial.trial_days = Some(14);
        assert!(matches!(catalog(vec![free_trial]), Err(CatalogError::TrialOnFreePlan(_))));
        let mut long_trial = raw_plan("pro", Some(100), None);
        long_trial.trial_days = Some(0);
        assert!(matches!(catalog(vec![long_trial]), Err(CatalogError::BadTrial(_))));
        let mut cardless = raw_plan("pro", Some(100), None);
        cardless.trial_without_card = Some(TrialWithoutCard::Pause);
        assert!(matches!(catalog(vec![cardless]), Err(CatalogError::CardlessTrialWithoutTrial(_))));
    }

    fn per_seat(key: &str, monthly: Option<i64>, min: u32, max: u32) -> RawPlan {
        RawPlan {
            per_seat: Some(PerSeat { min, max, removal: SeatRemoval::PeriodEnd }),
            ..raw_plan(key, monthly, None)
        }
    }

    #[test]
    fn per_seat_plans_need_sane_bounds_and_a_price() {
        let c = catalog(vec![per_seat("team", Some(1200), 1, 50)]).unwrap();
        let seats = c.plan("team").unwrap().per_seat.unwrap();
        assert_eq!((seats.min, seats.max, seats.removal), (1, 50, SeatRemoval::PeriodEnd));
        assert_eq!(seats.check(3), Ok(3));
        assert_eq!(seats.check(0), Err("Choose between 1 and 50 seats.".to_string()));
        assert!(seats.check(51).is_err());
        assert!(matches!(catalog(vec![per_seat("team", Some(1), 0, 5)]), Err(CatalogError::BadSeats(_))));
        assert!(matches!(catalog(vec![per_seat("team", Some(1), 6, 5)]), Err(CatalogError::BadSeats(_))));
        assert!(matches!(catalog(vec![per_seat("team", Some(1), 1, 1_000_000)]), Err(CatalogError::BadSeats(_))));
        assert!(matches!(catalog(vec![per_seat("free", None, 1, 5)]), Err(CatalogError::SeatsOnFreePlan(_))));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn per_seat_parses_from_toml_strictly() {
        let parse = |text: &str| toml::from_str::<RawCatalog>(text).map_err(|e| e.to_string());
        let raw = parse(
            "currency = \"usd\"\n[[plans]]\nkey = \"team\"\nname = \"Team\"\nmonthly = 1200\nper_seat = { min = 2, max = 9, removal = \"now\" }\n",
        )
        .unwrap();
        let seats = Catalog::try_from(raw).unwrap().plans[0].per_seat.unwrap();
        assert_eq!((seats.min, seats.max, seats.removal), (2, 9, SeatRemoval::Now));
        assert!(parse(
            "currency = \"usd\"\n[[plans]]\nkey = \"t\"\nname = \"T\"\nper_seat = { min = 1, max = 2, most = 3 }\n"
        )
        .is_err());
    }

    #[test]
    fn entitlement_keys_are_checked_and_listed_once_from_paid_plans() {
        let mut free = raw_plan("free", None, None);
        free.entitlements = vec!["community".into()];
        let mut starter = raw_plan("starter", Some(900), None);
        starter.entitlements = vec!["api".into()];
        let mut pro = raw_plan("pro", Some(2900), None);
        pro.entitlements = vec!["api".into(), "priority_support".into()];
        let c = catalog(vec![free, starter, pro]).unwrap();
        assert_eq!(c.entitlement_keys(), ["api", "priority_support"]);
        let mut bad = raw_plan("pro", Some(1), None);
        bad.entitlements = vec!["Priority Support".into()];
        assert!(matches!(catalog(vec![bad]), Err(CatalogError::BadEntitlement(_))));
    }

    #[test]
    fn one_plan_at_most_is_recommended_and_savings_need_both_prices() {
        let mut pro = raw_plan("pro", Some(2900), Some(29000));
        pro.recommended = true;
        let c = catalog(vec![raw_plan("starter", Some(900), None), pro]).unwrap();
        assert!(c.plan("pro").unwrap().recommended);
        assert_eq!(c.plan("pro").unwrap().yearly_saving().unwrap().months_free, Some(2));
        assert_eq!(c.plan("starter").unwrap().yearly_saving(), None);
        let mut a = raw_plan("a", Some(1), None);
        let mut b = raw_plan("b", Some(1), None);
        (a.recommended, b.recommended) = (true, true);
        assert!(matches!(catalog(vec![a, b]), Err(CatalogError::TwoRecommended(..))));
    }

    #[test]
    fn one_time_items_share_the_key_space() {
        let raw = RawCatalog {
            currency: "usd".into(),
            plans: vec![raw_plan("pro", Some(100), None)],
            one_time: vec![RawOneTime {
                key: "pro".into(),
                name: "x".into(),
                description: String::new(),
                amount: 5,
                grants: None,
            }],
            meters: vec![],
            metered_prices: vec![],
            marketplace: None,
            customers_can_pause: false,
        };
        assert!(matches!(Catalog::try_from(raw), Err(CatalogError::DuplicateKey(_))));
    }
}
