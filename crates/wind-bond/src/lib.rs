//! # wind-bond
//!
//! Best-of-N (SPEC §4): the exact reward-BoN law with ties, the duel (`N = 2`) and power forms
//! for preference oracles, iterative BOND, the exact J-BOND analogue, and a Monte-Carlo BoN
//! sampler that tests use to confirm the exact laws.

use wind_game::numerics::logsumexp;
use wind_game::{Game, Policy, WindRng};

/// `(p_<(y), p_≤(y))` for every `y`: the `π`-mass of responses with strictly smaller / not
/// larger reward. `O(n log n)`: one sort by reward, then a running (Neumaier-compensated) mass
/// over the tie classes in increasing order.
fn cdfs(probs: &[f64], rewards: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = probs.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| rewards[a].total_cmp(&rewards[b]));
    let mut lt = vec![0.0; n];
    let mut le = vec![0.0; n];
    let (mut below, mut comp) = (0.0f64, 0.0f64);
    let mut k = 0;
    while k < n {
        let r = rewards[idx[k]];
        let mut e = k;
        let mut mass = 0.0;
        while e < n && (e == k || rewards[idx[e]] == r) {
            mass += probs[idx[e]];
            e += 1;
        }
        let lo = below + comp;
        // Neumaier step: below += mass
        let t = below + mass;
        if below.abs() >= mass.abs() {
            comp += (below - t) + mass;
        } else {
            comp += (mass - t) + below;
        }
        below = t;
        let hi = (below + comp).min(1.0);
        for &y in &idx[k..e] {
            lt[y] = lo;
            le[y] = hi;
        }
        k = e;
    }
    (lt, le)
}

/// Exact reward Best-of-N with ties broken uniformly (sample order):
/// `π_BoN(y) = π(y)/π(C(y)) · (p_≤(y)^N − p_<(y)^N)`.
///
/// `N = 1` is the identity. Responses with `π(y) = 0` keep probability 0.
///
/// # Panics
/// If `n == 0` or the slices differ in length (programmer errors).
#[track_caller]
pub fn reward_bon(probs: &[f64], rewards: &[f64], n: u32) -> Vec<f64> {
    assert!(n >= 1, "Best-of-N needs N ≥ 1");
    assert_eq!(probs.len(), rewards.len());
    if n == 1 {
        return probs.to_vec();
    }
    let (lt, le) = cdfs(probs, rewards);
    (0..probs.len())
        .map(|y| {
            if probs[y] <= 0.0 {
                return 0.0;
            }
            let tied = le[y] - lt[y];
            probs[y] / tied * (le[y].powi(n as i32) - lt[y].powi(n as i32))
        })
        .collect()
}

/// BOND's form of the same law: `π(y)·Σ_{i=1..N} p_<^{i−1} p_≤^{N−i}` (numerically stable
/// when the tie class is tiny).
pub fn reward_bon_bond_form(probs: &[f64], rewards: &[f64], n: u32) -> Vec<f64> {
    let (lt, le) = cdfs(probs, rewards);
    (0..probs.len())
        .map(|y| {
            probs[y]
                * (1..=n)
                    .map(|i| lt[y].powi(i as i32 - 1) * le[y].powi((n - i) as i32))
                    .sum::<f64>()
        })
        .collect()
}

/// BOND's reward `r_BOND(y) = log p_≤(y) + (1/(N−1))·log Σ_{i=1..N} (p_<(y)/p_≤(y))^{i−1}`,
/// so that `π_BoN(y) = π(y)·exp((N−1)·r_BOND(y))`. Requires `N ≥ 2`; `-inf` where `p_≤ = 0`.
pub fn bond_reward(probs: &[f64], rewards: &[f64], n: u32) -> Vec<f64> {
    assert!(n >= 2, "r_BOND needs N ≥ 2");
    let (lt, le) = cdfs(probs, rewards);
    (0..probs.len())
        .map(|y| {
            if le[y] <= 0.0 {
                return f64::NEG_INFINITY;
            }
            let q = lt[y] / le[y];
            le[y].ln() + (1..=n).map(|i| q.powi(i as i32 - 1)).sum::<f64>().ln() / (n as f64 - 1.0)
        })
        .collect()
}

/// **Not BoN**: ties broken by response identity (lower index wins). Kept only to show, in
/// tests and `wind check`, that it gives a different law (public case 6).
pub fn reward_bon_identity_ties(probs: &[f64], rewards: &[f64], n: u32) -> Vec<f64> {
    let m = probs.len();
    (0..m)
        .map(|y| {
            let below = |z: usize| rewards[z] < rewards[y] || (rewards[z] == rewards[y] && z > y);
            let lt: f64 = (0..m).filter(|&z| below(z)).map(|z| probs[z]).sum();
            (lt + probs[y]).powi(n as i32) - lt.powi(n as i32)
        })
        .collect()
}

/// Duel Best-of-2 under a preference oracle: `BoN₂(π)(y) = 2·π(y)·w_π(y)` (exact).
pub fn duel_bon2(game: &Game, pi: &Policy) -> Policy {
    power_bon(game, pi, 2)
}

/// Power form `π^{(N)}(y) ∝ π(y)·w_π(y)^{N−1}` — exact BoN for continuous rewards and, for
/// `N = 2`, exactly the duel law for any oracle. Computed in log space.
pub fn power_bon(game: &Game, pi: &Policy, n: u32) -> Policy {
    assert!(n >= 1, "Best-of-N needs N ≥ 1");
    if n == 1 {
        return pi.clone();
    }
    pi.map_log_weights(|x, lp, s| {
        let lw = game.log_win_rates(x, lp, s);
        (0..lp.len())
            .map(|y| {
                if s[y] {
                    lp[y] + (n as f64 - 1.0) * lw[y]
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect()
    })
}

/// One iterative-BOND step `π_{t+1} = BoN_N(π_t)` (power form; duel for `N = 2`).
pub fn iterative_bond_step(game: &Game, pi: &Policy, n: u32) -> Policy {
    power_bon(game, pi, n)
}

/// State of the exact J-BOND analogue: the policy and its geometric-moving-average anchor.
#[derive(Debug, Clone)]
pub struct JBondState {
    /// Current policy.
    pub policy: Policy,
    /// Anchor `π_anchor`.
    pub anchor: Policy,
}

/// One exact J-BOND step (SPEC §4): the policy moves to `BoN₂(π_anchor)`, then the anchor is
/// updated as `log π_anchor ← (1−γ)·log π_anchor + γ·log π` (normalized).
pub fn jbond_step(game: &Game, state: &JBondState, gamma: f64) -> JBondState {
    let policy = duel_bon2(game, &state.anchor);
    let anchor = state.anchor.map_log_weights(|x, la, s| {
        let lp = policy.logp(x);
        (0..la.len())
            .map(|y| {
                if s[y] {
                    (1.0 - gamma) * la[y] + gamma * lp[y]
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect()
    });
    JBondState { policy, anchor }
}

/// Monte-Carlo reward BoN: draw `N` responses from `probs`, return the first one with the
/// maximal reward (first in sample order = uniform among tied draws).
pub fn sample_reward_bon(probs: &[f64], rewards: &[f64], n: u32, rng: &mut WindRng) -> usize {
    let mut best = rng.categorical(probs);
    for _ in 1..n {
        let y = rng.categorical(probs);
        if rewards[y] > rewards[best] {
            best = y;
        }
    }
    best
}

/// Monte-Carlo duel: draw two responses, return the oracle's winner (`o ∼ Bernoulli(P)`).
pub fn sample_duel(game: &Game, x: usize, probs: &[f64], rng: &mut WindRng) -> usize {
    let y = rng.categorical(probs);
    let z = rng.categorical(probs);
    if rng.bernoulli(game.pref(x, y, z)) {
        y
    } else {
        z
    }
}

/// `KL(π_BoN ‖ π)` of one context (used by the `log N − (N−1)/N` bound check).
pub fn kl_probs(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .filter(|(a, _)| **a > 0.0)
        .map(|(a, b)| a * (a.ln() - b.ln()))
        .sum()
}

/// `log Σ` helper re-exported for callers composing BoN in log space.
pub fn log_normalizer(logw: &[f64]) -> f64 {
    logsumexp(logw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case6_ties_are_uniform_not_by_identity() {
        let p = [0.5, 0.3, 0.2];
        let r = [1.0, 1.0, 0.0];
        let b2 = reward_bon(&p, &r, 2);
        for (v, w) in b2.iter().zip([0.6, 0.36, 0.04]) {
            assert!((v - w).abs() < 1e-15, "{b2:?}");
        }
        let b3 = reward_bon(&p, &r, 3);
        for (v, w) in b3.iter().zip([31.0 / 50.0, 93.0 / 250.0, 1.0 / 125.0]) {
            assert!((v - w).abs() < 1e-15, "{b3:?}");
        }
        let wrong = reward_bon_identity_ties(&p, &r, 2);
        for (v, w) in wrong.iter().zip([0.75, 0.21, 0.04]) {
            assert!((v - w).abs() < 1e-15);
        }
        let bf = reward_bon_bond_form(&p, &r, 3);
        for (a, b) in bf.iter().zip(&b3) {
            assert!((a - b).abs() < 1e-15);
        }
    }

    #[test]
    fn case10_n1_is_identity() {
        let p = [0.5, 0.3, 0.2];
        assert_eq!(reward_bon(&p, &[1.0, 1.0, 0.0], 1), p.to_vec());
        let g = Game::from_matrices(
            &[vec![
                vec![0.5, 0.9, 0.2],
                vec![0.1, 0.5, 0.6],
                vec![0.8, 0.4, 0.5],
            ]],
            None,
        )
        .unwrap();
        let pi = Policy::from_probs(&[p.to_vec()]).unwrap();
        assert_eq!(power_bon(&g, &pi, 1), pi);
    }
}
