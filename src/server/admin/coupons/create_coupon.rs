//! The admin creates a coupon: percent or amount off (in the catalog's currency), once, for some
//! months or forever, optionally limited in redemptions, to a last day, and to some plans
//! (their Stripe products). Audited as `coupon.created`.

use serde_json::json;
use stripe_product::coupon::{CreateCoupon, CreateCouponAppliesTo};

use super::{already_done, audit_once, fresh_request, stripe_refusal, through_day};
use crate::domain::catalog::{Catalog, PlanKey};
use crate::domain::coupon::{parse_limit, CouponDuration, CouponTerms, Off};
use crate::server::admin::audit::{Actor, Record};
use crate::server::catalog::sync::product_id;
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::{db, state::AppState};

/// The coupon form as posted.
#[derive(Debug, Default, Clone)]
pub struct CouponForm {
    pub name: String,
    pub percent_off: String,
    pub amount_off: String,
    pub duration: String,
    pub months: String,
    pub max_redemptions: String,
    /// `YYYY-MM-DD`: redeemable through that day (UTC).
    pub redeem_by: String,
    /// Plan keys; none: every plan.
    pub plans: Vec<String>,
}

impl CouponForm {
    /// The coupon the form describes, or what is wrong with it.
    pub fn parse(&self, catalog: &Catalog, now: i64) -> Result<CouponTerms, FormError> {
        let name = CouponTerms::parse_name(&self.name).map_err(refused)?;
        let off = Off::parse(&self.percent_off, &self.amount_off, catalog.currency).map_err(refused)?;
        let duration = CouponDuration::parse(&self.duration, &self.months).map_err(refused)?;
        let max_redemptions = parse_limit(&self.max_redemptions).map_err(refused)?;
        let redeem_by = through_day(&self.redeem_by, "Redeem by", now)?;
        let mut plans = Vec::new();
        for key in self.plans.iter().map(|key| key.trim()).filter(|key| !key.is_empty()) {
            match catalog.plan(key).filter(|plan| !plan.is_free()) {
                Some(plan) if !plans.contains(&plan.key) => plans.push(plan.key.clone()),
                Some(_) => {}
                None => return Err(refused(format!("Plans: {key:?} is not a paid plan of the catalog."))),
            }
        }
        Ok(CouponTerms { name, off, duration, max_redemptions, redeem_by, plans })
    }
}

/// What Stripe is asked to create.
fn stripe_request(terms: &CouponTerms) -> anyhow::Result<CreateCoupon> {
    let mut create = CreateCoupon::new().duration(match terms.duration {
        CouponDuration::Once => stripe_shared::CouponDuration::Once,
        CouponDuration::Repeating { .. } => stripe_shared::CouponDuration::Repeating,
        CouponDuration::Forever => stripe_shared::CouponDuration::Forever,
    });
    if let Some(months) = terms.duration.months() {
        create = create.duration_in_months(i64::from(months));
    }
    create = match terms.off {
        // Basis points to Stripe's decimal percentage (1250 → 12.5), exact for two decimals.
        Off::Percent(rate) => create.percent_off(f64::from(rate.bps()) / 100.0),
        Off::Amount(money) => {
            let currency = money
                .currency()
                .as_str()
                .parse::<stripe_types::Currency>()
                .map_err(|_| anyhow::anyhow!("currency {} unknown to Stripe", money.currency()))?;
            create.amount_off(money.minor()).currency(currency)
        }
    };
    if let Some(name) = &terms.name {
        create = create.name(name.clone());
    }
    if let Some(max) = terms.max_redemptions {
        create = create.max_redemptions(i64::from(max));
    }
    if let Some(at) = terms.redeem_by {
        create = create.redeem_by(at);
    }
    if !terms.plans.is_empty() {
        let products = terms.plans.iter().map(|key| product_id(key.as_str())).collect();
        create = create.applies_to(CreateCouponAppliesTo { products: Some(products) });
    }
    Ok(create)
}

/// How the audit log records the coupon's terms.
fn standing(id: &str, terms: &CouponTerms) -> String {
    let (percent_off_bps, amount_off, currency) = match terms.off {
        Off::Percent(rate) => (Some(rate.bps()), None, None),
        Off::Amount(money) => (None, Some(money.minor()), Some(money.currency().as_str().to_string())),
    };
    json!({
        "id": id,
        "name": terms.name,
        "percent_off_bps": percent_off_bps,
        "amount_off": amount_off,
        "currency": currency,
        "duration": terms.duration.as_str(),
        "duration_in_months": terms.duration.months(),
        "max_redemptions": terms.max_redemptions,
        "redeem_by": terms.redeem_by,
        "plans": terms.plans.iter().map(PlanKey::as_str).collect::<Vec<_>>(),
    })
    .to_string()
}

/// Creates the coupon in Stripe and audits it once.
pub async fn create(state: &AppState, actor: &Actor, form: &CouponForm, token: &str) -> Result<Next, FormError> {
    let terms = form.parse(&state.prices.current().catalog, db::now())?;
    let Some(key) = fresh_request(state, token).await? else {
        return already_done();
    };
    let coupon = state
        .stripe_client
        .send(&stripe_request(&terms)?, Some(&key))
        .await
        .map_err(|error| stripe_refusal(error, "the coupon"))?;
    let id = coupon.id.as_str();
    let after = standing(id, &terms);
    let record = Record {
        action: "coupon.created",
        subject_type: "coupon",
        subject_id: id,
        customer_id: None,
        before: None,
        after: Some(&after),
    };
    audit_once(state, actor, record, &key).await?;
    Ok(Next::Back(format!("Coupon {id} created: {} {}.", terms.off, terms.duration)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn catalog() -> Catalog {
        crate::server::catalog::parse(include_str!("../../../../catalog.toml")).unwrap()
    }

    fn refusal(form: &CouponForm) -> String {
        match form.parse(&catalog(), NOW) {
            Err(FormError::Refused(message)) => message,
            other => panic!("{form:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn the_form_becomes_terms_with_plans_from_the_catalog() {
        let form = CouponForm {
            percent_off: "100".into(),
            duration: "repeating".into(),
            months: "1".into(),
            redeem_by: "2027-01-31".into(),
            plans: vec!["pro".into(), "pro".into(), " ".into()],
            ..Default::default()
        };
        let terms = form.parse(&catalog(), NOW).unwrap();
        assert_eq!(terms.duration, CouponDuration::Repeating { months: 1 });
        assert_eq!(terms.plans.iter().map(PlanKey::as_str).collect::<Vec<_>>(), ["pro"]);
        // 2027-01-31 23:59:59 UTC: redeemable through the whole day.
        assert_eq!(terms.redeem_by, Some(1_801_439_999));
        let bad_plan = CouponForm { plans: vec!["free".into()], ..form };
        assert!(refusal(&bad_plan).contains(r#""free" is not a paid plan"#));
    }

    #[test]
    fn bad_input_is_refused_with_the_reason() {
        let base = CouponForm { amount_off: "5".into(), duration: "once".into(), ..Default::default() };
        assert!(base.parse(&catalog(), NOW).is_ok());
        assert!(refusal(&CouponForm { percent_off: "10".into(), ..base.clone() }).contains("not both"));
        assert!(refusal(&CouponForm { redeem_by: "2020-01-01".into(), ..base.clone() }).contains("future"));
        assert!(refusal(&CouponForm { redeem_by: "soon".into(), ..base.clone() }).contains("a date like"));
        assert!(refusal(&CouponForm { max_redemptions: "0".into(), ..base.clone() }).contains("Maximum"));
        assert!(refusal(&CouponForm { duration: "repeating".into(), ..base.clone() }).contains("1 to 36 months"));
        assert!(refusal(&CouponForm { name: "n".repeat(41), ..base }).contains("at most 40"));
    }
}
