//! Exact symmetric Nash equilibria (von Neumann winners) of skew-symmetric games.
//!
//! Method: the column player's LP `max 1ᵀz s.t. Bz ≤ 1, z ≥ 0` with `B = A + k` (`k > max|A|`),
//! solved by a dense condensed-tableau simplex started at the slack basis (exact steepest-edge
//! pricing, the edge norms recomputed inside each pivot;
//! Bland's rule after a run of degenerate pivots, so it cannot cycle), then `q = z/Σz`.
//! The vertex is **polished** by solving `A_{T,S} q_S = 0, 1ᵀq_S = 1` on its support `S` and
//! tight rows `T` (least squares by SVD), and **verified** independently: finite, on the simplex,
//! exploitability `max_y (Aq)_y ≤ 1e-9`. A solution that fails verification is an error, never
//! returned.
//!
//! Uniqueness is certified, not assumed: the equilibrium is unique when no equilibrium puts
//! mass on tight off-support actions (checked by a second simplex phase on the optimal face)
//! and `A_SS` has a one-dimensional kernel. Otherwise the game is flagged degenerate and the
//! verified equilibrium returned is one point of the equilibrium set.

use crate::error::{GameError, Result};
use crate::game::Game;
use crate::numerics::dot;
use crate::policy::Policy;

/// Exploitability tolerance of the verification step.
pub const NASH_TOL: f64 = 1e-9;

/// The equilibrium of one context.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextNash {
    /// The equilibrium strategy (on the simplex).
    pub strategy: Vec<f64>,
    /// Its exploitability `max_y w(y) − ½` (verified `≤ 1e-9`).
    pub exploitability: f64,
    /// `Some(reason)` when the equilibrium is not certified unique.
    pub degenerate: Option<String>,
    /// Simplex pivots used.
    pub pivots: usize,
}

/// Equilibria of every context of a game.
#[derive(Debug, Clone, PartialEq)]
pub struct NashSolution {
    /// Per context.
    pub contexts: Vec<ContextNash>,
}

impl NashSolution {
    /// The equilibrium as a policy.
    pub fn policy(&self) -> Policy {
        let probs: Vec<Vec<f64>> = self.contexts.iter().map(|c| c.strategy.clone()).collect();
        Policy::from_probs(&probs).expect("verified equilibria are distributions")
    }

    /// Whether any context is degenerate.
    pub fn is_degenerate(&self) -> bool {
        self.contexts.iter().any(|c| c.degenerate.is_some())
    }
}

/// Solve every context of `game`.
pub fn solve_nash(game: &Game) -> Result<NashSolution> {
    let n = game.n_actions();
    let contexts = (0..game.n_contexts())
        .map(|x| {
            solve_symmetric(game.skew(x), n).map_err(|msg| GameError::Solver { context: x, msg })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(NashSolution { contexts })
}

/// Exploitability `max_y (Aq)_y` clipped at 0.
pub fn skew_exploitability(a: &[f64], n: usize, q: &[f64]) -> f64 {
    (0..n)
        .map(|i| dot(&a[i * n..(i + 1) * n], q))
        .fold(0.0, f64::max)
}

struct Tableau {
    m: usize,
    n: usize,
    t: Vec<f64>,
    rowvar: Vec<usize>,
    colvar: Vec<usize>,
    scratch: Vec<f64>,
    /// Steepest-edge weights `γ_j = 1 + Σ_i t_ij²` (constraint rows) of the nonbasic columns,
    /// kept exact: recomputed inside each pivot's row update (one extra multiply-add per entry).
    gamma: Vec<f64>,
}

const RC_TOL: f64 = 1e-11;
const PIV_TOL: f64 = 1e-11;

impl Tableau {
    fn at(&self, i: usize, j: usize) -> f64 {
        self.t[i * (self.n + 1) + j]
    }

    fn pivot(&mut self, r: usize, c: usize) {
        let w = self.n + 1;
        let p = self.t[r * w + c];
        let inv = 1.0 / p;
        self.scratch.copy_from_slice(&self.t[r * w..(r + 1) * w]);
        let m = self.m;
        let gamma = &mut self.gamma;
        gamma.iter_mut().for_each(|g| *g = 1.0);
        for i in 0..=m {
            if i == r {
                continue;
            }
            let f = self.t[i * w + c];
            let row = &mut self.t[i * w..(i + 1) * w];
            if f != 0.0 {
                let fi = f * inv;
                for (v, s) in row.iter_mut().zip(&self.scratch) {
                    *v -= fi * s;
                }
                row[c] = -fi;
            }
            if i < m {
                for (g, v) in gamma.iter_mut().zip(&row[..w - 1]) {
                    *g += v * v;
                }
            }
        }
        let row = &mut self.t[r * w..(r + 1) * w];
        for v in row.iter_mut() {
            *v *= inv;
        }
        row[c] = inv;
        for (g, v) in gamma.iter_mut().zip(&row[..w - 1]) {
            *g += v * v;
        }
        std::mem::swap(&mut self.rowvar[r], &mut self.colvar[c]);
    }

    fn init_gamma(&mut self) {
        let w = self.n + 1;
        self.gamma = vec![1.0; self.n];
        for i in 0..self.m {
            for (g, v) in self.gamma.iter_mut().zip(&self.t[i * w..i * w + self.n]) {
                *g += v * v;
            }
        }
    }

    /// Run the simplex on the objective row; `allowed(var)` says which variables may enter.
    fn run(
        &mut self,
        allowed: &dyn Fn(usize) -> bool,
        max_pivots: usize,
    ) -> std::result::Result<usize, String> {
        let (m, n) = (self.m, self.n);
        let mut pivots = 0;
        let mut degenerate_run = 0usize;
        let mut bland = false;
        if self.gamma.len() != n {
            self.init_gamma();
        }
        loop {
            // entering column: steepest edge (largest rc²/γ_j), Bland's rule after a long
            // degenerate run
            let mut c = usize::MAX;
            let mut best = 0.0;
            for j in 0..n {
                let rc = self.at(m, j);
                if rc < -RC_TOL && allowed(self.colvar[j]) {
                    if bland {
                        if c == usize::MAX || self.colvar[j] < self.colvar[c] {
                            c = j;
                        }
                    } else {
                        let score = rc * rc / self.gamma[j];
                        if score > best {
                            best = score;
                            c = j;
                        }
                    }
                }
            }
            if c == usize::MAX {
                return Ok(pivots);
            }
            // ratio test, ties by smallest basic label (Bland)
            let mut r = usize::MAX;
            let mut ratio = f64::INFINITY;
            for i in 0..m {
                let a = self.at(i, c);
                if a > PIV_TOL {
                    let q = self.at(i, n).max(0.0) / a;
                    let eps = 1e-15 * (1.0 + ratio.min(1e300));
                    if r == usize::MAX
                        || q < ratio - eps
                        || ((q - ratio).abs() <= eps && self.rowvar[i] < self.rowvar[r])
                    {
                        r = i;
                        ratio = q;
                    }
                }
            }
            if r == usize::MAX {
                return Err(
                    "LP unbounded (cannot happen for a valid game; input corrupted?)".into(),
                );
            }
            if ratio <= 1e-14 {
                degenerate_run += 1;
                if degenerate_run > 2 * (m + n) {
                    bland = true;
                }
            } else {
                degenerate_run = 0;
            }
            self.pivot(r, c);
            pivots += 1;
            if pivots > max_pivots {
                return Err(format!(
                    "simplex did not terminate within {max_pivots} pivots"
                ));
            }
        }
    }
}

/// Solve the symmetric game with skew matrix `a` (row-major `n×n`).
/// Returns a verified equilibrium or an error message.
pub fn solve_symmetric(a: &[f64], n: usize) -> std::result::Result<ContextNash, String> {
    if n == 0 || a.len() != n * n {
        return Err(format!(
            "skew matrix has {} entries, expected {}",
            a.len(),
            n * n
        ));
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err("skew matrix has a non-finite entry".into());
    }
    if n == 1 {
        return Ok(ContextNash {
            strategy: vec![1.0],
            exploitability: 0.0,
            degenerate: None,
            pivots: 0,
        });
    }
    let maxabs = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let k = 1.0 + maxabs;
    let w = n + 1;
    let mut t = vec![0.0; (n + 1) * w];
    for i in 0..n {
        for j in 0..n {
            t[i * w + j] = a[i * n + j] + k;
        }
        t[i * w + n] = 1.0;
    }
    for j in 0..n {
        t[n * w + j] = -1.0;
    }
    let mut tab = Tableau {
        m: n,
        n,
        t,
        rowvar: (n..2 * n).collect(),
        colvar: (0..n).collect(),
        scratch: vec![0.0; w],
        gamma: Vec::new(),
    };
    let max_pivots = 50 * n + 1000;
    let mut pivots = tab.run(&|_| true, max_pivots)?;

    let mut z = vec![0.0; n];
    for i in 0..n {
        if tab.rowvar[i] < n {
            z[tab.rowvar[i]] = tab.at(i, n).max(0.0);
        }
    }
    let s: f64 = z.iter().sum();
    if s.is_nan() || s <= 0.0 || !s.is_finite() {
        return Err(format!("LP returned a degenerate point (Σz = {s})"));
    }
    let raw: Vec<f64> = z.iter().map(|v| v / s).collect();
    let raw_e = skew_exploitability(a, n, &raw);
    let (q, e) = match polish(a, n, &raw) {
        Some(p) => {
            let pe = skew_exploitability(a, n, &p);
            if pe <= raw_e { (p, pe) } else { (raw, raw_e) }
        }
        None => (raw, raw_e),
    };
    // Independent verification.
    let sum: f64 = q.iter().sum();
    if q.iter().any(|v| !v.is_finite() || *v < 0.0) || (sum - 1.0).abs() > 1e-12 {
        return Err("equilibrium candidate is not on the simplex".into());
    }
    if e > NASH_TOL {
        return Err(format!(
            "equilibrium candidate has exploitability {e:.3e} > {NASH_TOL:e}"
        ));
    }

    // Uniqueness certificate.
    let adv: Vec<f64> = (0..n).map(|i| dot(&a[i * n..(i + 1) * n], &q)).collect();
    let supp: Vec<usize> = (0..n).filter(|&i| q[i] > 1e-12).collect();
    let tight_off: Vec<usize> = (0..n)
        .filter(|&i| q[i] <= 1e-12 && adv[i] >= -1e-9)
        .collect();
    let mut degenerate = None;
    if !tight_off.is_empty() {
        // Phase 2 on the optimal face: maximize the mass on tight off-support actions.
        let frozen: Vec<bool> = {
            let mut f = vec![false; 2 * n];
            for j in 0..n {
                if tab.at(n, j) > RC_TOL {
                    f[tab.colvar[j]] = true;
                }
            }
            f
        };
        let mut target = vec![false; 2 * n];
        for &i in &tight_off {
            target[i] = true;
        }
        for j in 0..=n {
            let mut v = if j < n && target[tab.colvar[j]] {
                -1.0
            } else {
                0.0
            };
            for i in 0..n {
                if target[tab.rowvar[i]] {
                    v += tab.at(i, j);
                }
            }
            tab.t[n * w + j] = v;
        }
        pivots += tab.run(&|var| !frozen[var], max_pivots)?;
        let mass = tab.at(n, n) * k;
        if mass > 1e-9 {
            degenerate = Some(format!(
                "the equilibrium set is not a single point: another equilibrium puts mass {mass:.3} on actions {tight_off:?}"
            ));
        }
    }
    if degenerate.is_none() && supp.len() > 1 {
        let m = supp.len();
        let sub = nalgebra::DMatrix::from_fn(m, m, |i, j| a[supp[i] * n + supp[j]]);
        let sv = sub.singular_values();
        let smax = sv.iter().fold(0.0f64, |x, v| x.max(*v)).max(1e-300);
        let nullity = sv.iter().filter(|v| **v <= 1e-9 * smax.max(1.0)).count();
        if nullity > 1 {
            degenerate = Some(format!(
                "the payoff block on the support {supp:?} has a {nullity}-dimensional kernel; the equilibrium is not certified unique"
            ));
        }
    }
    Ok(ContextNash {
        strategy: q,
        exploitability: e,
        degenerate,
        pivots,
    })
}

/// Solve `A_{T,S} q_S = 0, 1ᵀ q_S = 1` on the support of `q` and its tight rows.
fn polish(a: &[f64], n: usize, q: &[f64]) -> Option<Vec<f64>> {
    let supp: Vec<usize> = (0..n).filter(|&i| q[i] > 1e-13).collect();
    let adv: Vec<f64> = (0..n).map(|i| dot(&a[i * n..(i + 1) * n], q)).collect();
    let tight: Vec<usize> = (0..n).filter(|&i| adv[i] >= -1e-9).collect();
    let (rows, cols) = (tight.len() + 1, supp.len());
    if cols == 0 || rows > 4 * n {
        return None;
    }
    let mut m = nalgebra::DMatrix::zeros(rows, cols);
    let mut b = nalgebra::DVector::zeros(rows);
    for (r, &i) in tight.iter().enumerate() {
        for (c, &j) in supp.iter().enumerate() {
            m[(r, c)] = a[i * n + j];
        }
    }
    for c in 0..cols {
        m[(rows - 1, c)] = 1.0;
    }
    b[rows - 1] = 1.0;
    let svd = m.svd(true, true);
    let x = svd.solve(&b, 1e-12).ok()?;
    let mut out = vec![0.0; n];
    for (c, &j) in supp.iter().enumerate() {
        if !x[c].is_finite() || x[c] < -1e-12 {
            return None;
        }
        out[j] = x[c].max(0.0);
    }
    let s: f64 = out.iter().sum();
    if s.is_nan() || s <= 0.0 {
        return None;
    }
    out.iter_mut().for_each(|v| *v /= s);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skew_from_int(rows: &[&[f64]]) -> (Vec<f64>, usize) {
        let n = rows.len();
        let maxabs = rows
            .iter()
            .flat_map(|r| r.iter())
            .fold(0.0f64, |m, v| m.max(v.abs()));
        (
            rows.iter()
                .flat_map(|r| r.iter().map(|v| v / (2.0 * maxabs)))
                .collect(),
            n,
        )
    }

    #[test]
    fn rps_is_uniform_and_unique() {
        let (a, n) = skew_from_int(&[&[0., -1., 1.], &[1., 0., -1.], &[-1., 1., 0.]]);
        let s = solve_symmetric(&a, n).unwrap();
        for v in &s.strategy {
            assert!((v - 1.0 / 3.0).abs() < 1e-12);
        }
        assert!(s.degenerate.is_none());
    }

    #[test]
    fn perturbed_rps_known_equilibrium() {
        // OpenSpiel's perturbed RPS [[0,-1,3],[1,0,-3],[-3,3,0]]: Nash (3/7, 3/7, 1/7).
        let (a, n) = skew_from_int(&[&[0., -1., 3.], &[1., 0., -3.], &[-3., 3., 0.]]);
        let s = solve_symmetric(&a, n).unwrap();
        let want = [3.0 / 7.0, 3.0 / 7.0, 1.0 / 7.0];
        for (v, w) in s.strategy.iter().zip(want) {
            assert!((v - w).abs() < 1e-12, "{:?}", s.strategy);
        }
    }

    #[test]
    fn dominant_action_is_pure() {
        let (a, n) = skew_from_int(&[&[0., 1., 1.], &[-1., 0., 1.], &[-1., -1., 0.]]);
        let s = solve_symmetric(&a, n).unwrap();
        assert_eq!(s.strategy, vec![1.0, 0.0, 0.0]);
        assert!(s.degenerate.is_none());
    }
}
