//! Framing: bytes to lines, with a length cap, line numbers and a count of compressed bytes
//! consumed (so a gzip error can name its offset).

use std::cell::Cell as StdCell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use crate::error::MAX_LINE;

/// Counts the bytes read through it; the count is shared so it stays readable after the reader
/// has been moved into a decoder.
pub struct CountingReader<R> {
    inner: R,
    count: Rc<StdCell<u64>>,
}

impl<R: Read> CountingReader<R> {
    pub fn new(inner: R) -> (CountingReader<R>, Rc<StdCell<u64>>) {
        let count = Rc::new(StdCell::new(0));
        (
            CountingReader {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// One framed line.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Without its `\n` (and `\r`).
    Text(&'a [u8]),
    /// Longer than [`MAX_LINE`]; the first bytes are kept for the quarantine file.
    TooLong { len: usize, head: &'a [u8] },
}

/// Splits a byte stream into lines without ever holding more than [`MAX_LINE`] bytes of one.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    line_no: u64,
    eof: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> LineReader<R> {
        LineReader {
            inner,
            buf: Vec::with_capacity(4096),
            line_no: 0,
            eof: false,
        }
    }

    /// The next line and its 1-based number, `Ok(None)` at the end. An IO error leaves the reader at the failure; lines
    /// returned before it stay valid.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        if self.eof {
            return Ok(None);
        }
        self.buf.clear();
        let mut total = 0usize;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                self.eof = true;
                if total == 0 {
                    return Ok(None);
                }
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            let room = MAX_LINE.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            total += take;
            self.inner.consume(if done { take + 1 } else { take });
            if done {
                break;
            }
        }
        self.line_no += 1;
        if total > MAX_LINE {
            let head = &self.buf[..self.buf.len().min(1024)];
            return Ok(Some((self.line_no, Line::TooLong { len: total, head })));
        }
        let mut line = &self.buf[..];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        Ok(Some((self.line_no, Line::Text(line))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut r = LineReader::new(io::BufReader::with_capacity(7, input));
        let mut out = Vec::new();
        while let Some((_, line)) = r.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Line::TooLong { len, .. } => format!("<{len}>"),
            });
        }
        out
    }

    #[test]
    fn splits_across_buffer_boundaries() {
        assert_eq!(
            lines(b"abc\r\ndefghijklmnop\n\nq"),
            ["abc", "defghijklmnop", "", "q"]
        );
        assert_eq!(lines(b""), Vec::<String>::new());
        assert_eq!(lines(b"x\n"), ["x"]);
    }

    #[test]
    fn caps_long_lines_and_keeps_going() {
        let mut input = vec![b'a'; MAX_LINE + 10];
        input.extend_from_slice(b"\nok\n");
        assert_eq!(
            lines(&input),
            [format!("<{}>", MAX_LINE + 10), "ok".to_string()]
        );
    }
}
