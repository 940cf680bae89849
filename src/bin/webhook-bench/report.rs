//! The table the bench prints: requests/s per target and run, the range, and the ratios the
//! goals name, each computed within a run (both sides measured minutes apart at most, under the
//! same load) and then given as a range over the runs.

pub struct Table {
    runs: usize,
    rows: Vec<(String, Vec<f64>)>,
}

/// A goal: `numerator / denominator >= at_least`, in every run.
pub struct Goal {
    pub name: &'static str,
    pub numerator: &'static str,
    pub denominator: &'static str,
    pub at_least: f64,
}

impl Table {
    pub fn new(runs: usize) -> Self {
        Self { runs, rows: Vec::new() }
    }

    pub fn add(&mut self, target: &str, rate: f64) {
        match self.rows.iter_mut().find(|(name, _)| name == target) {
            Some((_, rates)) => rates.push(rate),
            None => self.rows.push((target.to_owned(), vec![rate])),
        }
    }

    fn rates(&self, target: &str) -> Option<&[f64]> {
        self.rows.iter().find(|(name, _)| name == target).map(|(_, rates)| rates.as_slice())
    }

    pub fn print(&self, goals: &[Goal]) {
        let width = self.rows.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(10);
        let runs: String = (1..=self.runs).map(|run| format!("{:>9}", format!("run {run}"))).collect();
        println!("\n{:width$}  {runs}  {:>15}", "requests/s", "range");
        for (name, rates) in &self.rows {
            let cells: String = rates.iter().map(|rate| format!("{rate:>9.0}")).collect();
            println!("{name:width$}  {cells:<runs_width$}  {:>15}", range(rates, 0), runs_width = runs.len());
        }
        println!();
        for goal in goals {
            let (Some(top), Some(bottom)) = (self.rates(goal.numerator), self.rates(goal.denominator)) else {
                continue;
            };
            let ratios: Vec<f64> = top.iter().zip(bottom).map(|(t, b)| t / b).collect();
            let met = ratios.iter().filter(|r| **r >= goal.at_least).count();
            println!(
                "{:32} {:>11}  (goal ≥ {}: met in {met} of {} runs)",
                goal.name,
                range(&ratios, 2),
                goal.at_least,
                ratios.len()
            );
        }
    }
}

/// "min–max" with `decimals` (one figure for one run).
pub fn range(values: &[f64], decimals: usize) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.len() == 1 {
        format!("{min:.decimals$}")
    } else {
        format!("{min:.decimals$}–{max:.decimals$}")
    }
}
