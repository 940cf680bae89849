//! The revenue page's charts: MRR over time (line) and net new MRR (bars), drawn as SVG by
//! charts-rs on the server and sent as images with their figures as text beside them; the
//! creator dashboard's daily sales (`daily_bars`) are drawn the same way.

use std::collections::BTreeMap;

use anyhow::Context;
use base64::Engine;
use charts_rs::{BarChart, LineChart, Series};

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

pub fn render(
    period: Period,
    currency: Currency,
    daily: &[(i64, i64, i64)],
) -> anyhow::Result<(Option<Chart>, Option<Chart>)> {
    let points = buckets(period, daily);
    let labels: Vec<String> = points.iter().map(|p| label(p.0)).collect();
    let unit = currency.as_str().to_uppercase();

    let mut line = LineChart::new(
        vec![Series::new(format!("MRR ({unit})"), points.iter().map(|p| major(p.1, currency)).collect())],
        labels.clone(),
    );
    line.width = 720.0;
    line.height = 320.0;
    let line_svg = line.svg().map_err(|e| anyhow::anyhow!("{e:?}")).context("drawing the MRR chart")?;

    let mut bars = BarChart::new(
        vec![Series::new(format!("Net new MRR ({unit})"), points.iter().map(|p| major(p.2, currency)).collect())],
        labels.clone(),
    );
    bars.width = 720.0;
    bars.height = 320.0;
    let bar_svg = bars.svg().map_err(|e| anyhow::anyhow!("{e:?}")).context("drawing the net new MRR chart")?;

    let text = |pick: fn(&(i64, i64, i64)) -> i64| -> Vec<(String, String)> {
        points.iter().map(|p| (label(p.0), Money::new(pick(p), currency).to_string())).collect()
    };
    Ok((
        Some(Chart { data_uri: data_uri(&line_svg), points: text(|p| p.1) }),
        Some(Chart { data_uri: data_uri(&bar_svg), points: text(|p| p.2) }),
    ))
}

/// One bar per day (`(day, minor units)`, e.g. a creator's sales), as an SVG data URI: drawn like
/// the revenue charts, for a page that shows the same figures as text beside it.
pub fn daily_bars(series: &str, currency: Currency, days: &[(i64, i64)]) -> anyhow::Result<String> {
    let unit = currency.as_str().to_uppercase();
    let values = days.iter().map(|(_, minor)| major(*minor, currency)).collect();
    let mut bars = BarChart::new(
        vec![Series::new(format!("{series} ({unit})"), values)],
        days.iter().map(|d| label(d.0)).collect(),
    );
    bars.width = 720.0;
    bars.height = 320.0;
    let svg =
        bars.svg().map_err(|e| anyhow::anyhow!("{e:?}")).with_context(|| format!("drawing the {series} chart"))?;
    Ok(data_uri(&svg))
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
