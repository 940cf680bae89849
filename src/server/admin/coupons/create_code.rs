//! The admin creates a promotion code on a coupon: the code customers type at Checkout,
//! optionally limited in redemptions, to a last day, to customers who have never paid, and to
//! orders of at least an amount. Audited as `promotion_code.created`.

use serde_json::json;
use stripe_product::promotion_code::{
    CreatePromotionCode, CreatePromotionCodePromotion, CreatePromotionCodePromotionType,
    CreatePromotionCodeRestrictions,
};

use super::{already_done, audit_once, fresh_request, stripe_refusal, through_day};
use crate::domain::coupon::{parse_limit, parse_minimum, PromotionCodeTerms, PromotionCodeText};
use crate::domain::money::Currency;
use crate::server::admin::audit::{Actor, Record};
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::{db, state::AppState};

/// The promotion code form as posted.
#[derive(Debug, Default, Clone)]
pub struct CodeForm {
    pub coupon: String,
    pub code: String,
    pub max_redemptions: String,
    /// `YYYY-MM-DD`: the code works through that day (UTC).
    pub expires_on: String,
    /// The checkbox: present when ticked.
    pub first_time_only: bool,
    /// The smallest order it applies to, in the catalog's currency; empty: any.
    pub minimum: String,
}

impl CodeForm {
    pub fn parse(&self, currency: Currency, now: i64) -> Result<PromotionCodeTerms, FormError> {
        let code = PromotionCodeText::parse(&self.code).map_err(refused)?;
        let max_redemptions = parse_limit(&self.max_redemptions).map_err(refused)?;
        let expires_at = through_day(&self.expires_on, "Expires", now)?;
        let minimum = parse_minimum(&self.minimum, currency).map_err(refused)?;
        Ok(PromotionCodeTerms { code, max_redemptions, expires_at, first_time_only: self.first_time_only, minimum })
    }
}

fn stripe_request(coupon: &str, terms: &PromotionCodeTerms) -> anyhow::Result<CreatePromotionCode> {
    let mut promotion = CreatePromotionCodePromotion::new(CreatePromotionCodePromotionType::Coupon);
    promotion.coupon = Some(coupon.to_string());
    let mut create = CreatePromotionCode::new(promotion).code(terms.code.as_str());
    if let Some(max) = terms.max_redemptions {
        create = create.max_redemptions(i64::from(max));
    }
    if let Some(at) = terms.expires_at {
        create = create.expires_at(at);
    }
    if terms.first_time_only || terms.minimum.is_some() {
        let mut restrictions = CreatePromotionCodeRestrictions::new();
        restrictions.first_time_transaction = terms.first_time_only.then_some(true);
        if let Some(minimum) = terms.minimum {
            let currency = minimum
                .currency()
                .as_str()
                .parse::<stripe_types::Currency>()
                .map_err(|_| anyhow::anyhow!("currency {} unknown to Stripe", minimum.currency()))?;
            restrictions.minimum_amount = Some(minimum.minor());
            restrictions.minimum_amount_currency = Some(currency);
        }
        create = create.restrictions(restrictions);
    }
    Ok(create)
}

/// Creates the promotion code in Stripe and audits it once.
pub async fn create(state: &AppState, actor: &Actor, form: &CodeForm, token: &str) -> Result<Next, FormError> {
    let coupon = form.coupon.trim();
    if coupon.is_empty() {
        return Err(refused("Choose the coupon the code is for."));
    }
    let currency = state.prices.current().catalog.currency;
    let terms = form.parse(currency, db::now())?;
    let Some(key) = fresh_request(state, token).await? else {
        return already_done();
    };
    let created = state
        .stripe_client
        .send(&stripe_request(coupon, &terms)?, Some(&key))
        .await
        .map_err(|error| stripe_refusal(error, "the promotion code"))?;
    let after = json!({
        "id": created.id.as_str(),
        "code": terms.code.as_str(),
        "coupon": coupon,
        "max_redemptions": terms.max_redemptions,
        "expires_at": terms.expires_at,
        "first_time_transaction": terms.first_time_only,
        "minimum_amount": terms.minimum.map(|m| m.minor()),
        "minimum_amount_currency": terms.minimum.map(|m| m.currency().as_str().to_string()),
    })
    .to_string();
    let record = Record {
        action: "promotion_code.created",
        subject_type: "promotion_code",
        subject_id: created.id.as_str(),
        customer_id: None,
        before: None,
        after: Some(&after),
    };
    audit_once(state, actor, record, &key).await?;
    Ok(Next::Back(format!("Promotion code {} created on coupon {coupon}.", terms.code.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(form: &CodeForm) -> String {
        match form.parse(Currency::parse("usd").unwrap(), 1_800_000_000) {
            Err(FormError::Refused(message)) => message,
            other => panic!("{form:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn the_form_becomes_a_code_and_its_restrictions() {
        let form = CodeForm {
            coupon: "FREEMONTH".into(),
            code: "welcome1".into(),
            max_redemptions: "50".into(),
            first_time_only: true,
            minimum: "10".into(),
            ..Default::default()
        };
        let terms = form.parse(Currency::parse("usd").unwrap(), 1_800_000_000).unwrap();
        assert_eq!(terms.code.as_str(), "WELCOME1");
        assert_eq!((terms.max_redemptions, terms.first_time_only), (Some(50), true));
        assert_eq!(terms.minimum.map(|m| m.minor()), Some(1000));
        assert!(refusal(&CodeForm { code: "NO WAY".into(), ..form.clone() }).starts_with("Code:"));
        assert!(refusal(&CodeForm { expires_on: "2020-02-02".into(), ..form.clone() }).contains("future"));
        assert!(refusal(&CodeForm { minimum: "-3".into(), ..form }).starts_with("Minimum order:"));
    }
}
