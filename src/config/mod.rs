//! Reading `memgate.yml` over the built-in defaults and turning it into a checked
//! [`Plan`]. All validation happens here; later stages get domain types, not YAML.

#[cfg(test)]
mod fuzz;
mod load;
mod parse;
mod plan;
mod schema;
mod suggest;
pub mod units;
mod values;
mod visit;

pub use load::{CONFIG_FILE, built_in_thresholds, find, load, shell_quote};
pub use plan::{CommandLine, Dataset, ExplainMode, Job, Leak, Plan, format_value};
pub use suggest::suggest;
