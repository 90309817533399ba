//! Text from a benchmark (its stderr, a failure's message, a command) made safe to show:
//! on a terminal no control character can move the cursor, change colours or clear the
//! screen, and no invisible character can reorder what is read. Main function:
//! [`printable`].

use std::borrow::Cow;

/// `text` with every control character (tabs aside) and every invisible character that
/// changes reading order written out as an escape, like `\u{1b}`.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
    }
}
