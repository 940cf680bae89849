//! Stripe's dunning as its dashboard configures it (Billing → Revenue recovery → Retries): how
//! many times an invoice is tried, and what becomes of the subscription when every try failed.
//! Stripe's API does not expose these settings, so the app is told them (`DUNNING_ATTEMPTS`,
//! `DUNNING_END`) and words its dunning emails by them; the dates come from Stripe's invoice.

/// What Stripe does to the subscription once the last retry failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DunningEnd {
    Cancel,
    Unpaid,
    /// Leaves it past due, the invoice open.
    PastDue,
}

impl DunningEnd {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "cancel" => Ok(Self::Cancel),
            "unpaid" => Ok(Self::Unpaid),
            "past_due" => Ok(Self::PastDue),
            other => Err(format!("expected cancel, unpaid or past_due, not {other:?}")),
        }
    }

    /// What the final notice says will happen (", if it fails, …").
    pub fn warning(self) -> &'static str {
        match self {
            Self::Cancel => "your subscription will be canceled and your access will end",
            Self::Unpaid => "your subscription will be marked unpaid and your access will end",
            Self::PastDue => "your subscription stays past due until the invoice is paid",
        }
    }

    /// What the outcome email says happened.
    pub fn outcome(self) -> &'static str {
        match self {
            Self::Cancel => "your subscription has been canceled",
            Self::Unpaid => "your subscription is now unpaid and its access has ended",
            Self::PastDue => "your subscription is past due and the invoice remains open",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DunningPolicy {
    /// Attempts in all, the first included (Stripe's custom schedule: up to 3 retries; Smart
    /// Retries: up to 8).
    pub attempts: i64,
    pub end: DunningEnd,
}

impl Default for DunningPolicy {
    /// Five attempts then cancel: the sandbox's schedule (retries 3, 5, 7 and 6 days apart).
    fn default() -> Self {
        Self { attempts: 5, end: DunningEnd::Cancel }
    }
}

/// The email a failed attempt on a subscription's invoice calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DunningStep {
    /// Update your card.
    FirstFailure,
    /// It failed again.
    Urgent,
    /// The next attempt, at `last_attempt_at`, is the last.
    FinalNotice { last_attempt_at: i64 },
    /// Every attempt failed: Stripe has done what `end` says.
    Outcome,
}

impl DunningPolicy {
    /// Chosen by the invoice's `attempt_count` (this attempt) and `next_payment_attempt` (none
    /// once Stripe stops retrying, or for an attempt the customer made on a page). Attempts
    /// between the urgent one and the final notice send nothing: each step is mailed once.
    pub fn step(&self, attempt: i64, next_attempt: Option<i64>) -> Option<DunningStep> {
        match next_attempt {
            Some(at) if attempt + 1 == self.attempts => Some(DunningStep::FinalNotice { last_attempt_at: at }),
            None if attempt >= self.attempts => Some(DunningStep::Outcome),
            _ if attempt == 1 => Some(DunningStep::FirstFailure),
            _ if attempt == 2 => Some(DunningStep::Urgent),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_attempts_send_four_emails_each_once() {
        let policy = DunningPolicy::default();
        let day = 86_400;
        let steps: Vec<_> =
            [(1, Some(3 * day)), (2, Some(8 * day)), (3, Some(15 * day)), (4, Some(21 * day)), (5, None)]
                .into_iter()
                .map(|(attempt, next)| policy.step(attempt, next))
                .collect();
        assert_eq!(
            steps,
            [
                Some(DunningStep::FirstFailure),
                Some(DunningStep::Urgent),
                None,
                Some(DunningStep::FinalNotice { last_attempt_at: 21 * day }),
                Some(DunningStep::Outcome),
            ]
        );
    }

    #[test]
    fn a_first_payment_the_customer_made_is_a_first_failure_and_a_short_schedule_warns_at_once() {
        assert_eq!(DunningPolicy::default().step(1, None), Some(DunningStep::FirstFailure));
        let two = DunningPolicy { attempts: 2, end: DunningEnd::Unpaid };
        assert_eq!(two.step(1, Some(9)), Some(DunningStep::FinalNotice { last_attempt_at: 9 }));
        assert_eq!(two.step(2, None), Some(DunningStep::Outcome));
        assert_eq!(DunningEnd::parse("past_due"), Ok(DunningEnd::PastDue));
        assert!(DunningEnd::parse("never").is_err());
    }
}
