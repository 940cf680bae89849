//! Sorting an admin list by one of its columns, as the URL carries it (`?sort=mrr&dir=asc`):
//! each list names its sortable columns in an enum (the server maps each to its `ORDER BY`, so
//! nothing from the URL reaches the SQL), and a key or direction that means nothing falls back
//! to the list's default order.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "asc" => Some(Self::Asc),
            "desc" => Some(Self::Desc),
            _ => None,
        }
    }

    pub fn flip(self) -> Self {
        match self {
            Self::Asc => Self::Desc,
            Self::Desc => Self::Asc,
        }
    }

    /// `ASC` / `DESC`, for the server's `ORDER BY`.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Asc => "ASC",
            Self::Desc => "DESC",
        }
    }

    /// The header's `aria-sort` value.
    pub fn aria(self) -> &'static str {
        match self {
            Self::Asc => "ascending",
            Self::Desc => "descending",
        }
    }
}

/// A list's sortable columns.
pub trait SortKey: Copy + Eq + Send + Sync + 'static {
    /// Each column, its key in the URL, and the direction a first click sorts it in (figures
    /// and dates: largest and newest first; words: A to Z).
    const COLUMNS: &'static [(Self, &'static str, Direction)];
    /// The list's order when the URL names none (or one that means nothing).
    const DEFAULT: Sort<Self>;

    fn key(self) -> &'static str {
        Self::COLUMNS.iter().find(|(column, ..)| *column == self).map_or("", |(_, key, _)| key)
    }

    fn first_direction(self) -> Direction {
        Self::COLUMNS.iter().find(|(column, ..)| *column == self).map_or(Direction::Asc, |(.., dir)| *dir)
    }
}

/// One column and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort<K> {
    pub column: K,
    pub dir: Direction,
}

impl<K: SortKey> Default for Sort<K> {
    fn default() -> Self {
        K::DEFAULT
    }
}

impl<K: SortKey> Sort<K> {
    /// The sort the URL asks for: an unknown column means the default order, a missing or
    /// unknown direction the column's first one.
    pub fn parse(key: Option<&str>, dir: Option<&str>) -> Self {
        let Some((column, _, first)) = key.and_then(|k| K::COLUMNS.iter().find(|(_, name, _)| *name == k.trim()))
        else {
            return K::DEFAULT;
        };
        Sort { column: *column, dir: dir.and_then(Direction::parse).unwrap_or(*first) }
    }

    /// Where a click on `column`'s header leads: the other direction when it is the one
    /// sorted by, else its first direction.
    pub fn after_click(self, column: K) -> Self {
        let dir = if column == self.column { self.dir.flip() } else { column.first_direction() };
        Sort { column, dir }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Col {
        Name,
        Amount,
    }

    impl SortKey for Col {
        const COLUMNS: &'static [(Self, &'static str, Direction)] =
            &[(Col::Name, "name", Direction::Asc), (Col::Amount, "amount", Direction::Desc)];
        const DEFAULT: Sort<Self> = Sort { column: Col::Name, dir: Direction::Asc };
    }

    #[test]
    fn the_url_picks_a_known_column_and_anything_else_means_the_default() {
        assert_eq!(Sort::<Col>::parse(Some("amount"), Some("asc")), Sort { column: Col::Amount, dir: Direction::Asc });
        assert_eq!(Sort::<Col>::parse(Some("amount"), None), Sort { column: Col::Amount, dir: Direction::Desc });
        assert_eq!(Sort::<Col>::parse(Some("amount"), Some("sideways")).dir, Direction::Desc);
        assert_eq!(Sort::<Col>::parse(Some("amount; DROP TABLE users"), Some("asc")), Col::DEFAULT);
        assert_eq!(Sort::<Col>::parse(None, Some("desc")), Col::DEFAULT);
    }

    #[test]
    fn a_click_flips_the_sorted_column_and_starts_another_in_its_first_direction() {
        let by_name = Sort { column: Col::Name, dir: Direction::Asc };
        assert_eq!(by_name.after_click(Col::Name), Sort { column: Col::Name, dir: Direction::Desc });
        assert_eq!(by_name.after_click(Col::Amount), Sort { column: Col::Amount, dir: Direction::Desc });
        assert_eq!(Col::Amount.key(), "amount");
    }
}
