//! `.memgate/` in the project's `.gitignore`: added once, whatever form an existing line
//! has, without disturbing the rest of the file.

/// The line `memgate init` adds.
pub const LINE: &str = ".memgate/";

/// The `.gitignore` text with `.memgate/` ignored: `None` when `existing` ignores it
/// already (as `.memgate`, `.memgate/`, `/.memgate/`, ...), else the text with the line
/// added at the end, after a line break if the last line had none.
pub fn with_memgate(existing: Option<&str>) -> Option<String> {
    let existing = existing.unwrap_or("");
    let ignored = existing.lines().any(|line| {
        let pattern = line.trim_end();
        let pattern = pattern.strip_prefix("**/").unwrap_or(pattern);
        let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
        let pattern = pattern.strip_suffix("/*").unwrap_or(pattern);
        matches!(pattern, ".memgate" | ".memgate/")
    });
    if ignored {
        return None;
    }
    let mut text = existing.to_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(LINE);
    text.push('\n');
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_once() {
        assert_eq!(with_memgate(None).unwrap(), ".memgate/\n");
        assert_eq!(with_memgate(Some("")).unwrap(), ".memgate/\n");
        assert_eq!(
            with_memgate(Some("/target\n")).unwrap(),
            "/target\n.memgate/\n"
        );
        assert_eq!(
            with_memgate(Some("/target")).unwrap(),
            "/target\n.memgate/\n"
        );
        assert_eq!(
            with_memgate(Some("a\r\n")).unwrap(),
            "a\r\n.memgate/\n",
            "the last line had its break"
        );
        for present in [
            ".memgate",
            ".memgate/",
            "/.memgate",
            "/.memgate/",
            "**/.memgate/",
            ".memgate/*",
            "x\n.memgate/  \ny",
            "x\r\n.memgate\r\n",
        ] {
            assert_eq!(with_memgate(Some(present)), None, "{present:?}");
        }
        for absent in ["# .memgate/", "!.memgate/", ".memgate.yml", "sub/.memgate/"] {
            assert!(with_memgate(Some(absent)).is_some(), "{absent:?}");
        }
    }
}
