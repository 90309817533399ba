//! `memgate init`: looks at a repository and writes a commented memgate.yml of the
//! benchmarks it already has (pytest-benchmark suites, asv, `cargo bench` targets,
//! `scripts/bench*`, a Makefile `bench` target; console scripts as suggestions), the
//! `.gitignore` line for `.memgate/`, and on request the GitHub Actions workflows.
//! Main types: [`Found`], [`Candidate`].

mod candidate;
mod cargo;
mod detect;
mod gitignore;
mod python;
mod render;
mod scripts;
mod tree;
mod workflows;

pub use candidate::Candidate;
pub use detect::{Found, detect, python_program};
pub use gitignore::{LINE as GITIGNORE_LINE, with_memgate};
pub use render::{EXAMPLE_NAME, one_line, render};
pub use workflows::{DIR as WORKFLOWS_DIR, WORKFLOWS, Workflow};
