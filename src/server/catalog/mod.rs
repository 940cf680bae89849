//! The catalog file and its place in Stripe.

pub mod command;
pub mod features;
pub mod meters;
pub mod migrate;
pub mod sync;

use std::path::Path;

use anyhow::Context;

use crate::domain::catalog::{Catalog, RawCatalog};

/// Where `serve` and `catalog sync` look for the catalog, relative to the working directory.
pub const DEFAULT_PATH: &str = "catalog.toml";

/// The catalog at `DEFAULT_PATH`, read once (it only changes with a deploy), for the webhook
/// worker: one-time grants and drift checks. `None`, logged once, when it cannot be read.
pub fn shipped() -> Option<&'static Catalog> {
    static SHIPPED: std::sync::OnceLock<Option<Catalog>> = std::sync::OnceLock::new();
    SHIPPED
        .get_or_init(|| match load(Path::new(DEFAULT_PATH)) {
            Ok(catalog) => Some(catalog),
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "no catalog: one-time purchases grant nothing");
                None
            }
        })
        .as_ref()
}

/// Reads and validates `catalog.toml`.
pub fn load(path: &Path) -> anyhow::Result<Catalog> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the catalog at {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
}

pub fn parse(text: &str) -> anyhow::Result<Catalog> {
    let raw: RawCatalog = toml::from_str(text).context("catalog is not valid TOML")?;
    Ok(Catalog::try_from(raw)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog.toml");
        let catalog = load(&path).unwrap();
        assert!(catalog.plan("free").unwrap().is_free());
        assert!(catalog.plans.iter().any(|p| p.trial_days.is_some()));
        assert!(!catalog.one_time.is_empty());
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused_with_a_reason() {
        let err = parse("currency = \"usd\"\n[[plans]]\nkey = \"pro\"\nname = \"Pro\"\nmonthy = 5\n").unwrap_err();
        assert!(format!("{err:#}").contains("monthy"), "{err:#}");
        let err = parse("currency = \"usd\"\n[[plans]]\nkey = \"pro\"\nname = \"Pro\"\nmonthly = -5\n").unwrap_err();
        assert!(format!("{err:#}").contains("positive"), "{err:#}");
    }
}
