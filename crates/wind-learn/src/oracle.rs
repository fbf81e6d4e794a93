//! The preference oracle and the policy sampler, with the counters that are the x-axes of
//! sample-efficiency plots.
//!
//! The oracle is strictly pairwise: [`Oracle::query`] sees one context and two responses and
//! nothing else, so `P(a ≻ b)` can never depend on other candidates (public case 13).

use serde::{Deserialize, Serialize};
use wind_game::{Game, WindRng};

/// What a query returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OracleMode {
    /// `o ∼ Bernoulli(P(y ≻ y'|x))` — what a judge gives.
    #[default]
    Bernoulli,
    /// The soft value `P(y ≻ y'|x)` itself (removes label noise; isolates sampling noise).
    Exact,
}

/// A counting preference oracle over a tabular game.
#[derive(Debug, Clone)]
pub struct Oracle {
    mode: OracleMode,
    rng: WindRng,
    queries: u64,
}

impl Oracle {
    /// An oracle drawing its Bernoulli labels from `rng`.
    pub fn new(mode: OracleMode, rng: WindRng) -> Self {
        Self {
            mode,
            rng,
            queries: 0,
        }
    }

    /// One query: the label `o ∈ {0, 1}` (Bernoulli) or `P(y ≻ y'|x)` (exact). Ties are ½ in
    /// exact mode and a fair coin in Bernoulli mode, so `E[o] = P` always.
    pub fn query(&mut self, game: &Game, x: usize, y: usize, y2: usize) -> f64 {
        self.queries += 1;
        let p = game.pref(x, y, y2);
        match self.mode {
            OracleMode::Exact => p,
            OracleMode::Bernoulli => {
                if self.rng.bernoulli(p) {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// Queries made so far.
    pub fn queries(&self) -> u64 {
        self.queries
    }

    /// The mode.
    pub fn mode(&self) -> OracleMode {
        self.mode
    }
}

/// A counting sampler of responses and contexts.
#[derive(Debug, Clone)]
pub struct Sampler {
    rng: WindRng,
    samples: u64,
}

impl Sampler {
    /// A sampler drawing from `rng`.
    pub fn new(rng: WindRng) -> Self {
        Self { rng, samples: 0 }
    }

    /// Draw `y ∼ probs` (one policy sample).
    pub fn response(&mut self, probs: &[f64]) -> usize {
        self.samples += 1;
        self.rng.categorical(probs)
    }

    /// Draw a context `x ∼ ρ` (not a policy sample; not counted).
    pub fn context(&mut self, rho: &[f64]) -> usize {
        self.rng.categorical(rho)
    }

    /// Policy samples drawn so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wind_game::numerics::win_rate_from_counts;

    /// Public case 13: the oracle is strictly pairwise. The label frequency of (a, b) is the
    /// same whether or not a third candidate is queried in between.
    #[test]
    fn case13_strictly_pairwise() {
        let game = Game::from_matrices(
            &[vec![
                vec![0.5, 0.8, 0.1],
                vec![0.2, 0.5, 0.9],
                vec![0.9, 0.1, 0.5],
            ]],
            None,
        )
        .unwrap();
        let n = 40_000;
        let freq = |with_third: bool| {
            let mut o = Oracle::new(OracleMode::Bernoulli, WindRng::new(7));
            let mut wins = 0u64;
            for _ in 0..n {
                wins += o.query(&game, 0, 0, 1) as u64;
                if with_third {
                    o.query(&game, 0, 0, 2);
                    o.query(&game, 0, 2, 1);
                }
            }
            wins as f64 / n as f64
        };
        let sd = (0.8f64 * 0.2 / n as f64).sqrt();
        for with_third in [false, true] {
            let f = freq(with_third);
            assert!((f - 0.8).abs() < 5.0 * sd, "with_third={with_third}: {f}");
        }
        let mut o = Oracle::new(OracleMode::Exact, WindRng::new(0));
        assert_eq!(o.query(&game, 0, 0, 1), 0.8);
        assert_eq!(o.query(&game, 0, 1, 1), 0.5);
        assert_eq!(o.queries(), 2);
        // ties count ½ (public case 7)
        assert_eq!(win_rate_from_counts(1, 1, 98), 0.5);
    }
}
