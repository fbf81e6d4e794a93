//! The losses, written once on per-sample log-probabilities, so the tabular learners here and
//! the sequence-level learners of the language-model track share them. A "log-probability" is
//! `log π_θ(y|x)` of whatever `y` is: an action, or a whole response (sum of token log-probs).
//!
//! Inputs that do not depend on `θ` (the frozen iterate `π_t`, `π_ref`, oracle labels) are
//! plain tensors; only the `logp` arguments carry gradients. Every loss is a mean over the
//! batch and returns a scalar tensor of shape `[1]`.
//!
//! Loss scales: the squared losses of WIND-SQ, SPPO and online IPO are divided by the square
//! of their target scale (`η²`, `η²`, `1/β²`), which leaves their minimisers unchanged and keeps
//! values and gradients `O(1)` however small β is (public case 14). [`LossScale`] reports the
//! factor so a user can recover the raw loss.

use burn::tensor::Tensor;
use burn::tensor::activation::softplus;

/// Per-row weights: `None` is the plain batch mean; `Some(w)` gives `Σ w·ℓ / Σ w` (used to
/// write population losses by enumerating rows with their probabilities).
pub type Weights = Option<Tensor<1>>;

fn wmean(v: Tensor<1>, w: &Weights) -> Tensor<1> {
    match w {
        None => v.mean(),
        Some(w) => (v * w.clone()).sum() / w.clone().sum(),
    }
}

/// The factor a loss was divided by (raw loss = reported loss × scale).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossScale(pub f64);

/// WIND-SQ (SPEC §5). `s = log π_θ(y) − log π_t(y)`; `b = ηβ·(log π_ref − log π_t)(y)`;
/// `label = o − ½` for `y` and `½ − o` for `y'` (the two halves of one query are two rows).
/// Loss `mean((s − b − η·label)²) / η²`.
///
/// # Shapes
/// all inputs `[B]`; output `[1]`.
pub fn wind_sq(
    logp: Tensor<1>,
    logp_old: Tensor<1>,
    b: Tensor<1>,
    label: Tensor<1>,
    weight: &Weights,
    eta: f64,
) -> (Tensor<1>, LossScale) {
    let r = logp - logp_old - b - label.mul_scalar(eta);
    (
        wmean(r.powi_scalar(2), weight).div_scalar(eta * eta),
        LossScale(eta * eta),
    )
}

/// WIND-KL (SPEC §5): weighted maximum likelihood `−mean_x Σ_k α_k·log π_θ(y_k)` with
/// `α = softmax_k(b(y_k) + η·g(ŵ_k))` computed by the caller (see [`kl_weights`]).
///
/// # Shapes
/// `logp`, `alpha`: `[B, K]`; output `[1]`.
pub fn wind_kl(logp: Tensor<2>, alpha: Tensor<2>) -> Tensor<1> {
    let [b, _] = logp.dims();
    (logp * alpha).sum().neg().div_scalar(b as f64)
}

/// Self-normalised weights `softmax_k(b_k + η·g(ŵ_k))` of one group, in f64. Entries with
/// `g(ŵ) = −∞` (`g = log`, `ŵ = 0`) get weight 0; a group whose entries are all `−∞`, or a
/// group of one, gets uniform weights — a plain likelihood step that keeps `π_t` where it is
/// (public case 10: never NaN).
pub fn kl_weights(logits: &[f64]) -> Vec<f64> {
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() || logits.len() == 1 {
        return vec![1.0 / logits.len() as f64; logits.len()];
    }
    let e: Vec<f64> = logits.iter().map(|&v| (v - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.into_iter().map(|v| v / z).collect()
}

/// WIND-NCE (SPEC §5): logistic regression of duel winners (`+`) against fresh `π_t` samples
/// (`−`) with logit `(s − b)/η + c(x)`:
/// `mean softplus(−ℓ⁺) + mean softplus(ℓ⁻)`. `s`, `b` as in [`wind_sq`]; `c` is the learned
/// per-context offset gathered at each row's context.
///
/// # Shapes
/// `*_pos`: `[B⁺]`, `*_neg`: `[B⁻]`; output `[1]`.
pub fn wind_nce(
    s_pos: Tensor<1>,
    b_pos: Tensor<1>,
    c_pos: Tensor<1>,
    s_neg: Tensor<1>,
    b_neg: Tensor<1>,
    c_neg: Tensor<1>,
    w_pos: &Weights,
    w_neg: &Weights,
    eta: f64,
) -> Tensor<1> {
    let lp = (s_pos - b_pos).div_scalar(eta) + c_pos;
    let ln = (s_neg - b_neg).div_scalar(eta) + c_neg;
    wmean(softplus(lp.neg(), 1.0), w_pos) + wmean(softplus(ln, 1.0), w_neg)
}

/// SPPO (SPEC §6): `mean((s − η·(ŵ − ½))²) / η²`, `s = log π_θ − log π_t`.
///
/// # Shapes
/// all inputs `[B·K]`; output `[1]`.
pub fn sppo(
    logp: Tensor<1>,
    logp_old: Tensor<1>,
    w_hat: Tensor<1>,
    weight: &Weights,
    eta: f64,
) -> (Tensor<1>, LossScale) {
    let r = logp - logp_old - w_hat.sub_scalar(0.5).mul_scalar(eta);
    (
        wmean(r.powi_scalar(2), weight).div_scalar(eta * eta),
        LossScale(eta * eta),
    )
}

/// Online IPO (SPEC §6) with soft or sampled labels:
/// `mean((h − (o − ½)/β)²)·β²`, `h = log(π_θ/π_ref)(y) − log(π_θ/π_ref)(y')`.
/// Its fixed point with pairs from `sg(π_θ)` is `π*_β`.
///
/// # Shapes
/// all inputs `[B]`; output `[1]`.
pub fn online_ipo(
    logp_y: Tensor<1>,
    logp_y2: Tensor<1>,
    ref_y: Tensor<1>,
    ref_y2: Tensor<1>,
    label: Tensor<1>,
    weight: &Weights,
    beta: f64,
) -> (Tensor<1>, LossScale) {
    let h = (logp_y - ref_y) - (logp_y2 - ref_y2);
    let r = h.mul_scalar(beta) - label.sub_scalar(0.5);
    (
        wmean(r.powi_scalar(2), weight),
        LossScale(1.0 / (beta * beta)),
    )
}

/// Online DPO (SPEC §6): `mean softplus(−β·(h_w − h_l))` on (winner, loser) pairs, with
/// `h = log(π_θ/π_ref)`. Callers drop tied pairs, so chosen ≠ rejected (public case 8).
///
/// # Shapes
/// all inputs `[B]`; output `[1]`.
pub fn online_dpo(
    logp_w: Tensor<1>,
    logp_l: Tensor<1>,
    ref_w: Tensor<1>,
    ref_l: Tensor<1>,
    weight: &Weights,
    beta: f64,
) -> Tensor<1> {
    let m = ((logp_w - ref_w) - (logp_l - ref_l)).mul_scalar(beta);
    wmean(softplus(m.neg(), 1.0), weight)
}

/// Score-function (REINFORCE) surrogate `−mean(A·log π_θ(y))` whose gradient is
/// `−E[A·∇log π_θ(y)]` for `y ∼ π_θ` and advantages `A` that do not depend on θ.
/// Nash-MD-PG uses `A = o − ½ − τ·log(π_θ/π_ref)(y)`: the KL part is then the correct
/// score-function estimator of `τ·∇KL(π_θ‖π_ref)` (public case 11).
///
/// # Shapes
/// both inputs `[B]`; output `[1]`.
pub fn policy_gradient(logp: Tensor<1>, advantage: Tensor<1>, weight: &Weights) -> Tensor<1> {
    wmean(logp * advantage, weight).neg()
}

/// Forward-KL distillation `−mean log π_θ(y)` onto given targets (BOND Monte Carlo; J-BOND's
/// forward term).
///
/// # Shapes
/// `[B]` → `[1]`.
pub fn distill(logp: Tensor<1>, weight: &Weights) -> Tensor<1> {
    wmean(logp, weight).neg()
}

/// Leave-one-out baseline: `A_i = R_i − mean_{j≠i} R_j`. A group of one has no baseline and
/// gets `A = 0` (a zero update, public case 10).
pub fn leave_one_out(r: &[f64]) -> Vec<f64> {
    let n = r.len();
    if n < 2 {
        return vec![0.0; n];
    }
    let s: f64 = r.iter().sum();
    r.iter().map(|&v| v - (s - v) / (n - 1) as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_weights_edge_cases() {
        assert_eq!(kl_weights(&[3.0]), vec![1.0]);
        let w = kl_weights(&[f64::NEG_INFINITY, f64::NEG_INFINITY]);
        assert_eq!(w, vec![0.5, 0.5]);
        let w = kl_weights(&[0.0, f64::NEG_INFINITY, 0.0]);
        assert_eq!(w, vec![0.5, 0.0, 0.5]);
        let w = kl_weights(&[1000.0, 0.0]);
        assert!(w.iter().all(|v| v.is_finite()) && (w[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn leave_one_out_baseline() {
        assert_eq!(leave_one_out(&[5.0]), vec![0.0]);
        assert_eq!(leave_one_out(&[]), Vec::<f64>::new());
        let a = leave_one_out(&[1.0, 2.0, 3.0]);
        assert_eq!(a, vec![1.0 - 2.5, 2.0 - 2.0, 3.0 - 1.5]);
    }
}
