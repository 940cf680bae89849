//! Usage-based billing: API keys, the usage outbox and `POST /api/v1/usage`, the meter-event
//! worker against the sandbox, reconciliation, the spend cap and usage on /account.

mod api_keys;
mod reporting;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

impl TestApp {
    /// Issues an API key on /admin/usage as the admin (in a client of its own) and returns it,
    /// read from the notice that shows it once. `customer`: the user id of a customer key.
    pub async fn issue_api_key(&self, label: &str, customer: Option<i64>) -> String {
        let admin = new_client();
        assert_redirect(&self.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await, "/account");
        let customer = customer.map(|id| id.to_string()).unwrap_or_default();
        let res =
            self.submit_with(&admin, "/admin/usage", "Issue key", &[("label", label), ("customer", &customer)]).await;
        assert_redirect(&res, "/admin/usage");
        let page = self.page_with(&admin, "/admin/usage").await;
        let notice =
            notices(&page).into_iter().find(|n| n.contains("tg_")).unwrap_or_else(|| panic!("no key shown: {page}"));
        let key = notice[notice.find("tg_").unwrap()..].split_whitespace().next().unwrap().to_owned();
        let again = self.page_with(&admin, "/admin/usage").await;
        assert!(!again.contains(&key), "the key is shown once");
        key
    }

    /// Revokes the key whose id prefix is `prefix` on /admin/usage, as the admin.
    pub async fn revoke_api_key(&self, key: &str) {
        let id: i64 = sqlx::query_scalar("SELECT id FROM api_keys WHERE key_id = $1")
            .bind(key.split('_').nth(2).unwrap())
            .fetch_one(self.db.pool())
            .await
            .unwrap();
        let admin = new_client();
        self.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = admin
            .post(self.url("/api/admin_revoke_api_key"))
            .header(reqwest::header::ACCEPT, BROWSER_ACCEPT)
            .form(&[("id", id.to_string())])
            .send()
            .await
            .unwrap();
        assert_redirect(&res, "/admin/usage");
    }

    /// `POST /api/v1/usage` with `key` (none: no Authorization header); (status, JSON body).
    pub async fn report_usage(&self, key: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut req = reqwest::Client::new().post(self.url("/api/v1/usage")).json(&body);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

/// A customer with a Stripe customer id of its own (made directly): (user id, customer id).
pub async fn customer_with_id(app: &TestApp, tag: &str) -> (i64, String) {
    let user = insert_user(app.db.pool(), &unique_email(tag)).await;
    let customer = format!("cus_{tag}{user}");
    sqlx::query("UPDATE users SET stripe_customer_id = $1 WHERE id = $2")
        .bind(&customer)
        .bind(user)
        .execute(app.db.pool())
        .await
        .unwrap();
    (user, customer)
}

pub fn report(meter: &str, value: i64, identifier: &str) -> Value {
    json!({ "meter": meter, "value": value, "identifier": identifier })
}
