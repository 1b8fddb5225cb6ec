//! `flowwatch athena-ddl`: the statements that let Athena, Trino or Spark query the store's
//! files where they lie (after `aws s3 sync <data-dir> s3://bucket/prefix`).
//!
//! The column list is read from the Parquet footers of the group's files (so unknown fields a
//! group stored appear too); partition columns are the store's `year/month/day/hour`
//! directories, as strings with leading zeros. Athena gets partition projection (no
//! `MSCK REPAIR` or crawler); Hive/Spark get `MSCK REPAIR TABLE`; Trino gets its Hive
//! connector's `CREATE TABLE … WITH (external_location …)` and `sync_partition_metadata`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::File;

use arrow::datatypes::{DataType, Schema, TimeUnit};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};

use crate::engine::{Error, QueryEngine};
use crate::sql::PARTITION_COLUMNS;

/// Which engine the statements are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Athena: Hive DDL with partition projection.
    Athena,
    /// Hive and Spark SQL: Hive DDL, partitions loaded with `MSCK REPAIR TABLE`.
    Hive,
    /// Trino's Hive connector.
    Trino,
}

#[derive(Clone, Debug)]
pub struct DdlOptions {
    /// Where the data directory's copy lives, e.g. `s3://bucket/flowwatch` (its `groups/`
    /// folder holds the tables).
    pub location: String,
    /// Database (Athena/Hive) or `catalog.schema` (Trino) to create the tables in.
    pub database: Option<String>,
    pub dialect: Dialect,
}

/// One column: its name and its type in the dialect.
fn column_type(t: &DataType, dialect: Dialect) -> Option<&'static str> {
    let trino = dialect == Dialect::Trino;
    Some(match t {
        DataType::Int8 | DataType::Int16 | DataType::Int32 => {
            if trino {
                "integer"
            } else {
                "int"
            }
        }
        DataType::Int64 => "bigint",
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => "bigint",
        DataType::Float32 => {
            if trino {
                "real"
            } else {
                "float"
            }
        }
        DataType::Float64 => "double",
        DataType::Boolean => "boolean",
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            if trino {
                "varchar"
            } else {
                "string"
            }
        }
        DataType::Dictionary(_, v) => return column_type(v, dialect),
        DataType::Timestamp(TimeUnit::Millisecond, _) if trino => "timestamp(3)",
        DataType::Timestamp(..) => "timestamp",
        _ => return None,
    })
}

/// A table name every engine accepts unquoted: lowercase letters, digits and `_`.
pub fn table_name(group: &str) -> String {
    let mut out: String = group
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    out = out.trim_matches('_').to_string();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "flow_");
    }
    out
}

impl QueryEngine {
    /// The merged Arrow schema of a group's files (None when it has no data yet).
    pub fn group_schema(&self, group: &str) -> Result<Option<Schema>, Error> {
        let files = self.store().data_files(group)?;
        let mut merged: Option<Schema> = None;
        for f in files {
            let file = File::open(&f)
                .map_err(|e| Error::Other(format!("cannot open {}: {e}", f.display())))?;
            let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
                .map_err(|e| Error::Other(format!("{}: {e}", f.display())))?;
            let s = meta.schema().as_ref().clone();
            merged = Some(match merged {
                None => s,
                Some(m) => Schema::try_merge([m, s])
                    .map_err(|e| Error::Other(format!("{}: {e}", f.display())))?,
            });
        }
        Ok(merged)
    }

    /// The DDL for `groups` (all when empty).
    pub fn athena_ddl(&self, groups: &[String], options: &DdlOptions) -> Result<String, Error> {
        let groups = self.resolve_groups(groups)?;
        let mut out = String::new();
        let root = options.location.trim_end_matches('/');
        let mut used = BTreeSet::new();
        let db_prefix = options
            .database
            .as_deref()
            .map(|d| format!("{d}."))
            .unwrap_or_default();
        if let (Some(db), Dialect::Athena | Dialect::Hive) = (&options.database, options.dialect) {
            let _ = writeln!(out, "CREATE DATABASE IF NOT EXISTS `{db}`;\n");
        }
        for g in &groups {
            let Some(schema) = self.group_schema(g)? else {
                let _ = writeln!(out, "-- log group '{g}' has no data yet: no table\n");
                continue;
            };
            let mut name = table_name(g);
            while !used.insert(name.clone()) {
                name.push_str("_2");
            }
            let dir = self
                .group_dir(g)
                .file_name()
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default();
            let location = format!("{root}/groups/{dir}/");
            let years = self.years(g)?;
            let _ = writeln!(out, "-- log group '{g}'");
            if dir.contains('%') {
                let _ = writeln!(
                    out,
                    "-- its folder name is percent-encoded ('{dir}'): keep it exactly when copying"
                );
            }
            let mut columns = vec![];
            for f in schema.fields() {
                if PARTITION_COLUMNS.contains(&f.name().as_str()) {
                    continue;
                }
                match column_type(f.data_type(), options.dialect) {
                    Some(t) => columns.push((f.name().clone(), t)),
                    None => {
                        let _ = writeln!(
                            out,
                            "-- column '{}' ({}) has no equivalent type: left out",
                            f.name(),
                            f.data_type()
                        );
                    }
                }
            }
            match options.dialect {
                Dialect::Athena | Dialect::Hive => hive_ddl(
                    &mut out,
                    &db_prefix,
                    &name,
                    &columns,
                    &location,
                    options.dialect,
                    years,
                ),
                Dialect::Trino => trino_ddl(&mut out, &db_prefix, &name, &columns, &location),
            }
            out.push('\n');
        }
        Ok(out)
    }

    /// The years a group's partitions cover, widened by five years ahead so data still to come
    /// is projected too.
    fn years(&self, group: &str) -> Result<(i32, i32), Error> {
        use chrono::Datelike;
        let files = self.store().data_files(group)?;
        let mut years = files
            .iter()
            .filter_map(|f| flowwatch_store::partition_hour_ms(f))
            .filter_map(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.year());
        let first = years.next().unwrap_or(2020);
        let (lo, hi) = years.fold((first, first), |(lo, hi), y| (lo.min(y), hi.max(y)));
        Ok((lo, hi + 5))
    }
}

fn hive_ddl(
    out: &mut String,
    db: &str,
    name: &str,
    columns: &[(String, &str)],
    location: &str,
    dialect: Dialect,
    (first_year, last_year): (i32, i32),
) {
    let quoted_db = if db.is_empty() {
        String::new()
    } else {
        format!("`{}`.", db.trim_end_matches('.'))
    };
    let _ = writeln!(
        out,
        "CREATE EXTERNAL TABLE IF NOT EXISTS {quoted_db}`{name}` ("
    );
    let cols: Vec<String> = columns
        .iter()
        .map(|(c, t)| format!("  `{c}` {t}"))
        .collect();
    let _ = writeln!(out, "{}", cols.join(",\n"));
    let _ = writeln!(out, ")");
    let parts: Vec<String> = PARTITION_COLUMNS
        .iter()
        .map(|c| format!("`{c}` string"))
        .collect();
    let _ = writeln!(out, "PARTITIONED BY ({})", parts.join(", "));
    let _ = writeln!(out, "STORED AS PARQUET");
    let _ = writeln!(out, "LOCATION '{location}'");
    if dialect == Dialect::Athena {
        let _ = writeln!(out, "TBLPROPERTIES (");
        let props = [
            ("projection.enabled", "true".to_string()),
            ("projection.year.type", "integer".into()),
            ("projection.year.range", format!("{first_year},{last_year}")),
            ("projection.month.type", "integer".into()),
            ("projection.month.range", "1,12".into()),
            ("projection.month.digits", "2".into()),
            ("projection.day.type", "integer".into()),
            ("projection.day.range", "1,31".into()),
            ("projection.day.digits", "2".into()),
            ("projection.hour.type", "integer".into()),
            ("projection.hour.range", "0,23".into()),
            ("projection.hour.digits", "2".into()),
            (
                "storage.location.template",
                format!("{location}year=${{year}}/month=${{month}}/day=${{day}}/hour=${{hour}}"),
            ),
        ];
        let props: Vec<String> = props
            .iter()
            .map(|(k, v)| format!("  '{k}'='{v}'"))
            .collect();
        let _ = writeln!(out, "{}", props.join(",\n"));
        let _ = writeln!(out, ");");
        let _ = writeln!(
            out,
            "-- filter on year/month/day/hour (strings: day = '07') so Athena reads only those hours"
        );
    } else {
        let _ = writeln!(out, ";");
        let _ = writeln!(out, "MSCK REPAIR TABLE {quoted_db}`{name}`;");
    }
}

fn trino_ddl(out: &mut String, db: &str, name: &str, columns: &[(String, &str)], location: &str) {
    let _ = writeln!(out, "CREATE TABLE IF NOT EXISTS {db}{name} (");
    let mut cols: Vec<String> = columns
        .iter()
        .map(|(c, t)| format!("  \"{c}\" {t}"))
        .collect();
    cols.extend(
        PARTITION_COLUMNS
            .iter()
            .map(|c| format!("  \"{c}\" varchar")),
    );
    let _ = writeln!(out, "{}", cols.join(",\n"));
    let _ = writeln!(out, ")");
    let parts: Vec<String> = PARTITION_COLUMNS.iter().map(|c| format!("'{c}'")).collect();
    let _ = writeln!(
        out,
        "WITH (format = 'PARQUET', external_location = '{location}', partitioned_by = ARRAY[{}]);",
        parts.join(", ")
    );
    let (schema, table) = match db.trim_end_matches('.').rsplit_once('.') {
        Some((_, s)) => (s.to_string(), name),
        None if !db.is_empty() => (db.trim_end_matches('.').to_string(), name),
        None => ("<schema>".to_string(), name),
    };
    let _ = writeln!(
        out,
        "CALL system.sync_partition_metadata('{schema}', '{table}', 'ADD');"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        assert_eq!(table_name("/aws/vpc/Flow-Logs"), "aws_vpc_flow_logs");
        assert_eq!(table_name("prod"), "prod");
        assert_eq!(table_name("2026"), "flow_2026");
        assert_eq!(table_name("..."), "flow_");
    }

    #[test]
    fn types_follow_athena_and_trino() {
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(column_type(&dict, Dialect::Athena), Some("string"));
        assert_eq!(column_type(&dict, Dialect::Trino), Some("varchar"));
        assert_eq!(column_type(&DataType::Int32, Dialect::Athena), Some("int"));
        assert_eq!(column_type(&DataType::Int64, Dialect::Hive), Some("bigint"));
        let ts = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
        assert_eq!(column_type(&ts, Dialect::Athena), Some("timestamp"));
        assert_eq!(column_type(&ts, Dialect::Trino), Some("timestamp(3)"));
    }
}
