//! Units carried in types: [`Bytes`] and [`Seconds`]. Formatting for people lives in
//! `report`; these only convert.

use serde::{Deserialize, Serialize};

/// A quantity of memory, in bytes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Bytes(pub u64);

impl Bytes {
    pub const KIB: u64 = 1024;
    pub const MIB: u64 = 1024 * 1024;

    pub fn from_kib(kib: u64) -> Self {
        Bytes(kib.saturating_mul(Self::KIB))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64
    }
}

/// Sums of memory saturate: figures read from a benchmark's files may be absurd.
impl std::ops::Add for Bytes {
    type Output = Bytes;
    fn add(self, rhs: Bytes) -> Bytes {
        Bytes(self.0.saturating_add(rhs.0))
    }
}

/// A span of time, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seconds(pub f64);

impl Seconds {
    pub fn from_duration(d: std::time::Duration) -> Self {
        Seconds(d.as_secs_f64())
    }

    pub fn from_timeval(tv: libc::timeval) -> Self {
        Seconds(tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6)
    }
}

impl std::ops::Add for Seconds {
    type Output = Seconds;
    fn add(self, rhs: Seconds) -> Seconds {
        Seconds(self.0 + rhs.0)
    }
}
