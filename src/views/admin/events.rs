//! The webhook inbox as the admin sees it (`/admin/events`), and "Replay".

use serde::{Deserialize, Serialize};

use super::revenue::Ratio;
use super::sort::{Direction, Sort, SortKey};

/// The inbox's statuses (the table's CHECK constraint), closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InboxStatus {
    Pending,
    Retrying,
    Processed,
    Ignored,
    Dead,
}

impl InboxStatus {
    pub const ALL: [InboxStatus; 5] = [Self::Pending, Self::Retrying, Self::Processed, Self::Ignored, Self::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Retrying => "retrying",
            Self::Processed => "processed",
            Self::Ignored => "ignored",
            Self::Dead => "dead",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Dead events (to retry after a fix), processed ones (to re-apply) and ignored ones (an event
    /// type handled since, a customer linked since) can be replayed.
    pub fn replayable(self) -> bool {
        matches!(self, Self::Dead | Self::Processed | Self::Ignored)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub object_id: Option<String>,
    pub status: InboxStatus,
    pub source: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at: i64,
    pub processed_at: Option<i64>,
    /// Pretty JSON with personal data and secrets replaced.
    pub redacted_payload: String,
}

/// The last 24 hours of deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryHealth {
    pub received: i64,
    pub pending: i64,
    /// Processed or ignored, of all that finished or failed at least once.
    pub success: Ratio,
    /// Seconds from receipt to processing, nearest-rank percentiles.
    pub lag_p50: Option<i64>,
    pub lag_p99: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<EventRow>,
    pub health: DeliveryHealth,
    /// Every event type in the inbox, for the filter.
    pub types: Vec<String>,
    /// The order the events are in (the URL's, or the default).
    pub sort: Sort<EventSort>,
    pub page: i64,
    pub has_more: bool,
}

pub const EVENTS_PER_PAGE: i64 = 50;

/// The inbox's sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventSort {
    Type,
    Status,
    Attempts,
    Received,
}

impl SortKey for EventSort {
    const COLUMNS: &'static [(Self, &'static str, Direction)] = &[
        (Self::Type, "type", Direction::Asc),
        (Self::Status, "status", Direction::Asc),
        (Self::Attempts, "attempts", Direction::Desc),
        (Self::Received, "received", Direction::Desc),
    ];
    const DEFAULT: Sort<Self> = Sort { column: Self::Received, dir: Direction::Desc };
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplayOutcome {
    Queued,
    /// Already waiting to be applied: nothing changed (a second click, or a retry in flight).
    AlreadyQueued,
    NotReplayable(InboxStatus),
    NotFound,
}

impl ReplayOutcome {
    pub fn message(&self, event_id: &str) -> String {
        match self {
            Self::Queued => format!("Event {event_id} is queued for replay."),
            Self::AlreadyQueued => format!("Event {event_id} is already queued."),
            Self::NotReplayable(status) => {
                format!("Event {event_id} is {} and cannot be replayed.", status.as_str())
            }
            Self::NotFound => format!("There is no event {event_id}."),
        }
    }
}

/// Ids in a redirect (`evt_…`, `cus_…`, lookup keys) are alphanumerics and `_`; anything else
/// is dropped rather than escaped.
pub fn url_safe(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finished_event_can_be_replayed_and_nothing_in_flight() {
        let replayable: Vec<&str> =
            InboxStatus::ALL.into_iter().filter(|s| s.replayable()).map(|s| s.as_str()).collect();
        assert_eq!(replayable, ["processed", "ignored", "dead"]);
    }
}
