//! What an import did (or, dry, would do): counts per list, how customers were linked, and the
//! customers left without a user.

use std::fmt;

use super::changes::Change;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub read: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl Counts {
    pub(super) fn add(&mut self, change: Change) {
        self.read += 1;
        match change {
            Change::Created => self.created += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }

    pub(super) fn line(&self, dry_run: bool) -> String {
        let would = if dry_run { "would be " } else { "" };
        format!(
            "{} read: {} {would}created, {} {would}updated, {} unchanged",
            self.read, self.created, self.updated, self.unchanged
        )
    }
}

/// How this run linked customers to users.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Links {
    pub by_metadata: usize,
    pub by_email: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub dry_run: bool,
    pub lists: Vec<(&'static str, Counts)>,
    pub links: Links,
    /// Customers no user is linked to: id and Stripe's email.
    pub unlinked: Vec<(String, Option<String>)>,
}

impl Report {
    /// The counts of one list.
    pub fn counts(&self, list: &str) -> Counts {
        self.lists.iter().find(|(name, _)| *name == list).map(|(_, counts)| *counts).unwrap_or_default()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(f, "import (dry run: nothing was written):")?;
        } else {
            writeln!(f, "import finished:")?;
        }
        for (name, counts) in &self.lists {
            writeln!(f, "  {name:<16} {}", counts.line(self.dry_run))?;
        }
        let would = if self.dry_run { "would be " } else { "" };
        writeln!(
            f,
            "  customers {would}linked to users: {} by metadata.user_id, {} by verified email",
            self.links.by_metadata, self.links.by_email
        )?;
        writeln!(f, "  unlinked customers: {}", self.unlinked.len())?;
        for (id, email) in &self.unlinked {
            writeln!(f, "    {id} {}", email.as_deref().unwrap_or("(no email)"))?;
        }
        Ok(())
    }
}
