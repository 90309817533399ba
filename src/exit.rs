//! The documented exit codes. Every outcome is mapped to one of these in `main`.

/// Everything ran (and, for a gate, nothing regressed).
pub const SUCCESS: i32 = 0;
/// A comparison found a regression.
pub const REGRESSION: i32 = 1;
/// memgate could not do its job: usage, config, git, store, system.
pub const ERROR: i32 = 2;
/// A benchmark failed: non-zero exit, signal, timeout or memory limit.
pub const BENCHMARK_FAILED: i32 = 3;
/// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const INTERRUPTED: i32 = 130;
