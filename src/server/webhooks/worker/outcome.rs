//! What handling an event comes to: its outcome, the writes it leaves for the batch
//! transaction, and a batch's tally.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// A type the app does not act on: stored, marked, never retried.
    Ignored,
    /// A handled type that had nothing to act on (an object Stripe no longer has, a customer
    /// that is not ours…): marked ignored with the reason, never retried.
    Skipped(String),
}

impl Outcome {
    pub(super) fn status(&self) -> &'static str {
        match self {
            Self::Applied => "processed",
            Self::Ignored | Self::Skipped(_) => "ignored",
        }
    }

    pub(super) fn note(&self) -> Option<&str> {
        match self {
            Self::Applied => None,
            Self::Ignored => Some("event type not handled"),
            Self::Skipped(reason) => Some(reason),
        }
    }
}

/// The part of an event's handling left for the batch transaction.
pub type WriteFn =
    Box<dyn for<'t> Fn(&'t mut Tx) -> futures::future::BoxFuture<'t, anyhow::Result<Outcome>> + Send + Sync>;
/// The batch transaction a [`WriteFn`] writes in.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// What handling an event (its re-fetch) left to do.
pub enum Prepared {
    /// Nothing left to write: the handler wrote in its own transaction, or had nothing to write.
    Done(Outcome),
    /// The writes, made in the batch transaction with the event's mark. May run more than once
    /// (a failed group is retried submission by submission), so it only writes what it captured.
    Write(WriteFn),
}

impl Prepared {
    /// Writes made inside the batch transaction, as a boxed future over the transaction.
    pub fn write<F>(f: F) -> Self
    where
        F: for<'t> Fn(&'t mut Tx) -> futures::future::BoxFuture<'t, anyhow::Result<Outcome>> + Send + Sync + 'static,
    {
        Self::Write(Box::new(f))
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    pub applied: usize,
    pub ignored: usize,
    pub retrying: usize,
    pub dead: usize,
    /// Events Stripe's rate limit put back for a moment (no attempt counted).
    pub deferred: usize,
    /// Events another instance took over (this one's claim ran out): applied there, not here.
    pub lost: usize,
}

impl BatchReport {
    pub fn total(&self) -> usize {
        self.applied + self.ignored + self.retrying + self.dead + self.deferred + self.lost
    }
}
