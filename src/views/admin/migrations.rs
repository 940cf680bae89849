//! `/admin/migrations`: price migrations (`tollgate catalog migrate`) and where each subscriber
//! stands.

use serde::{Deserialize, Serialize};

/// Where one subscriber of a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberState {
    /// Scheduled; the notice is not due yet.
    Waiting,
    /// Told; the move comes at `switch_on`.
    Notified,
    /// Renewed on the new price.
    Moved,
    /// Changed plan, cancelled or ended meanwhile: the migration does nothing more for them.
    LeftAlone,
}

impl MemberState {
    pub fn words(self) -> &'static str {
        match self {
            Self::Waiting => "Waiting for notice",
            Self::Notified => "Notified",
            Self::Moved => "Moved",
            Self::LeftAlone => "Left alone",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationMember {
    pub subscription_id: String,
    pub customer_id: String,
    pub email: Option<String>,
    /// The day they move (a renewal).
    pub switch_on: String,
    pub notice_on: String,
    pub state: MemberState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceMigrationView {
    pub id: i64,
    pub lookup_key: String,
    /// e.g. `$29.00 a month → $39.00 a month`.
    pub change: String,
    pub not_before: String,
    pub notice_days: i64,
    pub started: String,
    pub members: Vec<MigrationMember>,
}

impl PriceMigrationView {
    pub fn count(&self, state: MemberState) -> usize {
        self.members.iter().filter(|m| m.state == state).count()
    }
}
