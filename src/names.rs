//! What benchmark-controlled text may be: names (of benchmarks, datasets, metrics,
//! testbeds, labels) and units. A name is safe as one path component, as a command-line
//! word and in every report; a unit is safe in every report. They are checked where they
//! enter memgate (config, `$MEMGATE_METRICS`, a stored record, the command line), and
//! every renderer escapes them anyway.

/// The longest name: room for memgate's own suffixes within a file name's 255 bytes.
pub const MAX_NAME: usize = 100;
/// The longest unit.
pub const MAX_UNIT: usize = 32;

/// What a good name looks like, for messages.
pub const NAME_RULE: &str =
    "use letters, digits, '_', '-' and '.', not starting with '-' or '.', at most 100 characters";
/// What a good unit looks like, for messages.
pub const UNIT_RULE: &str = "use at most 32 letters, digits, spaces and / % . _ - * ^ ( ) °";

/// Whether `name` may name a benchmark, dataset, metric, testbed or label.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// `Ok` for a good name; else a sentence naming `what` it was to be and the rule.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(format!("{what} {name:?} is not allowed: {NAME_RULE}"))
    }
}

/// Whether `unit` may be a metric's unit (`""` for a plain number).
pub fn valid_unit(unit: &str) -> bool {
    unit.chars().count() <= MAX_UNIT
        && unit
            .chars()
            .all(|c| c.is_alphanumeric() || " /%._-*^()°".contains(c))
}

/// `Ok` for a good unit; else a sentence with the rule.
pub fn check_unit(unit: &str) -> Result<(), String> {
    if valid_unit(unit) {
        Ok(())
    } else {
        Err(format!("unit {unit:?} is not allowed: {UNIT_RULE}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["automl", "a.b-c_d", "v1.0", "X9"] {
            assert!(valid_name(good), "{good}");
        }
        let long = "a".repeat(MAX_NAME + 1);
        for bad in [
            "", ".", "..", ".hidden", "-x", "a/b", "a b", "a\nb", "é", "a[b]", &long,
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        assert_eq!(
            check_name("dataset name", "../x").unwrap_err(),
            format!("dataset name \"../x\" is not allowed: {NAME_RULE}")
        );
    }

    #[test]
    fn units() {
        for good in ["", "bytes", "rows/s", "µs", "%", "m^2", "°C", "req (p99)"] {
            assert!(valid_unit(good), "{good}");
        }
        for bad in [
            "u\n::error::x",
            "<img src=x onerror=alert(1)>",
            "</details>",
            "a|b",
            "`x`",
            "&amp;",
            &"x".repeat(MAX_UNIT + 1),
        ] {
            assert!(!valid_unit(bad), "{bad:?}");
        }
    }
}
