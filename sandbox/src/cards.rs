//! Stripe's test cards and test payment method ids, and how each behaves.

/// What a card does when used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Every charge succeeds.
    Succeed,
    /// Declined (also when attaching): `card_declined` with this decline code.
    Decline(&'static str),
    /// Attaches fine, every charge is declined (4000 0000 0000 0341).
    AttachThenFail,
    /// 3-D Secure on session; once authenticated, off-session charges succeed (4000 0025 0000 3155).
    ThreeDsSetup,
    /// 3-D Secure on every payment; off-session charges fail with `authentication_required`.
    ThreeDsAlways,
    /// "Already set up" (4000 0038 0000 0446): 3-D Secure on every on-session payment or setup;
    /// off-session charges succeed as if the card had been set up.
    ThreeDsOnSession,
    /// Succeeds, then the charge is disputed with this reason.
    Dispute(&'static str),
    /// Radar rates the charge `elevated` and its default review rule places it in review: the
    /// charge succeeds, a review opens (4000 0000 0000 9235).
    ElevatedRisk,
    /// Radar rates the charge `highest` and blocks it: declined as `fraudulent`, never sent to
    /// the network (4100 0000 0000 0019 always; 4000 0000 0000 4954 under the default block rule).
    RadarBlock,
    /// Succeeds, then the issuer reports it as fraud: an early fraud warning (4000 0000 0000 5423).
    EarlyFraudWarning,
}

impl Behavior {
    pub fn as_str(&self) -> String {
        match self {
            Behavior::Succeed => "succeed".into(),
            Behavior::Decline(c) => format!("decline:{c}"),
            Behavior::AttachThenFail => "attach_then_fail".into(),
            Behavior::ThreeDsSetup => "3ds_setup".into(),
            Behavior::ThreeDsAlways => "3ds_always".into(),
            Behavior::ThreeDsOnSession => "3ds_on_session".into(),
            Behavior::Dispute(r) => format!("dispute:{r}"),
            Behavior::ElevatedRisk => "elevated_risk".into(),
            Behavior::RadarBlock => "radar_block".into(),
            Behavior::EarlyFraudWarning => "early_fraud_warning".into(),
        }
    }
    pub fn parse(s: &str) -> Behavior {
        match s {
            "attach_then_fail" => Behavior::AttachThenFail,
            "3ds_setup" => Behavior::ThreeDsSetup,
            "3ds_always" => Behavior::ThreeDsAlways,
            "3ds_on_session" => Behavior::ThreeDsOnSession,
            "elevated_risk" => Behavior::ElevatedRisk,
            "radar_block" => Behavior::RadarBlock,
            "early_fraud_warning" => Behavior::EarlyFraudWarning,
            _ => {
                if let Some(c) = s.strip_prefix("decline:") {
                    Behavior::Decline(static_code(c))
                } else if let Some(r) = s.strip_prefix("dispute:") {
                    Behavior::Dispute(static_code(r))
                } else {
                    Behavior::Succeed
                }
            }
        }
    }
}

fn static_code(s: &str) -> &'static str {
    const CODES: &[&str] = &[
        "generic_decline",
        "insufficient_funds",
        "lost_card",
        "stolen_card",
        "expired_card",
        "incorrect_cvc",
        "processing_error",
        "fraudulent",
        "product_not_received",
        "general",
    ];
    CODES.iter().find(|c| **c == s).copied().unwrap_or("generic_decline")
}

/// A test card: number, brand, and behaviour.
#[derive(Clone, Debug)]
pub struct TestCard {
    pub last4: String,
    pub brand: &'static str,
    pub funding: &'static str,
    pub behavior: Behavior,
    /// Charges skip the pending balance: funds are available at once (4000 0000 0000 0077).
    pub bypass_pending: bool,
}

const CARDS: &[(&str, &str, Behavior)] = &[
    ("4242424242424242", "visa", Behavior::Succeed),
    ("4000000000000077", "visa", Behavior::Succeed),
    ("4000056655665556", "visa", Behavior::Succeed),
    ("5555555555554444", "mastercard", Behavior::Succeed),
    ("2223003122003222", "mastercard", Behavior::Succeed),
    ("378282246310005", "amex", Behavior::Succeed),
    ("6011111111111117", "discover", Behavior::Succeed),
    ("4000000000000002", "visa", Behavior::Decline("generic_decline")),
    ("4000000000009995", "visa", Behavior::Decline("insufficient_funds")),
    ("4000000000009987", "visa", Behavior::Decline("lost_card")),
    ("4000000000009979", "visa", Behavior::Decline("stolen_card")),
    ("4000000000000069", "visa", Behavior::Decline("expired_card")),
    ("4000000000000127", "visa", Behavior::Decline("incorrect_cvc")),
    ("4000000000000119", "visa", Behavior::Decline("processing_error")),
    ("4000000000000341", "visa", Behavior::AttachThenFail),
    ("4000002500003155", "visa", Behavior::ThreeDsSetup),
    ("4000002760003184", "visa", Behavior::ThreeDsAlways),
    ("4000000000003220", "visa", Behavior::ThreeDsAlways),
    ("4000003800000446", "visa", Behavior::ThreeDsOnSession),
    ("4000000000000259", "visa", Behavior::Dispute("fraudulent")),
    ("4000000000002685", "visa", Behavior::Dispute("product_not_received")),
    ("4000000000001976", "visa", Behavior::Dispute("general")),
    ("4000000000005423", "visa", Behavior::EarlyFraudWarning),
    ("4000000000009235", "visa", Behavior::ElevatedRisk),
    ("4000000000004954", "visa", Behavior::RadarBlock),
    ("4100000000000019", "visa", Behavior::RadarBlock),
];

/// Looks up a card number (spaces and dashes ignored). Unknown numbers that pass the Luhn check
/// behave like 4242…; others are `None` (invalid number).
pub fn by_number(number: &str) -> Option<TestCard> {
    let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
    if let Some((n, b, behaviour)) = CARDS.iter().find(|(n, _, _)| *n == digits) {
        return Some(TestCard {
            last4: n[n.len() - 4..].to_string(),
            brand: b,
            funding: "credit",
            behavior: *behaviour,
            bypass_pending: digits == "4000000000000077",
        });
    }
    if digits.len() >= 12 && luhn(&digits) {
        let brand = match digits.chars().next() {
            Some('4') => "visa",
            Some('5') | Some('2') => "mastercard",
            Some('3') => "amex",
            Some('6') => "discover",
            _ => "unknown",
        };
        return Some(TestCard {
            last4: digits[digits.len() - 4..].to_string(),
            brand,
            funding: "credit",
            behavior: Behavior::Succeed,
            bypass_pending: false,
        });
    }
    None
}

/// Test payment method ids (`pm_card_visa`) and tokens (`tok_visa`) → card number.
pub fn by_test_id(id: &str) -> Option<TestCard> {
    let name = id.strip_prefix("pm_card_").or_else(|| id.strip_prefix("tok_"))?;
    let number = match name {
        "visa" => "4242424242424242",
        "bypassPending" => "4000000000000077",
        "visa_debit" => "4000056655665556",
        "mastercard" => "5555555555554444",
        "amex" => "378282246310005",
        "discover" => "6011111111111117",
        "chargeDeclined" => "4000000000000002",
        "chargeDeclinedInsufficientFunds" => "4000000000009995",
        "chargeDeclinedLostCard" => "4000000000009987",
        "chargeDeclinedStolenCard" => "4000000000009979",
        "chargeDeclinedExpiredCard" => "4000000000000069",
        "chargeDeclinedIncorrectCvc" => "4000000000000127",
        "chargeDeclinedProcessingError" => "4000000000000119",
        "chargeCustomerFail" => "4000000000000341",
        "authenticationRequiredOnSetup" | "threeDSecure2Required" => "4000002500003155",
        "authenticationRequired" | "threeDSecureRequired" => "4000002760003184",
        "createDispute" => "4000000000000259",
        "createDisputeProductNotReceived" => "4000000000002685",
        "createDisputeInquiry" => "4000000000001976",
        "createIssuerFraudRecord" => "4000000000005423",
        "riskLevelElevated" => "4000000000009235",
        "riskLevelHighest" => "4000000000004954",
        "radarBlock" | "chargeDeclinedFraudulent" => "4100000000000019",
        _ => return None,
    };
    by_number(number)
}

/// Luhn checksum.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else { return false };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// Stripe's message for a decline code.
pub fn decline_message(code: &str) -> &'static str {
    match code {
        "insufficient_funds" => "Your card has insufficient funds.",
        "lost_card" | "stolen_card" | "generic_decline" | "fraudulent" => "Your card was declined.",
        "expired_card" => "Your card has expired.",
        "incorrect_cvc" => "Your card's security code is incorrect.",
        "processing_error" => "An error occurred while processing your card. Try again in a little bit.",
        "authentication_required" => "Your card was declined. This transaction requires authentication.",
        _ => "Your card was declined.",
    }
}

/// The error `code` Stripe uses for a decline code.
pub fn error_code(decline: &str) -> &'static str {
    match decline {
        "expired_card" => "expired_card",
        "incorrect_cvc" => "incorrect_cvc",
        "processing_error" => "processing_error",
        "authentication_required" => "authentication_required",
        _ => "card_declined",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_behave() {
        assert_eq!(by_number("4242 4242 4242 4242").unwrap().behavior, Behavior::Succeed);
        assert_eq!(by_number("4000000000000002").unwrap().behavior, Behavior::Decline("generic_decline"));
        assert_eq!(by_number("4000-0000-0000-9995").unwrap().behavior, Behavior::Decline("insufficient_funds"));
        assert_eq!(by_number("4000002500003155").unwrap().behavior, Behavior::ThreeDsSetup);
        assert_eq!(by_number("4000 0038 0000 0446").unwrap().behavior, Behavior::ThreeDsOnSession);
        assert_eq!(by_number("4000000000000341").unwrap().behavior, Behavior::AttachThenFail);
        assert_eq!(by_number("4000000000000259").unwrap().behavior, Behavior::Dispute("fraudulent"));
        assert_eq!(by_number("4000000000005423").unwrap().behavior, Behavior::EarlyFraudWarning);
        assert_eq!(by_number("4000000000009235").unwrap().behavior, Behavior::ElevatedRisk);
        assert_eq!(by_test_id("pm_card_riskLevelHighest").unwrap().behavior, Behavior::RadarBlock);
        assert_eq!(by_test_id("tok_chargeDeclinedFraudulent").unwrap().behavior, Behavior::RadarBlock);
        assert!(by_number("1234567812345678").is_none());
        assert_eq!(by_number("4000000000000002").unwrap().last4, "0002");
        assert_eq!(by_test_id("pm_card_visa").unwrap().brand, "visa");
        assert_eq!(by_test_id("tok_mastercard").unwrap().brand, "mastercard");
        assert_eq!(by_test_id("pm_card_authenticationRequired").unwrap().behavior, Behavior::ThreeDsAlways);
        assert!(by_test_id("pm_123").is_none());
    }

    #[test]
    fn behavior_round_trips() {
        for b in [
            Behavior::Succeed,
            Behavior::Decline("insufficient_funds"),
            Behavior::AttachThenFail,
            Behavior::ThreeDsSetup,
            Behavior::ThreeDsAlways,
            Behavior::ThreeDsOnSession,
            Behavior::Dispute("fraudulent"),
            Behavior::ElevatedRisk,
            Behavior::RadarBlock,
            Behavior::EarlyFraudWarning,
        ] {
            assert_eq!(Behavior::parse(&b.as_str()), b);
        }
    }
}
