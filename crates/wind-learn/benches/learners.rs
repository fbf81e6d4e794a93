//! `Learner::iterate` (one outer iteration: draw a batch of 64 prompts, query the Bernoulli
//! oracle, take the learner's optimizer steps) for each policy class × learner on the fig1
//! bandit (contextual game, 20 contexts × 10 actions, 8 features; softmax-Gaussian reference;
//! β = 0.1), on the flex CPU backend. Same setup as `wind bench`'s learner table.
//!
//! WIND-SQ and SPPO take 20 Adam steps per iteration, the on-policy methods (J-BOND,
//! Nash-MD-PG, online IPO/DPO) one.
//!
//! Run with `cargo bench -p wind-learn --bench learners`.

use divan::{Bencher, black_box};
use std::fmt;
use std::path::Path;
use std::sync::LazyLock;
use wind_game::{Game, GameSpec, Policy, ReferenceSpec};
use wind_learn::{
    BackendChoice, Learner, LearnerKind, LearnerSpec, OracleMode, PolicyClass, select_device,
};

fn main() {
    divan::main();
}

/// Time cap (seconds) per benchmark (divan's default 100 samples take under one second
/// for every case on flex).
const MAX_SECS: u64 = 3;

/// The benchmarked learners (parameters as in `wind bench`).
#[derive(Debug, Clone, Copy)]
enum Kind {
    WindSq,
    Sppo,
    Jbond,
    NashMdPg,
    OnlineIpo,
    OnlineDpo,
}

impl Kind {
    fn spec(self) -> LearnerKind {
        match self {
            Kind::WindSq => LearnerKind::WindSq { eta: 1.0 },
            Kind::Sppo => LearnerKind::Sppo { eta: 1.0, k: 5 },
            Kind::Jbond => LearnerKind::Jbond {
                beta_j: 0.5,
                eta_j: 0.02,
                gamma: 0.0,
            },
            Kind::NashMdPg => LearnerKind::NashMdPg { m: 0.1, tau: None },
            Kind::OnlineIpo => LearnerKind::OnlineIpo {},
            Kind::OnlineDpo => LearnerKind::OnlineDpo {},
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec().name())
    }
}

const KINDS: [Kind; 6] = [
    Kind::WindSq,
    Kind::Sppo,
    Kind::Jbond,
    Kind::NashMdPg,
    Kind::OnlineIpo,
    Kind::OnlineDpo,
];

/// The fig1 bandit and its reference policy.
static BANDIT: LazyLock<(Game, Policy)> = LazyLock::new(|| {
    let g = GameSpec::Contextual {
        contexts: 20,
        actions: 10,
        dim: 8,
        lambda: 0.5,
        temperature: 1.0,
        scale: 3.0,
    }
    .build(0, Path::new("."))
    .expect("fig1 bandit");
    let r = ReferenceSpec::SoftmaxGaussian { sigma: 1.0 }
        .build(&g, 0, Path::new("."))
        .expect("reference");
    (g, r)
});

/// Time `iterate` of a fresh learner after one warm-up iteration (outside the timing).
fn bench_learner(bencher: Bencher, class: PolicyClass, kind: Kind) {
    let (g, r) = &*BANDIT;
    let dev = select_device(BackendChoice::Cpu).expect("flex device");
    let mut l = Learner::new(
        LearnerSpec::new(kind.spec()),
        class,
        OracleMode::Bernoulli,
        g,
        r,
        0.1,
        0,
        &dev.device,
    )
    .expect("learner");
    l.iterate(g);
    bencher.bench_local(|| black_box(l.iterate(black_box(g))));
}

/// One free logit per (context, action).
#[divan::bench(args = KINDS, max_time = MAX_SECS)]
fn tabular(bencher: Bencher, kind: Kind) {
    bench_learner(bencher, PolicyClass::Tabular {}, kind);
}

/// `f_θ(x,y) = θ·φ(x,y)`.
#[divan::bench(args = KINDS, max_time = MAX_SECS)]
fn log_linear(bencher: Bencher, kind: Kind) {
    bench_learner(bencher, PolicyClass::LogLinear {}, kind);
}

/// Two-layer tanh MLP, hidden width 32.
#[divan::bench(args = KINDS, max_time = MAX_SECS)]
fn mlp32(bencher: Bencher, kind: Kind) {
    bench_learner(bencher, PolicyClass::Mlp { hidden: 32 }, kind);
}
