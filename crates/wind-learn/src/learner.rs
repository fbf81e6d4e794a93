//! The learners (SPEC §5–6) behind one shape: [`Learner::new`] (init), [`Learner::iterate`]
//! (one outer iteration: freeze `π_t`, draw a batch, query the oracle, take optimizer steps),
//! and termination decided by [`crate::run::run_learner`].

use crate::losses::{self, LossScale, kl_weights, leave_one_out};
use crate::oracle::{Oracle, OracleMode, Sampler};
use crate::policy::{PolicyClass, PolicyConsts, PolicyError, PolicyNet, build_policy};
use burn::module::{Module, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use wind_dynamics::Counters;
use wind_game::{Game, Policy, Transform, WindRng};

fn default_k_kl() -> usize {
    4
}
fn default_k_sppo() -> usize {
    5
}
fn default_beta_j() -> f64 {
    0.5
}
fn default_eta_j() -> f64 {
    0.02
}
fn default_m() -> f64 {
    0.1
}
fn default_n() -> u32 {
    2
}

/// The algorithm of a learner (`[[learners]] kind = "…"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LearnerKind {
    /// WIND-SQ: one duel per prompt, squared loss to `b + η·(o − ½)`.
    WindSq {
        /// Step size η (`ηβ < 1`).
        eta: f64,
    },
    /// WIND-KL: `k` samples per prompt, all pairs queried, self-normalised weights.
    WindKl {
        /// Step size η.
        eta: f64,
        /// Samples per prompt (≥ 2); `k(k−1)/2` queries.
        #[serde(default = "default_k_kl")]
        k: usize,
        /// Payoff transform.
        #[serde(default)]
        g: Transform,
    },
    /// WIND-NCE: duel winners against fresh samples (targets the `g = log` step).
    WindNce {
        /// Step size η.
        eta: f64,
    },
    /// SPPO: `k` samples, `k²` judge calls, squared loss to `η·(ŵ − ½)`.
    Sppo {
        /// Step size η (SPPO's paper uses `1/β`-sized steps).
        eta: f64,
        /// Samples per prompt.
        #[serde(default = "default_k_sppo")]
        k: usize,
    },
    /// J-BOND: forward (Bo2 anchor winner) + backward (REINFORCE, LOO baseline) + EMA anchor.
    Jbond {
        /// Weight of the backward term.
        #[serde(default = "default_beta_j")]
        beta_j: f64,
        /// Anchor EMA rate.
        #[serde(default = "default_eta_j")]
        eta_j: f64,
        /// Weight of `KL(π_θ‖π_anchor)`.
        #[serde(default)]
        gamma: f64,
    },
    /// Nash-MD-PG: `y ∼ π_θ`, `y' ∼ π_θ^{1−m}π_ref^m`, advantage `o − ½ − τ·log(π_θ/π_ref)(y)`.
    NashMdPg {
        /// Mixture weight `m ∈ [0, 1]`.
        #[serde(default = "default_m")]
        m: f64,
        /// KL weight τ (default: the experiment's β).
        #[serde(default)]
        tau: Option<f64>,
    },
    /// Online IPO with soft/sampled labels.
    OnlineIpo {},
    /// Online DPO (winner/loser; tied pairs dropped).
    OnlineDpo {},
    /// Iterative BOND by Monte Carlo: best of `n` by a duel chain, forward-KL distillation.
    BondMc {
        /// N ≥ 2 (`n − 1` queries per prompt).
        #[serde(default = "default_n")]
        n: u32,
    },
}

impl LearnerKind {
    /// Method name (CSV `method` column).
    pub fn name(&self) -> String {
        match self {
            LearnerKind::WindSq { .. } => "wind_sq".into(),
            LearnerKind::WindKl { g, .. } => match g {
                Transform::Identity => "wind_kl".into(),
                Transform::Log => "wind_kl_log".into(),
            },
            LearnerKind::WindNce { .. } => "wind_nce".into(),
            LearnerKind::Sppo { .. } => "sppo".into(),
            LearnerKind::Jbond { .. } => "jbond".into(),
            LearnerKind::NashMdPg { .. } => "nash_md_pg".into(),
            LearnerKind::OnlineIpo {} => "online_ipo".into(),
            LearnerKind::OnlineDpo {} => "online_dpo".into(),
            LearnerKind::BondMc { n } => format!("bond_mc_n{n}"),
        }
    }

    /// The fixed point the method's population update targets.
    pub fn target_transform(&self) -> Transform {
        match self {
            LearnerKind::WindKl { g, .. } => *g,
            LearnerKind::WindNce { .. } => Transform::Log,
            _ => Transform::Identity,
        }
    }

    /// Whether samples come from a frozen iterate over several steps (iterative methods) or
    /// from the current policy (on-policy gradient methods): sets the default step count.
    pub fn default_steps(&self) -> usize {
        match self {
            LearnerKind::WindSq { .. }
            | LearnerKind::WindKl { .. }
            | LearnerKind::WindNce { .. }
            | LearnerKind::Sppo { .. }
            | LearnerKind::BondMc { .. } => 20,
            _ => 1,
        }
    }

    /// Oracle queries per prompt.
    pub fn queries_per_prompt(&self) -> u64 {
        match *self {
            LearnerKind::WindSq { .. } | LearnerKind::WindNce { .. } => 1,
            LearnerKind::WindKl { k, .. } => (k * (k - 1) / 2) as u64,
            LearnerKind::Sppo { k, .. } => (k * k) as u64,
            LearnerKind::Jbond { .. } => 3,
            LearnerKind::NashMdPg { .. }
            | LearnerKind::OnlineIpo {}
            | LearnerKind::OnlineDpo {} => 1,
            LearnerKind::BondMc { n } => (n - 1) as u64,
        }
    }

    /// Check parameters against β. Returns `(field, message)`.
    pub fn validate(&self, beta: f64) -> Result<(), (&'static str, String)> {
        let eta_ok = |eta: f64| {
            if !(eta.is_finite() && eta > 0.0) {
                Err(("eta", format!("η must be finite and > 0; got {eta}")))
            } else if eta * beta >= 1.0 {
                Err((
                    "eta",
                    format!(
                        "ηβ must be < 1; got η·β = {eta}·{beta} = {}; use η < {}",
                        eta * beta,
                        1.0 / beta
                    ),
                ))
            } else {
                Ok(())
            }
        };
        match *self {
            LearnerKind::WindSq { eta } | LearnerKind::WindNce { eta } => eta_ok(eta),
            LearnerKind::WindKl { eta, k, .. } => {
                eta_ok(eta)?;
                if !(2..=64).contains(&k) {
                    return Err(("k", format!("k must be in 2..=64; got {k}")));
                }
                Ok(())
            }
            LearnerKind::Sppo { eta, k } => {
                if !(eta.is_finite() && eta > 0.0) {
                    return Err(("eta", format!("η must be finite and > 0; got {eta}")));
                }
                if !(2..=64).contains(&k) {
                    return Err(("k", format!("k must be in 2..=64; got {k}")));
                }
                Ok(())
            }
            LearnerKind::Jbond {
                beta_j,
                eta_j,
                gamma,
            } => {
                if !(0.0..=1.0).contains(&beta_j) {
                    return Err(("beta_j", format!("β_J must be in [0, 1]; got {beta_j}")));
                }
                if !(eta_j > 0.0 && eta_j <= 1.0) {
                    return Err(("eta_j", format!("η_J must be in (0, 1]; got {eta_j}")));
                }
                if !(gamma.is_finite() && gamma >= 0.0) {
                    return Err(("gamma", format!("γ must be finite and ≥ 0; got {gamma}")));
                }
                Ok(())
            }
            LearnerKind::NashMdPg { m, tau } => {
                if !(0.0..=1.0).contains(&m) {
                    return Err(("m", format!("m must be in [0, 1]; got {m}")));
                }
                if let Some(t) = tau
                    && !(t.is_finite() && t >= 0.0)
                {
                    return Err(("tau", format!("τ must be finite and ≥ 0; got {t}")));
                }
                Ok(())
            }
            LearnerKind::OnlineIpo {} | LearnerKind::OnlineDpo {} => Ok(()),
            LearnerKind::BondMc { n } => {
                if !(2..=64).contains(&n) {
                    return Err(("n", format!("N must be in 2..=64; got {n}")));
                }
                Ok(())
            }
        }
    }
}

/// A learner: the algorithm plus optimisation settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnerSpec {
    /// The algorithm.
    pub kind: LearnerKind,
    /// Prompts (contexts) drawn per iteration.
    pub batch: usize,
    /// Optimizer (Adam) steps per iteration.
    pub steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Optional display name (default: the algorithm's name).
    pub label: Option<String>,
}

impl LearnerSpec {
    /// A spec with default batch (64), steps ([`LearnerKind::default_steps`]) and lr (0.05).
    pub fn new(kind: LearnerKind) -> Self {
        let steps = kind.default_steps();
        Self {
            kind,
            batch: 64,
            steps,
            lr: 0.05,
            label: None,
        }
    }

    /// CSV/legend name.
    pub fn name(&self) -> String {
        self.label.clone().unwrap_or_else(|| self.kind.name())
    }

    /// Oracle queries of one iteration (`batch × queries per prompt`).
    pub fn queries_per_iteration(&self) -> u64 {
        self.batch as u64 * self.kind.queries_per_prompt()
    }
}

/// Trainable parameters: the policy and a per-context offset `c(x)` (used by WIND-NCE).
#[derive(Module, Debug)]
pub struct LearnerNet {
    /// The policy.
    pub policy: PolicyNet,
    /// `c(x)`, `[contexts]`.
    pub offset: Param<Tensor<1>>,
}

/// What one iteration did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterStats {
    /// Loss (as reported, i.e. divided by `loss_scale`) at the last step.
    pub loss: f64,
    /// Factor the reported loss was divided by.
    pub loss_scale: f64,
    /// Pairs dropped because chosen = rejected (online DPO ties).
    pub skipped_pairs: u64,
}

/// One batch of θ-independent inputs, with flat indices `x·n + y` into the policy table.
enum Batch {
    Sq {
        idx: Vec<i64>,
        old: Vec<f32>,
        b: Vec<f32>,
        label: Vec<f32>,
    },
    Kl {
        idx: Vec<i64>,
        alpha: Vec<f32>,
        k: usize,
    },
    Nce {
        pos: Vec<i64>,
        pos_ctx: Vec<i64>,
        old_pos: Vec<f32>,
        b_pos: Vec<f32>,
        neg: Vec<i64>,
        neg_ctx: Vec<i64>,
        old_neg: Vec<f32>,
        b_neg: Vec<f32>,
    },
    Sppo {
        idx: Vec<i64>,
        old: Vec<f32>,
        w: Vec<f32>,
    },
    Jbond {
        y: Vec<i64>,
        adv: Vec<f32>,
        fwd: Vec<i64>,
        kl_adv: Vec<f32>,
    },
    Pg {
        idx: Vec<i64>,
        adv: Vec<f32>,
    },
    Ipo {
        y: Vec<i64>,
        y2: Vec<i64>,
        ref_y: Vec<f32>,
        ref_y2: Vec<f32>,
        label: Vec<f32>,
    },
    Dpo {
        w: Vec<i64>,
        l: Vec<i64>,
        ref_w: Vec<f32>,
        ref_l: Vec<f32>,
    },
    Distill {
        idx: Vec<i64>,
    },
    Empty,
}

/// A parametric learner on one game.
pub struct Learner {
    spec: LearnerSpec,
    beta: f64,
    net: Option<LearnerNet>,
    /// The exact distribution of `net`, extracted once per parameter change.
    current: Policy,
    anchor: Option<PolicyNet>,
    consts: PolicyConsts,
    reference: Policy,
    optim: ModuleOptimizer,
    oracle: Oracle,
    sampler: Sampler,
    coin: WindRng,
    grad_steps: u64,
    device: Device,
}

impl std::fmt::Debug for Learner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learner")
            .field("spec", &self.spec)
            .field("beta", &self.beta)
            .field("grad_steps", &self.grad_steps)
            .finish_non_exhaustive()
    }
}

fn t1(v: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

fn ti(v: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

impl Learner {
    /// Init: `π_θ = π_ref` (the initial parameters), fresh Adam state, counters at zero. All
    /// randomness (MLP init, sampling, Bernoulli labels) derives from `seed`.
    pub fn new(
        spec: LearnerSpec,
        class: PolicyClass,
        oracle: OracleMode,
        game: &Game,
        reference: &Policy,
        beta: f64,
        seed: u64,
        device: &Device,
    ) -> Result<Self, PolicyError> {
        let (policy, consts) = build_policy(class, game, reference, seed, device)?;
        let c = game.n_contexts();
        let offset = Param::from_tensor(t1(vec![0.0; c], device).require_grad());
        let anchor = matches!(spec.kind, LearnerKind::Jbond { .. }).then(|| policy.snapshot());
        let stream = spec.name();
        let current = policy.to_policy(&consts);
        Ok(Self {
            current,
            optim: AdamConfig::new().init(),
            oracle: Oracle::new(oracle, WindRng::derive(seed, &format!("oracle/{stream}"))),
            sampler: Sampler::new(WindRng::derive(seed, &format!("sampler/{stream}"))),
            coin: WindRng::derive(seed, &format!("coin/{stream}")),
            net: Some(LearnerNet { policy, offset }),
            anchor,
            consts,
            reference: reference.clone(),
            spec,
            beta,
            grad_steps: 0,
            device: device.clone(),
        })
    }

    /// Oracle queries of one iteration.
    pub fn queries_per_iteration(&self) -> u64 {
        self.spec.queries_per_iteration()
    }

    /// The spec.
    pub fn spec(&self) -> &LearnerSpec {
        &self.spec
    }

    /// The current policy's exact distribution.
    pub fn policy(&self) -> Policy {
        self.current.clone()
    }

    /// The trainable parameters.
    pub fn net(&self) -> &LearnerNet {
        self.net.as_ref().expect("net present between steps")
    }

    /// Replace the parameters (tests use this to start from a chosen point).
    pub fn set_net(&mut self, net: LearnerNet) {
        self.current = net.policy.to_policy(&self.consts);
        self.net = Some(net);
    }

    /// Cumulative counters.
    pub fn counters(&self) -> Counters {
        Counters {
            samples: self.sampler.samples(),
            oracle_queries: self.oracle.queries(),
            grad_steps: self.grad_steps,
        }
    }

    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The constants (`log π_ref`, features) of the policy.
    pub fn consts(&self) -> &PolicyConsts {
        &self.consts
    }

    /// A winner draw for a label `o`: `o` itself when it is 0 or 1, else a coin with
    /// probability `o` (exact-mode soft labels).
    fn first_wins(&mut self, o: f64) -> bool {
        if o >= 1.0 {
            true
        } else if o <= 0.0 {
            false
        } else {
            self.coin.bernoulli(o)
        }
    }

    /// One outer iteration.
    pub fn iterate(&mut self, game: &Game) -> IterStats {
        let old = self.current.clone();
        let (batch, skipped) = self.draw_batch(game, &old);
        let mut stats = IterStats {
            loss: 0.0,
            loss_scale: 1.0,
            skipped_pairs: skipped,
        };
        if !matches!(batch, Batch::Empty) {
            for step in 0..self.spec.steps {
                let net = self.net.take().expect("net present");
                let (loss, scale) = self.loss(&net, &batch);
                if step + 1 == self.spec.steps {
                    // read the loss back once per iteration (a device sync on a GPU)
                    stats.loss =
                        loss.clone().into_data().try_to_vec::<f32>().expect("f32")[0] as f64;
                    stats.loss_scale = scale.0;
                }
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                self.net = Some(self.optim.step(self.spec.lr, net, grads));
                self.grad_steps += 1;
            }
            self.current = self.net().policy.to_policy(&self.consts);
        }
        if let (LearnerKind::Jbond { eta_j, .. }, Some(a)) = (&self.spec.kind, &self.anchor) {
            self.anchor = Some(a.lerp(&self.net().policy, *eta_j));
        }
        stats
    }

    fn loss(&self, net: &LearnerNet, batch: &Batch) -> (Tensor<1>, LossScale) {
        let d = &self.device;
        let lp = net.policy.log_probs_flat(&self.consts);
        let at = |idx: &[i64]| lp.clone().select(0, ti(idx, d));
        let one = LossScale(1.0);
        match batch {
            Batch::Sq { idx, old, b, label } => {
                let eta = self.eta();
                losses::wind_sq(
                    at(idx),
                    t1(old.clone(), d),
                    t1(b.clone(), d),
                    t1(label.clone(), d),
                    &None,
                    eta,
                )
            }
            Batch::Kl { idx, alpha, k } => {
                let rows = idx.len() / k;
                let logp = at(idx).reshape([rows, *k]);
                let a = t1(alpha.clone(), d).reshape([rows, *k]);
                (losses::wind_kl(logp, a), one)
            }
            Batch::Nce {
                pos,
                pos_ctx,
                old_pos,
                b_pos,
                neg,
                neg_ctx,
                old_neg,
                b_neg,
            } => {
                let c = net.offset.val();
                let s_pos = at(pos) - t1(old_pos.clone(), d);
                let s_neg = at(neg) - t1(old_neg.clone(), d);
                (
                    losses::wind_nce(
                        s_pos,
                        t1(b_pos.clone(), d),
                        c.clone().select(0, ti(pos_ctx, d)),
                        s_neg,
                        t1(b_neg.clone(), d),
                        c.select(0, ti(neg_ctx, d)),
                        &None,
                        &None,
                        self.eta(),
                    ),
                    one,
                )
            }
            Batch::Sppo { idx, old, w } => losses::sppo(
                at(idx),
                t1(old.clone(), d),
                t1(w.clone(), d),
                &None,
                self.eta(),
            ),
            Batch::Jbond {
                y,
                adv,
                fwd,
                kl_adv,
            } => {
                let LearnerKind::Jbond { beta_j, gamma, .. } = self.spec.kind else {
                    unreachable!()
                };
                let logp_y = at(y);
                let back = losses::policy_gradient(logp_y.clone(), t1(adv.clone(), d), &None);
                let forward = losses::distill(at(fwd), &None);
                let mut l = forward.mul_scalar(1.0 - beta_j) + back.mul_scalar(beta_j);
                if gamma > 0.0 {
                    l = l + losses::policy_gradient(logp_y, t1(kl_adv.clone(), d), &None)
                        .mul_scalar(gamma);
                }
                (l, one)
            }
            Batch::Pg { idx, adv } => (
                losses::policy_gradient(at(idx), t1(adv.clone(), d), &None),
                one,
            ),
            Batch::Ipo {
                y,
                y2,
                ref_y,
                ref_y2,
                label,
            } => losses::online_ipo(
                at(y),
                at(y2),
                t1(ref_y.clone(), d),
                t1(ref_y2.clone(), d),
                t1(label.clone(), d),
                &None,
                self.beta,
            ),
            Batch::Dpo { w, l, ref_w, ref_l } => (
                losses::online_dpo(
                    at(w),
                    at(l),
                    t1(ref_w.clone(), d),
                    t1(ref_l.clone(), d),
                    &None,
                    self.beta,
                ),
                one,
            ),
            Batch::Distill { idx } => (losses::distill(at(idx), &None), one),
            Batch::Empty => unreachable!("empty batches take no step"),
        }
    }

    fn eta(&self) -> f64 {
        match self.spec.kind {
            LearnerKind::WindSq { eta }
            | LearnerKind::WindKl { eta, .. }
            | LearnerKind::WindNce { eta }
            | LearnerKind::Sppo { eta, .. } => eta,
            _ => 1.0,
        }
    }

    fn draw_batch(&mut self, game: &Game, old: &Policy) -> (Batch, u64) {
        let n = game.n_actions();
        let beta = self.beta;
        let eta = self.eta();
        let reference = self.reference.clone();
        let probs: Vec<Vec<f64>> = old.all_probs();
        let lo = |x: usize, y: usize| old.logp(x)[y];
        let lr = |x: usize, y: usize| reference.logp(x)[y];
        let flat = |x: usize, y: usize| (x * n + y) as i64;
        let bterm = |x: usize, y: usize| eta * beta * (lr(x, y) - lo(x, y));
        let contexts: Vec<usize> = (0..self.spec.batch)
            .map(|_| self.sampler.context(game.rho()))
            .collect();
        let mut skipped = 0;
        let batch = match self.spec.kind.clone() {
            LearnerKind::WindSq { .. } => {
                let (mut idx, mut o_, mut b, mut label) = (vec![], vec![], vec![], vec![]);
                for &x in &contexts {
                    let y = self.sampler.response(&probs[x]);
                    let y2 = self.sampler.response(&probs[x]);
                    let o = self.oracle.query(game, x, y, y2);
                    for (yy, lab) in [(y, o - 0.5), (y2, 0.5 - o)] {
                        idx.push(flat(x, yy));
                        o_.push(lo(x, yy) as f32);
                        b.push(bterm(x, yy) as f32);
                        label.push(lab as f32);
                    }
                }
                Batch::Sq {
                    idx,
                    old: o_,
                    b,
                    label,
                }
            }
            LearnerKind::WindKl { k, g, .. } => {
                let (mut idx, mut alpha) = (vec![], vec![]);
                for &x in &contexts {
                    let ys: Vec<usize> = (0..k).map(|_| self.sampler.response(&probs[x])).collect();
                    let mut w = vec![0.0; k];
                    for i in 0..k {
                        for j in (i + 1)..k {
                            let o = self.oracle.query(game, x, ys[i], ys[j]);
                            w[i] += o;
                            w[j] += 1.0 - o;
                        }
                    }
                    let logits: Vec<f64> = (0..k)
                        .map(|i| {
                            let wh = w[i] / (k - 1) as f64;
                            let gv = match g {
                                Transform::Identity => wh,
                                Transform::Log => wh.ln(),
                            };
                            bterm(x, ys[i]) + eta * gv
                        })
                        .collect();
                    for (i, a) in kl_weights(&logits).into_iter().enumerate() {
                        idx.push(flat(x, ys[i]));
                        alpha.push(a as f32);
                    }
                }
                Batch::Kl { idx, alpha, k }
            }
            LearnerKind::WindNce { .. } => {
                let mut bt = Batch::Nce {
                    pos: vec![],
                    pos_ctx: vec![],
                    old_pos: vec![],
                    b_pos: vec![],
                    neg: vec![],
                    neg_ctx: vec![],
                    old_neg: vec![],
                    b_neg: vec![],
                };
                for &x in &contexts {
                    let y = self.sampler.response(&probs[x]);
                    let y2 = self.sampler.response(&probs[x]);
                    let o = self.oracle.query(game, x, y, y2);
                    let win = if self.first_wins(o) { y } else { y2 };
                    let neg = self.sampler.response(&probs[x]);
                    if let Batch::Nce {
                        pos,
                        pos_ctx,
                        old_pos,
                        b_pos,
                        neg: ng,
                        neg_ctx,
                        old_neg,
                        b_neg,
                    } = &mut bt
                    {
                        pos.push(flat(x, win));
                        pos_ctx.push(x as i64);
                        old_pos.push(lo(x, win) as f32);
                        b_pos.push(bterm(x, win) as f32);
                        ng.push(flat(x, neg));
                        neg_ctx.push(x as i64);
                        old_neg.push(lo(x, neg) as f32);
                        b_neg.push(bterm(x, neg) as f32);
                    }
                }
                bt
            }
            LearnerKind::Sppo { k, .. } => {
                let (mut idx, mut o_, mut wv) = (vec![], vec![], vec![]);
                for &x in &contexts {
                    let ys: Vec<usize> = (0..k).map(|_| self.sampler.response(&probs[x])).collect();
                    for i in 0..k {
                        let mut s = 0.0;
                        for j in 0..k {
                            // K² judge calls, as SPPO makes them; the diagonal is set to ½.
                            let o = self.oracle.query(game, x, ys[i], ys[j]);
                            s += if i == j { 0.5 } else { o };
                        }
                        idx.push(flat(x, ys[i]));
                        o_.push(lo(x, ys[i]) as f32);
                        wv.push((s / k as f64) as f32);
                    }
                }
                Batch::Sppo {
                    idx,
                    old: o_,
                    w: wv,
                }
            }
            LearnerKind::Jbond { .. } => {
                let anchor = self
                    .anchor
                    .as_ref()
                    .expect("J-BOND has an anchor")
                    .to_policy(&self.consts);
                let (mut y_, mut ret, mut fwd, mut kl_adv) = (vec![], vec![], vec![], vec![]);
                for &x in &contexts {
                    let pa = anchor.probs(x);
                    let y = self.sampler.response(&probs[x]);
                    let a1 = self.sampler.response(&pa);
                    let a2 = self.sampler.response(&pa);
                    let o1 = self.oracle.query(game, x, y, a1);
                    let o2 = self.oracle.query(game, x, y, a2);
                    let o3 = self.oracle.query(game, x, a1, a2);
                    let lost1 = !self.first_wins(o1);
                    let lost2 = !self.first_wins(o2);
                    let r = if lost1 && lost2 { -(16f64.ln()) } else { 0.0 };
                    let log_ratio = lo(x, y) - anchor.logp(x)[y];
                    ret.push(r - log_ratio);
                    kl_adv.push(-log_ratio as f32);
                    y_.push(flat(x, y));
                    fwd.push(flat(x, if self.first_wins(o3) { a1 } else { a2 }));
                }
                let adv = leave_one_out(&ret).into_iter().map(|v| v as f32).collect();
                Batch::Jbond {
                    y: y_,
                    adv,
                    fwd,
                    kl_adv,
                }
            }
            LearnerKind::NashMdPg { m, tau } => {
                let tau = tau.unwrap_or(beta);
                let (mut idx, mut adv) = (vec![], vec![]);
                for &x in &contexts {
                    let mix: Vec<f64> = {
                        let l: Vec<f64> = (0..n)
                            .map(|y| {
                                if old.support(x)[y] {
                                    (1.0 - m) * lo(x, y) + m * lr(x, y)
                                } else {
                                    f64::NEG_INFINITY
                                }
                            })
                            .collect();
                        let z = wind_game::numerics::logsumexp(&l);
                        l.iter().map(|v| (v - z).exp()).collect()
                    };
                    let y = self.sampler.response(&probs[x]);
                    let y2 = self.sampler.response(&mix);
                    let o = self.oracle.query(game, x, y, y2);
                    idx.push(flat(x, y));
                    adv.push((o - 0.5 - tau * (lo(x, y) - lr(x, y))) as f32);
                }
                Batch::Pg { idx, adv }
            }
            LearnerKind::OnlineIpo {} => {
                let (mut y_, mut y2_, mut ry, mut ry2, mut label) =
                    (vec![], vec![], vec![], vec![], vec![]);
                for &x in &contexts {
                    let y = self.sampler.response(&probs[x]);
                    let y2 = self.sampler.response(&probs[x]);
                    let o = self.oracle.query(game, x, y, y2);
                    y_.push(flat(x, y));
                    y2_.push(flat(x, y2));
                    ry.push(lr(x, y) as f32);
                    ry2.push(lr(x, y2) as f32);
                    label.push(o as f32);
                }
                Batch::Ipo {
                    y: y_,
                    y2: y2_,
                    ref_y: ry,
                    ref_y2: ry2,
                    label,
                }
            }
            LearnerKind::OnlineDpo {} => {
                let (mut w_, mut l_, mut rw, mut rl) = (vec![], vec![], vec![], vec![]);
                for &x in &contexts {
                    let y = self.sampler.response(&probs[x]);
                    let y2 = self.sampler.response(&probs[x]);
                    let o = self.oracle.query(game, x, y, y2);
                    if y == y2 || o == 0.5 {
                        skipped += 1; // no chosen = rejected pair
                        continue;
                    }
                    let (w, l) = if o > 0.5 { (y, y2) } else { (y2, y) };
                    w_.push(flat(x, w));
                    l_.push(flat(x, l));
                    rw.push(lr(x, w) as f32);
                    rl.push(lr(x, l) as f32);
                }
                if w_.is_empty() {
                    Batch::Empty
                } else {
                    Batch::Dpo {
                        w: w_,
                        l: l_,
                        ref_w: rw,
                        ref_l: rl,
                    }
                }
            }
            LearnerKind::BondMc { n: big_n } => {
                let mut idx = vec![];
                for &x in &contexts {
                    let mut champ = self.sampler.response(&probs[x]);
                    for _ in 1..big_n {
                        let y = self.sampler.response(&probs[x]);
                        let o = self.oracle.query(game, x, champ, y);
                        if !self.first_wins(o) {
                            champ = y;
                        }
                    }
                    idx.push(flat(x, champ));
                }
                Batch::Distill { idx }
            }
        };
        (batch, skipped)
    }
}
