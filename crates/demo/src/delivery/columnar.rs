//! One Parquet object: the records as one row group, columns named with underscores, typed as AWS
//! documents (INT32, INT64, UTF-8 strings; `-` as null), Parquet's internal GZIP codec.

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::basic::{Compression, GzipLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use crate::env::{Environment, Interface};
use crate::error::DemoError;
use crate::record::{COLUMNS, Column, Kind, Record, Value, kind, push_ipv4};

pub(super) enum EncodeError {
    Arrow(ArrowError),
    Parquet(ParquetError),
}

impl EncodeError {
    pub(super) fn at(self, path: &Path) -> DemoError {
        let path = path.to_path_buf();
        match self {
            EncodeError::Arrow(source) => DemoError::Arrow { path, source },
            EncodeError::Parquet(source) => DemoError::Parquet { path, source },
        }
    }
}

/// The Parquet bytes of one object.
pub(super) fn encode(env: &Environment, records: &[Record]) -> Result<Vec<u8>, EncodeError> {
    let schema = Arc::new(schema());
    let columns: Vec<ArrayRef> = COLUMNS.iter().map(|&c| column(env, records, c)).collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(EncodeError::Arrow)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::GZIP(GzipLevel::default()))
        .build();
    // AWS's files carry no Arrow schema blob; readers go by the Parquet schema alone.
    let options = ArrowWriterOptions::new()
        .with_properties(props)
        .with_skip_arrow_metadata(true);
    let mut writer = ArrowWriter::try_new_with_options(Vec::new(), schema, options)
        .map_err(EncodeError::Parquet)?;
    writer.write(&batch).map_err(EncodeError::Parquet)?;
    writer.into_inner().map_err(EncodeError::Parquet)
}

pub(crate) fn schema() -> Schema {
    let fields: Vec<Field> = COLUMNS
        .iter()
        .map(|c| {
            let ty = match kind(*c) {
                Kind::Int32 => DataType::Int32,
                Kind::Int64 => DataType::Int64,
                Kind::Utf8 => DataType::Utf8,
            };
            Field::new(c.column(), ty, true)
        })
        .collect();
    Schema::new(fields)
}

/// One column over all records. Each column is extracted by its own loop over the records
/// rather than through [`Record::value`]: this is the demo's hot path, and it runs in debug
/// builds. `parquet_rows_equal_text_records_with_dashes_as_nulls` keeps the two in step.
fn column(env: &Environment, records: &[Record], c: Column) -> ArrayRef {
    use Column::*;
    fn flow(r: &Record) -> Option<&crate::record::Flow> {
        r.flow.as_ref()
    }
    match c {
        Version => int32(records, |r| match r.value(Version, env) {
            Value::Int(v) => i32::try_from(v).ok(),
            _ => None,
        }),
        AccountId => per_eni(env, records, |_| Some(env.account_id)),
        InterfaceId => per_eni(env, records, |i| Some(i.id)),
        SrcAddr => addrs(records, |r| flow(r).map(|f| f.src)),
        DstAddr => addrs(records, |r| flow(r).map(|f| f.dst)),
        SrcPort => int32(records, |r| flow(r).map(|f| i32::from(f.sport))),
        DstPort => int32(records, |r| flow(r).map(|f| i32::from(f.dport))),
        Protocol => int32(records, |r| flow(r).map(|f| i32::from(f.protocol))),
        Packets => int64(records, |r| {
            flow(r).and_then(|f| i64::try_from(f.packets).ok())
        }),
        Bytes => int64(records, |r| {
            flow(r).and_then(|f| i64::try_from(f.bytes).ok())
        }),
        Start => int64(records, |r| Some(r.start)),
        End => int64(records, |r| Some(r.end)),
        VpcId => per_eni(env, records, |i| Some(i.vpc_id)),
        SubnetId => per_eni(env, records, |i| Some(i.subnet_id)),
        InstanceId => per_eni(env, records, |i| i.instance_id),
        TcpFlags => int32(records, |r| flow(r).map(|f| i32::from(f.tcp_flags))),
        PktSrcAddr => addrs(records, |r| flow(r).map(|f| f.pkt_src)),
        PktDstAddr => addrs(records, |r| flow(r).map(|f| f.pkt_dst)),
        Region => per_eni(env, records, |_| Some(env.region)),
        AzId => per_eni(env, records, |i| Some(i.az_id)),
        TrafficPath => int32(records, |r| {
            flow(r).and_then(|f| f.traffic_path).map(i32::from)
        }),
        // Few distinct values that depend on the record, not just its interface.
        Action | LogStatus | Type | FlowDirection | PktSrcAwsService | PktDstAwsService => {
            let values: Vec<Option<&str>> = records
                .iter()
                .map(|r| match r.value(c, env) {
                    Value::Str(s) => Some(s),
                    _ => None,
                })
                .collect();
            Arc::new(StringArray::from(values))
        }
        // Fields the demo's format does not carry (COLUMNS never lists them).
        _ => arrow::array::new_null_array(&DataType::Utf8, records.len()),
    }
}

fn int32(records: &[Record], get: impl Fn(&Record) -> Option<i32>) -> ArrayRef {
    Arc::new(Int32Array::from(
        records.iter().map(get).collect::<Vec<_>>(),
    ))
}

fn int64(records: &[Record], get: impl Fn(&Record) -> Option<i64>) -> ArrayRef {
    Arc::new(Int64Array::from(
        records.iter().map(get).collect::<Vec<_>>(),
    ))
}

/// A string that depends only on the record's interface.
fn per_eni<'a>(
    env: &'a Environment,
    records: &[Record],
    get: impl Fn(&'a Interface) -> Option<&'a str>,
) -> ArrayRef {
    let table: Vec<Option<&str>> = env.interfaces.iter().map(get).collect();
    let values: Vec<Option<&str>> = records
        .iter()
        .map(|r| table.get(usize::from(r.eni)).copied().flatten())
        .collect();
    Arc::new(StringArray::from(values))
}

/// Addresses rendered into one buffer, then sliced into the array.
fn addrs(records: &[Record], get: impl Fn(&Record) -> Option<Ipv4Addr>) -> ArrayRef {
    let mut text = Vec::with_capacity(records.len() * 12);
    let mut ends = Vec::with_capacity(records.len());
    for r in records {
        let addr = get(r);
        if let Some(a) = addr {
            push_ipv4(&mut text, a);
        }
        ends.push(addr.map(|_| text.len()));
    }
    // Only ASCII digits and dots were written.
    let text = std::str::from_utf8(&text).unwrap_or_default();
    let mut start = 0;
    let values: Vec<Option<&str>> = ends
        .iter()
        .map(|end| {
            end.map(|end| {
                let s = text.get(start..end).unwrap_or_default();
                start = end;
                s
            })
        })
        .collect();
    Arc::new(StringArray::from(values))
}
