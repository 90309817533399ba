//! Text from a benchmark (its stderr, a failure's message, a command) made safe to show:
//! on a terminal no control character can move the cursor, change colours or clear the
//! screen, and no invisible character can reorder what is read; in a CI log no `##[` can
//! read as a workflow command. Main functions: [`printable`], [`inert`].

use std::borrow::Cow;

/// `text` with every control character (tabs aside) and every invisible character that
/// changes reading order written out as an escape, like `\u{1b}`.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return inert(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(inert(&out).into_owned())
}

/// `text` with `##[` (a workflow command of the older form, anywhere in a line) broken
/// up as `##\[`. Lines memgate prints never start with a benchmark's text, so the newer
/// form (`::` at a line's start) cannot occur.
pub fn inert(text: &str) -> Cow<'_, str> {
    if text.contains("##[") {
        Cow::Owned(text.replace("##[", "##\\["))
    } else {
        Cow::Borrowed(text)
    }
}

/// A JSON document with `##[` written `##\u005b`: the same data to any JSON reader,
/// and no workflow command to the runner.
pub fn inert_json(mut json: Vec<u8>) -> Vec<u8> {
    // As text, the search is a substring search, many bytes a step: a byte-by-byte walk
    // of windows took a twentieth of a 10,000-pair `compare --format json`.
    let marked = match std::str::from_utf8(&json) {
        Ok(text) => text.contains("##["),
        Err(_) => json.windows(3).any(|w| w == b"##["),
    };
    if marked {
        json = String::from_utf8_lossy(&json)
            .replace("##[", "##\\u005b")
            .into_bytes();
    }
    json
}

fn hidden(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_written_out() {
        assert_eq!(printable("plain\ttext"), "plain\ttext");
        assert_eq!(printable("\u{1b}[2Jgone"), "\\u{1b}[2Jgone");
        assert_eq!(printable("a\nb\rc"), "a\\u{a}b\\u{d}c");
        assert_eq!(printable("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(printable("x ##[error]y"), "x ##\\[error]y");
        let json = inert_json(br###"{"a": "##[error]x"}"###.to_vec());
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["a"], "##[error]x");
        assert!(!String::from_utf8_lossy(&json).contains("##["));
    }
}
