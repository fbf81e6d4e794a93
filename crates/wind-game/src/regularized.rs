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
pub fn fixed_point_map(game: &Game, x: usize, reference: &Policy, pi: &Policy, beta: f64, g: Transform) -> Vec<f64> {
    let h = payoff(game, x, pi, g);
    let lr = reference.logp(x);
    let s = reference.support(x);
    let logits: Vec<f64> = (0..lr.len())
        .map(|y| if s[y] { lr[y] + h[y] / beta } else { f64::NEG_INFINITY })
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
pub fn solve_regularized(game: &Game, reference: &Policy, beta: f64, g: Transform) -> Result<RegularizedSolution> {
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
    let support = (0..game.n_contexts()).map(|x| reference.support(x).to_vec()).collect();
    let policy = Policy::from_log_weights(logp_all, support);
    let residual = residual(game, reference, &policy, beta, g);
    if residual > REG_TOL {
        return Err(GameError::Solver {
            context: 0,
            msg: format!("regularized solve reached residual {residual:.3e} > {REG_TOL:e} at β = {beta}"),
        });
    }
    Ok(RegularizedSolution { policy, residual: residual.max(worst.min(residual)), newton_steps: steps })
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
    // restricted matrices: A (identity) or P (log)
    let a_full = game.skew(x);
    let a_sub: Vec<f64> = supp.iter().flat_map(|&i| supp.iter().map(move |&j| a_full[i * n + j])).collect();
    let h_of = |pi: &[f64]| -> Vec<f64> {
        let adv: Vec<f64> = (0..m).map(|i| dot(&a_sub[i * m..(i + 1) * m], pi)).collect();
        match g {
            Transform::Identity => adv,
            Transform::Log => adv.iter().map(|v| (v + 0.5).max(1e-300).ln()).collect(),
        }
    };
    let resid = |u: &[f64], b: f64| -> (Vec<f64>, f64) {
        let pi: Vec<f64> = u.iter().map(|v| v.exp()).collect();
        let h = h_of(&pi);
        let logits: Vec<f64> = (0..m).map(|i| lref[i] + h[i] / b).collect();
        let t = log_softmax(&logits);
        let r: Vec<f64> = (0..m).map(|i| u[i] - t[i]).collect();
        let norm = r.iter().fold(0.0f64, |s, v| s.max(if v.is_finite() { v.abs() } else { f64::INFINITY }));
        (r, norm)
    };
    // continuation schedule
    let mut betas = Vec::new();
    let mut b = beta.max(1.0);
    while b > beta * (1.0 + 1e-12) {
        betas.push(b);
        b *= 0.5;
    }
    betas.push(beta);
    let mut u = lref.clone();
    let mut steps = 0usize;
    let mut last_norm = f64::INFINITY;
    for (stage, &b) in betas.iter().enumerate() {
        let final_stage = stage + 1 == betas.len();
        let tol = if final_stage { REG_TARGET } else { 1e-9 };
        let (mut r, mut norm) = resid(&u, b);
        let mut iters = 0;
        while norm > tol {
            iters += 1;
            if iters > 200 {
                break;
            }
            // Jacobian of F(u, c) = u − ℓ − h(e^u)/b + c, with Σ e^u = 1.
            let pi: Vec<f64> = u.iter().map(|v| v.exp()).collect();
            let gp: Vec<f64> = match g {
                Transform::Identity => vec![1.0; m],
                Transform::Log => h_of(&pi).iter().map(|l| (-l).exp()).collect(),
            };
            let mut jac = nalgebra::DMatrix::<f64>::zeros(m + 1, m + 1);
            for i in 0..m {
                for j in 0..m {
                    let pij = match g {
                        Transform::Identity => a_sub[i * m + j],
                        Transform::Log => a_sub[i * m + j] + 0.5,
                    };
                    jac[(i, j)] = -gp[i] * pij * pi[j] / b;
                }
                jac[(i, i)] += 1.0;
                jac[(i, m)] = 1.0;
                jac[(m, i)] = pi[i];
            }
            let mut rhs = nalgebra::DVector::<f64>::zeros(m + 1);
            for i in 0..m {
                rhs[i] = -r[i];
            }
            let Some(d) = jac.lu().solve(&rhs) else {
                return Err(format!("singular Newton system at β = {b}"));
            };
            // backtracking on the residual norm
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
            steps += 1;
            if !accepted {
                break; // stagnated at rounding level
            }
        }
        last_norm = norm;
        if !final_stage && norm > 1e-6 {
            return Err(format!("continuation stalled at β = {b} (residual {norm:.3e})"));
        }
    }
    if last_norm > REG_TOL {
        return Err(format!("Newton stalled at residual {last_norm:.3e} for β = {beta}"));
    }
    Ok((u, steps, last_norm))
}
