//! KL-regularized equilibria: the fixed point `π ∝ π_ref · exp(g(w_π)/β)`.
//!
//! With `g = identity` this is `π*_β`, the unique symmetric equilibrium of the KL-regularized
//! win-rate game (SPEC §3). With `g = log` it is `π ∝ π_ref · w_π^{1/β}`, the fixed point of
//! the regularized log-win-rate (BOND) game (SPEC §5).
//!
//! Method: Newton's method in log space on `u − ℓ_ref − g(w(e^u))/β + c = 0, Σe^u = 1`
//! (bordered Jacobian, LU), with a backtracking line search on the log-space residual, and
//! continuation in β (β₀ = max(β, 1), halved until the target) so small β (1e-4) starts from
//! a nearby solution. Only the support of `π_ref` is solved for; actions outside it keep
//! probability zero.

use crate::error::{GameError, Result};
use crate::game::Game;
use crate::numerics::{dot, log_softmax};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};

/// Payoff transform `g` of the win rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// `g(w) = w`: the win-rate game.
    #[default]
    Identity,
    /// `g(w) = log w`: the log-win-rate (iterative BOND) game.
    Log,
}

impl Transform {
    /// Short name for CSV rows.
    pub fn name(self) -> &'static str {
        match self {
            Transform::Identity => "identity",
            Transform::Log => "log",
        }
    }
}

/// Payoff `h(y) = g(w_π(y))` of context `x`, up to an additive constant. For identity this is
/// `(Aπ)(y)` (exact near 0); for log it is computed in log space (finite on the support even
/// when probabilities underflow).
pub fn payoff(game: &Game, x: usize, pi: &Policy, g: Transform) -> Vec<f64> {
    match g {
        Transform::Identity => game.advantages(x, &pi.probs(x)),
        Transform::Log => game.log_win_rates(x, pi.logp(x), pi.support(x)),
    }
}

/// The fixed-point map in log space: `log_softmax(ℓ_ref + g(w_π)/β)` on the support of `π_ref`.
pub fn fixed_point_map(
    game: &Game,
    x: usize,
    reference: &Policy,
    pi: &Policy,
    beta: f64,
    g: Transform,
) -> Vec<f64> {
    let h = payoff(game, x, pi, g);
    let lr = reference.logp(x);
    let s = reference.support(x);
    let logits: Vec<f64> = (0..lr.len())
        .map(|y| {
            if s[y] {
                lr[y] + h[y] / beta
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    log_softmax(&logits)
}

/// Log-space residual `max_y |log π(y) − log T(π)(y)|` over the support of `π_ref`.
pub fn residual(game: &Game, reference: &Policy, pi: &Policy, beta: f64, g: Transform) -> f64 {
    let mut r = 0.0f64;
    for x in 0..game.n_contexts() {
        let t = fixed_point_map(game, x, reference, pi, beta, g);
        let s = reference.support(x);
        for y in 0..t.len() {
            if s[y] {
                let d = (pi.logp(x)[y] - t[y]).abs();
                r = r.max(if d.is_nan() { f64::INFINITY } else { d });
            }
        }
    }
    r
}

/// A regularized equilibrium with its certificate.
#[derive(Debug, Clone)]
pub struct RegularizedSolution {
    /// The equilibrium policy.
    pub policy: Policy,
    /// Final log-space residual (max over contexts).
    pub residual: f64,
    /// Newton steps over all contexts and continuation stages.
    pub newton_steps: usize,
}

/// Residual the solver aims for; it reports an error above [`REG_TOL`].
const REG_TARGET: f64 = 1e-13;
/// Largest accepted log-space residual.
pub const REG_TOL: f64 = 1e-12;

/// Solve for the regularized fixed point of every context.
pub fn solve_regularized(
    game: &Game,
    reference: &Policy,
    beta: f64,
    g: Transform,
) -> Result<RegularizedSolution> {
    if !(beta.is_finite() && beta > 0.0) {
        return Err(GameError::Parameter {
            name: "beta",
            value: beta,
            msg: "β must be finite and > 0 (use the Nash solver for β = 0)".into(),
        });
    }
    reference.check_shape(game.n_contexts(), game.n_actions(), "reference policy")?;
    let n = game.n_actions();
    let mut logp_all = Vec::with_capacity(game.n_contexts());
    let mut steps = 0;
    let mut worst = 0.0f64;
    for x in 0..game.n_contexts() {
        let supp: Vec<usize> = (0..n).filter(|&y| reference.support(x)[y]).collect();
        let (u, st, res) = solve_context(game, x, reference, &supp, beta, g)
            .map_err(|msg| GameError::Solver { context: x, msg })?;
        steps += st;
        worst = worst.max(res);
        let mut full = vec![f64::NEG_INFINITY; n];
        for (k, &y) in supp.iter().enumerate() {
            full[y] = u[k];
        }
        logp_all.push(full);
    }
    let support = (0..game.n_contexts())
        .map(|x| reference.support(x).to_vec())
        .collect();
    let policy = Policy::from_log_weights(logp_all, support);
    let residual = residual(game, reference, &policy, beta, g);
    if residual > REG_TOL {
        return Err(GameError::Solver {
            context: 0,
            msg: format!(
                "regularized solve reached residual {residual:.3e} > {REG_TOL:e} at β = {beta}"
            ),
        });
    }
    Ok(RegularizedSolution {
        policy,
        residual: residual.max(worst.min(residual)),
        newton_steps: steps,
    })
}

/// Newton with continuation for one context, on the support `supp`. Returns normalized
/// log-probabilities on the support, Newton steps, and the final residual.
fn solve_context(
    game: &Game,
    x: usize,
    reference: &Policy,
    supp: &[usize],
    beta: f64,
    g: Transform,
) -> std::result::Result<(Vec<f64>, usize, f64), String> {
    let n = game.n_actions();
    let m = supp.len();
    let lref: Vec<f64> = supp.iter().map(|&y| reference.logp(x)[y]).collect();
    if m == 1 {
        return Ok((vec![0.0], 0, 0.0));
    }
    // restricted matrices: A (identity) or log P (log)
    let a_full = game.skew(x);
    let a_sub: Vec<f64> = supp
        .iter()
        .flat_map(|&i| supp.iter().map(move |&j| a_full[i * n + j]))
        .collect();
    let logp_sub: Vec<f64> = a_sub.iter().map(|v| (v + 0.5).ln()).collect();
    // h(u): payoff on the support; for log, log w_i = lse_j(u_j + log P_ij) in log space.
    let h_of = |u: &[f64]| -> Vec<f64> {
        match g {
            Transform::Identity => {
                let pi: Vec<f64> = u.iter().map(|v| v.exp()).collect();
                (0..m)
                    .map(|i| dot(&a_sub[i * m..(i + 1) * m], &pi))
                    .collect()
            }
            Transform::Log => {
                let mut buf = vec![0.0; m];
                (0..m)
                    .map(|i| {
                        for j in 0..m {
                            buf[j] = u[j] + logp_sub[i * m + j];
                        }
                        crate::numerics::logsumexp(&buf)
                    })
                    .collect()
            }
        }
    };
    let resid = |u: &[f64], b: f64| -> (Vec<f64>, f64) {
        let h = h_of(u);
        let logits: Vec<f64> = (0..m).map(|i| lref[i] + h[i] / b).collect();
        let t = log_softmax(&logits);
        let r: Vec<f64> = (0..m).map(|i| u[i] - t[i]).collect();
        let norm = r.iter().fold(0.0f64, |s, v| {
            s.max(if v.is_finite() {
                v.abs()
            } else {
                f64::INFINITY
            })
        });
        (r, norm)
    };
    // Newton at one β from `u0`; returns (u, residual, steps).
    let newton = |u0: &[f64], b: f64, tol: f64, max_iter: usize| -> (Vec<f64>, f64, usize) {
        let mut u = u0.to_vec();
        let (mut r, mut norm) = resid(&u, b);
        let mut steps = 0;
        while norm > tol && steps < max_iter {
            steps += 1;
            // Jacobian of F(u, c) = u − ℓ − h(u)/b + c, with Σ e^u = 1.
            let pi: Vec<f64> = u.iter().map(|v| v.exp()).collect();
            let mut jac = nalgebra::DMatrix::<f64>::zeros(m + 1, m + 1);
            match g {
                Transform::Identity => {
                    for i in 0..m {
                        for j in 0..m {
                            jac[(i, j)] = -a_sub[i * m + j] * pi[j] / b;
                        }
                    }
                }
                Transform::Log => {
                    let h = h_of(&u);
                    for i in 0..m {
                        for j in 0..m {
                            // ∂ log w_i / ∂u_j = P_ij π_j / w_i
                            jac[(i, j)] = -(u[j] + logp_sub[i * m + j] - h[i]).exp() / b;
                        }
                    }
                }
            }
            for i in 0..m {
                jac[(i, i)] += 1.0;
                jac[(i, m)] = 1.0;
                jac[(m, i)] = pi[i];
            }
            let mut rhs = nalgebra::DVector::<f64>::zeros(m + 1);
            for i in 0..m {
                rhs[i] = -r[i];
            }
            let Some(d) = jac.lu().solve(&rhs) else {
                break;
            };
            let mut alpha = 1.0;
            let mut accepted = false;
            for _ in 0..40 {
                let mut cand: Vec<f64> = (0..m).map(|i| u[i] + alpha * d[i]).collect();
                let z = crate::numerics::logsumexp(&cand);
                cand.iter_mut().for_each(|v| *v -= z);
                let (rc, nc) = resid(&cand, b);
                if nc.is_finite() && (nc < norm * (1.0 - 1e-4 * alpha) || nc <= tol) {
                    u = cand;
                    r = rc;
                    norm = nc;
                    accepted = true;
                    break;
                }
                alpha *= 0.5;
            }
            if !accepted {
                break; // stagnated (at rounding level, or a bad start)
            }
        }
        (u, norm, steps)
    };
    // Adaptive continuation in log β: halve β while Newton converges from the last solution,
    // shrink the step when it does not.
    let mut b_good = beta.max(1.0);
    let (mut u, n0, mut steps) = newton(&lref, b_good, 1e-10, 100);
    if n0 > 1e-6 {
        return Err(format!(
            "Newton failed at the starting β = {b_good} (residual {n0:.3e})"
        ));
    }
    let mut ratio = 0.5f64;
    let mut last_norm;
    loop {
        let final_try = b_good * ratio <= beta * (1.0 + 1e-12);
        let b_next = if final_try { beta } else { b_good * ratio };
        let tol = if final_try { REG_TARGET } else { 1e-10 };
        let (un, norm, st) = newton(&u, b_next, tol, 60);
        steps += st;
        let good = norm <= if final_try { REG_TOL } else { 1e-8 };
        if good {
            u = un;
            b_good = b_next;
            last_norm = norm;
            if final_try {
                break;
            }
            ratio = (ratio * ratio.sqrt()).max(0.25); // speed up again after success
        } else {
            ratio = ratio.sqrt();
            if ratio > 0.999 {
                // The branch from π_ref folds (g = log can have several fixed points): take the
                // fixed point that damped iteration from π_ref reaches, then polish by Newton.
                let eb = 0.5;
                let eta = eb / beta;
                let mut v = lref.clone();
                let mut norm = f64::INFINITY;
                for _ in 0..200_000 {
                    let h = h_of(&v);
                    let mut w: Vec<f64> = (0..m)
                        .map(|i| (1.0 - eb) * v[i] + eb * lref[i] + eta * h[i])
                        .collect();
                    let z = crate::numerics::logsumexp(&w);
                    w.iter_mut().for_each(|t| *t -= z);
                    v = w;
                    steps += 1;
                    if steps % 64 == 0 {
                        norm = resid(&v, beta).1;
                        if norm < 1e-9 {
                            break;
                        }
                    }
                }
                let (vp, np, st) = newton(&v, beta, REG_TARGET, 60);
                steps += st;
                if np <= REG_TOL {
                    return Ok((vp, steps, np));
                }
                return Err(format!(
                    "continuation stalled between β = {b_good} and β = {b_next}, and damped iteration reached only residual {norm:.3e}; the fixed point may not be unique here"
                ));
            }
        }
    }
    Ok((u, steps, last_norm))
}
