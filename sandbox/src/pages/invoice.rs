//! The hosted invoice page (`/invoice/{id}`, with its PDF) and charge receipts.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde_json::Value;

use super::branding;
use super::layout::{escape, not_found, page};
use super::{account_of, card_fields, parse_card, with_object};
use crate::app::App;
use crate::engine::invoice_payments::attempt_payment;
use crate::engine::pay::{self, Outcome};
use crate::engine::payment_methods;
use crate::store::Branding;
use crate::util::{money, ymd};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/invoice/{id}", get(invoice_page).post(invoice_pay))
        .route("/invoice/{id}/pdf", get(invoice_pdf))
        .route("/receipts/{id}", get(receipt_page))
}

fn invoice_html(branding: &Branding, invoice: &Value, error: Option<&str>) -> String {
    let id = invoice["id"].as_str().unwrap_or_default();
    let currency = invoice["currency"].as_str().unwrap_or("usd");
    let mut rows = String::new();
    for line in invoice["lines"]["data"].as_array().cloned().unwrap_or_default() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(line["description"].as_str().unwrap_or_default()),
            money(line["amount"].as_i64().unwrap_or(0), currency)
        ));
    }
    let pay = if invoice["status"] == "open" {
        format!(
            "<form method=\"post\" action=\"/invoice/{id}\">{}<button type=\"submit\">Pay</button></form>",
            card_fields(error)
        )
    } else {
        String::new()
    };
    format!(
        "{}<h1>Invoice {}</h1><p>Status: <strong>{}</strong></p><table aria-label=\"Invoice lines\"><tbody>{rows}</tbody></table><p><strong>Amount due: {}</strong></p><p><a href=\"/invoice/{id}/pdf\">Download invoice</a></p>{pay}",
        branding::header(branding),
        escape(invoice["number"].as_str().unwrap_or(id)),
        escape(invoice["status"].as_str().unwrap_or_default()),
        money(invoice["amount_remaining"].as_i64().unwrap_or(0), currency)
    )
}

async fn invoice_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(account) = account_of(&app, "invoice", &id) else { return not_found("No such invoice.") };
    let found =
        app.with_ctx(&account, "", |ctx| ctx.get("invoice", &id).cloned().map(|i| (i, ctx.state.branding.clone())));
    match found {
        Some((invoice, branding)) => page(StatusCode::OK, "Invoice", &invoice_html(&branding, &invoice, None)),
        None => not_found("No such invoice."),
    }
}

async fn invoice_pay(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_object(&app, &headers, ("invoice", &id), "No such invoice.", |ctx, invoice| {
        let customer = invoice["customer"].as_str().unwrap_or_default().to_string();
        let now = ctx.now_for_customer(Some(&customer));
        let (card, exp_month, exp_year) = match parse_card(&form, now) {
            Ok(c) => c,
            Err(msg) => {
                return page(
                    StatusCode::BAD_REQUEST,
                    "Invoice",
                    &invoice_html(&ctx.state.branding, &invoice, Some(&msg)),
                )
            }
        };
        let payment_method_id = payment_methods::store_entered_card(ctx, &card, (exp_month, exp_year), now, None);
        let result = pay::attach(ctx, &payment_method_id, &customer)
            .and_then(|_| attempt_payment(ctx, &id, Some(&payment_method_id), false, false));
        match result {
            Ok(Outcome::Succeeded) => Redirect::to(&format!("/invoice/{id}")).into_response(),
            Ok(Outcome::RequiresAction) => {
                let payment_intent =
                    ctx.get("invoice", &id).and_then(|i| i["_sb_pi"].as_str().map(str::to_string)).unwrap_or_default();
                Redirect::to(&format!("/3ds/{payment_intent}")).into_response()
            }
            Ok(Outcome::Failed(e)) | Err(e) => {
                let invoice = ctx.get("invoice", &id).cloned().unwrap_or(invoice);
                page(
                    StatusCode::PAYMENT_REQUIRED,
                    "Invoice",
                    &invoice_html(&ctx.state.branding, &invoice, Some(&e.message)),
                )
            }
        }
    })
}

/// A one-page PDF with the invoice's number, lines and total.
pub fn pdf_document(lines: &[String]) -> Vec<u8> {
    let mut content = String::from("BT /F1 12 Tf 50 790 Td 16 TL\n");
    for line in lines {
        let safe: String = line.chars().filter(|c| c.is_ascii() && *c != '\\' && *c != '(' && *c != ')').collect();
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
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, object).as_bytes());
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
    let Some(invoice) = app.with_ctx(&account, "", |ctx| ctx.get("invoice", &id).cloned()) else {
        return not_found("No such invoice.");
    };
    let currency = invoice["currency"].as_str().unwrap_or("usd");
    let mut lines = vec![
        format!("Invoice {}", invoice["number"].as_str().unwrap_or(&id)),
        format!("Date: {}", ymd(invoice["created"].as_i64().unwrap_or(0))),
        String::new(),
    ];
    for line in invoice["lines"]["data"].as_array().cloned().unwrap_or_default() {
        lines.push(format!(
            "{}  {}",
            line["description"].as_str().unwrap_or_default(),
            money(line["amount"].as_i64().unwrap_or(0), currency).replace('€', "EUR ").replace('£', "GBP ")
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "Total: {}",
        money(invoice["total"].as_i64().unwrap_or(0), currency).replace('€', "EUR ").replace('£', "GBP ")
    ));
    lines.push(format!("Status: {}", invoice["status"].as_str().unwrap_or_default()));
    ([(header::CONTENT_TYPE, "application/pdf")], pdf_document(&lines)).into_response()
}

async fn receipt_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(account) = account_of(&app, "charge", &id) else { return not_found("No such charge.") };
    let Some(charge) = app.with_ctx(&account, "", |ctx| ctx.get("charge", &id).cloned()) else {
        return not_found("No such charge.");
    };
    page(
        StatusCode::OK,
        "Receipt",
        &format!(
            "<h1>Receipt</h1><p>Amount paid: <strong>{}</strong></p><p>Date: {}</p><p>Refunded: {}</p>",
            money(charge["amount"].as_i64().unwrap_or(0), charge["currency"].as_str().unwrap_or("usd")),
            ymd(charge["created"].as_i64().unwrap_or(0)),
            money(charge["amount_refunded"].as_i64().unwrap_or(0), charge["currency"].as_str().unwrap_or("usd"))
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
