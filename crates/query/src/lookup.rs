//! Lookup tables for the `lookup` command: a CSV file with a header row, every cell a string,
//! as CloudWatch's lookup tables are (UTF-8, header, exact case-sensitive match).
//!
//! CSV follows RFC 4180: fields separated by commas, optionally quoted with `"`, a doubled `""`
//! inside quotes is one quote, quoted fields may hold commas and line breaks; `\r\n` and `\n`
//! both end a record. Blank lines are skipped. A ragged row is an error naming its line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};

/// CloudWatch's limit on a lookup table is 10 MB; flowwatch allows more but not unbounded.
pub const MAX_TABLE_BYTES: u64 = 100 << 20;

/// A loaded table.
#[derive(Clone, Debug)]
pub struct LookupTable {
    pub path: PathBuf,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl LookupTable {
    /// Read and parse `path`; errors name the file and line.
    pub fn load(path: &Path) -> Result<LookupTable, String> {
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read the lookup table {}: {e}", path.display()))?;
        if meta.len() > MAX_TABLE_BYTES {
            return Err(format!(
                "the lookup table {} is {} bytes; the limit is {} bytes",
                path.display(),
                meta.len(),
                MAX_TABLE_BYTES
            ));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the lookup table {}: {e}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "{}: byte {}: the lookup table is not UTF-8",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let records =
            parse_csv(text).map_err(|(line, why)| format!("{}:{line}: {why}", path.display()))?;
        let mut it = records.into_iter();
        let Some((_, header)) = it.next() else {
            return Err(format!(
                "{}: the lookup table is empty; it needs a header row naming its columns",
                path.display()
            ));
        };
        let columns: Vec<String> = header.into_iter().map(|c| c.trim().to_string()).collect();
        for (i, c) in columns.iter().enumerate() {
            if c.is_empty() {
                return Err(format!(
                    "{}:1: column {} of the header has no name",
                    path.display(),
                    i + 1
                ));
            }
            if columns[..i].contains(c) {
                return Err(format!(
                    "{}:1: the header names the column `{c}` twice",
                    path.display()
                ));
            }
        }
        let mut rows = vec![];
        for (line, row) in it {
            if row.len() != columns.len() {
                return Err(format!(
                    "{}:{line}: expected {} fields as in the header, found {}",
                    path.display(),
                    columns.len(),
                    row.len()
                ));
            }
            rows.push(row);
        }
        Ok(LookupTable {
            path: path.to_path_buf(),
            columns,
            rows,
        })
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The given columns as a batch (named by `names`), keeping only the first row for each
    /// value of the key columns, so a lookup never multiplies log events.
    pub fn batch(&self, keys: &[usize], take: &[(usize, String)]) -> Result<RecordBatch, String> {
        let mut seen = std::collections::HashSet::new();
        let mut builders: Vec<StringBuilder> = take.iter().map(|_| StringBuilder::new()).collect();
        for row in &self.rows {
            let key: Vec<&str> = keys.iter().map(|&k| row[k].as_str()).collect();
            if !seen.insert(key) {
                continue;
            }
            for (b, (col, _)) in builders.iter_mut().zip(take) {
                b.append_value(&row[*col]);
            }
        }
        let fields: Vec<Field> = take
            .iter()
            .map(|(_, n)| Field::new(n, DataType::Utf8, true))
            .collect();
        let arrays: Vec<ArrayRef> = builders
            .into_iter()
            .map(|mut b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| e.to_string())
    }
}

/// A CSV record and the line it starts on (1-based).
type Record = (usize, Vec<String>);

/// Records with the line each starts on; an error is (line, what is wrong).
fn parse_csv(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let mut out = vec![];
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut row = vec![];
        let mut field = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        loop {
            let Some(c) = chars.next() else {
                if quoted {
                    return Err((start, "a quoted field is not closed".into()));
                }
                row.push(std::mem::take(&mut field));
                break;
            };
            if quoted {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => quoted = false,
                    '\n' => {
                        line += 1;
                        field.push(c);
                    }
                    _ => field.push(c),
                }
                continue;
            }
            match c {
                '"' if field.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                '"' => {
                    return Err((
                        line,
                        "a quote inside an unquoted field (quote the whole field and double the quote)"
                            .into(),
                    ));
                }
                ',' => {
                    row.push(std::mem::take(&mut field));
                    was_quoted = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    row.push(std::mem::take(&mut field));
                    break;
                }
                _ if was_quoted => {
                    return Err((
                        line,
                        "text after a closing quote (expected `,` or the end of the line)".into(),
                    ));
                }
                _ => field.push(c),
            }
        }
        let blank = row.len() == 1 && row[0].is_empty();
        if !blank {
            out.push((start, row));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(s: &str) -> Vec<Vec<String>> {
        parse_csv(s)
            .expect("valid csv")
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }

    #[test]
    fn csv_quoting_and_line_ends() {
        assert_eq!(
            rows("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n1,\n"),
            vec![
                vec!["a".to_string(), "b".into()],
                vec!["x, y".into(), "say \"hi\"".into()],
                vec!["1".into(), "".into()],
            ]
        );
        assert_eq!(
            rows("a\n\"multi\nline\"\nz"),
            vec![
                vec!["a".to_string()],
                vec!["multi\nline".into()],
                vec!["z".into()]
            ]
        );
    }

    #[test]
    fn csv_errors_name_the_line() {
        assert_eq!(
            parse_csv("a\n\"open").map(|_| ()),
            Err((2, "a quoted field is not closed".into()))
        );
        assert!(parse_csv("a\nx\"y\n").is_err_and(|(l, _)| l == 2));
        assert!(parse_csv("a\n\"x\"y\n").is_err_and(|(l, _)| l == 2));
    }

    #[test]
    fn ragged_rows_and_duplicate_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "ip,name\n10.0.0.1,web\n10.0.0.2\n").expect("write");
        let e = LookupTable::load(&p).expect_err("ragged");
        assert!(
            e.ends_with("t.csv:3: expected 2 fields as in the header, found 1"),
            "{e}"
        );
        std::fs::write(&p, "ip,name\n10.0.0.1,web\n10.0.0.1,other\n10.0.0.2,db\n").expect("write");
        let t = LookupTable::load(&p).expect("load");
        let b = t
            .batch(&[0], &[(0, "k".into()), (1, "v".into())])
            .expect("batch");
        assert_eq!(b.num_rows(), 2, "the first row per key wins");
    }
}
