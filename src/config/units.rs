//! Parsing of the human units a config may use: sizes (`512MiB`, `1.5GB`), durations
//! (`250ms`, `30s`, `10m`) and percentages (`5%`). Each parser returns a checked value
//! or a message that says what a good value looks like.

use std::time::Duration;

use crate::measure::units::Bytes;

/// Splits `"1.5GiB"` into `(1.5, "GiB")`; the number must be finite and not negative.
fn split_number(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text[..end].parse().ok()?;
    number.is_finite().then_some((number, text[end..].trim()))
}

/// Parses a size such as `512MiB`, `8GiB`, `1.5GB` or `100kB`. Binary units (KiB, MiB,
/// GiB, TiB) are powers of 1024, decimal ones (kB, MB, GB, TB) powers of 1000.
pub fn parse_size(text: &str) -> Result<Bytes, String> {
    let hint = "a size is a number and a unit, like 512MiB, 8GiB or 1.5GB";
    let (number, unit) =
        split_number(text).ok_or_else(|| format!("{text:?} is not a size: {hint}"))?;
    let factor: f64 = match unit {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "" => return Err(format!("{text:?} has no unit: {hint}")),
        "K" | "M" | "G" | "T" | "k" | "m" | "g" | "t" => {
            return Err(format!(
                "{text:?} has an ambiguous unit {unit:?}: write {unit}iB (powers of 1024) or {}B (powers of 1000)",
                unit.to_uppercase()
            ));
        }
        _ => return Err(format!("{text:?} has an unknown unit {unit:?}: {hint}")),
    };
    let bytes = (number * factor).round();
    if bytes >= u64::MAX as f64 {
        return Err(format!("{text:?} is too large"));
    }
    Ok(Bytes(bytes as u64))
}

/// Parses a duration such as `250ms`, `30s`, `10m` or `1.5h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let hint = "a duration is a number and a unit, like 250ms, 30s, 10m or 1h";
    let (number, unit) =
        split_number(text).ok_or_else(|| format!("{text:?} is not a duration: {hint}"))?;
    let seconds = match unit {
        "us" | "µs" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        "" => return Err(format!("{text:?} has no unit: {hint}")),
        _ => return Err(format!("{text:?} has an unknown unit {unit:?}: {hint}")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is out of range"))
}

/// Parses a percentage such as `5%` or `0.5%` into a fraction (`0.05`, `0.005`).
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let hint = "a percentage is a number followed by %, like 5% or 0.5%";
    match split_number(text) {
        Some((number, "%")) => Ok(number / 100.0),
        _ => Err(format!("{text:?} is not a percentage: {hint}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MiB"), Ok(Bytes(512 << 20)));
        assert_eq!(parse_size("8GiB"), Ok(Bytes(8 << 30)));
        assert_eq!(parse_size("1.5GB"), Ok(Bytes(1_500_000_000)));
        assert_eq!(parse_size("100 kB"), Ok(Bytes(100_000)));
        assert_eq!(parse_size("0B"), Ok(Bytes(0)));
        assert!(parse_size("12").unwrap_err().contains("no unit"));
        assert!(parse_size("8G").unwrap_err().contains("ambiguous"));
        assert!(
            parse_size("8 bananas")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("-1MiB").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("1e30TiB").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("10 weeks")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("5%"), Ok(0.05));
        assert_eq!(parse_percent("0.5%"), Ok(0.005));
        assert!(parse_percent("5").is_err());
    }
}
