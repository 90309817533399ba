//! Executing the plan: the launcher process, one measured execution, the plan loop,
//! progress (with its estimate of the time left), and Ctrl-C.

mod estimate;
pub mod execute;
pub mod interrupt;
pub mod launcher;
mod logcap;
mod progress;
mod run;

pub use execute::Executor;
pub use run::{Instrument, run_instrumented, run_pair, run_plan};
