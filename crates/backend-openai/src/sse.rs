//! Server-sent events, as OpenAI-compatible servers stream them: lines `data: <json>`, events
//! separated by a blank line, `data: [DONE]` at the end. The parser is incremental (bytes in
//! as they arrive, whole events out) and strict where a benchmark must be: an event that is
//! not UTF-8, or a line that grows past a limit, is an error, not a guess.

use anyhow::{bail, Result};

/// Longest line accepted (a JSON chunk of one token is well under 1 KiB; this bounds the
/// memory a hostile server can make us hold).
pub const MAX_LINE: usize = 1 << 20;

/// One event's `data` (several `data:` lines joined by `\n`, as the SSE standard says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Data(String),
    /// `data: [DONE]`: the stream's end marker.
    Done,
}

/// Incremental parser: feed bytes, take events.
#[derive(Debug, Default)]
pub struct Parser {
    /// Bytes of the line not yet ended.
    line: Vec<u8>,
    /// `data` lines of the event not yet ended by a blank line.
    data: Vec<String>,
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Feed a chunk of the body; returns the events it completed, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.line_done(line, &mut out)?;
            } else {
                if self.line.len() >= MAX_LINE {
                    bail!("malformed stream: a line longer than {MAX_LINE} bytes");
                }
                self.line.push(b);
            }
        }
        Ok(out)
    }

    /// The body ended: an event whose blank line never came still counts (some servers
    /// close right after the last `data:` line).
    pub fn finish(&mut self) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(line, &mut out)?;
        }
        self.dispatch(&mut out);
        Ok(out)
    }

    fn line_done(&mut self, line: Vec<u8>, out: &mut Vec<Event>) -> Result<()> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        let Ok(text) = String::from_utf8(line) else {
            bail!("malformed stream: a line that is not UTF-8");
        };
        // Comments (`: keep-alive`) and the fields we do not use (event, id, retry).
        if text.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (text.as_str(), ""),
        };
        match field {
            "data" => self.data.push(value.to_string()),
            "event" | "id" | "retry" => {}
            _ => {
                let shown: String = text.chars().take(80).collect();
                bail!("malformed stream: expected `data: ...` lines, got `{shown}`");
            }
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<Event>) {
        if self.data.is_empty() {
            return;
        }
        let data = std::mem::take(&mut self.data).join("\n");
        out.push(if data.trim() == "[DONE]" {
            Event::Done
        } else {
            Event::Data(data)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_come_out_whole() {
        let body =
            b"data: {\"a\":1}\n\n: keep-alive\n\ndata: {\"b\":\r\ndata: 2}\r\n\r\ndata: [DONE]\n\n";
        // Every split point gives the same events.
        for cut in 0..body.len() {
            let mut p = Parser::new();
            let mut ev = p.feed(&body[..cut]).expect("first part");
            ev.extend(p.feed(&body[cut..]).expect("second part"));
            ev.extend(p.finish().expect("finish"));
            assert_eq!(
                ev,
                vec![
                    Event::Data("{\"a\":1}".into()),
                    Event::Data("{\"b\":\n2}".into()),
                    Event::Done
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn garbage_lines_and_huge_lines_are_errors() {
        let e = Parser::new().feed(b"hello world\n").unwrap_err();
        assert!(e.to_string().contains("`hello world`"), "{e}");
        let e = Parser::new().feed(&[b'x'; MAX_LINE + 1]).unwrap_err();
        assert!(e.to_string().contains("longer than"), "{e}");
        let e = Parser::new().feed(b"data: \xff\xfe\n").unwrap_err();
        assert!(e.to_string().contains("UTF-8"), "{e}");
        // A last event without its blank line is still delivered at the end.
        let mut p = Parser::new();
        assert!(p.feed(b"data: x").expect("feed").is_empty());
        assert_eq!(p.finish().expect("finish"), vec![Event::Data("x".into())]);
    }
}
