//! The hosted invoice page (`/invoice/{id}`, with its PDF) and charge receipts.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde_json::Value;

use super::layout::{escape, not_found, page};
use super::{account_of, card_fields, parse_card, with_object};
use crate::app::App;
use crate::engine::invoice_payments::attempt_payment;
use crate::engine::pay::{self, Outcome};
use crate::util::{money, ymd};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/invoice/{id}", get(invoice_page).post(invoice_pay))
        .route("/invoice/{id}/pdf", get(invoice_pdf))
        .route("/receipts/{id}", get(receipt_page))
}

fn invoice_html(inv: &Value, error: Option<&str>) -> String {
    let id = inv["id"].as_str().unwrap_or_default();
    let currency = inv["currency"].as_str().unwrap_or("usd");
    let mut rows = String::new();
    for l in inv["lines"]["data"].as_array().cloned().unwrap_or_default() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(l["description"].as_str().unwrap_or_default()),
            money(l["amount"].as_i64().unwrap_or(0), currency)
        ));
    }
    let pay = if inv["status"] == "open" {
        format!(
            "<form method=\"post\" action=\"/invoice/{id}\">{}<button type=\"submit\">Pay</button></form>",
            card_fields(error)
        )
    } else {
        String::new()
    };
    format!(
        "<h1>Invoice {}</h1><p>Status: <strong>{}</strong></p><table aria-label=\"Invoice lines\"><tbody>{rows}</tbody></table><p><strong>Amount due: {}</strong></p><p><a href=\"/invoice/{id}/pdf\">Download invoice</a></p>{pay}",
        escape(inv["number"].as_str().unwrap_or(id)),
        escape(inv["status"].as_str().unwrap_or_default()),
        money(inv["amount_remaining"].as_i64().unwrap_or(0), currency)
    )
}

async fn invoice_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(account) = account_of(&app, "invoice", &id) else { return not_found("No such invoice.") };
    let inv = app.with_ctx(&account, "", |ctx| ctx.get("invoice", &id).cloned());
    match inv {
        Some(inv) => page(StatusCode::OK, "Invoice", &invoice_html(&inv, None)),
        None => not_found("No such invoice."),
    }
}

async fn invoice_pay(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_object(&app, &headers, ("invoice", &id), "No such invoice.", |ctx, inv| {
        let customer = inv["customer"].as_str().unwrap_or_default().to_string();
        let now = ctx.now_for_customer(Some(&customer));
        let (card, m, y) = match parse_card(&form, now) {
            Ok(c) => c,
            Err(msg) => return page(StatusCode::BAD_REQUEST, "Invoice", &invoice_html(&inv, Some(&msg))),
        };
        let pm = crate::objects::card_payment_method(&card, m, y, now);
        let pm_id = pm["id"].as_str().unwrap_or_default().to_string();
        ctx.put("payment_method", pm);
        let r = pay::attach(ctx, &pm_id, &customer).and_then(|_| attempt_payment(ctx, &id, Some(&pm_id), false, false));
        match r {
            Ok(Outcome::Succeeded) => Redirect::to(&format!("/invoice/{id}")).into_response(),
            Ok(Outcome::RequiresAction) => {
                let pi =
                    ctx.get("invoice", &id).and_then(|i| i["_sb_pi"].as_str().map(str::to_string)).unwrap_or_default();
                Redirect::to(&format!("/3ds/{pi}")).into_response()
            }
            Ok(Outcome::Failed(e)) | Err(e) => {
                let inv = ctx.get("invoice", &id).cloned().unwrap_or(inv);
                page(StatusCode::PAYMENT_REQUIRED, "Invoice", &invoice_html(&inv, Some(&e.message)))
            }
        }
    })
}

/// A one-page PDF with the invoice's number, lines and total.
pub fn pdf_document(lines: &[String]) -> Vec<u8> {
    let mut content = String::from("BT /F1 12 Tf 50 790 Td 16 TL\n");
    for l in lines {
        let safe: String = l.chars().filter(|c| c.is_ascii() && *c != '\\' && *c != '(' && *c != ')').collect();
        content.push_str(&format!("({safe}) Tj T*\n"));
    }
    content.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{}\nendstream", content.len(), content),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, o).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

async fn invoice_pdf(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(account) = account_of(&app, "invoice", &id) else { return not_found("No such invoice.") };
    let Some(inv) = app.with_ctx(&account, "", |ctx| ctx.get("invoice", &id).cloned()) else {
        return not_found("No such invoice.");
    };
    let currency = inv["currency"].as_str().unwrap_or("usd");
    let mut lines = vec![
        format!("Invoice {}", inv["number"].as_str().unwrap_or(&id)),
        format!("Date: {}", ymd(inv["created"].as_i64().unwrap_or(0))),
        String::new(),
    ];
    for l in inv["lines"]["data"].as_array().cloned().unwrap_or_default() {
        lines.push(format!(
            "{}  {}",
            l["description"].as_str().unwrap_or_default(),
            money(l["amount"].as_i64().unwrap_or(0), currency).replace('€', "EUR ").replace('£', "GBP ")
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "Total: {}",
        money(inv["total"].as_i64().unwrap_or(0), currency).replace('€', "EUR ").replace('£', "GBP ")
    ));
    lines.push(format!("Status: {}", inv["status"].as_str().unwrap_or_default()));
    ([(header::CONTENT_TYPE, "application/pdf")], pdf_document(&lines)).into_response()
}

async fn receipt_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(account) = account_of(&app, "charge", &id) else { return not_found("No such charge.") };
    let Some(ch) = app.with_ctx(&account, "", |ctx| ctx.get("charge", &id).cloned()) else {
        return not_found("No such charge.");
    };
    page(
        StatusCode::OK,
        "Receipt",
        &format!(
            "<h1>Receipt</h1><p>Amount paid: <strong>{}</strong></p><p>Date: {}</p><p>Refunded: {}</p>",
            money(ch["amount"].as_i64().unwrap_or(0), ch["currency"].as_str().unwrap_or("usd")),
            ymd(ch["created"].as_i64().unwrap_or(0)),
            money(ch["amount_refunded"].as_i64().unwrap_or(0), ch["currency"].as_str().unwrap_or("usd"))
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_is_well_formed() {
        let pdf = pdf_document(&["Invoice X".into(), "Total: $1.00".into()]);
        let s = String::from_utf8_lossy(&pdf);
        assert!(s.starts_with("%PDF-1.4"));
        assert!(s.contains("(Invoice X) Tj"));
        assert!(s.trim_end().ends_with("%%EOF"));
    }
}
