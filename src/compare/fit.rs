//! A straight line through points by ordinary least squares, for the leak check: how a
//! run's peak memory grows with a parameter of the command. A pure function of the
//! points. Main type: [`LineFit`].

/// `y = intercept + slope · x`, and how much of the spread of `y` it explains.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineFit {
    /// Units of `y` per unit of `x`.
    pub slope: f64,
    /// `y` at `x = 0`.
    pub intercept: f64,
    /// The coefficient of determination, 1 − SS_res / SS_tot, in [0, 1]: 1 when every
    /// point is on the line. Points that do not vary at all are on a flat line: 1.
    pub r_squared: f64,
}

/// The least-squares line through `points` (`(x, y)`); `None` when the points do not
/// have two different `x` (no line is determined) or hold a figure that is not finite.
pub fn fit_line(points: &[(f64, f64)]) -> Option<LineFit> {
    if points.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    // Sums about the means: peaks are large (gigabytes) and close together, so raw sums
    // of squares would lose most of their digits.
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    if sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let ss_tot: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    let ss_res: f64 = points
        .iter()
        .map(|p| (p.1 - (intercept + slope * p.0)).powi(2))
        .sum();
    let r_squared = if ss_tot > 0.0 {
        // Rounding may take a perfect fit a hair outside [0, 1].
        (1.0 - ss_res / ss_tot).clamp(0.0, 1.0)
    } else {
        1.0
    };
    Some(LineFit {
        slope,
        intercept,
        r_squared,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIB: f64 = 1024.0 * 1024.0;

    #[track_caller]
    fn close(a: f64, b: f64, tolerance: f64) {
        assert!((a - b).abs() <= tolerance, "{a} is not {b} (±{tolerance})");
    }

    #[test]
    fn an_exact_line_is_found_exactly() {
        // 20 MiB per iteration over 5 MiB of interpreter, at the leak check's usual values.
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .map(|&x| (x, 5.0 * MIB + 20.0 * MIB * x))
            .collect();
        let fit = fit_line(&points).unwrap();
        close(fit.slope, 20.0 * MIB, 1e-6);
        close(fit.intercept, 5.0 * MIB, 1e-6);
        assert_eq!(fit.r_squared, 1.0);
    }

    #[test]
    fn a_noisy_line_matches_the_hand_computation() {
        // x̄ = 2.5, ȳ = 4.75; Sxx = 5, Sxy = 9.5: slope 1.9, intercept 4.75 - 1.9 · 2.5 = 0.
        // Residuals 0.1, 0.2, -0.7, 0.4: SS_res = 0.70; SS_tot = 18.75;
        // R² = 1 - 0.70 / 18.75 = 361/375.
        let fit = fit_line(&[(1.0, 2.0), (2.0, 4.0), (3.0, 5.0), (4.0, 8.0)]).unwrap();
        close(fit.slope, 1.9, 1e-12);
        close(fit.intercept, 0.0, 1e-12);
        close(fit.r_squared, 361.0 / 375.0, 1e-12);
    }

    #[test]
    fn a_constant_line_has_no_slope() {
        let fit = fit_line(&[(1.0, 7.0), (2.0, 7.0), (4.0, 7.0), (8.0, 7.0)]).unwrap();
        assert_eq!(fit.slope, 0.0);
        assert_eq!(fit.intercept, 7.0);
        assert_eq!(
            fit.r_squared, 1.0,
            "nothing varies: the flat line is all there is"
        );
    }

    #[test]
    fn a_perfect_line_explains_everything_at_any_scale() {
        // Large figures close together, as peaks are: no digits lost to the squares.
        let points: Vec<(f64, f64)> = (0..20)
            .map(|i| (i as f64 * 0.5, 3e12 + 4096.0 * i as f64))
            .collect();
        let fit = fit_line(&points).unwrap();
        close(fit.slope, 8192.0, 1e-3);
        close(fit.r_squared, 1.0, 1e-9);
        // A falling line too.
        let fit = fit_line(&[(1.0, 10.0), (2.0, 8.0), (3.0, 6.0)]).unwrap();
        close(fit.slope, -2.0, 1e-12);
        close(fit.r_squared, 1.0, 1e-12);
    }

    #[test]
    fn repeated_points_weigh_as_many_times() {
        let fit = fit_line(&[(1.0, 1.0), (1.0, 3.0), (2.0, 4.0)]).unwrap();
        // The two at x = 1 act as their mean, 2: the line through (1, 2) and (2, 4).
        close(fit.slope, 2.0, 1e-12);
        close(fit.intercept, 0.0, 1e-12);
    }

    #[test]
    fn no_line_without_two_different_x() {
        assert_eq!(fit_line(&[]), None);
        assert_eq!(fit_line(&[(1.0, 5.0)]), None);
        assert_eq!(fit_line(&[(2.0, 5.0), (2.0, 9.0)]), None);
        assert_eq!(fit_line(&[(1.0, 5.0), (2.0, f64::NAN)]), None);
        assert_eq!(fit_line(&[(1.0, 5.0), (f64::INFINITY, 1.0)]), None);
    }

    proptest! {
        /// Points on any line give that line back, with R² 1; shifting every y by the
        /// same amount moves the intercept alone; R² stays within [0, 1] whatever noise.
        #[test]
        fn lines_come_back(
            slope in -1e9f64..1e9,
            intercept in -1e12f64..1e12,
            xs in prop::collection::vec(-1000i32..1000, 2..20),
            noise in prop::collection::vec(-1e6f64..1e6, 20),
            shift in -1e9f64..1e9,
        ) {
            let xs: Vec<f64> = xs.iter().map(|&x| f64::from(x) / 4.0).collect();
            prop_assume!(xs.iter().any(|&x| x != xs[0]));
            let on: Vec<(f64, f64)> = xs.iter().map(|&x| (x, intercept + slope * x)).collect();
            let fit = fit_line(&on).unwrap();
            let scale = slope.abs().max(1.0);
            prop_assert!((fit.slope - slope).abs() <= 1e-6 * scale + 1e-3, "{fit:?}");
            prop_assert!(fit.r_squared > 1.0 - 1e-6 || slope.abs() < 1e-3, "{fit:?}");
            let noisy: Vec<(f64, f64)> =
                on.iter().zip(&noise).map(|(&(x, y), e)| (x, y + e)).collect();
            let a = fit_line(&noisy).unwrap();
            prop_assert!((0.0..=1.0).contains(&a.r_squared), "{a:?}");
            let shifted: Vec<(f64, f64)> = noisy.iter().map(|&(x, y)| (x, y + shift)).collect();
            let b = fit_line(&shifted).unwrap();
            prop_assert!((a.slope - b.slope).abs() <= 1e-6 * a.slope.abs().max(1.0) + 1e-3);
            prop_assert!((b.intercept - a.intercept - shift).abs() <= 1e-6 * (a.intercept.abs() + shift.abs()) + 1.0);
        }
    }
}
