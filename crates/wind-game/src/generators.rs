//! Seeded game generators (SPEC §2) and reference policies.
//!
//! Specs are plain serde types so experiment TOMLs use them directly
//! (`[[games]] kind = "cyclic"` …); unknown keys are rejected.

use crate::error::{GameError, Result};
use crate::game::{Features, Game};
use crate::policy::Policy;
use crate::rng::WindRng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

fn one() -> f64 {
    1.0
}
fn half() -> f64 {
    0.5
}
fn three() -> f64 {
    3.0
}
fn eight() -> usize {
    8
}
fn default_levels() -> usize {
    3
}

/// How to build a game. Field `kind` selects the generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GameSpec {
    /// Bradley–Terry from Gaussian rewards: `P = σ((r − r')/T)`.
    BradleyTerry {
        /// Contexts.
        contexts: usize,
        /// Actions.
        actions: usize,
        /// Temperature `T`.
        #[serde(default = "one")]
        temperature: f64,
    },
    /// Hard reward with ties: `P = 1[r > r'] + ½·1[r = r']`, rewards drawn from `levels` values.
    HardReward {
        /// Contexts.
        contexts: usize,
        /// Actions.
        actions: usize,
        /// Number of distinct reward values (fewer levels = more ties).
        #[serde(default = "default_levels")]
        levels: usize,
    },
    /// Random non-transitive game `P = ½ + ½·tanh(s·A)`, `A` skew with N(0,1) entries.
    Cyclic {
        /// Contexts.
        contexts: usize,
        /// Actions.
        actions: usize,
        /// Scale `s`.
        #[serde(default = "three")]
        scale: f64,
    },
    /// Rock–paper–scissors.
    Rps {},
    /// OpenSpiel's perturbed RPS `[[0,−1,3],[1,0,−3],[−3,3,0]]`, `P = ½ + A/(2·max|A|)`.
    PerturbedRps {},
    /// OpenSpiel's biased RPS `[[0,−1/4,1/2],[1/4,0,−1/20],[−1/2,1/20,0]]`.
    BiasedRps {},
    /// Mixture `λ·P_BT + (1−λ)·P_cyclic`.
    Mixture {
        /// Contexts.
        contexts: usize,
        /// Actions.
        actions: usize,
        /// Weight `λ ∈ [0,1]` of the transitive part.
        #[serde(default = "half")]
        lambda: f64,
        /// BT temperature.
        #[serde(default = "one")]
        temperature: f64,
        /// Cyclic scale.
        #[serde(default = "three")]
        scale: f64,
    },
    /// Contextual game with features `φ(x,y) ∈ R^d`: `λ·σ(θ*·(φ(y) − φ(y'))/T) +
    /// (1−λ)·(½ + ½·tanh(s·φ(y)ᵀMφ(y')))`, `M` skew.
    Contextual {
        /// Contexts.
        contexts: usize,
        /// Actions.
        actions: usize,
        /// Feature dimension `d`.
        #[serde(default = "eight")]
        dim: usize,
        /// Weight of the reward (transitive) part.
        #[serde(default = "half")]
        lambda: f64,
        /// BT temperature.
        #[serde(default = "one")]
        temperature: f64,
        /// Skew scale.
        #[serde(default = "three")]
        scale: f64,
    },
    /// From a CSV or JSON file (see [`crate::io`]).
    File {
        /// Path, relative to the experiment file's folder.
        path: PathBuf,
    },
}

/// How to build the reference policy `π_ref`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReferenceSpec {
    /// Uniform.
    Uniform {},
    /// `softmax(N(0, σ²))` logits, per context.
    SoftmaxGaussian {
        /// Standard deviation of the logits.
        sigma: f64,
    },
    /// From a CSV/JSON file: one probability row per context.
    File {
        /// Path, relative to the experiment file's folder.
        path: PathBuf,
    },
}

fn check_pos(name: &'static str, v: f64) -> Result<()> {
    if !(v.is_finite() && v > 0.0) {
        return Err(GameError::Parameter {
            name,
            value: v,
            msg: "must be finite and > 0".into(),
        });
    }
    Ok(())
}

fn check_size(contexts: usize, actions: usize) -> Result<()> {
    if contexts == 0 || actions == 0 {
        return Err(GameError::Empty {
            what: format!("{contexts} contexts × {actions} actions requested"),
        });
    }
    if actions > 5000 || contexts.saturating_mul(actions).saturating_mul(actions) > 100_000_000 {
        return Err(GameError::Parameter {
            name: "actions",
            value: actions as f64,
            msg: format!(
                "{contexts} contexts × {actions}² entries is too large for dense tabular games (limit 1e8)"
            ),
        });
    }
    Ok(())
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn skew_rows(n: usize, mut f: impl FnMut(usize, usize) -> f64) -> Vec<f64> {
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let v = f(i, j);
            a[i * n + j] = v;
            a[j * n + i] = -v;
        }
    }
    a
}

fn bt_skew(r: &[f64], t: f64) -> Vec<f64> {
    skew_rows(r.len(), |i, j| sigmoid((r[i] - r[j]) / t) - 0.5)
}

fn cyclic_skew(n: usize, s: f64, rng: &mut WindRng) -> Vec<f64> {
    skew_rows(n, |_, _| 0.5 * (s * rng.normal()).tanh())
}

fn fixed_skew(rows: [[f64; 3]; 3]) -> Vec<f64> {
    let m = rows.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    rows.iter().flatten().map(|v| v / (2.0 * m)).collect()
}

impl GameSpec {
    /// A short label (`kind` plus size) for CSV rows and figure titles.
    pub fn label(&self) -> String {
        match self {
            GameSpec::BradleyTerry {
                contexts, actions, ..
            } => format!("bradley_terry_{contexts}x{actions}"),
            GameSpec::HardReward {
                contexts, actions, ..
            } => format!("hard_reward_{contexts}x{actions}"),
            GameSpec::Cyclic {
                contexts, actions, ..
            } => format!("cyclic_{contexts}x{actions}"),
            GameSpec::Rps {} => "rps".into(),
            GameSpec::PerturbedRps {} => "perturbed_rps".into(),
            GameSpec::BiasedRps {} => "biased_rps".into(),
            GameSpec::Mixture {
                contexts, actions, ..
            } => format!("mixture_{contexts}x{actions}"),
            GameSpec::Contextual {
                contexts,
                actions,
                lambda,
                ..
            } => {
                if *lambda == 1.0 {
                    format!("transitive_contextual_{contexts}x{actions}")
                } else if *lambda == 0.0 {
                    format!("cyclic_contextual_{contexts}x{actions}")
                } else {
                    format!("mixed_contextual_l{lambda}_{contexts}x{actions}")
                }
            }
            GameSpec::File { path } => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "file".into()),
        }
    }

    /// Build the game for `seed`. `base` resolves relative file paths.
    pub fn build(&self, seed: u64, base: &Path) -> Result<Game> {
        let mut rng = WindRng::derive(seed, "game");
        let game = match *self {
            GameSpec::BradleyTerry {
                contexts,
                actions,
                temperature,
            } => {
                check_size(contexts, actions)?;
                check_pos("temperature", temperature)?;
                let skews = (0..contexts)
                    .map(|_| {
                        let r: Vec<f64> = (0..actions).map(|_| rng.normal()).collect();
                        bt_skew(&r, temperature)
                    })
                    .collect();
                Game::from_skew(actions, skews, None)?
            }
            GameSpec::HardReward {
                contexts,
                actions,
                levels,
            } => {
                check_size(contexts, actions)?;
                if levels == 0 {
                    return Err(GameError::Parameter {
                        name: "levels",
                        value: 0.0,
                        msg: "must be ≥ 1".into(),
                    });
                }
                let skews = (0..contexts)
                    .map(|_| {
                        let r: Vec<f64> = (0..actions).map(|_| rng.below(levels) as f64).collect();
                        skew_rows(actions, |i, j| 0.5 * (r[i] - r[j]).signum())
                    })
                    .collect();
                Game::from_skew(actions, skews, None)?
            }
            GameSpec::Cyclic {
                contexts,
                actions,
                scale,
            } => {
                check_size(contexts, actions)?;
                check_pos("scale", scale)?;
                let skews = (0..contexts)
                    .map(|_| cyclic_skew(actions, scale, &mut rng))
                    .collect();
                Game::from_skew(actions, skews, None)?
            }
            GameSpec::Rps {} => Game::from_skew(
                3,
                vec![fixed_skew([[0., -1., 1.], [1., 0., -1.], [-1., 1., 0.]])],
                None,
            )?,
            GameSpec::PerturbedRps {} => Game::from_skew(
                3,
                vec![fixed_skew([[0., -1., 3.], [1., 0., -3.], [-3., 3., 0.]])],
                None,
            )?,
            GameSpec::BiasedRps {} => Game::from_skew(
                3,
                vec![fixed_skew([
                    [0., -0.25, 0.5],
                    [0.25, 0., -0.05],
                    [-0.5, 0.05, 0.],
                ])],
                None,
            )?,
            GameSpec::Mixture {
                contexts,
                actions,
                lambda,
                temperature,
                scale,
            } => {
                check_size(contexts, actions)?;
                check_unit("lambda", lambda)?;
                check_pos("temperature", temperature)?;
                check_pos("scale", scale)?;
                let skews = (0..contexts)
                    .map(|_| {
                        let r: Vec<f64> = (0..actions).map(|_| rng.normal()).collect();
                        let bt = bt_skew(&r, temperature);
                        let cy = cyclic_skew(actions, scale, &mut rng);
                        bt.iter()
                            .zip(&cy)
                            .map(|(b, c)| lambda * b + (1.0 - lambda) * c)
                            .collect()
                    })
                    .collect();
                Game::from_skew(actions, skews, None)?
            }
            GameSpec::Contextual {
                contexts,
                actions,
                dim,
                lambda,
                temperature,
                scale,
            } => {
                check_size(contexts, actions)?;
                check_unit("lambda", lambda)?;
                check_pos("temperature", temperature)?;
                check_pos("scale", scale)?;
                if dim == 0 {
                    return Err(GameError::Parameter {
                        name: "dim",
                        value: 0.0,
                        msg: "must be ≥ 1".into(),
                    });
                }
                let sd = (dim as f64).sqrt();
                let theta: Vec<f64> = (0..dim).map(|_| rng.normal() / sd).collect();
                let mut mm = vec![0.0; dim * dim];
                for i in 0..dim {
                    for j in (i + 1)..dim {
                        let v = rng.normal() / sd;
                        mm[i * dim + j] = v;
                        mm[j * dim + i] = -v;
                    }
                }
                let mut feats = Vec::with_capacity(contexts);
                let mut skews = Vec::with_capacity(contexts);
                for _ in 0..contexts {
                    let phi: Vec<f64> = (0..actions * dim).map(|_| rng.normal()).collect();
                    let f = |y: usize| &phi[y * dim..(y + 1) * dim];
                    let r: Vec<f64> = (0..actions)
                        .map(|y| crate::numerics::dot(&theta, f(y)))
                        .collect();
                    let bt = bt_skew(&r, temperature);
                    let cy = skew_rows(actions, |i, j| {
                        let mut s = 0.0;
                        for a in 0..dim {
                            for b in 0..dim {
                                s += f(i)[a] * mm[a * dim + b] * f(j)[b];
                            }
                        }
                        0.5 * (scale * s).tanh()
                    });
                    skews.push(
                        bt.iter()
                            .zip(&cy)
                            .map(|(b, c)| lambda * b + (1.0 - lambda) * c)
                            .collect(),
                    );
                    feats.push(phi);
                }
                Game::from_skew(actions, skews, None)?.with_features(Features { dim, data: feats })
            }
            GameSpec::File { ref path } => crate::io::load_game(&resolve(base, path))?,
        };
        Ok(game.named(self.label()))
    }
}

fn check_unit(name: &'static str, v: f64) -> Result<()> {
    if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
        return Err(GameError::Parameter {
            name,
            value: v,
            msg: "must be in [0, 1]".into(),
        });
    }
    Ok(())
}

/// Resolve `path` against `base` unless it is absolute.
pub fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

impl Default for ReferenceSpec {
    fn default() -> Self {
        ReferenceSpec::Uniform {}
    }
}

impl ReferenceSpec {
    /// Build `π_ref` for a game and seed.
    pub fn build(&self, game: &Game, seed: u64, base: &Path) -> Result<Policy> {
        let (c, n) = (game.n_contexts(), game.n_actions());
        match self {
            ReferenceSpec::Uniform {} => Ok(Policy::uniform(c, n)),
            ReferenceSpec::SoftmaxGaussian { sigma } => {
                if !(sigma.is_finite() && *sigma >= 0.0) {
                    return Err(GameError::Parameter {
                        name: "sigma",
                        value: *sigma,
                        msg: "must be finite and ≥ 0".into(),
                    });
                }
                let mut rng = WindRng::derive(seed, "reference");
                let logits: Vec<Vec<f64>> = (0..c)
                    .map(|_| (0..n).map(|_| sigma * rng.normal()).collect())
                    .collect();
                Ok(Policy::from_logits(&logits))
            }
            ReferenceSpec::File { path } => {
                let p = crate::io::load_policy(&resolve(base, path))?;
                p.check_shape(c, n, &format!("reference policy {}", path.display()))?;
                Ok(p)
            }
        }
    }
}
