//! What the Projects page shows.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectsView {
    pub plan_name: String,
    /// The plan's `projects` limit.
    pub limit: u64,
    /// No more can be created (after a downgrade there may be more than the limit).
    pub at_limit: bool,
    pub projects: Vec<ProjectView>,
    /// The API-calls demo: whether the plan includes the API (the `api` entitlement), and when
    /// the plan bills calls on a meter, this period's count against the included calls.
    pub api: ApiCallsView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCallsView {
    pub allowed: bool,
    pub metered: Option<crate::views::entitlements::MeterAllowanceView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub id: i64,
    pub name: String,
    /// e.g. `2 December 2026`.
    pub created_on: String,
}

/// `1 project`, `5 projects`.
pub fn projects(n: u64) -> String {
    if n == 1 {
        "1 project".to_string()
    } else {
        format!("{n} projects")
    }
}
