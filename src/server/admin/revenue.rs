//! The revenue report: snapshots for past days, raw movements for today only, and trigger-kept
//! counters. No Stripe call, nothing that scans every movement.

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::AnyPool;

use crate::{
    domain::money::{Currency, Money},
    views::admin::revenue::{CurrencyRevenue, Period, Ratio, RevenueReport},
};

use super::{
    charts, counters,
    snapshots::{self, day_start, DayTotals, DAY},
};

pub async fn report(pool: &AnyPool, period: Period, now: i64) -> anyhow::Result<RevenueReport> {
    snapshots::refresh(pool, now).await?;
    counters::fold_if_due(pool).await?;
    let today = day_start(now);
    let start = today - (period.days() - 1) * DAY;

    // Today (and anything dated later, e.g. by a test clock) from the movements themselves.
    let mut conn = pool.acquire().await.context("acquiring a connection")?;
    let recent = snapshots::movements_by_day(&mut conn, today, None).await?;
    drop(conn);
    let days = snapshots::read(pool, start, today).await?;
    let at_start = snapshots::latest_before(pool, start).await?;
    let before_today = snapshots::latest_before(pool, today).await?;

    // Per currency: the period's movements, and the totals now.
    let mut period_totals: BTreeMap<String, DayTotals> = BTreeMap::new();
    let all_days = days.iter().map(|(_, c, t)| (c, t)).chain(recent.iter().map(|((_, c), t)| (c, t)));
    for (currency, t) in all_days {
        let sum = period_totals.entry(currency.clone()).or_default();
        sum.add("new", t.new_mrr, t.new_count);
        sum.add("expansion", t.expansion_mrr, 0);
        sum.add("contraction", t.contraction_mrr, 0);
        sum.add("churn", t.churn_mrr, t.churn_count);
        sum.add("reactivation", t.reactivation_mrr, t.reactivation_count);
        sum.involuntary_churn_count += t.involuntary_churn_count;
    }
    let involuntary_churn = Ratio {
        part: period_totals.values().map(|t| t.involuntary_churn_count).sum(),
        whole: period_totals.values().map(|t| t.churn_count).sum(),
    };
    let mut now_totals: BTreeMap<String, (i64, i64)> = before_today.clone();
    for ((_, currency), t) in &recent {
        let entry = now_totals.entry(currency.clone()).or_default();
        entry.0 += t.mrr;
        entry.1 += t.paying;
    }

    let mut currencies = Vec::new();
    for (code, (mrr, paying)) in &now_totals {
        let currency = Currency::parse(code).context("a stored currency")?;
        let money = |minor: i64| Money::new(minor, currency);
        let p = period_totals.get(code).cloned().unwrap_or_default();
        let paying_at_start = at_start.get(code).map_or(0, |(_, n)| *n);
        if *mrr == 0 && p == DayTotals::default() && paying_at_start == 0 {
            continue;
        }
        currencies.push(CurrencyRevenue {
            mrr: money(*mrr),
            arr: money(mrr * 12),
            paying: *paying,
            arpu: (*paying > 0).then(|| money((mrr + paying / 2) / paying)),
            new: money(p.new_mrr),
            expansion: money(p.expansion_mrr),
            contraction: money(p.contraction_mrr),
            churn: money(p.churn_mrr),
            reactivation: money(p.reactivation_mrr),
            net_new: money(p.net_new()),
            new_count: p.new_count,
            churn_count: p.churn_count,
            reactivation_count: p.reactivation_count,
            paying_at_start,
            churn_rate_bp: Ratio { part: p.churn_count, whole: paying_at_start }.basis_points(),
        });
    }
    currencies.sort_by_key(|c| std::cmp::Reverse(c.mrr.minor()));

    let (mrr_chart, net_new_chart) = match currencies.first() {
        Some(main) => {
            let code = main.mrr.currency();
            let series = charts::daily_series(&days, &recent, &at_start, code.as_str(), start, today);
            charts::render(period, code, &series)?
        }
        None => (None, None),
    };

    let counts = counters::subscription_statuses(pool).await?;
    Ok(RevenueReport {
        period,
        as_of: now,
        active: counts.get("active").copied().unwrap_or(0),
        trialing: counts.get("trialing").copied().unwrap_or(0),
        past_due: counts.get("past_due").copied().unwrap_or(0),
        currencies,
        payment_success: payment_success(pool, today).await?,
        involuntary_churn,
        mrr_chart,
        net_new_chart,
        marketplace_fees: super::marketplace::fees::recent(pool, now).await?,
    })
}

/// Invoices created in the last 30 UTC days (today included) that Stripe tried to charge: how
/// many got paid.
async fn payment_success(pool: &AnyPool, today: i64) -> anyhow::Result<Ratio> {
    let (part, whole) = counters::invoice_attempts(pool, today - 29 * DAY).await?;
    Ok(Ratio { part, whole })
}
