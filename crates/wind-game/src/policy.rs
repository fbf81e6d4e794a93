//! Policies `π(·|x)` stored in log space with explicit support masks.

use crate::error::{GameError, Result};
use crate::numerics::{log_softmax, logsumexp};

/// A distribution over `n` actions for each context, stored as log-probabilities.
///
/// Zero probability is an explicit `support[y] = false` (with `logp[y] = -inf`); arithmetic
/// on log-probabilities is only ever done on the support, so no `-inf − -inf` NaN can arise.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    n: usize,
    logp: Vec<Vec<f64>>,
    support: Vec<Vec<bool>>,
}

impl Policy {
    /// Uniform policy on all `n` actions in each of `contexts` contexts.
    pub fn uniform(contexts: usize, n: usize) -> Self {
        let l = -(n as f64).ln();
        Self {
            n,
            logp: vec![vec![l; n]; contexts],
            support: vec![vec![true; n]; contexts],
        }
    }

    /// From probabilities (validated: finite, ≥ 0, each context sums to 1 within 1e-9).
    pub fn from_probs(probs: &[Vec<f64>]) -> Result<Self> {
        if probs.is_empty() || probs[0].is_empty() {
            return Err(GameError::Empty {
                what: "policy with no contexts or no actions".into(),
            });
        }
        let n = probs[0].len();
        let mut logp = Vec::with_capacity(probs.len());
        let mut support = Vec::with_capacity(probs.len());
        for (c, p) in probs.iter().enumerate() {
            let p = crate::game::validate_distribution(p, n, &format!("policy, context {c}"))?;
            support.push(p.iter().map(|&v| v > 0.0).collect());
            logp.push(
                p.iter()
                    .map(|&v| if v > 0.0 { v.ln() } else { f64::NEG_INFINITY })
                    .collect(),
            );
        }
        Ok(Self { n, logp, support })
    }

    /// From logits (`softmax` per context, full support).
    pub fn from_logits(logits: &[Vec<f64>]) -> Self {
        let n = logits[0].len();
        let logp: Vec<Vec<f64>> = logits.iter().map(|l| log_softmax(l)).collect();
        let support = logp
            .iter()
            .map(|l| l.iter().map(|v| v.is_finite()).collect())
            .collect();
        Self { n, logp, support }
    }

    /// Normalize unnormalized log-weights on a given support (entries off the support are
    /// ignored and set to zero probability).
    ///
    /// # Panics
    /// If shapes differ or the support of a context is empty (a programmer error).
    #[track_caller]
    pub fn from_log_weights(weights: Vec<Vec<f64>>, support: Vec<Vec<bool>>) -> Self {
        assert_eq!(weights.len(), support.len());
        let n = weights[0].len();
        let mut logp = weights;
        for (w, s) in logp.iter_mut().zip(&support) {
            assert_eq!(w.len(), n);
            assert!(s.iter().any(|&b| b), "empty support");
            for (v, &b) in w.iter_mut().zip(s) {
                if !b {
                    *v = f64::NEG_INFINITY;
                }
            }
            let z = logsumexp(w);
            for (v, &b) in w.iter_mut().zip(s) {
                if b {
                    *v -= z;
                }
            }
        }
        Self { n, logp, support }
    }

    /// Build the next policy from this one: `f(x, logp_x, support_x)` returns log-weights
    /// (only entries on the support are read), normalized per context.
    pub fn map_log_weights(&self, mut f: impl FnMut(usize, &[f64], &[bool]) -> Vec<f64>) -> Self {
        let w = (0..self.n_contexts())
            .map(|x| f(x, &self.logp[x], &self.support[x]))
            .collect();
        Self::from_log_weights(w, self.support.clone())
    }

    /// [`Policy::map_log_weights`] with the contexts split over the machine's cores when the
    /// work is large (`contexts × n² ≥ 2¹⁸`, the cost of one payoff product per context).
    /// Each context is computed by the same code either way, so the result is bit-identical to
    /// the sequential map for any number of threads.
    pub fn par_map_log_weights(
        &self,
        f: impl Fn(usize, &[f64], &[bool]) -> Vec<f64> + Sync,
    ) -> Self {
        let c = self.n_contexts();
        let threads = std::thread::available_parallelism()
            .map(|t| t.get())
            .unwrap_or(1)
            .min(c);
        if threads < 2 || c * self.n * self.n < 1 << 18 {
            return self.map_log_weights(f);
        }
        let chunk = c.div_ceil(threads);
        let f = &f;
        let w: Vec<Vec<f64>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..c)
                .step_by(chunk)
                .map(|start| {
                    let end = (start + chunk).min(c);
                    scope.spawn(move || {
                        (start..end)
                            .map(|x| f(x, &self.logp[x], &self.support[x]))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("policy map worker panicked"))
                .collect()
        });
        Self::from_log_weights(w, self.support.clone())
    }

    /// Number of actions.
    pub fn n_actions(&self) -> usize {
        self.n
    }

    /// Number of contexts.
    pub fn n_contexts(&self) -> usize {
        self.logp.len()
    }

    /// Log-probabilities of context `x` (`-inf` off the support).
    pub fn logp(&self, x: usize) -> &[f64] {
        &self.logp[x]
    }

    /// Support mask of context `x`.
    pub fn support(&self, x: usize) -> &[bool] {
        &self.support[x]
    }

    /// Probabilities of context `x`.
    pub fn probs(&self, x: usize) -> Vec<f64> {
        self.logp[x]
            .iter()
            .zip(&self.support[x])
            .map(|(&l, &s)| if s { l.exp() } else { 0.0 })
            .collect()
    }

    /// All probabilities.
    pub fn all_probs(&self) -> Vec<Vec<f64>> {
        (0..self.n_contexts()).map(|x| self.probs(x)).collect()
    }

    /// Check that this policy fits a game with `contexts` contexts and `n` actions.
    pub fn check_shape(&self, contexts: usize, n: usize, what: &str) -> Result<()> {
        if self.n != n || self.n_contexts() != contexts {
            return Err(GameError::Distribution {
                what: what.into(),
                msg: format!(
                    "has {} contexts × {} actions but the game has {contexts} × {n}",
                    self.n_contexts(),
                    self.n
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_entries_never_nan() {
        let p = Policy::from_probs(&[vec![0.5, 0.0, 0.5]]).unwrap();
        assert_eq!(p.support(0), &[true, false, true]);
        let q = p.map_log_weights(|_, l, s| {
            l.iter()
                .zip(s)
                .map(|(v, b)| if *b { 2.0 * v } else { f64::NAN })
                .collect()
        });
        assert_eq!(q.probs(0)[1], 0.0);
        assert!(q.logp(0).iter().all(|v| !v.is_nan()));
        assert!((q.probs(0).iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn rejects_bad_probs() {
        let e = Policy::from_probs(&[vec![0.5, 0.6]])
            .unwrap_err()
            .to_string();
        assert!(e.contains("context 0") && e.contains("sums to"), "{e}");
        assert!(Policy::from_probs(&[vec![1.5, -0.5]]).is_err());
    }
}
