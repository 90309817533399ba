//! Renderings of a comparison ([`crate::compare::Report`]): the terminal table,
//! markdown, JUnit XML, JSON. Each a pure function to bytes.

pub mod cells;
pub mod junit;
pub mod markdown;
pub mod mermaid;
pub mod table;

#[cfg(test)]
mod mermaid_tests;
#[cfg(test)]
mod tests;

/// `--format json`: the report as pretty JSON (the public contract).
pub fn json(report: &crate::compare::Report) -> Vec<u8> {
    // Cannot fail: every map key is a string, and serde_json writes a non-finite float as
    // null.
    let mut out = serde_json::to_vec_pretty(report).unwrap_or_default();
    out.push(b'\n');
    crate::report::text::inert_json(out)
}
