//! The probes: what one run of a benchmark cost. Units live in [`units`]; the tree's
//! memory is read through [`probe::TreeProbe`] (cgroup v2 or /proc).

pub mod cgroup;
pub mod probe;
pub mod proc;
pub mod quality;
pub mod timeline;
pub mod units;
