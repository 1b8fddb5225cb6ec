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
        let mut acc = MetricAccumulator::new(&filters);
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

/// One filter's series: one entry per distinct set of dimension values, found by a key
/// that is looked up borrowed (built in a reused buffer) and copied only the first time.
#[derive(Default)]
struct FilterData {
    ids: HashMap<Box<str>, usize>,
    series: Vec<(Vec<(String, String)>, Cells)>,
    /// The key and id of the last data point: records are stored by ENI, then source address,
    /// then time, so consecutive data points mostly have the same dimension values.
    last_key: String,
    last_id: usize,
}

/// One series' minutes, with the minute being added to kept out of the map: consecutive
/// data points mostly fall in the same minute, and then cost no map lookup.
#[derive(Default)]
struct Cells {
    minutes: BTreeMap<i64, Minute>,
    hot: Option<(i64, Minute)>,
}

impl Cells {
    #[inline]
    fn add(&mut self, minute: i64, value: f64) {
        if let Some((m, cell)) = &mut self.hot
            && *m == minute
        {
            cell.add(value);
            return;
        }
        // The hot minute goes back to the map and the new one comes out of it: the map
        // never holds the hot minute, so nothing is merged.
        if let Some((m, cell)) = self.hot.take() {
            self.minutes.insert(m, cell);
        }
        let mut cell = self.minutes.remove(&minute).unwrap_or_default();
        cell.add(value);
        self.hot = Some((minute, cell));
    }

    fn into_minutes(mut self) -> BTreeMap<i64, Minute> {
        if let Some((m, cell)) = self.hot.take() {
            self.minutes.insert(m, cell);
        }
        self.minutes
    }
}

/// The per-minute aggregation behind metric backfill and the live update after ingest:
/// records (timestamp, text) in, each filter's data points aggregated per minute and per
/// dimension values. Public for `examples/bench_metrics.rs`, which measures this path.
pub struct MetricAccumulator<'f> {
    filters: Vec<&'f GroupFilter>,
    data: Vec<FilterData>,
    matched: Vec<u64>,
    active_minutes: BTreeSet<i64>,
    last_minute: Option<i64>,
    records: u64,
    buf: FieldBuf,
    key: String,
}

impl<'f> MetricAccumulator<'f> {
    pub fn new(filters: &[&'f GroupFilter]) -> MetricAccumulator<'f> {
        MetricAccumulator {
            filters: filters.to_vec(),
            data: (0..filters.len()).map(|_| FilterData::default()).collect(),
            matched: vec![0; filters.len()],
            active_minutes: BTreeSet::new(),
            last_minute: None,
            records: 0,
            buf: FieldBuf::new(),
            key: String::new(),
        }
    }

    /// Records read so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Data points filter `i` produced so far.
    pub fn matched(&self, i: usize) -> u64 {
        self.matched.get(i).copied().unwrap_or(0)
    }

    /// Runs every filter on one record (epoch ms, text as CloudWatch sees it).
    pub fn record(&mut self, ts_ms: i64, text: &str) {
        let minute = minute_of(ts_ms);
        self.records += 1;
        if self.last_minute != Some(minute) {
            self.last_minute = Some(minute);
            self.active_minutes.insert(minute);
        }
        let event = self.buf.split(text);
        let key = &mut self.key;
        for ((f, data), matched) in self
            .filters
            .iter()
            .zip(&mut self.data)
            .zip(&mut self.matched)
        {
            let added = f.filter.evaluate_with(event, |value, dims| {
                let id = if dims.is_empty() && !data.series.is_empty() {
                    // No dimensions: always the one series.
                    0
                } else {
                    key.clear();
                    for (name, v) in dims {
                        key.push_str(name);
                        key.push('\0');
                        key.push_str(v);
                        key.push('\0');
                    }
                    if !data.series.is_empty() && *key == data.last_key {
                        data.last_id
                    } else {
                        let id = match data.ids.get(key.as_str()) {
                            Some(&id) => id,
                            None => {
                                let id = data.series.len();
                                data.ids.insert(key.as_str().into(), id);
                                let owned = dims
                                    .iter()
                                    .map(|(n, v)| ((*n).to_owned(), v.clone().into_owned()))
                                    .collect();
                                data.series.push((owned, Cells::default()));
                                id
                            }
                        };
                        data.last_key.clone_from(key);
                        data.last_id = id;
                        id
                    }
                };
                data.series[id].1.add(minute, value);
            });
            if added.is_some() {
                *matched += 1;
            }
        }
    }

    fn series(&mut self, i: usize, f: &GroupFilter) -> FilterSeries {
        let t = &f.filter.transformation;
        let mut data: HashMap<Vec<(String, String)>, BTreeMap<i64, Minute>> =
            std::mem::take(&mut self.data[i].series)
                .into_iter()
                .map(|(dims, cells)| (dims, cells.into_minutes()))
                .collect();
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
