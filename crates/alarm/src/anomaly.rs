//! Anomaly-detection bands (`ANOMALY_DETECTION_BAND(m1, k)`): a seasonal baseline learned
//! from the metric's own history gives a lower and an upper threshold for each timestamp.
//!
//! AWS trains up to two weeks with hourly, daily and weekly seasonality and trend; its model
//! is not public. Ours (a design choice, §3.5 of the spec):
//! * Training data: the alarm's statistic at its period over the 14 days before the
//!   evaluation range (the evaluated datapoints never train their own band).
//! * Each training datapoint falls, by its period's midpoint, in an hour-of-week slot (168,
//!   UTC), an hour-of-day slot (24) and the global slot.
//! * A slot's centre is the median of its values and its spread σ is 1.4826 × the median
//!   absolute deviation (the normal-consistent robust σ); when the MAD is 0 (a mostly
//!   constant slot) σ falls back to the standard deviation, which may also be 0.
//! * A timestamp uses its hour-of-week slot if that has at least `min_points` values, else
//!   its hour-of-day slot, else the global slot; with fewer than `min_points` values overall
//!   there is no band, and the alarm treats the datapoint as missing.
//! * A period is judged at its midpoint, with centre and σ interpolated linearly between
//!   the two nearest slots (each stands for the middle of its hour), so the band is smooth
//!   through the day rather than stepping on the hour.
//! * Band = centre ± k·σ. When every training value is ≥ 0 (counts, bytes) the lower
//!   threshold is clipped at 0, AWS's "clipping to logical ranges".
//! * No trend term: a steadily growing metric drifts towards the upper threshold until the
//!   14-day window catches up.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Training parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnomalyConfig {
    /// Days of history before the evaluation range.
    pub training_days: i64,
    /// Values a slot needs before it is used.
    pub min_points: usize,
}

impl Default for AnomalyConfig {
    fn default() -> AnomalyConfig {
        AnomalyConfig {
            training_days: 14,
            min_points: 8,
        }
    }
}

/// Which slot a band came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seasonality {
    HourOfWeek,
    HourOfDay,
    Global,
}

/// Thresholds for one timestamp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub lower: f64,
    pub upper: f64,
    pub seasonality: Seasonality,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct SlotStats {
    center: f64,
    sigma: f64,
}

/// A trained model.
#[derive(Clone, Debug, PartialEq)]
pub struct SeasonalBaseline {
    week: Vec<Option<SlotStats>>,
    day: Vec<Option<SlotStats>>,
    global: Option<SlotStats>,
    non_negative: bool,
}

fn hour_of_week(t: DateTime<Utc>) -> usize {
    t.weekday().num_days_from_monday() as usize * 24 + t.hour() as usize
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn stats(values: &[f64], min_points: usize) -> Option<SlotStats> {
    if values.len() < min_points.max(1) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let center = median(&sorted);
    let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - center).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let mut sigma = 1.4826 * median(&deviations);
    if sigma == 0.0 {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        sigma = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    }
    Some(SlotStats { center, sigma })
}

impl SeasonalBaseline {
    /// Learns the baseline from `(period start, value)` pairs.
    pub fn train(points: &[(DateTime<Utc>, f64)], min_points: usize) -> SeasonalBaseline {
        let mut week: Vec<Vec<f64>> = vec![Vec::new(); 168];
        let mut day: Vec<Vec<f64>> = vec![Vec::new(); 24];
        let mut all = Vec::with_capacity(points.len());
        for (t, v) in points.iter().filter(|(_, v)| v.is_finite()) {
            week[hour_of_week(*t)].push(*v);
            day[t.hour() as usize].push(*v);
            all.push(*v);
        }
        SeasonalBaseline {
            week: week.iter().map(|v| stats(v, min_points)).collect(),
            day: day.iter().map(|v| stats(v, min_points)).collect(),
            global: stats(&all, min_points),
            non_negative: !all.is_empty() && all.iter().all(|v| *v >= 0.0),
        }
    }

    /// The band at time `t` (a period's midpoint), `k` standard deviations wide on each
    /// side. Centre and spread are interpolated linearly between the two nearest hourly
    /// slots (a slot stands for its hour's middle, hh:30), so the band moves smoothly
    /// through the day instead of jumping on the hour, where a period straddling two hours
    /// would otherwise be judged by one of them.
    pub fn band(&self, t: DateTime<Utc>, k: f64) -> Option<Band> {
        let into_week = i64::from(t.weekday().num_days_from_monday()) * 86_400
            + i64::from(t.num_seconds_from_midnight());
        let pos = into_week as f64 / 3600.0 - 0.5;
        let below = pos.floor();
        let w = pos - below;
        let i = (below as i64).rem_euclid(168) as usize;
        let (a, seasonality_a) = self.slot(i)?;
        let (b, seasonality_b) = self.slot((i + 1) % 168)?;
        let center = a.center * (1.0 - w) + b.center * w;
        let sigma = a.sigma * (1.0 - w) + b.sigma * w;
        let mut lower = center - k * sigma;
        if self.non_negative {
            lower = lower.max(0.0);
        }
        Some(Band {
            lower,
            upper: center + k * sigma,
            seasonality: if w < 0.5 {
                seasonality_a
            } else {
                seasonality_b
            },
        })
    }

    /// An hour-of-week slot's statistics, falling back to its hour of day, then global.
    fn slot(&self, how: usize) -> Option<(SlotStats, Seasonality)> {
        if let Some(s) = self.week.get(how).copied().flatten() {
            Some((s, Seasonality::HourOfWeek))
        } else if let Some(s) = self.day.get(how % 24).copied().flatten() {
            Some((s, Seasonality::HourOfDay))
        } else {
            Some((self.global?, Seasonality::Global))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    // Monday 2024-01-01 00:00 UTC.
    fn monday() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_704_067_200, 0).expect("valid")
    }

    #[test]
    fn hour_of_week_slots_learn_a_weekly_pattern() {
        // Two weeks of hourly data: busy (100 ± small noise) on weekday working hours,
        // quiet (10) otherwise.
        let mut points = Vec::new();
        for h in 0..(14 * 24) {
            let t = monday() + Duration::hours(h);
            let busy = t.weekday().num_days_from_monday() < 5 && (9..17).contains(&t.hour());
            for m in 0..12 {
                let noise = (m % 3) as f64 - 1.0;
                points.push((
                    t + Duration::minutes(5 * m),
                    if busy { 100.0 + noise } else { 10.0 + noise },
                ));
            }
        }
        let b = SeasonalBaseline::train(&points, 8);
        let next_week = monday() + Duration::weeks(2);
        let tuesday_10 = b
            .band(next_week + Duration::hours(24 + 10), 2.0)
            .expect("band");
        assert_eq!(tuesday_10.seasonality, Seasonality::HourOfWeek);
        assert!(
            tuesday_10.lower > 95.0 && tuesday_10.upper < 105.0,
            "{tuesday_10:?}"
        );
        let sunday_10 = b
            .band(next_week + Duration::hours(6 * 24 + 10), 2.0)
            .expect("band");
        assert!(sunday_10.upper < 15.0, "{sunday_10:?}");
    }

    #[test]
    fn falls_back_to_hour_of_day_then_global() {
        // Hourly points for 14 days: 2 per hour-of-week slot (< 8), 14 per hour-of-day slot.
        let points: Vec<_> = (0..(14 * 24))
            .map(|h| (monday() + Duration::hours(h), f64::from((h % 24) as u32)))
            .collect();
        let b = SeasonalBaseline::train(&points, 8);
        let band = b
            .band(monday() + Duration::minutes(5 * 60 + 30), 3.0)
            .expect("band");
        assert_eq!(band.seasonality, Seasonality::HourOfDay);
        assert_eq!(
            (band.lower, band.upper),
            (5.0, 5.0),
            "constant slot: zero width"
        );
        let sparse: Vec<_> = (0..10)
            .map(|d| (monday() + Duration::days(d), 50.0 + d as f64))
            .collect();
        let g = SeasonalBaseline::train(&sparse, 8);
        let band = g.band(monday() + Duration::hours(7), 2.0).expect("band");
        assert_eq!(band.seasonality, Seasonality::Global);
        assert!(band.lower < 54.5 && band.upper > 54.5);
        assert_eq!(
            SeasonalBaseline::train(&sparse[..3], 8).band(monday(), 2.0),
            None
        );
    }

    #[test]
    fn robust_to_outliers_and_clipped_at_zero() {
        let mut points: Vec<_> = (0..100)
            .map(|i| {
                (
                    monday() + Duration::minutes(i),
                    4.0 + f64::from((i % 3) as u32),
                )
            })
            .collect();
        points.push((monday() + Duration::minutes(30), 10_000.0));
        let b = SeasonalBaseline::train(&points, 8);
        let band = b.band(monday(), 2.0).expect("band");
        assert!(
            band.upper < 10.0,
            "one spike does not widen the band: {band:?}"
        );
        let wide = b.band(monday(), 10.0).expect("band");
        assert_eq!(wide.lower, 0.0, "non-negative metric clipped at 0");
        let signed: Vec<_> = (0..20)
            .map(|i| (monday() + Duration::minutes(i), f64::from(i as u32) - 10.0))
            .collect();
        let s = SeasonalBaseline::train(&signed, 8)
            .band(monday(), 3.0)
            .expect("band");
        assert!(s.lower < 0.0);
    }
}
