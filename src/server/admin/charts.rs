//! The revenue page's charts: MRR over time (line) and net new MRR (bars), drawn as SVG by
//! charts-rs on the server (nothing of it in the WASM bundle) and sent as images, once for the
//! light theme and once for the dark one, money on the value axis, with their figures as text
//! beside them; the creator dashboard's daily sales (`daily_bars`) are drawn the same way.

use std::collections::BTreeMap;

use anyhow::Context;
use base64::Engine;
use charts_rs::{BarChart, Color, LineChart, Series};

use crate::{
    domain::money::{Currency, Money},
    views::admin::revenue::{Chart, Period},
};

use super::snapshots::{DayTotals, DAY};

/// One point per day from `start` to `today` inclusive: (day, MRR at its end, net new MRR).
pub fn daily_series(
    days: &[(i64, String, DayTotals)],
    recent: &BTreeMap<(i64, String), DayTotals>,
    at_start: &BTreeMap<String, (i64, i64)>,
    currency: &str,
    start: i64,
    today: i64,
) -> Vec<(i64, i64, i64)> {
    let by_day: BTreeMap<i64, &DayTotals> =
        days.iter().filter(|(_, c, _)| c == currency).map(|(d, _, t)| (*d, t)).collect();
    let mut mrr = at_start.get(currency).map_or(0, |(m, _)| *m);
    let mut out = Vec::new();
    let mut day = start;
    while day < today {
        let net = by_day.get(&day).map_or(0, |t| t.net_new());
        if let Some(t) = by_day.get(&day) {
            mrr = t.mrr;
        }
        out.push((day, mrr, net));
        day += DAY;
    }
    let net_today: i64 = recent.iter().filter(|((_, c), _)| c == currency).map(|(_, t)| t.mrr).sum();
    out.push((today, mrr + net_today, net_today));
    out
}

/// Groups daily points into the period's buckets: MRR at each bucket's end, net new summed.
pub fn buckets(period: Period, daily: &[(i64, i64, i64)]) -> Vec<(i64, i64, i64)> {
    daily
        .chunks(period.bucket_days() as usize)
        .filter_map(|chunk| {
            let (first, last) = (chunk.first()?, chunk.last()?);
            Some((first.0, last.1, chunk.iter().map(|p| p.2).sum()))
        })
        .collect()
}

fn label(day: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(day)
        .map(|t| format!("{:02}-{:02}", u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

/// Major units, for the axis only: the figures shown as text stay integer minor units.
fn major(minor: i64, currency: Currency) -> f32 {
    minor as f32 / 10f32.powi(currency.exponent() as i32)
}

fn data_uri(svg: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(svg);
    format!("data:image/svg+xml;base64,{encoded}")
}

/// The page's two themes: each chart is drawn once for each, on the page's own paper colour.
#[derive(Debug, Clone, Copy)]
enum Look {
    Light,
    Dark,
}

impl Look {
    fn theme(self) -> &'static str {
        match self {
            Self::Light => charts_rs::THEME_LIGHT,
            Self::Dark => charts_rs::THEME_DARK,
        }
    }

    /// `--paper` in `style/main.css` for this theme.
    fn paper(self) -> Color {
        match self {
            Self::Light => (255, 255, 255).into(),
            Self::Dark => (23, 28, 37).into(),
        }
    }
}

/// The value axis labelled as money: `$1,200`, `€35`, `1,200 CHF` (whole major units).
fn money_axis(currency: Currency) -> String {
    let zero = Money::new(0, currency).to_string();
    match zero.strip_suffix(&format!(" {}", currency.as_str().to_uppercase())) {
        Some(_) => format!("{{t}} {}", currency.as_str().to_uppercase()),
        None => format!("{}{{t}}", zero.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')),
    }
}

/// A chart's figures: one series of `values` (major units) over the x-axis `labels`.
struct Figures<'a> {
    series: String,
    values: Vec<f32>,
    labels: &'a [String],
    currency: Currency,
}

/// The chart as SVG in `look`: 720×320, money on the value axis.
fn draw(kind: Kind, figures: &Figures<'_>, look: Look) -> anyhow::Result<String> {
    let series = vec![Series::new(figures.series.clone(), figures.values.clone())];
    let labels = figures.labels.to_vec();
    let svg = match kind {
        Kind::Line => {
            let mut chart = LineChart::new_with_theme(series, labels, look.theme());
            dress(&mut chart.base, &mut chart.y_axis_configs, figures.currency, look);
            chart.svg()
        }
        Kind::Bars => {
            let mut chart = BarChart::new_with_theme(series, labels, look.theme());
            dress(&mut chart.base, &mut chart.y_axis_configs, figures.currency, look);
            chart.svg()
        }
    };
    svg.map_err(|e| anyhow::anyhow!("{e:?}")).with_context(|| format!("drawing the {} chart", figures.series))
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Line,
    Bars,
}

fn dress(base: &mut charts_rs::ChartBase, y_axes: &mut [charts_rs::YAxisConfig], currency: Currency, look: Look) {
    base.width = 720.0;
    base.height = 320.0;
    base.background_color = look.paper();
    for axis in y_axes {
        axis.formatter = Some(money_axis(currency));
    }
}

/// The chart for both themes.
fn both_looks(kind: Kind, figures: &Figures<'_>) -> anyhow::Result<(String, String)> {
    Ok((data_uri(&draw(kind, figures, Look::Light)?), data_uri(&draw(kind, figures, Look::Dark)?)))
}

pub fn render(
    period: Period,
    currency: Currency,
    daily: &[(i64, i64, i64)],
) -> anyhow::Result<(Option<Chart>, Option<Chart>)> {
    let points = buckets(period, daily);
    let labels: Vec<String> = points.iter().map(|p| label(p.0)).collect();
    let unit = currency.as_str().to_uppercase();
    let figures = |name: &str, pick: fn(&(i64, i64, i64)) -> i64| Figures {
        series: format!("{name} ({unit})"),
        values: points.iter().map(|p| major(pick(p), currency)).collect(),
        labels: &labels,
        currency,
    };
    let text = |pick: fn(&(i64, i64, i64)) -> i64| -> Vec<(String, String)> {
        points.iter().map(|p| (label(p.0), Money::new(pick(p), currency).to_string())).collect()
    };
    let (mrr_light, mrr_dark) = both_looks(Kind::Line, &figures("MRR", |p| p.1))?;
    let (net_light, net_dark) = both_looks(Kind::Bars, &figures("Net new MRR", |p| p.2))?;
    Ok((
        Some(Chart { data_uri: mrr_light, dark_data_uri: mrr_dark, points: text(|p| p.1) }),
        Some(Chart { data_uri: net_light, dark_data_uri: net_dark, points: text(|p| p.2) }),
    ))
}

/// One bar per day (`(day, minor units)`, e.g. a creator's sales), as an SVG data URI: drawn like
/// the revenue charts, for a page that shows the same figures as text beside it.
pub fn daily_bars(series: &str, currency: Currency, days: &[(i64, i64)]) -> anyhow::Result<String> {
    let unit = currency.as_str().to_uppercase();
    let labels: Vec<String> = days.iter().map(|d| label(d.0)).collect();
    let figures = Figures {
        series: format!("{series} ({unit})"),
        values: days.iter().map(|(_, minor)| major(*minor, currency)).collect(),
        labels: &labels,
        currency,
    };
    Ok(data_uri(&draw(Kind::Bars, &figures, Look::Light)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_the_last_mrr_and_sum_net_new() {
        let daily: Vec<(i64, i64, i64)> = (0..14).map(|d| (d * DAY, 100 * (d + 1), 100)).collect();
        let weekly = buckets(Period::Days90, &daily);
        assert_eq!(weekly, vec![(0, 700, 700), (7 * DAY, 1400, 700)]);
    }

    #[test]
    fn charts_render_as_svg_images() {
        let usd = Currency::parse("usd").unwrap();
        let daily = vec![(0, 2900, 2900), (DAY, 5800, 2900)];
        let (mrr, net) = render(Period::Days7, usd, &daily).unwrap();
        let mrr = mrr.unwrap();
        assert!(mrr.data_uri.starts_with("data:image/svg+xml;base64,"));
        let svg = base64::engine::general_purpose::STANDARD
            .decode(mrr.data_uri.trim_start_matches("data:image/svg+xml;base64,"))
            .unwrap();
        assert!(String::from_utf8(svg).unwrap().starts_with("<svg"));
        assert_eq!(mrr.points[1], ("01-02".to_owned(), "$58.00".to_owned()));
        assert_eq!(net.unwrap().points[0].1, "$29.00");
        let dark = base64::engine::general_purpose::STANDARD
            .decode(mrr.dark_data_uri.trim_start_matches("data:image/svg+xml;base64,"))
            .unwrap();
        let dark = String::from_utf8(dark).unwrap();
        assert!(dark.contains("rgb(23,28,37)") || dark.contains("#171C25") || dark.contains("#171c25"), "{dark}");
    }

    #[test]
    fn the_value_axis_reads_as_money() {
        assert_eq!(money_axis(Currency::parse("usd").unwrap()), "${t}");
        assert_eq!(money_axis(Currency::parse("eur").unwrap()), "€{t}");
        assert_eq!(money_axis(Currency::parse("chf").unwrap()), "{t} CHF");
        let usd = Currency::parse("usd").unwrap();
        let daily = vec![(0, 120_000, 120_000), (DAY, 250_000, 130_000)];
        let (mrr, _) = render(Period::Days7, usd, &daily).unwrap();
        let svg = base64::engine::general_purpose::STANDARD
            .decode(mrr.unwrap().data_uri.trim_start_matches("data:image/svg+xml;base64,"))
            .unwrap();
        let svg = String::from_utf8(svg).unwrap();
        let ticks: Vec<&str> = svg.lines().map(str::trim).filter(|l| l.starts_with('$')).collect();
        assert!(ticks.len() >= 3 && ticks.contains(&"$0"), "money ticks: {ticks:?}");
        assert!(ticks.iter().any(|t| t.contains(',')), "thousands separated: {ticks:?}");
    }

    #[test]
    fn daily_bars_render_as_an_svg_image() {
        let usd = Currency::parse("usd").unwrap();
        let uri = daily_bars("Sales", usd, &[(0, 2500), (DAY, 0)]).unwrap();
        let svg = base64::engine::general_purpose::STANDARD
            .decode(uri.trim_start_matches("data:image/svg+xml;base64,"))
            .unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("Sales (USD)"), "{svg}");
    }
}
