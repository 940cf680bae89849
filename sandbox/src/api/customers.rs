//! `/v1/customers` and `/v1/payment_methods`: parameters read here, changes made by
//! `engine::customers` and `engine::payment_methods`.

use serde_json::{json, Value};

use crate::cards;
use crate::engine::customers::{self, CustomerFields, CustomerUpdate, NewCustomer};
use crate::engine::pay;
use crate::engine::payment_methods::{self, NewCard, PaymentMethodUpdate};
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::store::{
    created_matches, new_metadata, paginate, param_clearable, param_i64, param_nonempty, param_str, public, Ctx,
};

/// The customer fields in `params` (`default_payment_method` included).
fn customer_fields(params: &Value) -> CustomerFields {
    let fields = ["email", "name", "description", "phone", "preferred_locales"]
        .into_iter()
        .filter_map(|key| param_clearable(params, key).map(|value| (key, value)))
        .collect();
    let address = params.get("address").map(|address| if address == "" { Value::Null } else { merge_address(address) });
    let shipping = params.get("shipping").map(|shipping| {
        if shipping == "" {
            Value::Null
        } else {
            json!({"address": merge_address(&shipping["address"]), "name": shipping["name"], "phone": shipping.get("phone").cloned().unwrap_or(Value::Null)})
        }
    });
    CustomerFields {
        fields,
        address,
        shipping,
        metadata: params.get("metadata").cloned(),
        balance: param_i64(params, "balance").transpose(),
        default_payment_method: params
            .get("invoice_settings")
            .and_then(|settings| settings.get("default_payment_method"))
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

fn merge_address(address: &Value) -> Value {
    let mut out = objects::null_address();
    if let Value::Object(map) = address {
        for (key, value) in map {
            out[key] = value.clone();
        }
    }
    out
}

/// Customers take no `coupon` or `promotion_code` since 2025-03-31.basil (discounts go on
/// subscriptions, invoices and Checkout): refused as Stripe refuses a parameter it does not know.
fn refuse_removed_discount_params(params: &Value) -> ApiResult<()> {
    match ["coupon", "promotion_code"].into_iter().find(|name| params.get(*name).is_some()) {
        Some(name) => Err(ApiError::invalid(format!("Received unknown parameter: {name}"))
            .with_code("parameter_unknown")
            .with_param(name)),
        None => Ok(()),
    }
}

pub fn create(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    refuse_removed_discount_params(params)?;
    let metadata = new_metadata(params)?;
    // The metadata is already in place; merging it again changes nothing.
    let fields = CustomerFields { metadata: None, ..customer_fields(params) };
    let new_customer = NewCustomer {
        id: param_nonempty(params, "id").map(str::to_string),
        test_clock: param_nonempty(params, "test_clock").map(str::to_string),
        metadata,
        fields,
        attach: param_nonempty(params, "payment_method")
            .or_else(|| param_nonempty(params, "source"))
            .map(str::to_string),
        attached_is_default: params.get("source").is_some(),
    };
    customers::create(ctx, new_customer)
}

pub fn retrieve(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let customer = ctx.find("customer", id, "id")?;
    Ok(public(&customer))
}

pub fn update(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    refuse_removed_discount_params(params)?;
    let change = CustomerUpdate {
        attach: param_nonempty(params, "source")
            .or_else(|| param_nonempty(params, "payment_method"))
            .map(str::to_string),
        fields: customer_fields(params),
    };
    customers::update(ctx, id, change)
}

pub fn delete(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    customers::delete(ctx, id)
}

pub fn list(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let email = param_str(params, "email");
    let clock = param_str(params, "test_clock");
    let mut items = Vec::new();
    for customer in ctx.all("customer") {
        if email.is_some_and(|e| customer["email"] != e) || clock.is_some_and(|t| customer["test_clock"] != t) {
            continue;
        }
        if !created_matches(params, "created", customer["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(customer);
    }
    paginate(items, params, "/v1/customers")
}

/// One clause of Stripe's search query language: `field:'value'`, `field~'value'`,
/// `metadata['key']:'value'`, `field>number`.
#[derive(Debug, PartialEq)]
pub struct Clause {
    pub field: String,
    pub op: String,
    pub value: String,
    pub negate: bool,
}

/// Parses `a:'x' AND b~'y'` (or `OR`). Returns (clauses, is_or).
pub fn parse_query(query: &str) -> ApiResult<(Vec<Clause>, bool)> {
    let mut clauses = Vec::new();
    let mut is_or = false;
    let mut rest = query.trim();
    while !rest.is_empty() {
        let negate = rest.starts_with('-');
        if negate {
            rest = &rest[1..];
        }
        let op_pos = rest
            .find([':', '~', '>', '<'])
            .ok_or_else(|| ApiError::invalid_value("query", format!("Invalid search query: {query}")))?;
        let field = rest[..op_pos].trim().to_string();
        let mut after = &rest[op_pos..];
        let op = if after.starts_with(">=") || after.starts_with("<=") { &after[..2] } else { &after[..1] };
        after = &after[op.len()..];
        let (value, remaining) = if let Some(stripped) = after.strip_prefix(['\'', '"']) {
            let quote = after.chars().next().unwrap_or('\'');
            let end = stripped
                .find(quote)
                .ok_or_else(|| ApiError::invalid_value("query", format!("Invalid search query: {query}")))?;
            (stripped[..end].to_string(), &stripped[end + 1..])
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (after[..end].to_string(), &after[end..])
        };
        let field = field.replace("metadata[\"", "metadata['").replace("\"]", "']");
        clauses.push(Clause { field, op: op.to_string(), value, negate });
        rest = remaining.trim_start();
        if let Some(r) = rest.strip_prefix("AND ").or_else(|| rest.strip_prefix("and ")) {
            rest = r.trim_start();
        } else if let Some(r) = rest.strip_prefix("OR ").or_else(|| rest.strip_prefix("or ")) {
            is_or = true;
            rest = r.trim_start();
        }
    }
    Ok((clauses, is_or))
}

fn field_value(obj: &Value, field: &str) -> Option<String> {
    if let Some(key) = field.strip_prefix("metadata['").and_then(|f| f.strip_suffix("']")) {
        return obj["metadata"][key].as_str().map(str::to_string);
    }
    match &obj[field] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn matches_query(obj: &Value, clauses: &[Clause], is_or: bool) -> bool {
    let test = |clause: &Clause| {
        let value = field_value(obj, &clause.field);
        let matched = match clause.op.as_str() {
            ":" => {
                value.as_deref().is_some_and(|value| value.eq_ignore_ascii_case(&clause.value))
                    || (clause.value == "null" && value.is_none())
            }
            "~" => value.as_deref().is_some_and(|value| value.to_lowercase().contains(&clause.value.to_lowercase())),
            op => {
                let (Some(a), Ok(b)) = (value.and_then(|value| value.parse::<i64>().ok()), clause.value.parse::<i64>())
                else {
                    return false;
                };
                match op {
                    ">" => a > b,
                    "<" => a < b,
                    ">=" => a >= b,
                    "<=" => a <= b,
                    _ => false,
                }
            }
        };
        matched != clause.negate
    };
    if is_or {
        clauses.iter().any(test)
    } else {
        clauses.iter().all(test)
    }
}

/// A `search_result` object over `kind`.
pub fn search_kind(ctx: &Ctx, kind: &str, params: &Value, url: &str) -> ApiResult<Value> {
    let query = param_nonempty(params, "query").ok_or_else(|| ApiError::missing("query"))?;
    let (clauses, is_or) = parse_query(query)?;
    let limit = param_i64(params, "limit")?.unwrap_or(10).clamp(1, 100) as usize;
    let offset: usize = param_str(params, "page").and_then(|s| s.parse().ok()).unwrap_or(0);
    let all: Vec<Value> = ctx.all(kind).into_iter().filter(|o| matches_query(o, &clauses, is_or)).map(public).collect();
    let total = all.len();
    let page: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    let has_more = offset + page.len() < total;
    Ok(json!({
        "object": "search_result",
        "data": page,
        "has_more": has_more,
        "next_page": if has_more { json!((offset + limit).to_string()) } else { Value::Null },
        "total_count": total,
        "url": url,
    }))
}

pub fn search(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    search_kind(ctx, "customer", params, "/v1/customers/search")
}

// ---------------------------------------------------------------------------------------------
// Payment methods

pub fn create_payment_method(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let kind = param_str(params, "type").unwrap_or("card");
    if kind != "card" {
        return Err(ApiError::invalid_value(
            "type",
            format!("The sandbox only supports `type=card` payment methods (got `{kind}`)."),
        ));
    }
    let card_params = params.get("card").cloned().unwrap_or(json!({}));
    let card = if let Some(token) = param_nonempty(&card_params, "token") {
        cards::by_test_id(token).ok_or_else(|| ApiError::not_found("token", token, "card[token]"))?
    } else {
        let number = param_nonempty(&card_params, "number").ok_or_else(|| ApiError::missing("card[number]"))?;
        cards::by_number(number).ok_or_else(|| {
            ApiError::card("incorrect_number", None, "Your card number is incorrect.").with_param("card[number]")
        })?
    };
    let new_card = NewCard {
        card,
        exp_month: param_i64(&card_params, "exp_month")?.unwrap_or(12),
        exp_year: param_i64(&card_params, "exp_year")?.unwrap_or(2034),
        billing_details: billing_details(params),
        metadata: new_metadata(params)?,
    };
    Ok(payment_methods::create_card(ctx, new_card))
}

/// `billing_details[email|name|phone]` and `billing_details[address][…]` as given (Stripe.js's
/// Payment Element sends the postal code there).
fn billing_details(params: &Value) -> Vec<(&'static str, Value)> {
    let Some(details) = params.get("billing_details") else { return Vec::new() };
    let mut given: Vec<(&'static str, Value)> = ["email", "name", "phone"]
        .into_iter()
        .filter_map(|key| details.get(key).map(|value| (key, value.clone())))
        .collect();
    if let Some(Value::Object(address)) = details.get("address") {
        let mut full = crate::objects::null_address();
        for key in ["city", "country", "line1", "line2", "postal_code", "state"] {
            if let Some(value) = address.get(key) {
                full[key] = value.clone();
            }
        }
        given.push(("address", full));
    }
    given
}

pub fn get_payment_method(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    if cards::by_test_id(id).is_some() {
        // Retrieving a test id shows the card it stands for (not stored).
        return payment_methods::test_card(ctx, id);
    }
    Ok(public(&ctx.find("payment_method", id, "payment_method")?))
}

pub fn update_payment_method(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let mut card = Vec::new();
    if let Some(card_params) = params.get("card") {
        for key in ["exp_month", "exp_year"] {
            if let Some(value) = param_i64(card_params, key)? {
                card.push((key, value));
            }
        }
    }
    let change = PaymentMethodUpdate {
        metadata: params.get("metadata").cloned(),
        billing_details: billing_details(params),
        card,
    };
    payment_methods::update(ctx, id, change)
}

pub fn attach(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let customer = param_nonempty(params, "customer").ok_or_else(|| ApiError::missing("customer"))?;
    pay::attach(ctx, id, customer).map(|payment_method| public(&payment_method))
}

pub fn detach(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    payment_methods::detach(ctx, id)
}

pub fn list_payment_methods(ctx: &mut Ctx, customer: &str, params: &Value) -> ApiResult<Value> {
    ctx.find("customer", customer, "customer")?;
    let kind = param_str(params, "type");
    let items: Vec<Value> = ctx
        .all("payment_method")
        .into_iter()
        .filter(|payment_method| {
            payment_method["customer"] == customer && kind.is_none_or(|t| payment_method["type"] == t)
        })
        .map(public)
        .collect();
    paginate(items, params, &format!("/v1/customers/{customer}/payment_methods"))
}

pub fn list_all_payment_methods(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let kind = param_str(params, "type");
    let items: Vec<Value> = ctx
        .all("payment_method")
        .into_iter()
        .filter(|payment_method| {
            customer.is_none_or(|c| payment_method["customer"] == c)
                && payment_method["customer"].is_string()
                && kind.is_none_or(|t| payment_method["type"] == t)
        })
        .map(public)
        .collect();
    paginate(items, params, "/v1/payment_methods")
}

pub fn retrieve_payment_method(ctx: &mut Ctx, customer: &str, id: &str) -> ApiResult<Value> {
    let payment_method = ctx.find("payment_method", id, "payment_method")?;
    if payment_method["customer"] != customer {
        return Err(ApiError::not_found("PaymentMethod", id, "payment_method"));
    }
    Ok(public(&payment_method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_query_parses_and_matches() {
        let (c, or) = parse_query("email:'a@b.com' AND metadata['user_id']:'42'").unwrap();
        assert!(!or);
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].field, "metadata['user_id']");
        let obj = json!({"email": "A@b.com", "metadata": {"user_id": "42"}, "created": 5});
        assert!(matches_query(&obj, &c, or));
        let (c2, _) = parse_query("email:'x@b.com'").unwrap();
        assert!(!matches_query(&obj, &c2, false));
        let (c3, _) = parse_query("email~'b.com' AND created>4").unwrap();
        assert!(matches_query(&obj, &c3, false));
        let (c4, or4) = parse_query("email:'x@y' OR email:'a@b.com'").unwrap();
        assert!(or4 && matches_query(&obj, &c4, or4));
        assert!(parse_query("nonsense").is_err());
    }
}
