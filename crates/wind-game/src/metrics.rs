//! Metrics of policies in a game (SPEC §3). Per-context values are averaged with `ρ`.

use crate::game::Game;
use crate::numerics::{dot, logsumexp};
use crate::policy::Policy;

/// `KL(p‖q)` of one context from log-probabilities and supports; `+inf` when `p` puts mass
/// where `q` has none. Terms with `p(y) = 0` contribute 0 (never NaN).
pub fn kl_context(lp: &[f64], sp: &[bool], lq: &[f64], sq: &[bool]) -> f64 {
    let mut s = 0.0;
    for y in 0..lp.len() {
        if !sp[y] {
            continue;
        }
        if !sq[y] {
            return f64::INFINITY;
        }
        s += lp[y].exp() * (lp[y] - lq[y]);
    }
    s.max(0.0)
}

/// `E_ρ KL(π_x‖π'_x)`.
pub fn kl(game: &Game, p: &Policy, q: &Policy) -> f64 {
    (0..game.n_contexts())
        .map(|x| game.rho()[x] * kl_context(p.logp(x), p.support(x), q.logp(x), q.support(x)))
        .sum()
}

/// Exploitability `E_ρ [max_y w_π(y|x) − ½]` (0 iff Nash in every context).
pub fn exploitability(game: &Game, p: &Policy) -> f64 {
    (0..game.n_contexts())
        .map(|x| {
            game.rho()[x]
                * game
                    .advantages(x, &p.probs(x))
                    .into_iter()
                    .fold(0.0, f64::max)
        })
        .sum()
}

/// Closed-form regularized duality gap
/// `G_β(π) = 2·[β·log Σ_y π_ref(y)·exp(w_π(y)/β) + β·KL(π‖π_ref)] − 1`, ρ-averaged;
/// `≥ 0`, `= 0` exactly at `π*_β`. With `β = 0` it is `2·e(π)`.
pub fn gap(game: &Game, p: &Policy, reference: &Policy, beta: f64) -> f64 {
    if beta == 0.0 {
        return 2.0 * exploitability(game, p);
    }
    let mut total = 0.0;
    for x in 0..game.n_contexts() {
        let adv = game.advantages(x, &p.probs(x));
        let lr = reference.logp(x);
        let sr = reference.support(x);
        // w = adv + ½ ; 2β·lse(ℓ + w/β) − 1 = 2β·lse(ℓ + adv/β)
        let logits: Vec<f64> = (0..adv.len())
            .map(|y| {
                if sr[y] {
                    lr[y] + adv[y] / beta
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect();
        let k = kl_context(p.logp(x), p.support(x), lr, sr);
        total += game.rho()[x] * 2.0 * (beta * logsumexp(&logits) + beta * k);
    }
    total
}

/// `P(π ≻ π') = E_ρ π_xᵀ P_x π'_x`.
pub fn win_rate(game: &Game, p: &Policy, q: &Policy) -> f64 {
    (0..game.n_contexts())
        .map(|x| game.rho()[x] * game.duel(x, &p.probs(x), &q.probs(x)))
        .sum()
}

/// Entropy `E_ρ H(π_x)` in nats.
pub fn entropy(game: &Game, p: &Policy) -> f64 {
    (0..game.n_contexts())
        .map(|x| {
            let pr = p.probs(x);
            let h: f64 = -dot(
                &pr,
                &p.logp(x)
                    .iter()
                    .zip(p.support(x))
                    .map(|(l, s)| if *s { *l } else { 0.0 })
                    .collect::<Vec<_>>(),
            );
            game.rho()[x] * h
        })
        .sum()
}
