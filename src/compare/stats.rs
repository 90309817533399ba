//! The statistics of a comparison, as pure functions of two samples: medians, the
//! one-sided Wilcoxon–Mann–Whitney rank-sum test (exact for small samples, ties
//! included), and the Hodges–Lehmann shift with its distribution-free confidence
//! interval.
//!
//! statrs lacks a two-sample rank test that can be trusted (0.19's exact Mann-Whitney
//! p-value is the complement when the first sample is the smaller one), so the test is
//! written here: the exact null distribution of the rank sum is counted by dynamic
//! programming over the pooled mid-ranks (doubled, so they are whole numbers), which is
//! exact with ties too; memory figures tie often. Beyond [`EXACT_LIMIT`] pooled samples
//! the normal approximation with tie and continuity corrections (statrs' normal CDF)
//! stands in.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use statrs::distribution::{ContinuousCDF, Normal};

/// Up to this many pooled samples the p-value is exact (the count takes well under a
/// millisecond); beyond, the normal approximation is within a few thousandths of it.
pub const EXACT_LIMIT: usize = 60;

/// The middle value; the mean of the two middle ones for an even count.
pub fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Which way the alternative hypothesis points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    /// The second sample tends to be larger than the first.
    Greater,
    /// The second sample tends to be smaller.
    Less,
}

/// The pooled samples' doubled mid-ranks (1-based), the second sample's marked.
fn doubled_ranks(first: &[f64], second: &[f64]) -> (Vec<u64>, Vec<bool>, Vec<u64>) {
    let mut pooled: Vec<(f64, bool)> = first
        .iter()
        .map(|&v| (v, false))
        .chain(second.iter().map(|&v| (v, true)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranks = vec![0u64; pooled.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < pooled.len() {
        let mut j = i;
        while j + 1 < pooled.len() && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        // Positions i..=j hold ranks i+1..=j+1; their mid-rank doubled is i+j+2.
        for rank in &mut ranks[i..=j] {
            *rank = (i + j + 2) as u64;
        }
        ties.push((j - i + 1) as u64);
        i = j + 1;
    }
    let marks = pooled.iter().map(|p| p.1).collect();
    (ranks, marks, ties)
}

/// How many ways `k` of the `ranks` sum to each value: `counts[s]` for `s` in `0..`.
/// Counts are kept as f64: C(60, 30) is about 1.2e17, beyond exact integers, but the
/// relative error stays near 1e-16.
fn rank_sum_counts(ranks: &[u64], k: usize) -> Vec<f64> {
    let total: u64 = ranks.iter().sum();
    let width = total as usize + 1;
    // dp[j][s]: ways to choose j of the ranks seen so far with sum s.
    let mut dp = vec![vec![0.0f64; width]; k + 1];
    dp[0][0] = 1.0;
    let mut reach = 0usize;
    for (seen, &rank) in ranks.iter().enumerate() {
        let rank = rank as usize;
        reach += rank;
        // Only counts that can still grow to `k` items matter.
        let remaining = ranks.len() - seen - 1;
        for j in (k.saturating_sub(remaining).max(1)..=k.min(seen + 1)).rev() {
            let (lower, upper) = dp.split_at_mut(j);
            let from = &lower[j - 1];
            let to = &mut upper[0];
            for s in (rank..=reach).rev() {
                to[s] += from[s - rank];
            }
        }
    }
    dp.swap_remove(k)
}

/// The one-sided p-value of the rank-sum test that `second` is shifted from `first` in
/// the direction `tail`. `None` for an empty sample.
pub fn rank_sum_p(first: &[f64], second: &[f64], tail: Tail) -> Option<f64> {
    rank_sum_tails(first, second).map(|(greater, less)| match tail {
        Tail::Greater => greater,
        Tail::Less => less,
    })
}

/// Both one-sided p-values, (greater, less), from one count of the distribution.
pub fn rank_sum_tails(first: &[f64], second: &[f64]) -> Option<(f64, f64)> {
    if first.is_empty() || second.is_empty() {
        return None;
    }
    Some(if first.len() + second.len() <= EXACT_LIMIT {
        exact_tails(first, second)
    } else {
        (
            normal_p(first, second, Tail::Greater),
            normal_p(first, second, Tail::Less),
        )
    })
}

/// The rank sum of `second` (doubled), with the pooled doubled ranks and tie sizes.
fn observed(first: &[f64], second: &[f64]) -> (u64, Vec<u64>, Vec<u64>) {
    let (ranks, marks, ties) = doubled_ranks(first, second);
    let sum = ranks
        .iter()
        .zip(&marks)
        .filter(|(_, s)| **s)
        .map(|(r, _)| r)
        .sum();
    (sum, ranks, ties)
}

/// Rank-sum counts without ties, by (pooled size, second sample's size).
type UntiedCache = RefCell<HashMap<(usize, usize), Rc<Vec<f64>>>>;

thread_local! {
    /// Counts without ties depend on nothing but the sizes, and a report compares many
    /// metrics of one repeat count.
    static UNTIED: UntiedCache = Default::default();
}

/// Counts for `m` of the ranks 1..=N, doubled, without ties: remembered.
fn untied_counts(big_n: usize, m: usize) -> Rc<Vec<f64>> {
    UNTIED.with(|cache| {
        cache
            .borrow_mut()
            .entry((big_n, m))
            .or_insert_with(|| {
                let ranks: Vec<u64> = (1..=big_n as u64).map(|r| 2 * r).collect();
                Rc::new(rank_sum_counts(&ranks, m))
            })
            .clone()
    })
}

fn exact_tails(first: &[f64], second: &[f64]) -> (f64, f64) {
    let (w, ranks, ties) = observed(first, second);
    let counts = if ties.iter().all(|&t| t == 1) {
        untied_counts(ranks.len(), second.len())
    } else {
        Rc::new(rank_sum_counts(&ranks, second.len()))
    };
    let total: f64 = counts.iter().sum();
    let w = w as usize;
    let greater: f64 = counts[w..].iter().sum();
    let less: f64 = counts[..=w].iter().sum();
    (
        (greater / total).clamp(0.0, 1.0),
        (less / total).clamp(0.0, 1.0),
    )
}

#[cfg(test)]
fn exact_p(first: &[f64], second: &[f64], tail: Tail) -> f64 {
    let (greater, less) = exact_tails(first, second);
    match tail {
        Tail::Greater => greater,
        Tail::Less => less,
    }
}

/// The normal approximation of the rank sum's distribution, with the tie correction of
/// the variance and a continuity correction.
fn normal_p(first: &[f64], second: &[f64], tail: Tail) -> f64 {
    let (doubled, _, ties) = observed(first, second);
    let (n, m) = (first.len() as f64, second.len() as f64);
    let big_n = n + m;
    let w = doubled as f64 / 2.0;
    let mean = m * (big_n + 1.0) / 2.0;
    // In f64: t³ overflows u64 for a value tied 2.6 million times.
    let tie_term: f64 = ties
        .iter()
        .map(|&t| {
            let t = t as f64;
            t * t * t - t
        })
        .sum();
    let variance = n * m / 12.0 * ((big_n + 1.0) - tie_term / (big_n * (big_n - 1.0)));
    if variance <= 0.0 {
        return 1.0; // every value tied: no evidence either way
    }
    let normal = Normal::standard();
    let sd = variance.sqrt();
    match tail {
        Tail::Greater => 1.0 - normal.cdf((w - mean - 0.5) / sd),
        Tail::Less => normal.cdf((w - mean + 0.5) / sd),
    }
}

/// The Hodges–Lehmann estimate of how far `second` is shifted from `first` (the median
/// of all differences `second[j] - first[i]`), with a distribution-free confidence
/// interval from the Mann–Whitney distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shift {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// The interval's actual confidence: with small samples the nearest level the
    /// discrete distribution allows at or above the one asked for, or below it when
    /// even the widest interval falls short.
    pub level: f64,
}

/// The shift of `second` from `first` with an interval at `level` (like 0.95).
///
/// Beyond [`SORTED_LIMIT`] differences, the n·m differences are never built (at 20,000
/// runs a side they would be 4e8 of them, 3.2 GB, and the median's copy as much again):
/// each one needed is selected from the two sorted samples by [`Differences::nth`], in
/// O((n + m) log(n + m)) time and O(n + m) memory, and it is the very f64 the sorted
/// differences would hold there. Up to the limit they are built and sorted, which is
/// quicker: a gate of 10,000 benchmark × metric pairs of 5 runs a side spent a third of
/// its time selecting 25 differences with 64 counts each.
pub fn shift(first: &[f64], second: &[f64], level: f64) -> Option<Shift> {
    let nm = first.len().checked_mul(second.len())?;
    if nm <= SORTED_LIMIT {
        let mut sorted: Vec<f64> = second
            .iter()
            .flat_map(|&y| first.iter().map(move |&x| y - x))
            .collect();
        sorted.sort_unstable_by(f64::total_cmp);
        shift_of(first.len(), second.len(), level, |rank| sorted[rank - 1])
    } else {
        let differences = Differences::new(first, second);
        shift_of(first.len(), second.len(), level, |rank| {
            differences.nth(rank)
        })
    }
}

/// Up to how many differences [`shift`] sorts them rather than selecting: 32 runs a
/// side, 8 KiB.
pub const SORTED_LIMIT: usize = 1024;

/// The shift from the `n`·`m` differences, `nth(rank)` giving the rank-th smallest
/// (from 1).
fn shift_of(n: usize, m: usize, level: f64, nth: impl Fn(usize) -> f64) -> Option<Shift> {
    if n == 0 || m == 0 {
        return None;
    }
    let nm = n * m; // `shift` has checked that it fits
    // The median as `median` takes it: the middle one, or the mean of the middle two.
    let estimate = if nm % 2 == 1 {
        nth(nm / 2 + 1)
    } else {
        (nth(nm / 2) + nth(nm / 2 + 1)) / 2.0
    };
    let (k, achieved) = interval_rank(n, m, level);
    Some(Shift {
        estimate,
        low: nth(k),
        high: nth(nm - k + 1),
        level: achieved,
    })
}

/// Which differences bound the interval at `level` for `n` and `m` runs: the `k`-th
/// smallest and the `k`-th largest (`k` from 1), with the interval's actual confidence.
fn interval_rank(n: usize, m: usize, level: f64) -> (usize, f64) {
    let nm = n * m; // `shift` has checked that it fits
    let alpha_half = (1.0 - level) / 2.0;
    // P(U <= u) without ties: the rank sum of `m` of the ranks 1..=N, doubled.
    if n + m <= EXACT_LIMIT {
        let counts = untied_counts(n + m, m);
        let total: f64 = counts.iter().sum();
        // U = W - m(m+1)/2; doubled, the smallest possible sum is m(m+1).
        let offset = m * (m + 1);
        let mut cumulative = 0.0;
        let mut below = Vec::with_capacity(nm + 1); // below[u] = P(U <= u)
        for u in 0..=nm {
            cumulative += counts.get(offset + 2 * u).copied().unwrap_or(0.0);
            below.push(cumulative / total);
        }
        // The largest k with P(U <= k-1) <= alpha/2; at least 1 (the widest interval).
        let k = (1..=nm / 2)
            .take_while(|&k| below[k - 1] <= alpha_half)
            .last()
            .unwrap_or(1);
        (k, 1.0 - 2.0 * below[k - 1])
    } else {
        let z = Normal::standard().inverse_cdf(1.0 - alpha_half);
        let (nf, mf) = (n as f64, m as f64);
        let spread = (nf * mf * (nf + mf + 1.0) / 12.0).sqrt();
        let k = ((nf * mf / 2.0 - z * spread).floor() as usize).clamp(1, nm.div_ceil(2));
        (k, level)
    }
}

/// The differences `y - x` (y from the second sample, x from the first) as f64
/// subtraction computes them, ordered as `f64::total_cmp` orders them, without
/// building them: both samples sorted once.
///
/// Rounding is monotone, so `y - x` never decreases as `y` grows and never increases as
/// `x` grows, in the total order too (-0.0 below +0.0: `-0.0 - 0.0` is the only way to
/// get -0.0, and it sits below `y - x` for every larger `y` or smaller `x`). Hence for
/// each `y` the `x` with `y - x <= t` are a tail of the sorted first sample, and that
/// tail only grows as `y` does: one walk counts the differences at or below `t`.
struct Differences {
    first: Vec<f64>,
    second: Vec<f64>,
}

impl Differences {
    fn new(first: &[f64], second: &[f64]) -> Differences {
        let sorted = |sample: &[f64]| {
            let mut sorted = sample.to_vec();
            sorted.sort_unstable_by(f64::total_cmp);
            sorted
        };
        Differences {
            first: sorted(first),
            second: sorted(second),
        }
    }

    /// How many differences are at or below the one whose [`order_key`] is `t`; a u64,
    /// as n·m outgrows 32 bits.
    fn count_at_most(&self, t: u64) -> u64 {
        let n = self.first.len();
        let mut count = 0u64;
        // The first x with y - x <= t; it moves only rightwards as y grows.
        let mut start = 0;
        for &y in &self.second {
            while start < n && order_key(y - self.first[start]) > t {
                start += 1;
            }
            count += (n - start) as u64;
        }
        count
    }

    /// The `rank`-th smallest difference (from 1): the smallest `t` with at least
    /// `rank` differences at or below it. `count_at_most` steps up only at a difference,
    /// so that `t` is one of them, bit for bit. A binary search over the 2^64 places of
    /// the total order: at most 64 counts.
    fn nth(&self, rank: usize) -> f64 {
        let (Some(&x_low), Some(&x_high)) = (self.first.first(), self.first.last()) else {
            return f64::NAN; // no differences: `shift` never asks
        };
        let (Some(&y_low), Some(&y_high)) = (self.second.first(), self.second.last()) else {
            return f64::NAN;
        };
        let rank = rank as u64;
        // The answer lies between the smallest and the largest difference.
        let (mut low, mut high) = (order_key(y_low - x_high), order_key(y_high - x_low));
        while low < high {
            let middle = low + (high - low) / 2;
            if self.count_at_most(middle) >= rank {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        from_order_key(low)
    }
}

/// An f64's place in the total order of `f64::total_cmp`, as an unsigned integer:
/// negative values have every bit flipped, the others their sign bit set.
fn order_key(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// The f64 at a place in the total order: the inverse of [`order_key`].
fn from_order_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    /// `shift` as it was until it ran out of memory at 20,000 runs a side: every
    /// difference built and sorted. The reference the selection must match bit for bit.
    fn shift_by_sorting(first: &[f64], second: &[f64], level: f64) -> Option<Shift> {
        let (n, m) = (first.len(), second.len());
        if n == 0 || m == 0 {
            return None;
        }
        let mut diffs: Vec<f64> = second
            .iter()
            .flat_map(|&y| first.iter().map(move |&x| y - x))
            .collect();
        diffs.sort_by(f64::total_cmp);
        let estimate = median(&diffs)?;
        let nm = diffs.len();
        // The ranks are not what the selection changed; their own tests are below.
        let (k, achieved) = interval_rank(n, m, level);
        Some(Shift {
            estimate,
            low: diffs[k - 1],
            high: diffs[nm - k],
            level: achieved,
        })
    }

    #[test]
    fn interval_ranks_beyond_the_exact_limit_follow_the_normal_approximation() {
        // k = floor(nm/2 - z * sqrt(nm(n+m+1)/12)), worked out apart with Python's
        // statistics.NormalDist: 596.31, 350.98 and 145.55.
        assert_eq!(interval_rank(40, 40, 0.95), (596, 0.95));
        assert_eq!(interval_rank(31, 30, 0.90), (350, 0.90));
        assert_eq!(interval_rank(100, 7, 0.99), (145, 0.99));
        // Never the empty interval, however few the runs for the level asked.
        assert_eq!(interval_rank(60, 1, 0.999_999).0, 1);
    }

    #[test]
    fn fully_separated_seven_against_seven() {
        // The case statrs 0.19.1 gets wrong: one-sided 1/C(14,7), two-sided 0.00058.
        let low: Vec<f64> = (1..=7).map(f64::from).collect();
        let high: Vec<f64> = (11..=17).map(f64::from).collect();
        let p = rank_sum_p(&low, &high, Tail::Greater).unwrap();
        assert!(close(p, 1.0 / 3432.0, 1e-15), "{p}");
        assert!(close(2.0 * p, 0.000_582_750_582_750_582_8, 1e-15));
        // And the other way round, whichever sample is larger.
        assert!(close(
            rank_sum_p(&high, &low, Tail::Less).unwrap(),
            1.0 / 3432.0,
            1e-15
        ));
        assert!(close(
            rank_sum_p(&high, &low, Tail::Greater).unwrap(),
            1.0,
            1e-12
        ));
    }

    #[test]
    fn hollander_and_wolfe_permeability() {
        // R's wilcox.test example (Hollander & Wolfe 1973, p. 69): W = 35,
        // p = 0.1272 for alternative "greater".
        let x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
        let y = [1.15, 0.88, 0.90, 0.74, 1.21];
        let p = rank_sum_p(&y, &x, Tail::Greater).unwrap();
        assert!(close(p, 0.127_206_127_206_127_2, 1e-12), "{p}");
    }

    #[test]
    fn mann_whitney_table_for_five_and_five() {
        // n = m = 5: P(U <= 4) = 12/252. The second sample's rank sum is 36 (U = 21 of
        // 25), so P(W >= 36) = P(U <= 4).
        let p = rank_sum_p(
            &[1.0, 2.0, 3.0, 6.0, 7.0],
            &[4.0, 5.0, 8.0, 9.0, 10.0],
            Tail::Greater,
        )
        .unwrap();
        assert!(close(p, 12.0 / 252.0, 1e-12), "{p}");
    }

    #[test]
    fn all_ties_give_no_evidence() {
        let p = rank_sum_p(&[5.0; 5], &[5.0; 5], Tail::Greater).unwrap();
        assert!(close(p, 1.0, 1e-12));
        let many = vec![5.0; 40];
        assert!(close(
            rank_sum_p(&many, &many, Tail::Greater).unwrap(),
            1.0,
            1e-12
        ));
    }

    #[test]
    fn interval_for_five_and_five_uses_the_third_differences() {
        // Standard tables: n = m = 5 at 95% gives C = 3, actual level 1 - 2·4/252.
        let first = [1.0, 2.0, 3.0, 4.0, 5.0];
        let second = [11.0, 12.0, 13.0, 14.0, 15.0];
        let s = shift(&first, &second, 0.95).unwrap();
        let mut diffs: Vec<f64> = second
            .iter()
            .flat_map(|y| first.iter().map(move |x| y - x))
            .collect();
        diffs.sort_by(f64::total_cmp);
        assert_eq!(s.estimate, 10.0);
        assert_eq!((s.low, s.high), (diffs[2], diffs[22]));
        assert!(
            close(s.level, 1.0 - 2.0 * 4.0 / 252.0, 1e-12),
            "{}",
            s.level
        );
    }

    #[test]
    fn three_and_three_cannot_reach_95_percent() {
        let s = shift(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], 0.95).unwrap();
        assert_eq!((s.low, s.high), (1.0, 5.0));
        assert!(close(s.level, 0.9, 1e-12), "{}", s.level);
    }

    /// Bit for bit, as the sorted differences would give them: -0.0 is not 0.0 here.
    fn same(a: Shift, b: Shift) -> bool {
        let bits = |s: Shift| [s.estimate, s.low, s.high, s.level].map(f64::to_bits);
        bits(a) == bits(b)
    }

    /// `shift` by selection, whatever the number of differences.
    fn shift_by_selection(first: &[f64], second: &[f64], level: f64) -> Option<Shift> {
        let differences = Differences::new(first, second);
        shift_of(first.len(), second.len(), level, |rank| {
            differences.nth(rank)
        })
    }

    #[track_caller]
    fn assert_as_sorting(first: &[f64], second: &[f64], level: f64) -> Shift {
        let selected = shift_by_selection(first, second, level).unwrap();
        let sorted = shift_by_sorting(first, second, level).unwrap();
        assert!(same(selected, sorted), "{selected:?} vs {sorted:?}");
        let shifted = shift(first, second, level).unwrap();
        assert!(same(shifted, sorted), "{shifted:?} vs {sorted:?}");
        selected
    }

    #[test]
    fn one_run_on_a_side() {
        let s = assert_as_sorting(&[3.0], &[5.5], 0.95);
        assert_eq!((s.estimate, s.low, s.high), (2.5, 2.5, 2.5));
        let many = [4.0, -1.0, 4.0, 9.5, 0.0, 2.0, -3.25];
        assert_as_sorting(&[1.0], &many, 0.95);
        assert_as_sorting(&many, &[1.0], 0.95);
        assert_as_sorting(&many, &[1.0], 0.5);
    }

    #[test]
    fn equal_samples_shift_by_nothing() {
        let sample = [7.0, 7.0, 3.0, -2.0, 7.0, 11.0];
        let s = assert_as_sorting(&sample, &sample, 0.95);
        assert_eq!(s.estimate.to_bits(), 0.0f64.to_bits());
        let tied = vec![1_048_576.0; 50];
        let s = assert_as_sorting(&tied, &tied, 0.95);
        assert_eq!((s.estimate, s.low, s.high), (0.0, 0.0, 0.0));
    }

    #[test]
    fn signed_zeros_keep_their_sign() {
        // -0.0 - 0.0 is the one difference that is -0.0; the sort puts it below 0.0.
        let s = assert_as_sorting(&[0.0], &[-0.0], 0.95);
        assert_eq!(s.estimate.to_bits(), (-0.0f64).to_bits());
        assert_as_sorting(&[0.0, -0.0, 0.0], &[-0.0, 0.0, -0.0, -0.0], 0.9);
    }

    #[test]
    fn differences_beyond_the_largest_f64_are_infinite_as_before() {
        let s = assert_as_sorting(&[-f64::MAX, 0.0], &[f64::MAX, 1.0], 0.95);
        assert_eq!(s.high, f64::INFINITY);
    }

    #[test]
    fn twenty_thousand_a_side_without_building_the_pairs() {
        // The defect: building and sorting every difference, `compare` took 87 s and
        // 1.6 GB at 10,000 runs a side and aborted on allocation at 20,000.
        // 4e8 differences, 1000 + j - i: the difference 1000 + d comes N - |d| times.
        const N: usize = 20_000;
        let first: Vec<f64> = (0..N).map(|i| i as f64).collect();
        let second: Vec<f64> = first.iter().map(|v| v + 1000.0).collect();
        let s = shift(&first, &second, 0.95).unwrap();
        assert_eq!(s.estimate, 1000.0);
        let (k, _) = interval_rank(N, N, 0.95);
        assert!(k > 1);
        // The k-th smallest d, by counting.
        let n = N as i64;
        let mut d = 1 - n;
        let mut seen = (n - d.abs()) as u64;
        while seen < k as u64 {
            d += 1;
            seen += (n - d.abs()) as u64;
        }
        assert_eq!((s.low, s.high), (1000.0 + d as f64, 1000.0 - d as f64));
    }

    #[test]
    fn nan_and_infinite_samples_do_not_panic() {
        // Samples are finite; were one not, the answer may be anything but a panic.
        let odd = [f64::NAN, 1.0, f64::INFINITY, -f64::INFINITY, -0.0];
        assert!(shift(&odd, &odd[1..], 0.95).is_some());
        assert!(shift(&odd[..2], &odd, 0.95).is_some());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    /// The p-value by enumerating every way to split the pooled samples.
    fn brute_force_p(first: &[f64], second: &[f64], tail: Tail) -> f64 {
        let (ranks, marks, _) = doubled_ranks(first, second);
        let observed: u64 = ranks
            .iter()
            .zip(&marks)
            .filter(|(_, s)| **s)
            .map(|(r, _)| r)
            .sum();
        let n = ranks.len();
        let m = second.len();
        let (mut extreme, mut total) = (0u64, 0u64);
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize != m {
                continue;
            }
            let sum: u64 = (0..n)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| ranks[i])
                .sum();
            total += 1;
            let hit = match tail {
                Tail::Greater => sum >= observed,
                Tail::Less => sum <= observed,
            };
            extreme += u64::from(hit);
        }
        extreme as f64 / total as f64
    }

    proptest! {
        #[test]
        fn exact_p_matches_enumeration_with_ties(
            first in prop::collection::vec(0u8..6, 1..8),
            second in prop::collection::vec(0u8..6, 1..8),
        ) {
            let first: Vec<f64> = first.into_iter().map(f64::from).collect();
            let second: Vec<f64> = second.into_iter().map(f64::from).collect();
            for tail in [Tail::Greater, Tail::Less] {
                let p = rank_sum_p(&first, &second, tail).unwrap();
                let brute = brute_force_p(&first, &second, tail);
                prop_assert!(close(p, brute, 1e-12), "{p} vs {brute}");
            }
        }

        #[test]
        fn tails_cover_everything(
            first in prop::collection::vec(-1e6f64..1e6, 1..30),
            second in prop::collection::vec(-1e6f64..1e6, 1..30),
        ) {
            // P(W >= w) + P(W <= w) = 1 + P(W = w) >= 1, each within [0, 1].
            let g = rank_sum_p(&first, &second, Tail::Greater).unwrap();
            let l = rank_sum_p(&first, &second, Tail::Less).unwrap();
            prop_assert!((0.0..=1.0).contains(&g) && (0.0..=1.0).contains(&l));
            prop_assert!(g + l >= 1.0 - 1e-9);
        }

        #[test]
        fn the_interval_holds_the_estimate(
            first in prop::collection::vec(0.0f64..100.0, 3..20),
            second in prop::collection::vec(0.0f64..100.0, 3..20),
        ) {
            let s = shift(&first, &second, 0.95).unwrap();
            prop_assert!(s.low <= s.estimate && s.estimate <= s.high);
            prop_assert!(s.level > 0.5 && s.level <= 1.0);
        }

        #[test]
        fn shifting_the_second_sample_shifts_the_estimate(
            first in prop::collection::vec(0.0f64..100.0, 3..15),
            second in prop::collection::vec(0.0f64..100.0, 3..15),
            by in -50.0f64..50.0,
        ) {
            let a = shift(&first, &second, 0.95).unwrap();
            let moved: Vec<f64> = second.iter().map(|v| v + by).collect();
            let b = shift(&first, &moved, 0.95).unwrap();
            prop_assert!(close(b.estimate - a.estimate, by, 1e-9));
        }
    }

    /// Any finite f64: huge (their differences overflow), tiny, subnormal, both zeros.
    fn finite() -> impl Strategy<Value = f64> {
        use prop::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
        POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO
    }

    /// A handful of values, so nearly every difference ties with others.
    fn awkward() -> impl Strategy<Value = f64> {
        prop::sample::select(vec![
            -0.0,
            0.0,
            1.0,
            -1.0,
            0.1,
            0.3,
            5e-324,
            -5e-324,
            f64::MIN_POSITIVE,
            1e308,
            f64::MAX,
            -f64::MAX,
        ])
    }

    fn level() -> impl Strategy<Value = f64> {
        prop_oneof![
            prop::sample::select(vec![0.5, 0.8, 0.9, 0.95, 0.99, 0.999]),
            0.01f64..0.999,
        ]
    }

    proptest! {
        // Sizes up to 39 a side: pooled, both sides of EXACT_LIMIT.

        #[test]
        fn selection_matches_sorting_with_ties(
            first in prop::collection::vec(-6i8..6, 1..40),
            second in prop::collection::vec(-6i8..6, 1..40),
            level in level(),
        ) {
            let first: Vec<f64> = first.into_iter().map(f64::from).collect();
            let second: Vec<f64> = second.into_iter().map(f64::from).collect();
            let (a, b) = (shift_by_selection(&first, &second, level).unwrap(), shift_by_sorting(&first, &second, level).unwrap());
            prop_assert!(same(a, b), "{a:?} vs {b:?}");
        }

        #[test]
        fn selection_matches_sorting_on_memory_figures(
            first in prop::collection::vec(90u32..110, 1..40),
            second in prop::collection::vec(95u32..120, 1..40),
            level in level(),
        ) {
            // Whole MiB, as peak memory often is.
            let mib = |v: Vec<u32>| -> Vec<f64> { v.into_iter().map(|v| f64::from(v) * 1_048_576.0).collect() };
            let (first, second) = (mib(first), mib(second));
            let (a, b) = (shift_by_selection(&first, &second, level).unwrap(), shift_by_sorting(&first, &second, level).unwrap());
            prop_assert!(same(a, b), "{a:?} vs {b:?}");
        }

        #[test]
        fn selection_matches_sorting_on_any_finite_values(
            first in prop::collection::vec(finite(), 1..40),
            second in prop::collection::vec(finite(), 1..40),
            level in level(),
        ) {
            let (a, b) = (shift_by_selection(&first, &second, level).unwrap(), shift_by_sorting(&first, &second, level).unwrap());
            prop_assert!(same(a, b), "{a:?} vs {b:?}");
        }

        #[test]
        fn selection_matches_sorting_on_awkward_values(
            first in prop::collection::vec(awkward(), 1..40),
            second in prop::collection::vec(awkward(), 1..40),
            level in level(),
        ) {
            let (a, b) = (shift_by_selection(&first, &second, level).unwrap(), shift_by_sorting(&first, &second, level).unwrap());
            prop_assert!(same(a, b), "{a:?} vs {b:?}");
        }

        #[test]
        fn selection_matches_sorting_on_seconds(
            first in prop::collection::vec(-1e3f64..1e3, 1..40),
            second in prop::collection::vec(-1e3f64..1e3, 1..40),
            level in level(),
        ) {
            let (a, b) = (shift_by_selection(&first, &second, level).unwrap(), shift_by_sorting(&first, &second, level).unwrap());
            prop_assert!(same(a, b), "{a:?} vs {b:?}");
        }

        #[test]
        fn shift_sorts_or_selects_alike(
            first in prop::collection::vec(prop_oneof![(-9i8..9).prop_map(f64::from), finite()], 1..60),
            second in prop::collection::vec(prop_oneof![(-9i8..9).prop_map(f64::from), finite()], 1..60),
            level in level(),
        ) {
            // Both sides of SORTED_LIMIT (up to 3,481 differences).
            let (a, b) = (shift(&first, &second, level).unwrap(), shift_by_selection(&first, &second, level).unwrap());
            prop_assert!(same(a, b), "{a:?} vs {b:?}");
        }

        #[test]
        fn order_keys_follow_the_total_order(a in any::<f64>(), b in any::<f64>()) {
            prop_assert_eq!(order_key(a).cmp(&order_key(b)), a.total_cmp(&b));
            prop_assert_eq!(from_order_key(order_key(a)).to_bits(), a.to_bits());
        }

        #[test]
        fn never_panics(
            first in prop::collection::vec(any::<f64>(), 0..20),
            second in prop::collection::vec(any::<f64>(), 0..20),
            level in level(),
        ) {
            let s = shift(&first, &second, level);
            prop_assert_eq!(s.is_some(), !first.is_empty() && !second.is_empty());
        }
    }

    proptest! {
        // The reference sorts up to 360,000 differences a case in a debug build.
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn selection_matches_sorting_on_larger_samples(
            first in prop::collection::vec(prop_oneof![(-20i8..20).prop_map(f64::from), -50.0f64..50.0], 100..600),
            second in prop::collection::vec(prop_oneof![(-20i8..20).prop_map(f64::from), -50.0f64..50.0], 100..600),
            level in level(),
        ) {
            let (a, b) = (shift_by_selection(&first, &second, level).unwrap(), shift_by_sorting(&first, &second, level).unwrap());
            prop_assert!(same(a, b), "{a:?} vs {b:?}");
        }
    }

    proptest! {
        // The exact count at 60 pooled samples is slow in a debug build: fewer cases.
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn normal_approximation_is_close_to_exact(
            first in prop::collection::vec(0u8..40, 25..31),
            second in prop::collection::vec(0u8..40, 25..31),
            shift_by in 0u8..15,
        ) {
            // Where both can be had (up to 60 pooled samples, ties included), the
            // approximation used beyond that is within 0.01 of the exact count.
            let first: Vec<f64> = first.into_iter().map(f64::from).collect();
            let second: Vec<f64> = second.into_iter().map(|v| f64::from(v + shift_by)).collect();
            for tail in [Tail::Greater, Tail::Less] {
                let exact = exact_p(&first, &second, tail);
                let approx = normal_p(&first, &second, tail);
                prop_assert!((approx - exact).abs() < 0.01, "{approx} vs {exact}");
            }
        }

    }
}
