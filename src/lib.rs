//! memgate: a CI performance-regression gate. It runs a project's configured benchmarks
//! under measurement (peak memory of the whole process tree, largest process's
//! high-water mark, wall and CPU time, a memory timeline, custom metrics) and reports
//! them; later stages store them per git revision and fail the build on regressions.
//!
//! The pipeline runs one way: [`config`] → plan → [`runner`] → [`measure`] →
//! [`results`] → [`report`].

pub mod app;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod config;
pub mod diagnose;
pub mod error;
pub mod exit;
pub mod files;
pub mod git;
pub mod github;
pub mod init;
pub mod measure;
pub mod names;
pub mod report;
pub mod results;
pub mod runner;
pub mod store;
pub mod testbed;
#[cfg(test)]
mod testing;
pub mod workspace;
