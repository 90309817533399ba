//! Figures for people: bytes in binary units, seconds in the unit that reads best.

/// The binary unit that shows `value` bytes as less than 1024 of it (up to TiB): its
/// size in bytes and its name.
pub fn byte_unit(value: f64) -> (f64, &'static str) {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut size = 1.0;
    let mut unit = 0;
    while value.abs() / size >= 1024.0 && unit < UNITS.len() - 1 {
        size *= 1024.0;
        unit += 1;
    }
    (size, UNITS[unit])
}

/// `1.50 GiB`, `12.3 MiB`, `512 B`.
pub fn bytes(value: f64) -> String {
    let (size, unit) = byte_unit(value);
    let v = value / size;
    match unit {
        "B" => format!("{v:.0} B"),
        _ if v.abs() >= 100.0 => format!("{v:.0} {unit}"),
        _ if v.abs() >= 10.0 => format!("{v:.1} {unit}"),
        _ => format!("{v:.2} {unit}"),
    }
}

/// `1.23 s`, `45.6 ms`, `789 µs`, `2m 05s`.
pub fn seconds(value: f64) -> String {
    let a = value.abs();
    if a >= 120.0 {
        let whole = value.round() as i64;
        format!("{}m {:02}s", whole / 60, whole % 60)
    } else if a >= 1.0 {
        format!("{value:.2} s")
    } else if a >= 1e-3 {
        format!("{:.1} ms", value * 1e3)
    } else {
        format!("{:.0} µs", value * 1e6)
    }
}

/// An estimate of time left, as approximate as it is: `~45s`, `~1m20s`, `~2h05m`.
/// Rounded to whole seconds (whole minutes from an hour on), never below `~1s`.
pub fn time_left(seconds: f64) -> String {
    let s = if seconds.is_finite() { seconds } else { 0.0 };
    let whole = (s.round() as u64).max(1);
    if whole < 60 {
        format!("~{whole}s")
    } else if whole < 3600 {
        format!("~{}m{:02}s", whole / 60, whole % 60)
    } else {
        let minutes = (s / 60.0).round() as u64;
        format!("~{}h{:02}m", minutes / 60, minutes % 60)
    }
}

/// A ratio of two figures: `1.82×`.
pub fn ratio(value: f64) -> String {
    format!("{value:.2}×")
}

/// A revision as people read it: 12 digits of a full commit id, a label whole.
pub fn short_rev(rev: &str) -> &str {
    if rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()) {
        &rev[..12]
    } else {
        rev
    }
}

/// A figure in its unit: bytes and seconds as above, anything else as a plain number.
pub fn figure(value: f64, unit: &str) -> String {
    match unit {
        "bytes" => bytes(value),
        "seconds" => seconds(value),
        "" => format!("{}", Significant(value, 4, 6)),
        other => format!("{} {other}", Significant(value, 4, 6)),
    }
}

/// A number with `digits` significant digits and at most `max_decimals` decimals:
/// `Significant(0.93, 4, 6)` is `0.9300`, `Significant(0.004, 2, 12)` is `0.0040`.
pub struct Significant(pub f64, pub i32, pub i32);

impl std::fmt::Display for Significant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Significant(v, digits, max_decimals) = *self;
        if v == 0.0 || !v.is_finite() {
            return write!(f, "{v}");
        }
        let decimals = (digits - 1 - v.abs().log10().floor() as i32).clamp(0, max_decimals);
        write!(f, "{v:.*}", decimals as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.50 KiB");
        assert_eq!(bytes(12.34 * 1048576.0), "12.3 MiB");
        assert_eq!(bytes(400.0 * 1048576.0), "400 MiB");
        assert_eq!(seconds(1.234), "1.23 s");
        assert_eq!(seconds(0.0456), "45.6 ms");
        assert_eq!(seconds(0.000789), "789 µs");
        assert_eq!(seconds(125.0), "2m 05s");
        assert_eq!(figure(0.93, ""), "0.9300");
        assert_eq!(figure(152345.0, "rows/s"), "152345 rows/s");
        assert_eq!(ratio(1.8249), "1.82×");
        assert_eq!(ratio(1.0), "1.00×");
    }

    #[test]
    fn time_left_is_as_rough_as_an_estimate() {
        for (seconds, text) in [
            (0.0, "~1s"),
            (0.4, "~1s"),
            (44.6, "~45s"),
            (59.4, "~59s"),
            (59.6, "~1m00s"),
            (80.0, "~1m20s"),
            (3599.0, "~59m59s"),
            (3600.0, "~1h00m"),
            (7500.0, "~2h05m"),
            (f64::NAN, "~1s"),
        ] {
            assert_eq!(time_left(seconds), text, "{seconds}");
        }
    }
}
