//! Customers and payment methods.

use serde_json::{json, Value};

use crate::engine::pay;
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::store::{
    created_matches, merge_metadata, new_metadata, paginate, param_bool, param_i64, param_nonempty, param_str, public,
    Ctx,
};
use crate::util::new_id;

fn apply_fields(ctx: &mut Ctx, c: &mut Value, params: &Value) -> ApiResult<()> {
    for k in ["email", "name", "description", "phone", "preferred_locales"] {
        if let Some(v) = params.get(k) {
            c[k] = match v {
                Value::String(s) if s.is_empty() => Value::Null,
                other => other.clone(),
            };
        }
    }
    if let Some(a) = params.get("address") {
        c["address"] = if a == "" { Value::Null } else { merge_address(a) };
    }
    if let Some(s) = params.get("shipping") {
        c["shipping"] = if s == "" {
            Value::Null
        } else {
            json!({"address": merge_address(&s["address"]), "name": s["name"], "phone": s.get("phone").cloned().unwrap_or(Value::Null)})
        };
    }
    if params.get("metadata").is_some() {
        c["metadata"] = merge_metadata(&c["metadata"], params)?;
    }
    if let Some(b) = param_i64(params, "balance")? {
        c["balance"] = json!(b);
    }
    if let Some(pm) =
        params.get("invoice_settings").and_then(|s| s.get("default_payment_method")).and_then(Value::as_str)
    {
        if pm.is_empty() {
            c["invoice_settings"]["default_payment_method"] = Value::Null;
        } else {
            let customer_id = c["id"].as_str().unwrap_or_default().to_string();
            c["invoice_settings"]["default_payment_method"] =
                json!(crate::engine::customers::default_payment_method_id(ctx, &customer_id, pm)?);
        }
    }
    Ok(())
}

fn merge_address(a: &Value) -> Value {
    let mut out = objects::null_address();
    if let Value::Object(m) = a {
        for (k, v) in m {
            out[k] = v.clone();
        }
    }
    out
}

pub fn create(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let id = param_nonempty(params, "id").map(str::to_string).unwrap_or_else(|| new_id("cus"));
    if ctx.get("customer", &id).is_some() {
        return Err(ApiError::invalid_value("id", "Customer already exists.").with_code("resource_already_exists"));
    }
    let clock = param_nonempty(params, "test_clock").map(str::to_string);
    let now = match &clock {
        Some(c) => ctx.find("test_helpers.test_clock", c, "test_clock")?["frozen_time"].as_i64().unwrap_or(0),
        None => ctx.now(),
    };
    let mut c = objects::customer(&id, now);
    c["test_clock"] = json!(clock);
    c["metadata"] = new_metadata(params)?;
    // Fields other than default_payment_method first; the payment method must be attached before.
    let mut p2 = params.clone();
    let default_pm =
        p2.get_mut("invoice_settings").and_then(|s| s.as_object_mut()).and_then(|s| s.remove("default_payment_method"));
    apply_fields(ctx, &mut c, &p2)?;
    ctx.put("customer", c.clone());
    ctx.emit("customer.created", &c, None);
    let attach_pm = param_nonempty(params, "payment_method")
        .map(str::to_string)
        .or_else(|| param_nonempty(params, "source").map(str::to_string));
    if let Some(pm) = attach_pm {
        let attached = pay::attach(ctx, &pm, &id);
        let attached = match attached {
            Ok(a) => a,
            Err(e) => {
                ctx.remove("customer", &id);
                ctx.events.clear();
                return Err(e);
            }
        };
        if params.get("source").is_some() {
            let mut c2 = ctx.find("customer", &id, "id")?;
            c2["invoice_settings"]["default_payment_method"] = attached["id"].clone();
            ctx.put("customer", c2);
        }
    }
    if let Some(pm) = default_pm.and_then(|v| v.as_str().map(str::to_string)) {
        let mut c2 = ctx.find("customer", &id, "id")?;
        apply_fields(ctx, &mut c2, &json!({"invoice_settings": {"default_payment_method": pm}}))?;
        ctx.put("customer", c2);
    }
    let c = ctx.find("customer", &id, "id")?;
    // The created event carries the final state.
    if let Some(ev) = ctx.events.iter_mut().find(|e| e.kind == "customer.created") {
        ev.object = public(&c);
    }
    Ok(public(&c))
}

pub fn retrieve(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let c = ctx.find("customer", id, "id")?;
    Ok(public(&c))
}

pub fn update(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("customer", id, "id")?;
    if old["deleted"] == true {
        return Err(ApiError::not_found("customer", id, "id"));
    }
    let mut c = old.clone();
    if let Some(pm) = param_nonempty(params, "source").or_else(|| param_nonempty(params, "payment_method")) {
        let attached = pay::attach(ctx, pm, id)?;
        c["invoice_settings"]["default_payment_method"] = attached["id"].clone();
    }
    apply_fields(ctx, &mut c, params)?;
    Ok(ctx.save_updated("customer", "customer.updated", &old, c))
}

pub fn delete(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let c = ctx.find("customer", id, "id")?;
    let subs: Vec<String> = ctx
        .all("subscription")
        .into_iter()
        .filter(|s| {
            s["customer"] == id && !matches!(s["status"].as_str(), Some("canceled") | Some("incomplete_expired"))
        })
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    for s in subs {
        crate::engine::subscriptions::cancel(ctx, &s, "cancellation_requested")?;
    }
    ctx.remove("customer", id);
    ctx.emit("customer.deleted", &c, None);
    Ok(json!({"id": id, "object": "customer", "deleted": true}))
}

pub fn list(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let email = param_str(params, "email");
    let clock = param_str(params, "test_clock");
    let mut items = Vec::new();
    for c in ctx.all("customer") {
        if email.is_some_and(|e| c["email"] != e) || clock.is_some_and(|t| c["test_clock"] != t) {
            continue;
        }
        if !created_matches(params, "created", c["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(c));
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
pub fn parse_query(q: &str) -> ApiResult<(Vec<Clause>, bool)> {
    let mut clauses = Vec::new();
    let mut is_or = false;
    let mut rest = q.trim();
    while !rest.is_empty() {
        let negate = rest.starts_with('-');
        if negate {
            rest = &rest[1..];
        }
        let op_pos = rest
            .find([':', '~', '>', '<'])
            .ok_or_else(|| ApiError::invalid_value("query", format!("Invalid search query: {q}")))?;
        let field = rest[..op_pos].trim().to_string();
        let mut after = &rest[op_pos..];
        let op = if after.starts_with(">=") || after.starts_with("<=") { &after[..2] } else { &after[..1] };
        after = &after[op.len()..];
        let (value, remaining) = if let Some(stripped) = after.strip_prefix(['\'', '"']) {
            let quote = after.chars().next().unwrap_or('\'');
            let end = stripped
                .find(quote)
                .ok_or_else(|| ApiError::invalid_value("query", format!("Invalid search query: {q}")))?;
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
    let test = |c: &Clause| {
        let v = field_value(obj, &c.field);
        let r = match c.op.as_str() {
            ":" => v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(&c.value)) || (c.value == "null" && v.is_none()),
            "~" => v.as_deref().is_some_and(|v| v.to_lowercase().contains(&c.value.to_lowercase())),
            op => {
                let (Some(a), Ok(b)) = (v.and_then(|v| v.parse::<i64>().ok()), c.value.parse::<i64>()) else {
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
        r != c.negate
    };
    if is_or {
        clauses.iter().any(test)
    } else {
        clauses.iter().all(test)
    }
}

/// A `search_result` object over `kind`.
pub fn search_kind(ctx: &Ctx, kind: &str, params: &Value, url: &str) -> ApiResult<Value> {
    let q = param_nonempty(params, "query").ok_or_else(|| ApiError::missing("query"))?;
    let (clauses, is_or) = parse_query(q)?;
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
    let typ = param_str(params, "type").unwrap_or("card");
    if typ != "card" {
        return Err(ApiError::invalid_value(
            "type",
            format!("The sandbox only supports `type=card` payment methods (got `{typ}`)."),
        ));
    }
    let card = params.get("card").cloned().unwrap_or(json!({}));
    let test = if let Some(tok) = param_nonempty(&card, "token") {
        crate::cards::by_test_id(tok).ok_or_else(|| ApiError::not_found("token", tok, "card[token]"))?
    } else {
        let number = param_nonempty(&card, "number").ok_or_else(|| ApiError::missing("card[number]"))?;
        crate::cards::by_number(number).ok_or_else(|| {
            ApiError::card("incorrect_number", None, "Your card number is incorrect.").with_param("card[number]")
        })?
    };
    let now = ctx.now();
    let exp_month = param_i64(&card, "exp_month")?.unwrap_or(12);
    let exp_year = param_i64(&card, "exp_year")?.unwrap_or(2034);
    let mut pm = objects::card_payment_method(&test, exp_month, exp_year, now);
    if let Some(b) = params.get("billing_details") {
        for k in ["email", "name", "phone"] {
            if let Some(v) = b.get(k) {
                pm["billing_details"][k] = v.clone();
            }
        }
    }
    pm["metadata"] = new_metadata(params)?;
    ctx.put("payment_method", pm.clone());
    Ok(public(&pm))
}

pub fn get_payment_method(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    if crate::cards::by_test_id(id).is_some() {
        // Retrieving a test id shows the card it stands for (not stored).
        let pm = pay::resolve_payment_method(ctx, id, "payment_method")?;
        ctx.remove("payment_method", pm["id"].as_str().unwrap_or_default());
        return Ok(public(&pm));
    }
    Ok(public(&ctx.find("payment_method", id, "payment_method")?))
}

pub fn update_payment_method(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("payment_method", id, "payment_method")?;
    let mut pm = old.clone();
    if params.get("metadata").is_some() {
        pm["metadata"] = merge_metadata(&old["metadata"], params)?;
    }
    if let Some(b) = params.get("billing_details") {
        for k in ["email", "name", "phone"] {
            if let Some(v) = b.get(k) {
                pm["billing_details"][k] = v.clone();
            }
        }
    }
    if let Some(c) = params.get("card") {
        for k in ["exp_month", "exp_year"] {
            if let Some(v) = param_i64(c, k)? {
                pm["card"][k] = json!(v);
            }
        }
    }
    Ok(ctx.save_updated("payment_method", "payment_method.updated", &old, pm))
}

pub fn attach(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let customer = param_nonempty(params, "customer").ok_or_else(|| ApiError::missing("customer"))?;
    pay::attach(ctx, id, customer).map(|v| public(&v))
}

pub fn detach(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut pm = ctx.find("payment_method", id, "payment_method")?;
    let Some(customer) = pm["customer"].as_str().map(str::to_string) else {
        return Err(ApiError::invalid(
            "The payment method you provided is not attached to a customer so detachment is impossible.",
        )
        .with_code("payment_method_unexpected_state"));
    };
    pm["customer"] = Value::Null;
    ctx.put("payment_method", pm.clone());
    if let Some(old) = ctx.get("customer", &customer).cloned() {
        if old["invoice_settings"]["default_payment_method"] == id {
            let mut c = old.clone();
            c["invoice_settings"]["default_payment_method"] = Value::Null;
            ctx.save_updated("customer", "customer.updated", &old, c);
        }
    }
    ctx.emit("payment_method.detached", &pm, Some(json!({"customer": customer})));
    Ok(public(&pm))
}

pub fn list_payment_methods(ctx: &mut Ctx, customer: &str, params: &Value) -> ApiResult<Value> {
    ctx.find("customer", customer, "customer")?;
    let typ = param_str(params, "type");
    let items: Vec<Value> = ctx
        .all("payment_method")
        .into_iter()
        .filter(|pm| pm["customer"] == customer && typ.is_none_or(|t| pm["type"] == t))
        .map(public)
        .collect();
    paginate(items, params, &format!("/v1/customers/{customer}/payment_methods"))
}

pub fn list_all_payment_methods(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let typ = param_str(params, "type");
    let items: Vec<Value> = ctx
        .all("payment_method")
        .into_iter()
        .filter(|pm| {
            customer.is_none_or(|c| pm["customer"] == c)
                && pm["customer"].is_string()
                && typ.is_none_or(|t| pm["type"] == t)
        })
        .map(public)
        .collect();
    paginate(items, params, "/v1/payment_methods")
}

pub fn retrieve_payment_method(ctx: &mut Ctx, customer: &str, id: &str) -> ApiResult<Value> {
    let pm = ctx.find("payment_method", id, "payment_method")?;
    if pm["customer"] != customer {
        return Err(ApiError::not_found("PaymentMethod", id, "payment_method"));
    }
    let _ = param_bool;
    Ok(public(&pm))
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
