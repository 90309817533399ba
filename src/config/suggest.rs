//! "Did you mean": the closest of the known names to a misspelt one.

/// The known name closest to `wrong`, if one is close enough to be a likely typo.
pub fn suggest<'a>(wrong: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(wrong, k), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn suggestions() {
        let keys = ["repeat", "warmup", "timeout", "memory_limit"];
        assert_eq!(suggest("repeats", keys), Some("repeat"));
        assert_eq!(suggest("memory-limit", keys), Some("memory_limit"));
        assert_eq!(suggest("timout", keys), Some("timeout"));
        assert_eq!(suggest("zzz", keys), None);
    }
}
