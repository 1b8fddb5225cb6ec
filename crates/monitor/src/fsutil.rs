//! Atomic file replacement: write a temporary file beside the target, fsync it, rename it
//! over the target, fsync the directory. A crash leaves the old file or the new one, never a
//! torn one.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::error::{IoContext, Result};

pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).at(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = File::create(&tmp).at(&tmp)?;
        f.write_all(bytes).at(&tmp)?;
        f.sync_all().at(&tmp)?;
    }
    fs::rename(&tmp, path).at(path)?;
    // Make the rename itself durable.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A file-name-safe spelling of any string: ASCII letters, digits, `-` and `_` as they are,
/// everything else percent-encoded byte by byte (so `/`, `.` and `%` cannot escape a directory).
pub(crate) fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape() {
        assert_eq!(encode_name("/aws/vpc"), "%2Faws%2Fvpc");
        assert_eq!(encode_name(".."), "%2E%2E");
        assert_eq!(encode_name("Rejected SSH"), "Rejected%20SSH");
    }

    #[test]
    fn replaces_atomically() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = tmp.path().join("a/b.json");
        write_atomic(&p, b"1").expect("write");
        write_atomic(&p, b"2").expect("write");
        assert_eq!(fs::read(&p).expect("read"), b"2");
        assert_eq!(
            fs::read_dir(p.parent().expect("dir")).expect("ls").count(),
            1
        );
    }
}
