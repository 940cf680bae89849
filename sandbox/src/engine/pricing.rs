//! What a price charges for a quantity, in exact minor units: per unit (packages through
//! `transform_quantity`) or by tiers (`graduated` or `volume`). Decimal amounts
//! (`unit_amount_decimal`, up to 12 places on Stripe) are kept as integers scaled by 10^12 and
//! rounded once, half away from zero, at the end.

use serde_json::Value;

/// 10^12: Stripe's decimal amounts have at most 12 decimal places.
const SCALE: i128 = 1_000_000_000_000;

/// A decimal string of minor units (`"0.25"`, `"12"`) scaled by 10^12, exactly; `None` if it is
/// not a plain decimal with at most 12 places.
pub fn parse_decimal(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if (whole.is_empty() && fraction.is_empty())
        || fraction.len() > 12
        || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
        || whole.len() > 20
    {
        return None;
    }
    let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let fraction: i128 = if fraction.is_empty() { 0 } else { format!("{fraction:0<12}").parse().ok()? };
    let value = whole * SCALE + fraction;
    Some(if negative { -value } else { value })
}

/// A scaled amount as whole minor units, if it is one.
pub fn whole_units(scaled: i128) -> Option<i64> {
    (scaled % SCALE == 0).then(|| i64::try_from(scaled / SCALE).ok()).flatten()
}

/// A scaled amount rounded to whole minor units, half away from zero.
fn round(scaled: i128) -> i64 {
    let half = SCALE / 2;
    let rounded = if scaled >= 0 { (scaled + half) / SCALE } else { (scaled - half) / SCALE };
    rounded as i64
}

/// The scaled amount of `field` (`unit_amount`, `flat_amount`), preferring its `_decimal` form.
fn scaled(object: &Value, field: &str) -> i128 {
    object[format!("{field}_decimal")]
        .as_str()
        .and_then(parse_decimal)
        .or_else(|| object[field].as_i64().map(|amount| amount as i128 * SCALE))
        .unwrap_or(0)
}

/// The quantity a per-unit price bills: divided into packages by `transform_quantity`, rounded
/// up or down as it says.
pub fn transformed_quantity(price: &Value, quantity: i64) -> i64 {
    let transform = &price["transform_quantity"];
    let Some(divide_by) = transform["divide_by"].as_i64().filter(|d| *d > 0) else { return quantity };
    if transform["round"] == "up" {
        (quantity + divide_by - 1).div_euclid(divide_by)
    } else {
        quantity.div_euclid(divide_by)
    }
}

/// What `price` charges for `quantity` (negative quantities bill as none).
pub fn amount_for(price: &Value, quantity: i64) -> i64 {
    let quantity = quantity.max(0);
    if price["billing_scheme"] == "tiered" {
        let tiers = price["tiers"].as_array().map(Vec::as_slice).unwrap_or_default();
        return round(if price["tiers_mode"] == "volume" {
            volume(tiers, quantity)
        } else {
            graduated(tiers, quantity)
        });
    }
    round(scaled(price, "unit_amount") * transformed_quantity(price, quantity) as i128)
}

/// Volume tiers: the tier the whole quantity falls in prices every unit (0 falls in the first).
fn volume(tiers: &[Value], quantity: i64) -> i128 {
    let Some(tier) = tiers.iter().find(|tier| tier["up_to"].as_i64().is_none_or(|cap| quantity <= cap)) else {
        return 0;
    };
    scaled(tier, "flat_amount") + scaled(tier, "unit_amount") * quantity as i128
}

/// Graduated tiers: each tier prices the units within it, plus its flat fee once reached (the
/// first tier is reached even at 0, as with volume tiers).
fn graduated(tiers: &[Value], quantity: i64) -> i128 {
    let mut total = 0;
    let mut floor = 0;
    for (i, tier) in tiers.iter().enumerate() {
        let cap = tier["up_to"].as_i64();
        let units = (cap.map_or(quantity, |cap| quantity.min(cap)) - floor).max(0);
        if units > 0 || i == 0 {
            total += scaled(tier, "flat_amount") + scaled(tier, "unit_amount") * units as i128;
        }
        match cap {
            Some(cap) if quantity > cap => floor = cap,
            _ => break,
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tier(up_to: Option<i64>, unit: i64, flat: i64) -> Value {
        json!({"up_to": up_to, "unit_amount": unit, "unit_amount_decimal": unit.to_string(), "flat_amount": flat, "flat_amount_decimal": flat.to_string()})
    }

    fn tiered(mode: &str) -> Value {
        // 0–1000 free (flat 500), 1001–5000 at 2, beyond at 1.
        json!({"billing_scheme": "tiered", "tiers_mode": mode, "tiers": [
            tier(Some(1000), 0, 500), tier(Some(5000), 2, 0), tier(None, 1, 100),
        ]})
    }

    #[test]
    fn graduated_tiers_price_each_band() {
        let price = tiered("graduated");
        assert_eq!(amount_for(&price, 0), 500);
        assert_eq!(amount_for(&price, 1000), 500);
        assert_eq!(amount_for(&price, 1001), 502);
        assert_eq!(amount_for(&price, 5000), 500 + 4000 * 2);
        assert_eq!(amount_for(&price, 6000), 500 + 8000 + 100 + 1000);
    }

    #[test]
    fn volume_tiers_price_every_unit_at_the_reached_tier() {
        let price = tiered("volume");
        assert_eq!(amount_for(&price, 0), 500);
        assert_eq!(amount_for(&price, 1000), 500);
        assert_eq!(amount_for(&price, 1001), 2002);
        assert_eq!(amount_for(&price, 6000), 100 + 6000);
    }

    #[test]
    fn packages_round_up_or_down() {
        let up = json!({"billing_scheme": "per_unit", "unit_amount": 1000, "transform_quantity": {"divide_by": 60, "round": "up"}});
        assert_eq!(amount_for(&up, 150), 3000, "150 minutes bill 3 hours");
        assert_eq!(amount_for(&up, 0), 0);
        let down = json!({"billing_scheme": "per_unit", "unit_amount": 1000, "transform_quantity": {"divide_by": 60, "round": "down"}});
        assert_eq!(amount_for(&down, 150), 2000);
        assert_eq!(amount_for(&down, -5), 0, "negative usage bills nothing");
    }

    #[test]
    fn decimal_unit_amounts_stay_exact_until_the_end() {
        let price = json!({"billing_scheme": "per_unit", "unit_amount": null, "unit_amount_decimal": "0.015"});
        assert_eq!(amount_for(&price, 1000), 15);
        assert_eq!(amount_for(&price, 100), 2, "1.5 rounds half away from zero");
        assert_eq!(amount_for(&price, 33), 0);
        assert_eq!(parse_decimal("12"), Some(12 * SCALE));
        assert_eq!(parse_decimal("-0.5"), Some(-SCALE / 2));
        for bad in ["", ".", "1.2.3", "abc", "0.1234567890123", "1e3"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }
}
