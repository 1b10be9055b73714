//! A check of a Parquet file's footer before the parquet crate reads it. The crate (56.x)
//! reserves memory for every list the footer's Thrift metadata declares, as declared: a
//! damaged or hostile file that declares a billion row groups makes it ask for tens of
//! gigabytes and the process aborts (found by fuzzing). Here the footer is walked once in
//! Thrift's compact encoding, and any list, set, map or string that declares more elements
//! than there are bytes left is refused, as is nesting deeper than real metadata goes.

use anyhow::{bail, Result};
use std::io::{Read, Seek, SeekFrom};

/// Deeper than any real Parquet footer (schema trees nest a few levels).
const MAX_DEPTH: usize = 64;

/// Check the footer of the open file `f` of `len` bytes.
pub(crate) fn check(f: &mut std::fs::File, len: u64) -> Result<()> {
    if len < 12 {
        bail!("{len} bytes: too short for a Parquet file (magic, footer length, magic)");
    }
    let mut tail = [0u8; 8];
    f.seek(SeekFrom::End(-8))?;
    f.read_exact(&mut tail)?;
    if &tail[4..] != b"PAR1" {
        bail!("no `PAR1` magic at the end: not a Parquet file");
    }
    let meta_len = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) as u64;
    if meta_len + 12 > len {
        bail!("the footer declares {meta_len} bytes of metadata in a file of {len} bytes");
    }
    let mut meta = vec![0u8; meta_len as usize];
    f.seek(SeekFrom::Start(len - 8 - meta_len))?;
    f.read_exact(&mut meta)?;
    f.seek(SeekFrom::Start(0))?;
    let mut walk = Walk { buf: &meta, at: 0 };
    walk.structure(0)
}

struct Walk<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Walk<'_> {
    fn left(&self) -> usize {
        self.buf.len() - self.at
    }

    fn byte(&mut self) -> Result<u8> {
        let Some(&b) = self.buf.get(self.at) else {
            bail!("the metadata ends in the middle of a value");
        };
        self.at += 1;
        Ok(b)
    }

    fn skip(&mut self, n: usize) -> Result<()> {
        if n > self.left() {
            bail!("a value of {n} bytes where {} are left", self.left());
        }
        self.at += n;
        Ok(())
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        bail!("a variable-length integer longer than 10 bytes")
    }

    /// A count that must fit in what is left (every element takes at least a byte).
    fn count(&mut self, n: u64, what: &str) -> Result<usize> {
        if n > self.left() as u64 {
            bail!(
                "a {what} declares {n} elements with {} bytes left",
                self.left()
            );
        }
        Ok(n as usize)
    }

    fn structure(&mut self, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            bail!("the metadata nests deeper than {MAX_DEPTH} levels");
        }
        loop {
            let header = self.byte()?;
            let kind = header & 0x0f;
            if kind == 0 {
                return Ok(());
            }
            if header >> 4 == 0 {
                self.varint()?; // the field id, spelled out
            }
            self.value(kind, depth + 1)?;
        }
    }

    fn value(&mut self, kind: u8, depth: usize) -> Result<()> {
        match kind {
            1 | 2 => Ok(()), // booleans live in the field header
            3 => self.skip(1),
            4..=6 => self.varint().map(drop),
            7 => self.skip(8),
            8 => {
                let n = self.varint()?;
                let n = self.count(n, "string")?;
                self.skip(n)
            }
            9 | 10 => {
                let header = self.byte()?;
                let elem = header & 0x0f;
                let n = match header >> 4 {
                    15 => self.varint()?,
                    small => u64::from(small),
                };
                let n = self.count(n, "list")?;
                for _ in 0..n {
                    if elem == 1 || elem == 2 {
                        self.skip(1)?; // a boolean element is a byte of its own
                    } else {
                        self.value(elem, depth + 1)?;
                    }
                }
                Ok(())
            }
            11 => {
                let n = self.varint()?;
                let n = self.count(n, "map")?;
                if n == 0 {
                    return Ok(());
                }
                let types = self.byte()?;
                for _ in 0..n {
                    for t in [types >> 4, types & 0x0f] {
                        if t == 1 || t == 2 {
                            self.skip(1)?;
                        } else {
                            self.value(t, depth + 1)?;
                        }
                    }
                }
                Ok(())
            }
            12 => self.structure(depth),
            other => bail!("an unknown Thrift type {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(bytes: &[u8]) -> Result<()> {
        Walk { buf: bytes, at: 0 }.structure(0)
    }

    #[test]
    fn real_shapes_pass_and_impossible_counts_are_refused() {
        // field 1 (i32) = 2, field 2: list of 2 structs each holding field 1 (binary "ab"), stop.
        let ok = [
            0x15, 0x04, 0x19, 0x2c, 0x18, 0x02, b'a', b'b', 0x00, 0x18, 0x02, b'a', b'b', 0x00,
            0x00,
        ];
        assert!(walk(&ok).is_ok());
        // A list declaring 2^40 structs in a few bytes.
        let huge = [0x19, 0xfc, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00];
        let e = walk(&huge).unwrap_err().to_string();
        assert!(e.contains("declares 1099511627776 elements"), "{e}");
        // A string longer than what is left, and a truncated value.
        assert!(walk(&[0x18, 0x7f, b'x']).is_err());
        assert!(walk(&[0x16]).is_err());
        // Nesting beyond any real footer.
        let deep: Vec<u8> = std::iter::repeat_n(0x1c, 100).collect();
        assert!(walk(&deep)
            .unwrap_err()
            .to_string()
            .contains("nests deeper"));
    }
}
