//! `memgate explain`: runs a benchmark once more under diagnosis and says what its memory
//! is made of at the peak and why: the process tree and the memory's kinds for any
//! command, the trend at the end, and for Python the allocation sites alive at the peak
//! and the objects kept alive by reference cycles. Diagnosis runs are never gated.

pub mod explain;
pub mod growth;
pub mod python;
pub mod tree;

pub use explain::{Diagnoser, Diagnosis, Explained, Explanation, Options};
