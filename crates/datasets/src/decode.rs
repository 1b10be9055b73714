//! Bytes to text, line by line, counting lines that hold bytes the encoding cannot decode.
//!
//! "Latin-1" is decoded as Windows-1252 (what encoding_rs, browsers and the WHATWG Encoding
//! Standard do for the label `iso-8859-1`). rt-polarity shows why: its non-ASCII bytes include
//! 0x85, 0x91, 0x96 and 0x97, which true ISO-8859-1 maps to invisible C1 control characters but
//! which are the ellipsis, left quote, en dash and em dash in Windows-1252, the encoding the text
//! was written in. The five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D)
//! count as undecodable and become U+FFFD, as invalid UTF-8 does.

use anyhow::{bail, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Windows-1252, also used for the labels `latin-1` and `iso-8859-1` (see module docs).
    Windows1252,
    /// UTF-8 when the whole file is valid UTF-8, otherwise Windows-1252.
    Auto,
}

impl Encoding {
    pub fn parse(s: &str) -> Result<Encoding> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        Ok(match norm.as_str() {
            "utf-8" | "utf8" => Encoding::Utf8,
            "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "windows-1252" | "cp1252" => {
                Encoding::Windows1252
            }
            "auto" => Encoding::Auto,
            _ => bail!(
                "dataset key `encoding`: expected utf-8, latin-1 (= windows-1252) or auto, got {s:?}"
            ),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1252 => "windows-1252",
            Encoding::Auto => "auto",
        }
    }
}

/// Decodes whole files; reports the 1-based numbers of lines with undecodable bytes.
#[derive(Debug, Clone, Copy)]
pub struct TextDecoder {
    encoding: Encoding,
}

/// A decoded file: the text (each bad byte replaced by U+FFFD) and where the bad lines were.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub text: String,
    pub bad_lines: Vec<usize>,
    /// The encoding actually used (resolves `auto`).
    pub encoding: Encoding,
}

const UNDEFINED_1252: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

impl TextDecoder {
    pub fn new(encoding: Encoding) -> Self {
        TextDecoder { encoding }
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    pub fn decode(&self, bytes: &[u8]) -> Decoded {
        // A UTF-8 byte order mark is not text.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let encoding = match self.encoding {
            Encoding::Auto if std::str::from_utf8(bytes).is_ok() => Encoding::Utf8,
            Encoding::Auto => Encoding::Windows1252,
            e => e,
        };
        if encoding == Encoding::Utf8 {
            if let Ok(s) = std::str::from_utf8(bytes) {
                return Decoded {
                    text: s.to_string(),
                    bad_lines: Vec::new(),
                    encoding,
                };
            }
        }
        let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
        let mut bad_lines = Vec::new();
        for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
            let bad = match encoding {
                Encoding::Utf8 | Encoding::Auto => {
                    let (s, had_errors) = encoding_rs::UTF_8.decode_without_bom_handling(line);
                    text.push_str(&s);
                    had_errors
                }
                Encoding::Windows1252 => {
                    let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(line);
                    // encoding_rs maps the undefined bytes to the C1 code points of the same
                    // value (WHATWG); those are no text, so they become U+FFFD.
                    let bad = line.iter().any(|b| UNDEFINED_1252.contains(b));
                    if bad {
                        text.extend(s.chars().map(|c| match u8::try_from(c as u32) {
                            Ok(b) if UNDEFINED_1252.contains(&b) => '\u{FFFD}',
                            _ => c,
                        }));
                    } else {
                        text.push_str(&s);
                    }
                    bad
                }
            };
            if bad {
                bad_lines.push(i + 1);
            }
        }
        Decoded {
            text,
            bad_lines,
            encoding,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_punctuation_and_accents() {
        let d = TextDecoder::new(Encoding::Windows1252);
        // 0xE9 é, 0x85 …, 0x91 ‘, 0x96 –, 0x97 —: the bytes rt-polarity holds.
        let out = d.decode(b"caf\xE9 \x85 \x91a\x96b\x97c\n");
        assert_eq!(out.text, "café … ‘a–b—c\n");
        assert!(out.bad_lines.is_empty());
    }

    #[test]
    fn undefined_1252_bytes_are_counted_per_line() {
        let d = TextDecoder::new(Encoding::Windows1252);
        let out = d.decode(b"ok\nbad \x81 \x9D\nok\nbad\x90");
        assert_eq!(out.text, "ok\nbad \u{FFFD} \u{FFFD}\nok\nbad\u{FFFD}");
        assert_eq!(out.bad_lines, vec![2, 4]);
    }

    #[test]
    fn invalid_utf8_lines_are_counted_and_kept() {
        let d = TextDecoder::new(Encoding::Utf8);
        let out = d.decode(b"\xEF\xBB\xBFfine \xC3\xA9\ncaf\xE9\n");
        assert_eq!(out.text, "fine é\ncaf\u{FFFD}\n");
        assert_eq!(out.bad_lines, vec![2]);
    }

    #[test]
    fn auto_picks_utf8_only_when_all_valid() {
        let d = TextDecoder::new(Encoding::Auto);
        assert_eq!(d.decode("é\n".as_bytes()).encoding, Encoding::Utf8);
        let out = d.decode(b"caf\xE9\n");
        assert_eq!(out.encoding, Encoding::Windows1252);
        assert_eq!(out.text, "café\n");
    }

    #[test]
    fn unknown_encoding_names_the_key() {
        let err = Encoding::parse("ebcdic").unwrap_err().to_string();
        assert!(err.contains("`encoding`"), "{err}");
    }
}
