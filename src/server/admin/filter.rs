//! The admin lists' `WHERE … LIMIT … OFFSET …`: conditions added one by one with their values,
//! one page fetched with one extra row to know whether another page follows (or, for an
//! export, every row).

use anyhow::Context;
use sqlx::{any::AnyRow, AnyPool, FromRow};

use crate::views::admin::sort::Direction;

#[derive(Debug, Default)]
pub struct Filtered {
    conditions: Vec<String>,
    binds: Vec<String>,
}

impl Filtered {
    /// Adds a condition; `{}` in `template` stands for the value's placeholder.
    pub fn push(&mut self, template: &str, value: String) {
        self.binds.push(value);
        self.conditions.push(template.replace("{}", &format!("${}", self.binds.len())));
    }

    /// Page `page` (from 0) of `select` (everything before WHERE) ordered by `order`:
    /// the rows, read as `T`, and whether more follow.
    pub async fn page<T>(
        &self,
        pool: &AnyPool,
        select: &str,
        order: &str,
        per_page: i64,
        page: i64,
    ) -> anyhow::Result<(Vec<T>, bool)>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let limits = format!("LIMIT {} OFFSET {}", per_page + 1, page.max(0) * per_page);
        let mut rows = self.fetch(pool, select, order, &limits).await?;
        let has_more = rows.len() as i64 > per_page;
        rows.truncate(per_page as usize);
        Ok((rows, has_more))
    }

    /// Every row of `select` (everything before WHERE) ordered by `order`, read as `T` (exports).
    pub async fn all<T>(&self, pool: &AnyPool, select: &str, order: &str) -> anyhow::Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        self.fetch(pool, select, order, "").await
    }

    async fn fetch<T>(&self, pool: &AnyPool, select: &str, order: &str, limits: &str) -> anyhow::Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let where_clause =
            if self.conditions.is_empty() { String::new() } else { format!("WHERE {}", self.conditions.join(" AND ")) };
        let sql = format!("{select} {where_clause} ORDER BY {order} {limits}");
        let mut query = sqlx::query_as::<_, T>(&sql);
        for value in &self.binds {
            query = query.bind(value);
        }
        query.fetch_all(pool).await.with_context(|| format!("listing: {select}"))
    }
}

/// An `ORDER BY` list: each of `expressions` (a list's own text, chosen by a sort key from its
/// whitelist, never text from the request) in `dir`, then `id` the same way, so rows that tie
/// keep one order from page to page.
pub fn order_by(expressions: &[&str], dir: Direction, id: &str) -> String {
    let dir = dir.sql();
    expressions.iter().chain([&id]).map(|e| format!("{e} {dir}")).collect::<Vec<_>>().join(", ")
}

/// A pattern for `LIKE … ESCAPE '\'` that finds `text` anywhere: `%`, `_` and `\` in it are literal.
pub fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_literal() {
        assert_eq!(like_pattern("ann"), "%ann%");
        assert_eq!(like_pattern("a_b%"), "%a\\_b\\%%");
    }

    #[test]
    fn the_id_breaks_ties_in_the_same_direction() {
        assert_eq!(order_by(&["s.mrr"], Direction::Asc, "s.id"), "s.mrr ASC, s.id ASC");
        assert_eq!(order_by(&["a", "b"], Direction::Desc, "id"), "a DESC, b DESC, id DESC");
    }
}
