//! What a browser running Stripe.js does on the app's payment pages, without the browser: ask
//! the app to start the intent (as `/payment-element.js` does) and confirm it on the sandbox
//! with the publishable key and the client secret (as Stripe.js does). The script itself runs in
//! Chromium in `end2end/tests/payment-element.spec.ts`.

use serde_json::Value;

use super::{TestApp, BROWSER_ACCEPT};

/// The publishable key the app hands Stripe.js against the sandbox.
pub const PUBLISHABLE_KEY: &str = "pk_test_tollgate_sandbox";

impl TestApp {
    /// POSTs a payment page's form fields to its start function, as `/payment-element.js` does;
    /// the status and the JSON answer.
    pub async fn start_intent(&self, client: &reqwest::Client, start: &str, fields: &[(&str, &str)]) -> (u16, Value) {
        let res = client
            .post(self.url(start))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(fields)
            .send()
            .await
            .expect("POST start");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Confirms a PaymentIntent or SetupIntent by its client secret with a test card, as Stripe.js's
    /// `confirmPayment` / `confirmSetup` send it; Stripe's answer (the intent, or `{"error": …}`).
    pub async fn confirm_with_card(&self, client_secret: &str, card: &str, return_url: &str) -> Value {
        self.confirm_on_account(None, client_secret, card, return_url).await
    }

    /// [`Self::confirm_with_card`] by a Stripe.js made with `stripeAccount` (an intent on a
    /// connected account: it sends the `Stripe-Account` header).
    pub async fn confirm_on_account(
        &self,
        account: Option<&str>,
        client_secret: &str,
        card: &str,
        return_url: &str,
    ) -> Value {
        let id = client_secret.split("_secret_").next().unwrap();
        let kind = if id.starts_with("seti_") { "setup_intents" } else { "payment_intents" };
        let mut request =
            reqwest::Client::new().post(format!("{}/v1/{kind}/{id}/confirm", self.sandbox_url.trim_end_matches('/')));
        if let Some(account) = account {
            request = request.header("Stripe-Account", account);
        }
        let res = request
            .form(&[
                ("key", PUBLISHABLE_KEY),
                ("client_secret", client_secret),
                ("payment_method_data[type]", "card"),
                ("payment_method_data[card][number]", card),
                ("payment_method_data[card][exp_month]", "12"),
                ("payment_method_data[card][exp_year]", "2034"),
                ("payment_method_data[card][cvc]", "123"),
                ("return_url", return_url),
            ])
            .send()
            .await
            .expect("confirm");
        res.json().await.unwrap()
    }

    /// Answers the bank's 3-D Secure page of an intent that `requires_action` (`complete` or
    /// `fail`), as the customer does in the redirect Stripe.js follows; where it sends them.
    pub async fn answer_challenge(&self, intent: &Value, action: &str) -> String {
        let url = intent["next_action"]["redirect_to_url"]["url"].as_str().expect("a challenge to answer");
        let res = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(url)
            .header(reqwest::header::ACCEPT, BROWSER_ACCEPT)
            .form(&[("action", action)])
            .send()
            .await
            .expect("the challenge");
        super::location(&res).expect("the bank sends the customer back")
    }
}
