//! Log-space numerics: one log-sum-exp, one log-softmax, accurate dot products.
//!
//! Conventions: `-inf` is a legal log-probability (zero mass) and every function here is
//! NaN-free on it. An all-`-inf` input to [`logsumexp`] returns `-inf`, never NaN.

/// `log Σ exp(x_i)`; returns `-inf` for an empty or all-`-inf` slice (public case 5).
pub fn logsumexp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if m == f64::INFINITY {
        return f64::INFINITY;
    }
    let s: f64 = x.iter().map(|&v| (v - m).exp()).sum();
    m + s.ln()
}

/// Gradient of [`logsumexp`] (the softmax); all zeros for an all-`-inf` input, never NaN.
pub fn logsumexp_grad(x: &[f64]) -> Vec<f64> {
    let l = logsumexp(x);
    if l == f64::NEG_INFINITY {
        return vec![0.0; x.len()];
    }
    x.iter().map(|&v| (v - l).exp()).collect()
}

/// Log-softmax: `x_i − logsumexp(x)`. Stable for logits of any magnitude (public case 4).
/// An all-`-inf` input is returned unchanged (all `-inf`), never NaN.
pub fn log_softmax(x: &[f64]) -> Vec<f64> {
    let l = logsumexp(x);
    if l == f64::NEG_INFINITY {
        return x.to_vec();
    }
    x.iter()
        .map(|&v| if v == f64::NEG_INFINITY { v } else { v - l })
        .collect()
}

/// Neumaier-compensated sum of a stream of terms.
fn compensated(terms: impl Iterator<Item = f64>) -> f64 {
    let mut s = 0.0f64;
    let mut c = 0.0f64;
    for v in terms {
        let t = s + v;
        if s.abs() >= v.abs() {
            c += (s - t) + v;
        } else {
            c += (v - t) + s;
        }
        s = t;
    }
    s + c
}

/// Lanes of [`dot`] and [`sum`]: independent compensated accumulators, so the loop is not
/// bound by the latency of one chain of additions and vectorizes.
const LANES: usize = 8;

/// [`LANES`] independent compensated accumulators: each lane keeps a running sum and the exact
/// rounding error of every addition (Knuth's branch-free TwoSum); [`Lanes::total`] combines the
/// lanes by a Neumaier sum of the partial sums plus the summed errors. Same error bound as one
/// compensated chain (`≈ 2u·Σ|terms| + u·|result|`), without its latency-bound dependency.
struct Lanes {
    s: [f64; LANES],
    c: [f64; LANES],
}

impl Lanes {
    fn new() -> Self {
        Self {
            s: [0.0; LANES],
            c: [0.0; LANES],
        }
    }

    #[inline(always)]
    fn add(&mut self, l: usize, v: f64) {
        let t = self.s[l] + v;
        let z = t - self.s[l];
        self.c[l] += (self.s[l] - (t - z)) + (v - z);
        self.s[l] = t;
    }

    fn total(&self) -> f64 {
        let err: f64 = self.c.iter().sum();
        compensated(self.s.iter().copied().chain(std::iter::once(err)))
    }
}

/// Dot product with compensated summation (keeps `Aπ/β` accurate for tiny β).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "dot: lengths differ");
    let mut acc = Lanes::new();
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc.add(l, x[l] * y[l]);
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc.add(l, x * y);
    }
    acc.total()
}

/// Dot product in [`LANES`] plain (uncompensated) lanes: error `≤ (len/LANES + 3)·u·Σ|aᵢbᵢ|`
/// (`u = 2⁻⁵³`). For the exact dynamics' payoff products, whose rounding error (≈ 1e-15 for
/// n ≤ 1000) is far below any iterate difference they report; the solvers keep [`dot`].
pub fn dot_fast(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "dot_fast: lengths differ");
    let mut s = [0.0f64; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            s[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        s[l] += x * y;
    }
    s.iter().sum()
}

/// Compensated sum.
pub fn sum(a: &[f64]) -> f64 {
    let mut acc = Lanes::new();
    let ca = a.chunks_exact(LANES);
    let ra = ca.remainder();
    for x in ca {
        for l in 0..LANES {
            acc.add(l, x[l]);
        }
    }
    for (l, x) in ra.iter().enumerate() {
        acc.add(l, *x);
    }
    acc.total()
}

/// Win rate from counted outcomes: ties count ½ in the numerator and in the denominator
/// (public case 7). Returns ½ when there are no outcomes at all.
pub fn win_rate_from_counts(wins: u64, losses: u64, ties: u64) -> f64 {
    let n = wins + losses + ties;
    if n == 0 {
        return 0.5;
    }
    (wins as f64 + 0.5 * ties as f64) / n as f64
}

/// Group normalization `(v − mean)/max(std, floor)`. A group of one, or a constant group,
/// gives all zeros; `floor` must be > 0 so the result is always finite (public cases 10, 12).
///
/// # Panics
/// If `floor` is not finite and positive (a programmer error).
#[track_caller]
pub fn group_normalize(values: &[f64], floor: f64) -> Vec<f64> {
    assert!(floor.is_finite() && floor > 0.0, "std floor must be > 0");
    if values.is_empty() {
        return Vec::new();
    }
    let n = values.len() as f64;
    let mean = sum(values) / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let sd = var.sqrt().max(floor);
    values.iter().map(|v| (v - mean) / sd).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case4_log_softmax_extreme_logits() {
        let x = [
            -781.17, -1043.73, 890.25, -1235.0, -1622.52, -2174.69, -1304.80, -1730.83, -1072.62,
            -1899.77,
        ];
        let l = log_softmax(&x);
        assert!(l.iter().all(|v| v.is_finite()));
        assert_eq!(l[2], 0.0);
        assert!((l[0] - (-1671.42)).abs() < 1e-9, "{}", l[0]);
        let max = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(max, 0.0);
    }

    #[test]
    fn case5_all_masked_logsumexp() {
        let x = [f64::NEG_INFINITY, f64::NEG_INFINITY];
        assert_eq!(logsumexp(&x), f64::NEG_INFINITY);
        let g = logsumexp_grad(&x);
        assert!(g.iter().all(|v| *v == 0.0));
        let ls = log_softmax(&x);
        assert!(ls.iter().all(|v| !v.is_nan()));
        // one masked entry among finite ones: zero probability, no NaN
        let y = [f64::NEG_INFINITY, 0.0, 1.0];
        let g = logsumexp_grad(&y);
        assert_eq!(g[0], 0.0);
        assert!(g.iter().all(|v| v.is_finite()));
        assert!(log_softmax(&y).iter().all(|v| !v.is_nan()));
    }

    #[test]
    fn case7_ties_count_half() {
        assert_eq!(win_rate_from_counts(1, 1, 98), 0.5);
        assert_eq!(win_rate_from_counts(3, 1, 0), 0.75);
        assert_eq!(win_rate_from_counts(1, 0, 1), 0.75);
    }

    #[test]
    fn case10_and_12_group_normalize() {
        assert_eq!(group_normalize(&[0.7], 1e-6), vec![0.0]);
        let mut v = vec![0.35; 7];
        v.push(0.95);
        let z = group_normalize(&v, 1e-6);
        assert!(z.iter().all(|x| x.is_finite() && x.abs() < 3.0), "{z:?}");
        assert!(group_normalize(&[2.0; 5], 1e-6).iter().all(|x| *x == 0.0));
    }

    #[test]
    fn compensated_dot_is_accurate() {
        let a = [1e16, 1.0, -1e16];
        let b = [1.0, 1.0, 1.0];
        assert_eq!(dot(&a, &b), 1.0);
    }
}
