//! Metric computation over stored history: every Parquet file of a log group read directly
//! (no query engine), each record's text rebuilt exactly as CloudWatch would have seen it
//! (`records.rs`), every metric filter of the group run on it, and the data points aggregated
//! per minute. The result replaces the filters' series for the computed range, so a backfill
//! can be repeated.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use flowwatch_pattern::FieldBuf;
use flowwatch_store::StoreReader;

use crate::check::GroupFilter;
use crate::error::Result;
use crate::records::{for_each_record, group_files};
use crate::series::{DimensionSeries, FilterSeries, Minute, minute_of};

/// What to compute: one log group or all, a time range or everything stored.
#[derive(Clone, Debug, Default)]
pub struct BackfillOptions {
    pub log_group: Option<String>,
    /// Epoch ms, inclusive; records before it are not read.
    pub start_ms: Option<i64>,
    /// Epoch ms, exclusive.
    pub end_ms: Option<i64>,
}

/// What a backfill did, per metric filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BackfillReport {
    pub files: usize,
    pub records: u64,
    pub filters: Vec<FilterReport>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterReport {
    pub log_group: String,
    pub filter_name: String,
    /// Records that matched and produced a data point.
    pub matched: u64,
    /// Minutes with data after the backfill, over all dimension sets.
    pub minutes: usize,
}

/// Computes the series of every filter in `filters` (restricted by `opts`) from the store in
/// `data_dir`, and saves them under `<data-dir>/metrics/`.
pub fn backfill(
    data_dir: &Path,
    filters: &[GroupFilter],
    opts: &BackfillOptions,
) -> Result<BackfillReport> {
    let start = opts.start_ms.unwrap_or(i64::MIN);
    let end = opts.end_ms.unwrap_or(i64::MAX);
    let mut by_group: BTreeMap<&str, Vec<&GroupFilter>> = BTreeMap::new();
    for f in filters {
        if opts.log_group.as_deref().is_none_or(|g| g == f.log_group) {
            by_group.entry(&f.log_group).or_default().push(f);
        }
    }
    let mut report = BackfillReport::default();
    let reader = StoreReader::open(data_dir)?;
    let stored_groups: BTreeSet<String> = reader.groups()?.into_iter().map(|g| g.name).collect();
    for (group, filters) in by_group {
        let mut acc = Accumulator::new(&filters);
        if stored_groups.contains(group) {
            for path in group_files(&reader, group, start, end)? {
                report.files += 1;
                for_each_record(&path, start, end, &mut |t, text| acc.record(t, text))?;
            }
        }
        report.records += acc.records;
        for (i, f) in filters.iter().enumerate() {
            let fresh = acc.series(i, f);
            let path = FilterSeries::path(data_dir, group, &f.filter.name);
            let mut stored = if path.exists() {
                FilterSeries::read(&path)?
            } else {
                FilterSeries {
                    log_group: group.to_string(),
                    filter_name: f.filter.name.clone(),
                    ..FilterSeries::default()
                }
            };
            stored.replace_range(fresh, start, end);
            stored.save(data_dir)?;
            report.filters.push(FilterReport {
                log_group: group.to_string(),
                filter_name: f.filter.name.clone(),
                matched: acc.matched[i],
                minutes: stored.series.iter().map(|s| s.minutes.len()).sum(),
            });
        }
    }
    Ok(report)
}

/// One filter's series: dimension values to per-minute aggregates.
type SeriesByDimensions = HashMap<Vec<(String, String)>, BTreeMap<i64, Minute>>;

/// Per filter: dimension values to minutes; plus the minutes that had any record (for
/// `defaultValue`).
struct Accumulator<'f> {
    filters: Vec<&'f GroupFilter>,
    data: Vec<SeriesByDimensions>,
    matched: Vec<u64>,
    active_minutes: BTreeSet<i64>,
    records: u64,
    buf: FieldBuf,
}

impl<'f> Accumulator<'f> {
    fn new(filters: &[&'f GroupFilter]) -> Accumulator<'f> {
        Accumulator {
            filters: filters.to_vec(),
            data: vec![HashMap::new(); filters.len()],
            matched: vec![0; filters.len()],
            active_minutes: BTreeSet::new(),
            records: 0,
            buf: FieldBuf::new(),
        }
    }

    fn record(&mut self, ts_ms: i64, text: &str) {
        let minute = minute_of(ts_ms);
        self.records += 1;
        self.active_minutes.insert(minute);
        let event = self.buf.split(text);
        for (i, f) in self.filters.iter().enumerate() {
            if let Some((value, dims)) = f.filter.evaluate(event) {
                self.matched[i] += 1;
                self.data[i]
                    .entry(dims)
                    .or_default()
                    .entry(minute)
                    .or_default()
                    .add(value);
            }
        }
    }

    fn series(&mut self, i: usize, f: &GroupFilter) -> FilterSeries {
        let t = &f.filter.transformation;
        let mut data = std::mem::take(&mut self.data[i]);
        // CloudWatch: a minute with events but no match reports the default value.
        // Dimensions and a default value are exclusive, so the series is the empty set's.
        if let Some(default) = t.default_value {
            let minutes = data.entry(Vec::new()).or_default();
            for m in &self.active_minutes {
                minutes.entry(*m).or_insert_with(|| {
                    let mut minute = Minute::default();
                    minute.add(default);
                    minute
                });
            }
        }
        let mut series: Vec<DimensionSeries> = data
            .into_iter()
            .map(|(dims, minutes)| DimensionSeries {
                dimensions: dims.into_iter().collect(),
                minutes,
            })
            .collect();
        series.sort_by(|a, b| a.dimensions.cmp(&b.dimensions));
        FilterSeries {
            log_group: f.log_group.clone(),
            filter_name: f.filter.name.clone(),
            namespace: t.metric_namespace.clone(),
            metric_name: t.metric_name.clone(),
            unit: t
                .unit
                .and_then(|u| serde_json::to_value(u).ok())
                .and_then(|v| v.as_str().map(str::to_string)),
            series,
        }
    }
}
