//! Policies as burn modules: tabular softmax, log-linear over `φ(x,y)`, MLP over `φ(x,y)`.
//!
//! Every class computes logits `ℓ(x,y) = log π_ref(y|x) + f_θ(x,y)` with `f_θ ≡ 0` at the
//! initial parameters, so `π_ref` *is* the initial policy. Action spaces are small, so the
//! whole `[contexts, actions]` table of log-probabilities is computed at once; that gives the
//! exact per-context distribution (and every exact metric of `wind-game`) for a learned policy.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use wind_game::{Game, Policy, WindRng};

/// Logit used for actions outside `π_ref`'s support (finite, so no `-inf − -inf` NaN).
pub const MASKED_LOGIT: f32 = -1.0e9;

/// Which parametric family (`[policy] class = "…"` in TOML).
// Struct variants (`Tabular {}`), so `deny_unknown_fields` also rejects stray keys for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case", deny_unknown_fields)]
pub enum PolicyClass {
    /// One free logit per (context, action): represents every full-support policy.
    Tabular {},
    /// `f_θ(x,y) = θ·φ(x,y)`.
    LogLinear {},
    /// `f_θ(x,y) = w₂·tanh(W₁φ(x,y) + b₁) + b₂` (output layer initialised to zero).
    Mlp {
        /// Hidden width.
        hidden: usize,
    },
}

impl Default for PolicyClass {
    fn default() -> Self {
        PolicyClass::Tabular {}
    }
}

impl PolicyClass {
    /// Name for CSV/logs.
    pub fn name(&self) -> String {
        match self {
            PolicyClass::Tabular {} => "tabular".into(),
            PolicyClass::LogLinear {} => "log_linear".into(),
            PolicyClass::Mlp { hidden } => format!("mlp{hidden}"),
        }
    }
}

/// Free logits `[contexts, actions]`.
#[derive(Module, Debug)]
pub struct Tabular {
    /// `f_θ`, zero at init.
    pub delta: Param<Tensor<2>>,
}

/// `θ ∈ R^{d×1}`.
#[derive(Module, Debug)]
pub struct LogLinear {
    /// Weights, zero at init.
    pub theta: Param<Tensor<2>>,
}

/// Two-layer perceptron on features.
#[derive(Module, Debug)]
pub struct Mlp {
    /// `d → hidden`.
    pub hidden: Linear,
    /// `hidden → 1`, zero at init.
    pub out: Linear,
}

/// The trainable part of a policy.
// One value per learner (not per sample): the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum PolicyNet {
    /// Tabular softmax.
    Tabular(Tabular),
    /// Log-linear.
    LogLinear(LogLinear),
    /// MLP.
    Mlp(Mlp),
}

/// The fixed part of a policy: `log π_ref` and the features, on the device.
#[derive(Debug, Clone)]
pub struct PolicyConsts {
    /// `log π_ref` (`MASKED_LOGIT` off the support), `[contexts, actions]`.
    pub base: Tensor<2>,
    /// `φ` as `[contexts·actions, d]`, for the feature classes.
    pub phi: Option<Tensor<2>>,
    /// Contexts.
    pub contexts: usize,
    /// Actions.
    pub actions: usize,
    /// Support of `π_ref` (every learned policy keeps it).
    pub support: Vec<Vec<bool>>,
}

/// Errors building a policy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A feature class on a game without features.
    #[error(
        "policy class '{class}' needs features φ(x,y); the game has none (use a game with kind = \"contextual\", or class = \"tabular\")"
    )]
    NoFeatures {
        /// Class name.
        class: String,
    },
    /// Bad hidden width.
    #[error("policy class mlp: hidden = {0}; use a width in 1..=4096")]
    Hidden(usize),
}

fn tensor2(values: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn linear(w: Vec<f32>, d_in: usize, d_out: usize, b: Vec<f32>, device: &Device) -> Linear {
    Linear {
        weight: Param::from_tensor(tensor2(w, [d_in, d_out], device).require_grad()),
        bias: Some(Param::from_tensor(
            Tensor::<1>::from_data(TensorData::new(b, [d_out]), device).require_grad(),
        )),
    }
}

/// Build the constants and the initial network (`f_θ ≡ 0`) of `class` for `game`, `π_ref`.
/// MLP hidden weights are drawn from `seed` (Glorot-uniform), so runs are reproducible.
pub fn build_policy(
    class: PolicyClass,
    game: &Game,
    reference: &Policy,
    seed: u64,
    device: &Device,
) -> Result<(PolicyNet, PolicyConsts), PolicyError> {
    let (c, n) = (game.n_contexts(), game.n_actions());
    let mut base = Vec::with_capacity(c * n);
    let mut support = Vec::with_capacity(c);
    for x in 0..c {
        let (l, s) = (reference.logp(x), reference.support(x));
        support.push(s.to_vec());
        base.extend((0..n).map(|y| if s[y] { l[y] as f32 } else { MASKED_LOGIT }));
    }
    let base = tensor2(base, [c, n], device);
    let phi = |class: &str| -> Result<(Tensor<2>, usize), PolicyError> {
        let f = game.features().ok_or_else(|| PolicyError::NoFeatures {
            class: class.into(),
        })?;
        let data: Vec<f32> = f.data.iter().flatten().map(|&v| v as f32).collect();
        Ok((tensor2(data, [c * n, f.dim], device), f.dim))
    };
    let (net, phi) = match class {
        PolicyClass::Tabular {} => (
            PolicyNet::Tabular(Tabular {
                delta: Param::from_tensor(tensor2(vec![0.0; c * n], [c, n], device).require_grad()),
            }),
            None,
        ),
        PolicyClass::LogLinear {} => {
            let (p, d) = phi("log_linear")?;
            (
                PolicyNet::LogLinear(LogLinear {
                    theta: Param::from_tensor(tensor2(vec![0.0; d], [d, 1], device).require_grad()),
                }),
                Some(p),
            )
        }
        PolicyClass::Mlp { hidden } => {
            if hidden == 0 || hidden > 4096 {
                return Err(PolicyError::Hidden(hidden));
            }
            let (p, d) = phi("mlp")?;
            let mut rng = WindRng::derive(seed, "mlp-init");
            let a = (6.0 / (d + hidden) as f64).sqrt();
            let w1: Vec<f32> = (0..d * hidden)
                .map(|_| (a * (2.0 * rng.uniform() - 1.0)) as f32)
                .collect();
            (
                PolicyNet::Mlp(Mlp {
                    hidden: linear(w1, d, hidden, vec![0.0; hidden], device),
                    out: linear(vec![0.0; hidden], hidden, 1, vec![0.0], device),
                }),
                Some(p),
            )
        }
    };
    Ok((
        net,
        PolicyConsts {
            base,
            phi,
            contexts: c,
            actions: n,
            support,
        },
    ))
}

impl PolicyNet {
    /// `f_θ(x,y)`, `[contexts, actions]`.
    pub fn delta(&self, k: &PolicyConsts) -> Tensor<2> {
        let shape = [k.contexts, k.actions];
        match self {
            PolicyNet::Tabular(t) => t.delta.val(),
            PolicyNet::LogLinear(l) => {
                let phi = k.phi.clone().expect("feature class has φ");
                phi.matmul(l.theta.val()).reshape(shape)
            }
            PolicyNet::Mlp(m) => {
                let phi = k.phi.clone().expect("feature class has φ");
                m.out.forward(m.hidden.forward(phi).tanh()).reshape(shape)
            }
        }
    }

    /// Log-probabilities `log π_θ(y|x)`, `[contexts, actions]`.
    ///
    /// # Shapes
    /// output `[contexts, actions]`; each row is a log-softmax.
    pub fn log_probs(&self, k: &PolicyConsts) -> Tensor<2> {
        log_softmax(k.base.clone() + self.delta(k), 1)
    }

    /// Log-probabilities flattened to `[contexts·actions]` (index `x·actions + y`).
    pub fn log_probs_flat(&self, k: &PolicyConsts) -> Tensor<1> {
        self.log_probs(k).reshape([k.contexts * k.actions])
    }

    /// The exact distribution as a [`Policy`] (renormalised in f64, support of `π_ref`).
    pub fn to_policy(&self, k: &PolicyConsts) -> Policy {
        let v: Vec<f32> = self
            .log_probs(k)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 log-probs");
        let w = (0..k.contexts)
            .map(|x| {
                (0..k.actions)
                    .map(|y| v[x * k.actions + y] as f64)
                    .collect()
            })
            .collect();
        Policy::from_log_weights(w, k.support.clone())
    }

    /// `(1−r)·self + r·other`, parameter-wise (the J-BOND anchor's EMA). The result is detached.
    pub fn lerp(&self, other: &PolicyNet, r: f64) -> PolicyNet {
        // Rebuilt from data, so the result is a leaf tensor (no autodiff history).
        let mix = |a: Tensor<2>, b: Tensor<2>| {
            let d = a.device();
            let t = a.detach().mul_scalar(1.0 - r) + b.detach().mul_scalar(r);
            Tensor::from_data(t.into_data(), &d)
        };
        let mix1 = |a: Tensor<1>, b: Tensor<1>| {
            let d = a.device();
            let t = a.detach().mul_scalar(1.0 - r) + b.detach().mul_scalar(r);
            Tensor::from_data(t.into_data(), &d)
        };
        let lin = |a: &Linear, b: &Linear| Linear {
            weight: Param::from_tensor(mix(a.weight.val(), b.weight.val())),
            bias: match (&a.bias, &b.bias) {
                (Some(x), Some(y)) => Some(Param::from_tensor(mix1(x.val(), y.val()))),
                _ => None,
            },
        };
        match (self, other) {
            (PolicyNet::Tabular(a), PolicyNet::Tabular(b)) => PolicyNet::Tabular(Tabular {
                delta: Param::from_tensor(mix(a.delta.val(), b.delta.val())),
            }),
            (PolicyNet::LogLinear(a), PolicyNet::LogLinear(b)) => PolicyNet::LogLinear(LogLinear {
                theta: Param::from_tensor(mix(a.theta.val(), b.theta.val())),
            }),
            (PolicyNet::Mlp(a), PolicyNet::Mlp(b)) => PolicyNet::Mlp(Mlp {
                hidden: lin(&a.hidden, &b.hidden),
                out: lin(&a.out, &b.out),
            }),
            _ => panic!("lerp between different policy classes"),
        }
    }

    /// A detached copy (a frozen snapshot; gradients never flow into it).
    pub fn snapshot(&self) -> PolicyNet {
        self.lerp(self, 0.0)
    }
}
