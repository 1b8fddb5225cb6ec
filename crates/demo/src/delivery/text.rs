//! One plain-text object: the header line, then one line per record, `\n`-terminated, gzip.

use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write as _;

use crate::env::Environment;
use crate::record::{Record, header};

/// Fast gzip: the level does not change what a reader sees, and the day is tens of megabytes of
/// text.
const LEVEL: u32 = 1;

/// The gzip bytes of one object.
pub(super) fn encode(env: &Environment, records: &[Record]) -> Vec<u8> {
    let mut text = Vec::with_capacity(256 * (records.len() + 1));
    text.extend_from_slice(header().as_bytes());
    text.push(b'\n');
    for record in records {
        record.write_line(env, &mut text);
    }
    // GzEncoder's default header has mtime 0, so the bytes depend only on the text. Writing into
    // a Vec cannot fail.
    let mut gz = GzEncoder::new(Vec::with_capacity(text.len() / 8), Compression::new(LEVEL));
    let _ = gz.write_all(&text);
    gz.finish().unwrap_or_default()
}
