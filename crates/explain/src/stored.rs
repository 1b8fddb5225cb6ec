//! Flow records of a log group read straight from the store's Parquet files (as
//! `crates/monitor` does, no DataFusion): only the hour partitions overlapping the range, only
//! the columns `explain` needs, each converted whatever type another engine may have written
//! (dictionary, view or large strings; any integer width).

use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Int64Type};
use flowwatch_core::FieldId;
use flowwatch_flowlog::schema::TIMESTAMP;
use flowwatch_net::Snapshot;
use flowwatch_store::{StoreReader, partition_hour_ms};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;

use crate::error::{ExplainError, Result};
use crate::explainer::{ExplainOptions, Explainer};
use crate::record::{Action, FlowRecord, LogStatus, parse_direction};
use crate::report::Report;

const HOUR_MS: i64 = 3_600_000;

/// What a store read covered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    pub files: usize,
    /// Records inside the time range.
    pub records: u64,
}

const COLUMNS: &[FieldId] = &[
    FieldId::InterfaceId,
    FieldId::SrcAddr,
    FieldId::DstAddr,
    FieldId::SrcPort,
    FieldId::DstPort,
    FieldId::Protocol,
    FieldId::Packets,
    FieldId::Bytes,
    FieldId::Start,
    FieldId::Action,
    FieldId::LogStatus,
    FieldId::FlowDirection,
    FieldId::PktSrcAddr,
    FieldId::PktDstAddr,
    FieldId::TrafficPath,
];

/// The data files of `group` whose hour partition overlaps [start_ms, end_ms); files outside
/// any hour partition are always included.
fn group_files(reader: &StoreReader, group: &str, start: i64, end: i64) -> Result<Vec<PathBuf>> {
    let mut files = reader.data_files(group)?;
    files.retain(|path| {
        partition_hour_ms(path)
            .is_none_or(|hour| hour.saturating_add(HOUR_MS) > start && hour < end)
    });
    Ok(files)
}

/// Calls `f` for every record of `group` whose `@timestamp` lies in [start_ms, end_ms).
pub fn for_each_stored_record(
    reader: &StoreReader,
    group: &str,
    start_ms: i64,
    end_ms: i64,
    f: &mut dyn FnMut(&FlowRecord),
) -> Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut rec = FlowRecord::default();
    for path in group_files(reader, group, start_ms, end_ms)? {
        stats.files += 1;
        stats.records += read_file(&path, start_ms, end_ms, &mut rec, f)?;
    }
    Ok(stats)
}

/// Explain the records of `group` in [start_ms, end_ms) against `snap`.
pub fn explain_store(
    snap: &Snapshot,
    reader: &StoreReader,
    group: &str,
    start_ms: i64,
    end_ms: i64,
    opts: ExplainOptions,
) -> Result<(Report, ReadStats)> {
    let mut x = Explainer::new(snap, opts);
    let stats = for_each_stored_record(reader, group, start_ms, end_ms, &mut |r| x.add(r))?;
    Ok((x.finish(), stats))
}

fn as_utf8(c: &ArrayRef) -> Option<StringArray> {
    if c.data_type() == &DataType::Utf8 {
        return c.as_string_opt::<i32>().cloned();
    }
    let c = arrow::compute::cast(c, &DataType::Utf8).ok()?;
    c.as_string_opt::<i32>().cloned()
}

fn as_i64(c: &ArrayRef) -> Option<arrow::array::Int64Array> {
    let c = arrow::compute::cast(c, &DataType::Int64).ok()?;
    c.as_primitive_opt::<Int64Type>().cloned()
}

struct Cols {
    ts: Option<arrow::array::Int64Array>,
    strs: Vec<Option<StringArray>>,
    ints: Vec<Option<arrow::array::Int64Array>>,
}

fn is_string(f: FieldId) -> bool {
    matches!(
        f,
        FieldId::InterfaceId
            | FieldId::SrcAddr
            | FieldId::DstAddr
            | FieldId::Action
            | FieldId::LogStatus
            | FieldId::FlowDirection
            | FieldId::PktSrcAddr
            | FieldId::PktDstAddr
    )
}

fn columns(batch: &RecordBatch) -> Cols {
    let ts = batch.column_by_name(TIMESTAMP).and_then(as_i64);
    let mut strs = Vec::with_capacity(COLUMNS.len());
    let mut ints = Vec::with_capacity(COLUMNS.len());
    for &f in COLUMNS {
        let c = batch.column_by_name(f.column());
        if is_string(f) {
            strs.push(c.and_then(as_utf8));
            ints.push(None);
        } else {
            strs.push(None);
            ints.push(c.and_then(as_i64));
        }
    }
    Cols { ts, strs, ints }
}

/// The columns `explain` reads, by their Parquet/Athena names (`interface_id`, `srcaddr`,
/// `pkt_srcaddr`, …): what a batch given to [`for_each_batch_record`] should hold. Logs
/// Insights accepts these spellings too, so `fields` with this list projects a query's rows.
pub fn record_columns() -> Vec<&'static str> {
    COLUMNS.iter().map(|c| c.column()).collect()
}

/// Calls `f` for every row of `batch`, a batch with (some of) the [`record_columns`] under
/// those names, of any string or integer type (e.g. a query's output); missing columns read
/// as absent values. Returns the rows read.
pub fn for_each_batch_record(batch: &RecordBatch, f: &mut dyn FnMut(&FlowRecord)) -> u64 {
    let cols = columns(batch);
    let mut rec = FlowRecord::default();
    for row in 0..batch.num_rows() {
        fill(&mut rec, &cols, row);
        f(&rec);
    }
    batch.num_rows() as u64
}

fn read_file(
    path: &Path,
    start: i64,
    end: i64,
    rec: &mut FlowRecord,
    f: &mut dyn FnMut(&FlowRecord),
) -> Result<u64> {
    let bad = |e: &dyn std::fmt::Display| ExplainError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = File::open(path).map_err(|e| bad(&e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(&e))?;
    let schema = builder.schema().clone();
    let roots: Vec<usize> = std::iter::once(TIMESTAMP)
        .chain(COLUMNS.iter().map(|c| c.column()))
        .filter_map(|name| schema.index_of(name).ok())
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder.with_projection(mask).build().map_err(|e| bad(&e))?;
    let mut n = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| bad(&e))?;
        let cols = columns(&batch);
        let Some(ts) = cols.ts.as_ref() else {
            return Err(bad(&"no timestamp column"));
        };
        for row in 0..batch.num_rows() {
            if ts.is_null(row) {
                continue;
            }
            let t = ts.value(row);
            if t < start || t >= end {
                continue;
            }
            n += 1;
            fill(rec, &cols, row);
            f(rec);
        }
    }
    Ok(n)
}

fn fill(rec: &mut FlowRecord, c: &Cols, row: usize) {
    let s = |i: usize| -> Option<&str> {
        let a = c.strs[i].as_ref()?;
        (!a.is_null(row))
            .then(|| a.value(row))
            .filter(|v| *v != "-")
    };
    let n = |i: usize| -> Option<i64> {
        let a = c.ints[i].as_ref()?;
        (!a.is_null(row)).then(|| a.value(row))
    };
    let ip = |i: usize| s(i).and_then(|v| v.parse::<IpAddr>().ok());
    rec.interface_id.clear();
    rec.interface_id.push_str(s(0).unwrap_or(""));
    rec.srcaddr = ip(1);
    rec.dstaddr = ip(2);
    rec.srcport = n(3).and_then(|v| u16::try_from(v).ok());
    rec.dstport = n(4).and_then(|v| u16::try_from(v).ok());
    rec.protocol = n(5).and_then(|v| u8::try_from(v).ok());
    rec.packets = n(6).and_then(|v| u64::try_from(v).ok());
    rec.bytes = n(7).and_then(|v| u64::try_from(v).ok());
    rec.start = n(8);
    rec.action = s(9).and_then(Action::parse);
    rec.log_status = s(10).and_then(LogStatus::parse);
    rec.flow_direction = s(11).and_then(parse_direction);
    rec.pkt_srcaddr = ip(12);
    rec.pkt_dstaddr = ip(13);
    rec.traffic_path = n(14).and_then(|v| u8::try_from(v).ok());
}
