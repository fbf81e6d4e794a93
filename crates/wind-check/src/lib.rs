//! # wind-check
//!
//! The theory-verification harness behind `wind check`: a registry of claims, each with a
//! statement, the expected value or bound, the measured value and pass/fail, and a link to the
//! code or test that computes it. The implementations under test are passed in as [`Impls`],
//! so a test can swap in a deliberately broken update and see the claim that catches it.

use std::path::Path;
use wind_bond::{bond_reward, power_bon, reward_bon};
use wind_dynamics::{
    Counters, Executor, MethodSpec, MetricKind, Problem, State, build_solver, linear_rate,
};
use wind_game::numerics::log_softmax;
use wind_game::{
    Game, GameSpec, Policy, ReferenceSpec, Transform, WindRng, metrics, solve_nash,
    solve_regularized,
};
use wind_learn::population::{PopulationLoss, fit_population};
use wind_learn::{
    BackendChoice, Learner, LearnerKind, LearnerSpec, OracleMode, PolicyClass, select_device,
};

/// Exact reward Best-of-N: `(probs, rewards, N) → law`.
pub type RewardBon = fn(&[f64], &[f64], u32) -> Vec<f64>;
/// One exact WIND step: `(problem, π_t, η, g) → π_{t+1}`.
pub type WindStep = fn(&Problem, &Policy, f64, Transform) -> Policy;

/// The implementations the claims measure.
#[derive(Debug, Clone, Copy)]
pub struct Impls {
    /// Reward BoN with ties.
    pub reward_bon: RewardBon,
    /// Exact WIND.
    pub wind_step: WindStep,
}

fn wind_step_real(p: &Problem, pi: &Policy, eta: f64, g: Transform) -> Policy {
    let mut s = build_solver(&MethodSpec::Wind { g, eta });
    let st = State {
        iter: 0,
        policy: pi.clone(),
        aux: None,
    };
    s.next_iter(p, &st).policy
}

impl Default for Impls {
    fn default() -> Self {
        Self {
            reward_bon,
            wind_step: wind_step_real,
        }
    }
}

/// What a claim measured.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A value compared with its expectation.
    Measured {
        /// The measured value.
        value: f64,
        /// Whether it satisfies the expectation.
        pass: bool,
        /// Extra context (sizes, seeds, sub-results).
        detail: String,
    },
    /// Not measurable here (with the reason).
    Skipped(String),
}

/// A registered claim.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    /// Short identifier.
    pub name: &'static str,
    /// What is claimed.
    pub statement: &'static str,
    /// The expected value or bound, with its tolerance.
    pub expected: &'static str,
    /// Where it is computed (and where its test lives).
    pub link: &'static str,
    /// Included in `--fast`.
    pub fast: bool,
    /// Measure it (`full` = the larger version).
    pub measure: fn(&Impls, bool) -> Outcome,
}

/// A claim with its outcome.
#[derive(Debug, Clone)]
pub struct ClaimResult {
    /// The claim.
    pub claim: Claim,
    /// Its outcome.
    pub outcome: Outcome,
}

impl ClaimResult {
    /// Whether it failed (skipped claims do not fail).
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Measured { pass: false, .. })
    }

    /// `pass` / `FAIL` / `skipped`.
    pub fn status(&self) -> &'static str {
        match self.outcome {
            Outcome::Measured { pass: true, .. } => "pass",
            Outcome::Measured { pass: false, .. } => "FAIL",
            Outcome::Skipped(_) => "skipped",
        }
    }

    /// The measured value formatted (empty when skipped).
    pub fn value(&self) -> String {
        match &self.outcome {
            Outcome::Measured { value, .. } => format!("{value:.3e}"),
            Outcome::Skipped(_) => String::new(),
        }
    }

    /// Detail or skip reason.
    pub fn detail(&self) -> &str {
        match &self.outcome {
            Outcome::Measured { detail, .. } => detail,
            Outcome::Skipped(r) => r,
        }
    }
}

fn at_most(value: f64, bound: f64, detail: String) -> Outcome {
    Outcome::Measured {
        value,
        pass: value.is_finite() && value <= bound,
        detail,
    }
}

fn max_abs(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn random_dist(n: usize, rng: &mut WindRng) -> Vec<f64> {
    let l: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    log_softmax(&l).into_iter().map(f64::exp).collect()
}

/// Brute-force reward BoN: enumerate all `n^N` draws; the winner is uniform among tied maxima.
pub fn bon_enumerate(probs: &[f64], rewards: &[f64], big_n: u32) -> Vec<f64> {
    let n = probs.len();
    let mut out = vec![0.0; n];
    let total = n.pow(big_n);
    for code in 0..total {
        let mut c = code;
        let mut draw = Vec::with_capacity(big_n as usize);
        let mut p = 1.0;
        for _ in 0..big_n {
            draw.push(c % n);
            p *= probs[c % n];
            c /= n;
        }
        let best = draw
            .iter()
            .map(|&y| rewards[y])
            .fold(f64::NEG_INFINITY, f64::max);
        let winners: Vec<usize> = draw
            .iter()
            .copied()
            .filter(|&y| rewards[y] == best)
            .collect();
        for &y in &winners {
            out[y] += p / winners.len() as f64;
        }
    }
    out
}

fn claim_bon_enumeration(im: &Impls, full: bool) -> Outcome {
    let mut rng = WindRng::new(1);
    let (cases, mut worst) = (if full { 200 } else { 40 }, 0.0f64);
    for _ in 0..cases {
        let n = 2 + rng.below(3);
        let p = random_dist(n, &mut rng);
        let r: Vec<f64> = (0..n).map(|_| rng.below(3) as f64).collect(); // ties on purpose
        for big_n in 1..=4 {
            worst = worst.max(max_abs(
                &(im.reward_bon)(&p, &r, big_n),
                &bon_enumerate(&p, &r, big_n),
            ));
        }
    }
    let case6 = (im.reward_bon)(&[0.5, 0.3, 0.2], &[1.0, 1.0, 0.0], 2);
    let c6 = max_abs(&case6, &[0.6, 0.36, 0.04]);
    at_most(
        worst.max(c6),
        1e-12,
        format!(
            "{cases} random instances with tied rewards, N = 1..4; public case 6 error {c6:.1e}"
        ),
    )
}

fn claim_bon_composition(im: &Impls, _full: bool) -> Outcome {
    let mut rng = WindRng::new(2);
    let mut worst = 0.0f64;
    for _ in 0..30 {
        let n = 3 + rng.below(4);
        let p = random_dist(n, &mut rng);
        let r: Vec<f64> = (0..n).map(|_| rng.below(3) as f64).collect();
        for (a, b) in [(2, 2), (2, 3), (3, 2), (1, 4)] {
            let lhs = (im.reward_bon)(&(im.reward_bon)(&p, &r, b), &r, a);
            worst = worst.max(max_abs(&lhs, &(im.reward_bon)(&p, &r, a * b)));
        }
    }
    at_most(
        worst,
        1e-12,
        "30 instances, (N, M) ∈ {(2,2),(2,3),(3,2),(1,4)}".into(),
    )
}

fn cyclic(seed: u64, n: usize, contexts: usize) -> Game {
    GameSpec::Cyclic {
        contexts,
        actions: n,
        scale: 3.0,
    }
    .build(seed, Path::new("."))
    .expect("valid game")
}

fn claim_mirror_step(im: &Impls, _full: bool) -> Outcome {
    let mut worst = 0.0f64;
    for seed in 0..5 {
        let g = cyclic(seed, 6, 2);
        let mut rng = WindRng::new(seed + 10);
        let probs: Vec<Vec<f64>> = (0..2).map(|_| random_dist(6, &mut rng)).collect();
        let pi = Policy::from_probs(&probs).expect("distribution");
        for n in [2u32, 3, 5] {
            let bon = power_bon(&g, &pi, n);
            for x in 0..2 {
                let w = g.win_rates(x, &probs[x]);
                let l: Vec<f64> = (0..6)
                    .map(|y| probs[x][y].ln() + (n as f64 - 1.0) * w[y].ln())
                    .collect();
                let mirror: Vec<f64> = log_softmax(&l).into_iter().map(f64::exp).collect();
                worst = worst.max(max_abs(&bon.probs(x), &mirror));
            }
        }
        // reward form: π_BoN = π·exp((N−1)·r_BOND) with BOND's reward (ties included)
        let r: Vec<f64> = (0..6).map(|_| rng.below(3) as f64).collect();
        for n in [2u32, 4] {
            let rb = bond_reward(&probs[0], &r, n);
            let f: Vec<f64> = (0..6)
                .map(|y| probs[0][y] * ((n as f64 - 1.0) * rb[y]).exp())
                .collect();
            worst = worst.max(max_abs(&f, &(im.reward_bon)(&probs[0], &r, n)));
        }
    }
    at_most(
        worst,
        1e-12,
        "power form vs softmax(log π + (N−1)·log w), N ∈ {2,3,5}; reward form vs π·e^{(N−1)r_BOND}"
            .into(),
    )
}

fn claim_fixed_points_nash(_im: &Impls, _full: bool) -> Outcome {
    let mut worst = 0.0f64;
    for seed in 0..6 {
        let g = cyclic(seed, 5 + seed as usize, 1);
        let nash = solve_nash(&g).expect("verified Nash").policy();
        let p = nash.probs(0);
        for n in [2u32, 4] {
            worst = worst.max(max_abs(&power_bon(&g, &nash, n).probs(0), &p));
        }
        let reference = Policy::uniform(1, g.n_actions());
        let prob = Problem::new(g.clone(), reference, 0.1).expect("solvable");
        let mut s = build_solver(&MethodSpec::SppoExact { eta: 1.0 });
        let st = State {
            iter: 0,
            policy: nash.clone(),
            aux: None,
        };
        worst = worst.max(max_abs(&s.next_iter(&prob, &st).policy.probs(0), &p));
    }
    at_most(worst, 1e-9, "‖T(π*) − π*‖∞ for iterative BOND (N = 2, 4) and SPPO-exact at the verified Nash of 6 cyclic games".into())
}

fn run_exact(
    p: &Problem,
    step: &dyn Fn(&Policy) -> Policy,
    target: &Policy,
    iters: usize,
) -> Vec<(usize, f64)> {
    let mut pi = p.reference.clone();
    let mut curve = vec![(0, metrics::kl(&p.game, target, &pi))];
    for t in 1..=iters {
        pi = step(&pi);
        let kl = metrics::kl(&p.game, target, &pi);
        curve.push((t, kl));
        if !(kl.is_finite()) || kl <= 1e-13 {
            break;
        }
    }
    curve
}

fn contextual_problem(seed: u64, beta: f64) -> Problem {
    let g = GameSpec::Contextual {
        contexts: 5,
        actions: 8,
        dim: 4,
        lambda: 0.5,
        temperature: 1.0,
        scale: 3.0,
    }
    .build(seed, Path::new("."))
    .expect("valid game");
    let r = ReferenceSpec::SoftmaxGaussian { sigma: 1.0 }
        .build(&g, seed, Path::new("."))
        .expect("valid reference");
    Problem::new(g, r, beta).expect("solvable")
}

fn claim_wind_linear(im: &Impls, _full: bool) -> Outcome {
    let (beta, eta) = (0.1, 1.0);
    let mut rates = vec![];
    for seed in 0..3 {
        let p = contextual_problem(seed, beta);
        let curve = run_exact(
            &p,
            &|pi| (im.wind_step)(&p, pi, eta, Transform::Identity),
            &p.pi_star,
            3000,
        );
        let last = curve.last().expect("non-empty").1;
        if last > 1e-12 {
            return Outcome::Measured {
                value: last,
                pass: false,
                detail: format!(
                    "seed {seed}: did not converge; final KL(π*_β‖π_t) = {last:.3e} after {} iterations",
                    curve.len() - 1
                ),
            };
        }
        rates.push(
            linear_rate(&curve, 1e-12, 1e-4)
                .map(|r| r.rate)
                .unwrap_or(f64::NAN),
        );
    }
    let worst = rates.iter().cloned().fold(0.0, f64::max);
    at_most(
        worst,
        1.0 - eta * beta + 1e-3,
        format!(
            "rates {} on 3 contextual games (5 × 8), η = 1, β = 0.1; 1 − ηβ = 0.9",
            rates
                .iter()
                .map(|r| format!("{r:.4}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

fn claim_omwu_bound(_im: &Impls, _full: bool) -> Outcome {
    let mut worst = 0.0f64;
    for seed in 0..3 {
        let p = contextual_problem(seed + 20, 0.1);
        let eta = 1.0 / (p.beta + 2.0 * p.game.skew_inf_norm());
        let ex = Executor {
            max_iters: 3000,
            tol: 1e-13,
            metrics: vec![MetricKind::KlStar],
        };
        let mut curve = vec![];
        let mut obs = |t: usize, _c: Counters, m: &[(MetricKind, f64)]| curve.push((t, m[0].1));
        ex.run(
            build_solver(&MethodSpec::Omwu { eta }).as_mut(),
            &p,
            &mut obs,
        );
        let kl0 = curve[0].1;
        for &(t, kl) in &curve {
            if kl > 1e-13 {
                worst = worst.max(kl / ((1.0 - eta * p.beta).powi(t as i32) * kl0));
            }
        }
    }
    at_most(
        worst,
        1.0 + 1e-9,
        "max_t KL_t / ((1−ηβ)^t·KL_0), η = 1/(β + 2‖A‖∞), 3 contextual games".into(),
    )
}

fn claim_beta_to_zero(_im: &Impls, _full: bool) -> Outcome {
    let mut worst_ratio = 0.0f64;
    let mut detail = vec![];
    for beta in [1e-1, 1e-2, 1e-3] {
        for seed in 0..3 {
            let g = cyclic(seed + 30, 10, 1);
            let r = Policy::uniform(1, 10);
            let sol = solve_regularized(&g, &r, beta, Transform::Identity).expect("solvable");
            let e = metrics::exploitability(&g, &sol.policy);
            worst_ratio = worst_ratio.max(e / (beta * 10f64.ln()));
            if seed == 0 {
                detail.push(format!("β = {beta:.0e}: e = {e:.2e}"));
            }
        }
    }
    at_most(
        worst_ratio,
        1.0,
        format!(
            "e(π*_β) / (β·ln n) over 10-action cyclic games (uniform π_ref): {}",
            detail.join(", ")
        ),
    )
}

fn claim_minimizer(which: PopulationLoss) -> Outcome {
    let g = GameSpec::Mixture {
        contexts: 2,
        actions: 5,
        lambda: 0.3,
        temperature: 1.0,
        scale: 3.0,
    }
    .build(1, Path::new("."))
    .expect("valid game");
    let r = ReferenceSpec::SoftmaxGaussian { sigma: 1.0 }
        .build(&g, 1, Path::new("."))
        .expect("valid");
    let dev = select_device(BackendChoice::Cpu).expect("cpu").device;
    let fit = fit_population(which, &g, &r, 0.1, 1.0, 1, &dev);
    match which {
        PopulationLoss::Sq => at_most(
            fit.max_log_err / fit.delta,
            2.0,
            format!(
                "max |Δ log π| = {:.2e} against normaliser error |δ| = {:.2e}",
                fit.max_log_err, fit.delta
            ),
        ),
        _ => at_most(
            fit.max_log_err,
            2e-3,
            "max |Δ log π| between the population minimiser (f32, Adam) and the exact step".into(),
        ),
    }
}

fn claim_min_sq(_im: &Impls, _full: bool) -> Outcome {
    claim_minimizer(PopulationLoss::Sq)
}
fn claim_min_kl(_im: &Impls, _full: bool) -> Outcome {
    claim_minimizer(PopulationLoss::Kl)
}
fn claim_min_nce(_im: &Impls, _full: bool) -> Outcome {
    claim_minimizer(PopulationLoss::Nce)
}

/// Least-squares slope of `log y` on `log x`.
pub fn loglog_slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points.iter().fold((0.0, 0.0), |(a, b), &(x, y)| {
        (a + x.ln() / n, b + y.ln() / n)
    });
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(x, y) in points {
        sxy += (x.ln() - mx) * (y.ln() - my);
        sxx += (x.ln() - mx) * (x.ln() - mx);
    }
    sxy / sxx
}

/// One iteration of a tabular learner (`batch` prompts, `steps` Adam steps) on the CPU.
fn one_iteration(
    kind: LearnerKind,
    batch: usize,
    steps: usize,
    oracle: OracleMode,
    game: &Game,
    reference: &Policy,
    seed: u64,
) -> Learner {
    let dev = select_device(BackendChoice::Cpu).expect("cpu").device;
    let mut spec = LearnerSpec::new(kind);
    spec.batch = batch;
    spec.steps = steps;
    let mut l = Learner::new(
        spec,
        PolicyClass::Tabular {},
        oracle,
        game,
        reference,
        0.1,
        seed,
        &dev,
    )
    .expect("tabular needs no features");
    l.iterate(game);
    l
}

/// WIND-SQ's error against samples per iteration. One iteration from `π_t = π_ref` on one
/// context with `m` prompts (Bernoulli labels), fitted to convergence; error =
/// `KL(π_pop‖π_fit)` against the population minimiser `π_pop`. Derivation: each fitted
/// log-ratio is a least-squares mean of `≈ 2m·π(y)` labels of variance `η²·w(1−w)`, so its
/// error is `O(1/m)` in variance, and KL is a quadratic form in those errors: `E[KL] ≈ C/m`,
/// slope −1 on log-log axes (bias-free, since the comparison is with the population
/// minimiser, not the exact step).
fn claim_sq_slope(_im: &Impls, full: bool) -> Outcome {
    let g = cyclic(7, 5, 1);
    let r = ReferenceSpec::SoftmaxGaussian { sigma: 0.5 }
        .build(&g, 7, Path::new("."))
        .expect("valid");
    let sq = LearnerKind::WindSq { eta: 1.0 };
    let pop = one_iteration(sq.clone(), 1 << 17, 400, OracleMode::Exact, &g, &r, 0).policy();
    let sizes = [64usize, 256, 1024, 4096];
    let seeds = if full { 12 } else { 6 };
    let mut pts = vec![];
    for &m in &sizes {
        let mut tot = 0.0;
        for seed in 0..seeds {
            let l = one_iteration(
                sq.clone(),
                m,
                400,
                OracleMode::Bernoulli,
                &g,
                &r,
                100 + seed,
            );
            tot += metrics::kl(&g, &pop, &l.policy());
        }
        pts.push((m as f64, tot / seeds as f64));
    }
    let slope = loglog_slope(&pts);
    Outcome::Measured {
        value: slope,
        pass: (slope + 1.0).abs() <= 0.25,
        detail: format!(
            "mean KL over {seeds} seeds at m = {:?}: {}",
            sizes,
            pts.iter()
                .map(|p| format!("{:.2e}", p.1))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn claim_queries(_im: &Impls, _full: bool) -> Outcome {
    let g = cyclic(1, 6, 3);
    let r = Policy::uniform(3, 6);
    let q = |kind: LearnerKind| {
        let l = one_iteration(kind, 10, 1, OracleMode::Bernoulli, &g, &r, 0);
        l.counters().oracle_queries as f64 / 10.0
    };
    let (w, s) = (
        q(LearnerKind::WindSq { eta: 1.0 }),
        q(LearnerKind::Sppo { eta: 1.0, k: 5 }),
    );
    Outcome::Measured {
        value: s / w,
        pass: w == 1.0 && s == 25.0,
        detail: format!("queries per prompt: WIND-SQ {w}, SPPO (K = 5) {s}"),
    }
}

/// WIND/SPPO seconds per iteration (generate + judge + train). Full mode reads the committed
/// experiment's `results/fig2/summary.json` when it exists; otherwise (and in fast mode) the
/// micro fig2 runs here. Pass: WIND's iteration is cheaper (ratio < 1).
fn claim_fig2(_im: &Impls, full: bool) -> Outcome {
    let from_file = full
        .then(|| std::fs::read_to_string("results/fig2/summary.json").ok())
        .flatten()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    let (summary, source) = match from_file {
        Some(v) => (
            v,
            "results/fig2/summary.json (`wind reproduce fig2`)".to_string(),
        ),
        None => {
            let dir = match tempfile::tempdir() {
                Ok(d) => d,
                Err(e) => return Outcome::Skipped(format!("no temp dir: {e}")),
            };
            match wind_lm::fig2::run_micro(dir.path()) {
                Ok(o) => (
                    o.summary,
                    "micro fig2 run (2-block model, 3 prompts, 1 iteration)".to_string(),
                ),
                Err(e) => {
                    return Outcome::Measured {
                        value: f64::NAN,
                        pass: false,
                        detail: format!("micro fig2 failed: {e}"),
                    };
                }
            }
        }
    };
    let Some(r) = summary["wind_sppo_time_ratio"].as_f64() else {
        return Outcome::Measured {
            value: f64::NAN,
            pass: false,
            detail: format!("{source}: no wind_sppo_time_ratio"),
        };
    };
    let l = &summary["learners"];
    let secs = |k: &str| l[k]["seconds_per_iteration"].as_f64().unwrap_or(f64::NAN);
    Outcome::Measured {
        value: r,
        pass: r < 1.0,
        detail: format!(
            "{source}: {:.2} s vs {:.2} s per iteration; paper ≈ 0.62",
            secs("wind_sq"),
            secs("sppo")
        ),
    }
}

/// Every claim, in the order of the table.
pub fn registry() -> Vec<Claim> {
    vec![
        Claim {
            name: "bon_ties_enumeration",
            statement: "Reward BoN with ties equals brute-force enumeration (uniform tie-breaking), incl. public case 6",
            expected: "max abs error ≤ 1e-12",
            link: "crates/wind-bond/src/lib.rs (reward_bon); crates/wind-bond/tests/laws.rs",
            fast: true,
            measure: claim_bon_enumeration,
        },
        Claim {
            name: "bon_composition",
            statement: "BoN_N ∘ BoN_M = BoN_{NM}",
            expected: "max abs error ≤ 1e-12",
            link: "crates/wind-bond/tests/laws.rs",
            fast: true,
            measure: claim_bon_composition,
        },
        Claim {
            name: "iterative_bond_mirror_step",
            statement: "One iterative-BOND step is a mirror step of size N−1 on log w (power and reward forms)",
            expected: "max abs error ≤ 1e-12",
            link: "crates/wind-bond/src/lib.rs (power_bon, bond_reward)",
            fast: true,
            measure: claim_mirror_step,
        },
        Claim {
            name: "fixed_points_are_nash",
            statement: "Nash equilibria are fixed points of iterative BOND and SPPO-exact",
            expected: "‖T(π*) − π*‖∞ ≤ 1e-9",
            link: "crates/wind-dynamics/src/methods.rs; crates/wind-bond/tests/laws.rs",
            fast: true,
            measure: claim_fixed_points_nash,
        },
        Claim {
            name: "wind_linear_rate",
            statement: "Exact WIND (g = identity) converges linearly to π*_β at a rate ≤ 1 − ηβ",
            expected: "worst fitted rate ≤ 0.901 (η = 1, β = 0.1)",
            link: "crates/wind-dynamics/src/methods.rs; crates/wind-dynamics/tests/convergence.rs",
            fast: true,
            measure: claim_wind_linear,
        },
        Claim {
            name: "omwu_rate_bound",
            statement: "PU/OMWU satisfies KL(π*‖π_t) ≤ (1−ηβ)^t·KL(π*‖π_0) for η ≤ 1/(β + 2‖A‖∞)",
            expected: "max ratio ≤ 1",
            link: "crates/wind-dynamics/tests/convergence.rs",
            fast: true,
            measure: claim_omwu_bound,
        },
        Claim {
            name: "beta_to_zero_nash",
            statement: "π*_β approaches a Nash equilibrium as β → 0: e(π*_β) ≤ β·ln n (uniform π_ref)",
            expected: "max e/(β ln n) ≤ 1",
            link: "crates/wind-game/src/regularized.rs; crates/wind-game/tests/public_cases.rs",
            fast: true,
            measure: claim_beta_to_zero,
        },
        Claim {
            name: "wind_sq_population_minimizer",
            statement: "WIND-SQ's population minimiser is the exact WIND step up to the normaliser error δ",
            expected: "max |Δ log π| / |δ| ≤ 2",
            link: "crates/wind-learn/src/population.rs; crates/wind-learn/tests/math.rs",
            fast: true,
            measure: claim_min_sq,
        },
        Claim {
            name: "wind_kl_population_minimizer",
            statement: "WIND-KL's population minimiser (K → ∞) is the exact WIND step",
            expected: "max |Δ log π| ≤ 2e-3 (f32)",
            link: "crates/wind-learn/src/population.rs; crates/wind-learn/tests/math.rs",
            fast: true,
            measure: claim_min_kl,
        },
        Claim {
            name: "wind_nce_population_minimizer",
            statement: "WIND-NCE's population minimiser is the exact step with g = log",
            expected: "max |Δ log π| ≤ 2e-3 (f32)",
            link: "crates/wind-learn/src/population.rs; crates/wind-learn/tests/math.rs",
            fast: true,
            measure: claim_min_nce,
        },
        Claim {
            name: "wind_sq_sample_slope",
            statement: "WIND-SQ's error against samples per iteration falls as 1/m (derivation in crates/wind-check/src/lib.rs)",
            expected: "log-log slope −1 ± 0.25",
            link: "crates/wind-check/src/lib.rs (claim_sq_slope)",
            fast: true,
            measure: claim_sq_slope,
        },
        Claim {
            name: "queries_per_prompt",
            statement: "WIND-SQ makes one oracle query per prompt; SPPO makes K²",
            expected: "1 and 25 (ratio 25)",
            link: "crates/wind-learn/src/learner.rs; crates/wind-learn/tests/math.rs (counters_per_prompt)",
            fast: true,
            measure: claim_queries,
        },
        Claim {
            name: "fig2_time_ratio",
            statement: "WIND/SPPO time per iteration on the language model (paper: ≈ 0.62)",
            expected: "< 1 (paper ≈ 0.62)",
            link: "crates/wind-lm/src/fig2.rs (summarize); experiments/fig2.toml; crates/wind-lm/tests/fig2.rs",
            fast: true,
            measure: claim_fig2,
        },
    ]
}

/// Run the registry (`fast` = only the fast claims, in their small versions).
pub fn run_claims(impls: &Impls, fast: bool) -> Vec<ClaimResult> {
    registry()
        .into_iter()
        .filter(|c| !fast || c.fast)
        .map(|claim| ClaimResult {
            outcome: (claim.measure)(impls, !fast),
            claim,
        })
        .collect()
}

/// The results as a markdown table (the README's claim table).
pub fn markdown(results: &[ClaimResult]) -> String {
    let mut s = String::from(
        "| claim | statement | expected | measured | status | computed in |\n|---|---|---|---|---|---|\n",
    );
    for r in results {
        let v = if r.value().is_empty() {
            "—".to_string()
        } else {
            r.value()
        };
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | `{}` |\n",
            r.claim.name,
            r.claim.statement.replace('|', "\\|"),
            r.claim.expected.replace('|', "\\|"),
            v,
            r.status(),
            r.claim.link
        ));
    }
    s
}

/// Write `claims.csv` into `dir` atomically (temporary file, then rename).
pub fn write_csv(results: &[ClaimResult], dir: &Path) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("claims.csv");
    let tmp = dir.join(format!(".claims.csv.partial-{}", std::process::id()));
    {
        let mut w = csv::Writer::from_path(&tmp)?;
        w.write_record([
            "claim",
            "statement",
            "expected",
            "measured",
            "status",
            "detail",
            "link",
        ])?;
        for r in results {
            w.write_record([
                r.claim.name,
                r.claim.statement,
                r.claim.expected,
                &r.value(),
                r.status(),
                r.detail(),
                r.claim.link,
            ])?;
        }
        w.flush()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}
