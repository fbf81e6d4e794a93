//! Population losses: each WIND loss with its expectation written out exactly (every `y, y'`
//! and `o` enumerated with its probability), minimised on a tabular policy. Used by the tests
//! and by `wind check` to show that a loss's population minimiser is the exact update.

use crate::LearnerNet;
use crate::PolicyClass;
use crate::losses::{self, Weights};
use crate::policy::{PolicyConsts, PolicyNet, Tabular, build_policy};
use burn::module::Param;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use wind_game::numerics::logsumexp;
use wind_game::{Game, Policy, WindRng};

/// Which population loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopulationLoss {
    /// WIND-SQ (targets the `g = identity` step up to the normaliser).
    Sq,
    /// WIND-KL with `K → ∞` (`g = identity`).
    Kl,
    /// WIND-KL with `K → ∞` (`g = log`).
    KlLog,
    /// WIND-NCE (targets the `g = log` step).
    Nce,
}

/// The result of minimising a population loss.
#[derive(Debug, Clone)]
pub struct PopulationFit {
    /// The minimiser found.
    pub fitted: Policy,
    /// The exact WIND step it should equal.
    pub exact: Policy,
    /// `max |log π_fit − log π_exact|`.
    pub max_log_err: f64,
    /// Normaliser error `max_x |log Σ_y π_t·exp(b + η(w − ½))|` (WIND-SQ's bias scale).
    pub delta: f64,
}

fn t1(v: Vec<f64>, d: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(
        TensorData::new(v.iter().map(|&x| x as f32).collect::<Vec<_>>(), [n]),
        d,
    )
}

/// A tabular net at `π_t = softmax(log π_ref + δ)` with random `δ ~ N(0, 0.7²)` from `seed`
/// (so `π_t ≠ π_ref` and the `b` term matters), and its constants.
pub fn perturbed_tabular(
    game: &Game,
    reference: &Policy,
    seed: u64,
    device: &Device,
) -> (LearnerNet, PolicyConsts) {
    let (c, n) = (game.n_contexts(), game.n_actions());
    let (_, consts) = build_policy(PolicyClass::Tabular {}, game, reference, seed, device)
        .expect("tabular needs no features");
    let mut rng = WindRng::derive(seed, "perturbed-tabular");
    let delta: Vec<f32> = (0..c * n).map(|_| (0.7 * rng.normal()) as f32).collect();
    let net = LearnerNet {
        policy: PolicyNet::Tabular(Tabular {
            delta: Param::from_tensor(
                Tensor::<2>::from_data(TensorData::new(delta, [c, n]), device).require_grad(),
            ),
        }),
        offset: Param::from_tensor(t1(vec![0.0; c], device).require_grad()),
    };
    (net, consts)
}

/// The exact WIND step `(1−ηβ)·log π_t + ηβ·log π_ref + η·g(w_{π_t})`, normalised.
pub fn exact_step(
    game: &Game,
    reference: &Policy,
    pi_t: &Policy,
    beta: f64,
    eta: f64,
    log_g: bool,
) -> Policy {
    pi_t.map_log_weights(|x, l, _| {
        let w = game.win_rates(x, &pi_t.probs(x));
        (0..l.len())
            .map(|y| {
                let g = if log_g { w[y].ln() } else { w[y] };
                (1.0 - eta * beta) * l[y] + eta * beta * reference.logp(x)[y] + eta * g
            })
            .collect()
    })
}

/// Minimise `loss(net)` with Adam in three learning-rate phases (3,500 steps).
pub fn minimize(mut net: LearnerNet, loss: impl Fn(&LearnerNet) -> Tensor<1>) -> LearnerNet {
    let mut opt = AdamConfig::new().init();
    for (lr, steps) in [(0.05, 1500), (0.005, 1500), (0.0005, 500)] {
        for _ in 0..steps {
            let l = loss(&net);
            let g = GradientsParams::from_grads(l.backward(), &net);
            net = opt.step(lr, net, g);
        }
    }
    net
}

/// `max |log a − log b|` over all contexts and actions.
pub fn max_log_diff(a: &Policy, b: &Policy) -> f64 {
    let mut m: f64 = 0.0;
    for x in 0..a.n_contexts() {
        for y in 0..a.n_actions() {
            m = m.max((a.logp(x)[y] - b.logp(x)[y]).abs());
        }
    }
    m
}

fn gather(lp: Tensor<1>, idx: &[i64], d: &Device) -> Tensor<1> {
    lp.select(
        0,
        Tensor::from_data(TensorData::new(idx.to_vec(), [idx.len()]), d),
    )
}

/// Minimise the population version of `which` from a random `π_t` (seeded) on `game` and
/// compare with the exact update of step `eta`.
pub fn fit_population(
    which: PopulationLoss,
    game: &Game,
    reference: &Policy,
    beta: f64,
    eta: f64,
    seed: u64,
    device: &Device,
) -> PopulationFit {
    let d = device;
    let (c, n) = (game.n_contexts(), game.n_actions());
    let (net, consts) = perturbed_tabular(game, reference, seed, d);
    let pi_t = net.policy.to_policy(&consts);
    let rho = game.rho().to_vec();
    let log_g = matches!(which, PopulationLoss::KlLog | PopulationLoss::Nce);
    let exact = exact_step(game, reference, &pi_t, beta, eta, log_g);
    let bterm = |x: usize, y: usize| eta * beta * (reference.logp(x)[y] - pi_t.logp(x)[y]);
    let flat = |x: usize, y: usize| (x * n + y) as i64;
    let mut delta: f64 = 0.0;
    for x in 0..c {
        let w = game.win_rates(x, &pi_t.probs(x));
        let terms: Vec<f64> = (0..n)
            .map(|y| pi_t.logp(x)[y] + bterm(x, y) + eta * (w[y] - 0.5))
            .collect();
        delta = delta.max(logsumexp(&terms).abs());
    }
    let net = match which {
        PopulationLoss::Kl | PopulationLoss::KlLog => {
            let alpha: Vec<f64> = (0..c)
                .flat_map(|x| {
                    let r = rho[x];
                    exact.probs(x).into_iter().map(move |p| p * r)
                })
                .collect();
            let a = t1(alpha, d).reshape([c, n]);
            minimize(net, |m| {
                losses::wind_kl(m.policy.log_probs(&consts), a.clone())
            })
        }
        PopulationLoss::Nce => {
            let (mut idx, mut ctx, mut old, mut b, mut wp, mut wn) =
                (vec![], vec![], vec![], vec![], vec![], vec![]);
            for x in 0..c {
                let p = pi_t.probs(x);
                let w = game.win_rates(x, &p);
                for y in 0..n {
                    idx.push(flat(x, y));
                    ctx.push(x as i64);
                    old.push(pi_t.logp(x)[y]);
                    b.push(bterm(x, y));
                    wp.push(rho[x] * 2.0 * p[y] * w[y]); // duel winners: BoN₂(π_t) = 2π_t·w
                    wn.push(rho[x] * p[y]); // fresh samples of π_t
                }
            }
            let (old, b) = (t1(old, d), t1(b, d));
            let (wp, wn): (Weights, Weights) = (Some(t1(wp, d)), Some(t1(wn, d)));
            let ctx_t = Tensor::from_data(TensorData::new(ctx.clone(), [ctx.len()]), d);
            minimize(net, |m| {
                let s = gather(m.policy.log_probs_flat(&consts), &idx, d) - old.clone();
                let cx = m.offset.val().select(0, ctx_t.clone());
                losses::wind_nce(
                    s.clone(),
                    b.clone(),
                    cx.clone(),
                    s,
                    b.clone(),
                    cx,
                    &wp,
                    &wn,
                    eta,
                )
            })
        }
        PopulationLoss::Sq => {
            let (mut idx, mut old, mut b, mut label, mut wt) =
                (vec![], vec![], vec![], vec![], vec![]);
            for x in 0..c {
                let p = pi_t.probs(x);
                let w = game.win_rates(x, &p);
                for y in 0..n {
                    // o = 1 with probability w(y) (label +½), else 0 (label −½); the y' half of
                    // each query has the same law.
                    for (lab, pr) in [(0.5, w[y]), (-0.5, 1.0 - w[y])] {
                        idx.push(flat(x, y));
                        old.push(pi_t.logp(x)[y]);
                        b.push(bterm(x, y));
                        label.push(lab);
                        wt.push(rho[x] * p[y] * pr);
                    }
                }
            }
            let (old, b, label) = (t1(old, d), t1(b, d), t1(label, d));
            let wt: Weights = Some(t1(wt, d));
            minimize(net, |m| {
                let lp = gather(m.policy.log_probs_flat(&consts), &idx, d);
                losses::wind_sq(lp, old.clone(), b.clone(), label.clone(), &wt, eta).0
            })
        }
    };
    let fitted = net.policy.to_policy(&consts);
    PopulationFit {
        max_log_err: max_log_diff(&fitted, &exact),
        fitted,
        exact,
        delta,
    }
}
