//! The exact update rules.

use crate::executor::{Problem, Solver, State};
use serde::{Deserialize, Serialize};
use wind_game::regularized::payoff;
use wind_game::{Policy, Transform};

/// A method of an exact-dynamics experiment (`[[methods]] kind = "…"` in TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MethodSpec {
    /// Exact WIND: `log π_{t+1} = (1−ηβ)·log π_t + ηβ·log π_ref + η·g(w_{π_t}) − log Z_t`.
    Wind {
        /// Payoff transform `g`.
        #[serde(default)]
        g: Transform,
        /// Step size η (`ηβ < 1`).
        eta: f64,
    },
    /// PU/OMWU extragradient: predict with `w_{π_t}`, correct with `w_{π̄_{t+1}}`.
    Omwu {
        /// Step size η (`ηβ < 1`; proven rate for `η ≤ 1/(β + 2‖A‖_∞)`).
        eta: f64,
    },
    /// SPPO's exact update `π_{t+1} ∝ π_t·exp(η·(w_{π_t} − ½))` (previous iterate as reference,
    /// no pull toward `π_ref`).
    SppoExact {
        /// Step size η.
        eta: f64,
    },
    /// Nash-MD: `π_{t+1} ∝ π^m_t·exp(η·w_{π^m_t})`, `π^m_t ∝ π_t^{1−m}·π_ref^m`, `m = ηβ`.
    NashMd {
        /// Step size η (`ηβ < 1`).
        eta: f64,
    },
    /// Iterative BOND `π_{t+1} = BoN_N(π_t)` (power form; duel for `N = 2`).
    IterativeBond {
        /// N ≥ 2.
        n: u32,
    },
    /// Exact J-BOND analogue: policy → `BoN₂(anchor)`, anchor geometric EMA at rate γ.
    Jbond {
        /// Anchor rate γ ∈ (0, 1].
        gamma: f64,
    },
}

impl MethodSpec {
    /// Method name used in CSV rows and legends.
    pub fn name(&self) -> String {
        match self {
            MethodSpec::Wind { g, .. } => format!("wind_{}", g.name()),
            MethodSpec::Omwu { .. } => "omwu".into(),
            MethodSpec::SppoExact { .. } => "sppo_exact".into(),
            MethodSpec::NashMd { .. } => "nash_md".into(),
            MethodSpec::IterativeBond { n } => format!("iterative_bond_n{n}"),
            MethodSpec::Jbond { .. } => "jbond".into(),
        }
    }

    /// Check parameters against β. Returns `(field, message)` on error.
    pub fn validate(&self, beta: f64) -> Result<(), (&'static str, String)> {
        let eta_ok = |eta: f64, regularized: bool| -> Result<(), (&'static str, String)> {
            if !(eta.is_finite() && eta > 0.0) {
                return Err(("eta", format!("η must be finite and > 0; got {eta}")));
            }
            if regularized && eta * beta >= 1.0 {
                return Err((
                    "eta",
                    format!(
                        "ηβ must be < 1 for a contraction; got η·β = {eta}·{beta} = {}; use η < {}",
                        eta * beta,
                        1.0 / beta
                    ),
                ));
            }
            Ok(())
        };
        match *self {
            MethodSpec::Wind { eta, .. }
            | MethodSpec::Omwu { eta }
            | MethodSpec::NashMd { eta } => eta_ok(eta, true),
            MethodSpec::SppoExact { eta } => eta_ok(eta, false),
            MethodSpec::IterativeBond { n } => {
                if n < 2 {
                    Err((
                        "n",
                        format!("N must be ≥ 2 (N = 1 is the identity); got {n}"),
                    ))
                } else {
                    Ok(())
                }
            }
            MethodSpec::Jbond { gamma } => {
                if !(gamma > 0.0 && gamma <= 1.0) {
                    Err(("gamma", format!("γ must be in (0, 1]; got {gamma}")))
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// Build the solver of a method.
pub fn build_solver(spec: &MethodSpec) -> Box<dyn Solver> {
    match *spec {
        MethodSpec::Wind { g, eta } => Box::new(Wind { g, eta }),
        MethodSpec::Omwu { eta } => Box::new(Omwu { eta }),
        MethodSpec::SppoExact { eta } => Box::new(SppoExact { eta }),
        MethodSpec::NashMd { eta } => Box::new(NashMd { eta }),
        MethodSpec::IterativeBond { n } => Box::new(IterativeBond { n }),
        MethodSpec::Jbond { gamma } => Box::new(Jbond { gamma }),
    }
}

/// The regularized mirror step shared by WIND, OMWU and Nash-MD:
/// `(1−ηβ)·log π_base + ηβ·log π_ref + η·g(w_{π_eval})`, normalized.
fn regularized_step(p: &Problem, base: &Policy, eval: &Policy, eta: f64, g: Transform) -> Policy {
    let eb = eta * p.beta;
    base.par_map_log_weights(|x, lb, s| {
        let h = match g {
            Transform::Identity => p.game.advantages_fast(x, &eval.probs(x)),
            Transform::Log => payoff(&p.game, x, eval, g),
        };
        let lr = p.reference.logp(x);
        (0..lb.len())
            .map(|y| {
                if s[y] {
                    (1.0 - eb) * lb[y] + eb * lr[y] + eta * h[y]
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect()
    })
}

/// Exact WIND.
#[derive(Debug, Clone)]
pub struct Wind {
    /// Transform.
    pub g: Transform,
    /// Step size.
    pub eta: f64,
}

impl Solver for Wind {
    fn name(&self) -> String {
        format!("wind_{}", self.g.name())
    }
    fn target_transform(&self) -> Transform {
        self.g
    }
    fn next_iter(&mut self, p: &Problem, s: &State) -> State {
        State {
            iter: s.iter + 1,
            policy: regularized_step(p, &s.policy, &s.policy, self.eta, self.g),
            aux: None,
        }
    }
}

/// PU/OMWU extragradient.
#[derive(Debug, Clone)]
pub struct Omwu {
    /// Step size.
    pub eta: f64,
}

impl Solver for Omwu {
    fn name(&self) -> String {
        "omwu".into()
    }
    fn next_iter(&mut self, p: &Problem, s: &State) -> State {
        let bar = regularized_step(p, &s.policy, &s.policy, self.eta, Transform::Identity);
        State {
            iter: s.iter + 1,
            policy: regularized_step(p, &s.policy, &bar, self.eta, Transform::Identity),
            aux: None,
        }
    }
}

/// SPPO exact update.
#[derive(Debug, Clone)]
pub struct SppoExact {
    /// Step size.
    pub eta: f64,
}

impl Solver for SppoExact {
    fn name(&self) -> String {
        "sppo_exact".into()
    }
    fn next_iter(&mut self, p: &Problem, s: &State) -> State {
        let policy = s.policy.par_map_log_weights(|x, l, sp| {
            let adv = p.game.advantages_fast(x, &s.policy.probs(x));
            (0..l.len())
                .map(|y| {
                    if sp[y] {
                        l[y] + self.eta * adv[y]
                    } else {
                        f64::NEG_INFINITY
                    }
                })
                .collect()
        });
        State {
            iter: s.iter + 1,
            policy,
            aux: None,
        }
    }
}

/// Nash-MD exact.
#[derive(Debug, Clone)]
pub struct NashMd {
    /// Step size.
    pub eta: f64,
}

impl Solver for NashMd {
    fn name(&self) -> String {
        "nash_md".into()
    }
    fn next_iter(&mut self, p: &Problem, s: &State) -> State {
        let m = self.eta * p.beta;
        let mix = s.policy.map_log_weights(|x, l, sp| {
            let lr = p.reference.logp(x);
            (0..l.len())
                .map(|y| {
                    if sp[y] {
                        (1.0 - m) * l[y] + m * lr[y]
                    } else {
                        f64::NEG_INFINITY
                    }
                })
                .collect()
        });
        let policy = mix.map_log_weights(|x, lm, sp| {
            let adv = p.game.advantages(x, &mix.probs(x));
            (0..lm.len())
                .map(|y| {
                    if sp[y] {
                        lm[y] + self.eta * adv[y]
                    } else {
                        f64::NEG_INFINITY
                    }
                })
                .collect()
        });
        State {
            iter: s.iter + 1,
            policy,
            aux: None,
        }
    }
}

/// Iterative BOND.
#[derive(Debug, Clone)]
pub struct IterativeBond {
    /// N.
    pub n: u32,
}

impl Solver for IterativeBond {
    fn name(&self) -> String {
        format!("iterative_bond_n{}", self.n)
    }
    fn next_iter(&mut self, p: &Problem, s: &State) -> State {
        State {
            iter: s.iter + 1,
            policy: wind_bond::iterative_bond_step(&p.game, &s.policy, self.n),
            aux: None,
        }
    }
}

/// Exact J-BOND analogue.
#[derive(Debug, Clone)]
pub struct Jbond {
    /// Anchor rate.
    pub gamma: f64,
}

impl Solver for Jbond {
    fn name(&self) -> String {
        "jbond".into()
    }
    fn init(&mut self, p: &Problem) -> State {
        State {
            iter: 0,
            policy: p.reference.clone(),
            aux: Some(p.reference.clone()),
        }
    }
    fn next_iter(&mut self, p: &Problem, s: &State) -> State {
        let st = wind_bond::JBondState {
            policy: s.policy.clone(),
            anchor: s.aux.clone().expect("anchor"),
        };
        let next = wind_bond::jbond_step(&p.game, &st, self.gamma);
        State {
            iter: s.iter + 1,
            policy: next.policy,
            aux: Some(next.anchor),
        }
    }
}
