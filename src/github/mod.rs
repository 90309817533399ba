//! The GitHub surfaces: the Actions environment, job summary, annotations, outputs, and
//! the pull-request comment. Active in GitHub Actions, or when asked.

pub mod comment;
pub mod env;
pub mod post;
pub mod workflow;

pub use env::Actions;
