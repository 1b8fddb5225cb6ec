//! Terminal output: aligned tables (numbers right-aligned), CSV and JSON from one table model.

use std::io::{self, Write};

use clap::ValueEnum;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    /// An array of objects, typed values.
    Json,
    /// One JSON object per line.
    Ndjson,
    Csv,
    /// `flowwatch query` only: the JSON of `aws logs get-query-results`.
    Cloudwatch,
}

/// A result table: typed cells so JSON keeps numbers as numbers.
#[derive(Debug, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    pub fn print(&self, format: OutputFormat) -> io::Result<()> {
        let mut out = io::stdout().lock();
        match format {
            OutputFormat::Table => self.write_table(&mut out),
            OutputFormat::Csv => self.write_csv(&mut out),
            OutputFormat::Ndjson => {
                for r in &self.rows {
                    out.write_all(self.object(r, None).as_bytes())?;
                    writeln!(out)?;
                }
                Ok(())
            }
            OutputFormat::Json | OutputFormat::Cloudwatch => {
                if self.rows.is_empty() {
                    return writeln!(out, "[]");
                }
                writeln!(out, "[")?;
                for (i, r) in self.rows.iter().enumerate() {
                    let sep = if i + 1 < self.rows.len() { "," } else { "" };
                    writeln!(out, "  {}{sep}", self.object(r, Some("  ")))?;
                }
                writeln!(out, "]")
            }
        }
    }

    /// A row as a JSON object with its keys in column order (a `serde_json::Map` would sort
    /// them); `indent` pretty-prints one key per line.
    fn object(&self, row: &[Value], indent: Option<&str>) -> String {
        let mut s = String::from("{");
        for (i, (k, v)) in self.headers.iter().zip(row).enumerate() {
            if i > 0 {
                s.push(',');
            }
            if let Some(ind) = indent {
                s.push('\n');
                s.push_str(ind);
                s.push_str("  ");
            }
            s.push_str(&Value::String(k.clone()).to_string());
            s.push(':');
            if indent.is_some() {
                s.push(' ');
            }
            s.push_str(&v.to_string());
        }
        if let Some(ind) = indent
            && !self.headers.is_empty()
        {
            s.push('\n');
            s.push_str(ind);
        }
        s.push('}');
        s
    }

    fn write_table(&self, out: &mut impl Write) -> io::Result<()> {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(display).collect())
            .collect();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let numeric: Vec<bool> = (0..self.headers.len())
            .map(|i| {
                !self.rows.is_empty()
                    && self
                        .rows
                        .iter()
                        .all(|r| matches!(r.get(i), Some(Value::Number(_) | Value::Null)))
            })
            .collect();
        let line = |out: &mut dyn Write, row: &[String]| -> io::Result<()> {
            let parts: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if numeric[i] {
                        format!("{c:>w$}", w = widths[i])
                    } else {
                        format!("{c:<w$}", w = widths[i])
                    }
                })
                .collect();
            writeln!(out, "{}", parts.join("  ").trim_end())
        };
        line(out, &self.headers)?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        writeln!(out, "{}", rule.join("  "))?;
        for row in &cells {
            line(out, row)?;
        }
        Ok(())
    }

    fn write_csv(&self, out: &mut impl Write) -> io::Result<()> {
        let esc = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        writeln!(
            out,
            "{}",
            self.headers
                .iter()
                .map(|h| esc(h))
                .collect::<Vec<_>>()
                .join(",")
        )?;
        for row in &self.rows {
            writeln!(
                out,
                "{}",
                row.iter()
                    .map(|c| esc(&display(c)))
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
        }
        Ok(())
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Bytes for humans: `1.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
