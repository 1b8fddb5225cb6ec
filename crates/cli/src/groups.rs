//! `flowwatch log-groups …`: CloudWatch-style log group management.

use anyhow::{Result, bail};
use clap::Subcommand;
use flowwatch_store::{GroupMeta, Store, now_ms};
use serde_json::{Value, json};

use crate::exit;
use crate::output::{OutputFormat, Table, human_bytes};

#[derive(Subcommand, Debug)]
pub enum GroupCommand {
    /// List log groups with their size and retention
    List,
    /// Show one log group in detail
    Describe { name: String },
    /// Create a log group
    Create {
        name: String,
        /// 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653; omit for never
        #[arg(long)]
        retention_days: Option<u32>,
    },
    /// Delete a log group and all its data
    Delete {
        name: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// Set (or with `never`, remove) the retention of a log group
    SetRetention {
        name: String,
        /// Days, or `never`.
        retention: String,
    },
    /// Drop partitions older than each group's retention (all groups unless one is named)
    Prune { name: Option<String> },
    /// Merge small files within each hour partition
    Compact { name: String },
}

fn retention_label(days: Option<u32>) -> String {
    days.map_or("never".to_string(), |d| format!("{d} days"))
}

fn describe_row(store: &Store, g: &GroupMeta) -> Result<Vec<Value>> {
    let stats = store.stats(&g.name)?;
    Ok(vec![
        json!(g.name),
        json!(stats.records),
        json!(stats.files),
        json!(stats.partitions),
        json!(stats.stored_bytes),
        json!(retention_label(g.retention_days)),
    ])
}

pub fn run(store: &mut Store, cmd: GroupCommand, out: OutputFormat) -> Result<u8> {
    let headers = [
        "name",
        "records",
        "files",
        "partitions",
        "stored_bytes",
        "retention",
    ];
    match cmd {
        GroupCommand::List => {
            let mut t = Table::new(&headers);
            for g in store.groups()? {
                t.push(describe_row(store, &g)?);
            }
            if t.rows.is_empty() && out == OutputFormat::Table {
                eprintln!(
                    "no log groups yet: run `flowwatch demo` or `flowwatch ingest PATH --log-group NAME`"
                );
                return Ok(exit::OK);
            }
            t.print(out)?;
        }
        GroupCommand::Describe { name } => {
            let g = store.group(&name)?;
            let stats = store.stats(&name)?;
            let mut t = Table::new(&["property", "value"]);
            let rows = [
                ("name", json!(g.name)),
                ("retention", json!(retention_label(g.retention_days))),
                (
                    "created",
                    json!(
                        chrono::DateTime::from_timestamp_millis(g.created_ms)
                            .map(|t| t.to_rfc3339())
                    ),
                ),
                ("records", json!(stats.records)),
                ("files", json!(stats.files)),
                ("partitions", json!(stats.partitions)),
                ("stored", json!(human_bytes(stats.stored_bytes))),
                (
                    "location",
                    json!(store.group_dir(&name).display().to_string()),
                ),
            ];
            for (k, v) in rows {
                t.push(vec![json!(k), v]);
            }
            t.print(out)?;
        }
        GroupCommand::Create {
            name,
            retention_days,
        } => {
            let g = store.create_group(&name, retention_days)?;
            eprintln!(
                "created log group '{}' (retention: {})",
                g.name,
                retention_label(g.retention_days)
            );
        }
        GroupCommand::Delete { name, yes } => {
            if !yes {
                bail!("deleting '{name}' removes all its data: add --yes to confirm");
            }
            store.delete_group(&name)?;
            eprintln!("deleted log group '{name}'");
        }
        GroupCommand::SetRetention { name, retention } => {
            let days = match retention.as_str() {
                "never" => None,
                d => Some(d.parse::<u32>().map_err(|_| {
                    anyhow::anyhow!("retention must be a number of days or 'never', not '{d}'")
                })?),
            };
            let g = store.set_retention(&name, days)?;
            let pruned = store.prune(&name, now_ms())?;
            eprintln!(
                "retention of '{}' is now {}; {pruned} expired files removed",
                g.name,
                retention_label(g.retention_days)
            );
        }
        GroupCommand::Prune { name } => {
            let names: Vec<String> = match name {
                Some(n) => vec![store.group(&n)?.name],
                None => store.groups()?.into_iter().map(|g| g.name).collect(),
            };
            let mut t = Table::new(&["name", "files_removed"]);
            for n in names {
                let removed = store.prune(&n, now_ms())?;
                t.push(vec![json!(n), json!(removed)]);
            }
            t.print(out)?;
        }
        GroupCommand::Compact { name } => {
            let (parts, before, after) = store.compact(&name, 2)?;
            eprintln!("compacted {parts} partitions of '{name}': {before} files became {after}");
        }
    }
    Ok(exit::OK)
}
