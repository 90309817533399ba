//! Renderings of results. Each renderer is a pure function from results to bytes; where
//! the bytes go is decided by the command.

pub mod bundle;
pub mod chart;
pub mod comparison;
pub mod explain;
pub mod html;
pub mod sparkline;
pub mod stored;
pub mod table;
pub mod text;
pub mod units;

use crate::results::RunResults;

/// `run --format json`: the results as pretty JSON (the public contract).
pub fn json(results: &RunResults) -> Vec<u8> {
    // Cannot fail: every map key is a string, and serde_json writes a non-finite float as
    // null.
    let mut out = serde_json::to_vec_pretty(results).unwrap_or_default();
    out.push(b'\n');
    text::inert_json(out)
}
