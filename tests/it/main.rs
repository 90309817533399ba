//! memgate's integration tests: the real binary, real processes, real files, each test in
//! its own temporary project.

mod completions;
mod config_errors;
mod explain;
mod gate;
mod github;
mod group;
mod hostile;
mod init;
mod install;
mod leak;
mod limits;
mod measure;
mod report;
mod run;
mod store;
mod util;
