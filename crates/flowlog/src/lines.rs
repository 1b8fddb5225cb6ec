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

/// Call `f` with every line of `input` and its 1-based number, never holding more than
/// [`MAX_LINE`] bytes of one line. Lines that lie inside the reader's buffer are passed without
/// copying; only a line split across two buffer fills is assembled in a side buffer. An IO error
/// stops the walk; lines passed before it stay valid.
pub fn for_each_line<R: BufRead>(mut input: R, mut f: impl FnMut(u64, Line<'_>)) -> io::Result<()> {
    let mut carry: Vec<u8> = Vec::new();
    let mut carry_len = 0usize; // the partial line's true length (carry is capped)
    let mut carrying = false;
    let mut line_no = 0u64;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let n = chunk.len();
        if n == 0 {
            if carrying {
                line_no += 1;
                emit(line_no, &carry, carry_len, &mut f);
            }
            return Ok(());
        }
        let mut pos = 0;
        if carrying {
            match memchr::memchr(b'\n', chunk) {
                Some(i) => {
                    extend_capped(&mut carry, &chunk[..i]);
                    carry_len += i;
                    line_no += 1;
                    emit(line_no, &carry, carry_len, &mut f);
                    carry.clear();
                    carry_len = 0;
                    carrying = false;
                    pos = i + 1;
                }
                None => {
                    extend_capped(&mut carry, chunk);
                    carry_len += n;
                    input.consume(n);
                    continue;
                }
            }
        }
        let base = pos;
        for newline in memchr::memchr_iter(b'\n', &chunk[base..]) {
            let end = base + newline;
            let line = &chunk[pos..end];
            line_no += 1;
            emit(line_no, line, line.len(), &mut f);
            pos = end + 1;
        }
        if pos < n {
            extend_capped(&mut carry, &chunk[pos..]);
            carry_len = n - pos;
            carrying = true;
        }
        input.consume(n);
    }
}

fn extend_capped(buf: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_LINE.saturating_sub(buf.len());
    buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

fn emit(line_no: u64, bytes: &[u8], len: usize, f: &mut impl FnMut(u64, Line<'_>)) {
    if len > MAX_LINE {
        f(
            line_no,
            Line::TooLong {
                len,
                head: &bytes[..bytes.len().min(1024)],
            },
        );
        return;
    }
    let line = match bytes {
        [rest @ .., b'\r'] => rest,
        _ => bytes,
    };
    f(line_no, Line::Text(line));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let mut numbers = Vec::new();
        for_each_line(io::BufReader::with_capacity(7, input), |n, line| {
            numbers.push(n);
            out.push(match line {
                Line::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Line::TooLong { len, .. } => format!("<{len}>"),
            });
        })
        .unwrap();
        assert_eq!(numbers, (1..=out.len() as u64).collect::<Vec<_>>());
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
