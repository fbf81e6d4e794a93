//! Tests that pin the math of the learners (SPEC §5–6): population minimisers equal the exact
//! updates, finite-difference gradient checks of every loss, Nash-MD's KL gradient, public
//! cases 8, 11, 12, 14, budget accounting and determinism.

use burn::tensor::{DType, Device, Tensor, TensorData};
use std::path::Path;
use wind_dynamics::{MetricKind, Problem};
use wind_game::numerics::{group_normalize, logsumexp};
use wind_game::{Game, GameSpec, Policy, ReferenceSpec, WindRng, metrics};
use wind_learn::losses;
use wind_learn::policy::PolicyNet;
use wind_learn::population::{PopulationLoss, fit_population, max_log_diff, perturbed_tabular};
use wind_learn::{
    LearnBudget, Learner, LearnerKind, LearnerSpec, OracleMode, PolicyClass, run_learner,
    test_device,
};

const BETA: f64 = 0.1;

fn t1(v: Vec<f64>, d: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(
        TensorData::new(v.iter().map(|&x| x as f32).collect::<Vec<_>>(), [n]),
        d,
    )
}

fn game2x5(seed: u64) -> (Game, Policy) {
    let game = GameSpec::Mixture {
        contexts: 2,
        actions: 5,
        lambda: 0.3,
        temperature: 1.0,
        scale: 3.0,
    }
    .build(seed, Path::new("."))
    .unwrap();
    let reference = ReferenceSpec::SoftmaxGaussian { sigma: 1.0 }
        .build(&game, seed, Path::new("."))
        .unwrap();
    (game, reference)
}

/// WIND-KL's population loss (`K → ∞`: weights `α ∝ π_t·exp(b + η·g(w))`) is minimised
/// exactly by the exact WIND step, for `g = identity` and `g = log`.
#[test]
fn wind_kl_population_minimizer_is_exact_step() {
    for which in [PopulationLoss::Kl, PopulationLoss::KlLog] {
        let (game, reference) = game2x5(1);
        let fit = fit_population(which, &game, &reference, BETA, 1.0, 1, &test_device());
        assert!(
            fit.max_log_err < 2e-3,
            "{which:?}: max |Δ log π| = {}",
            fit.max_log_err
        );
    }
}

/// WIND-NCE's population loss (positives `2π_t·w`, negatives `π_t`) is minimised by the exact
/// step with `g = log` (one regularised iterative-BOND step), the offset absorbing `log 2` and
/// the normaliser.
#[test]
fn wind_nce_population_minimizer_is_exact_log_step() {
    let (game, reference) = game2x5(2);
    let fit = fit_population(
        PopulationLoss::Nce,
        &game,
        &reference,
        BETA,
        1.0,
        2,
        &test_device(),
    );
    assert!(
        fit.max_log_err < 2e-3,
        "max |Δ log π| = {}",
        fit.max_log_err
    );
}

/// WIND-SQ's population loss (enumerating `y, y'` and `o`) is minimised by the exact step up
/// to the normaliser error `δ = log Σ_y π_t(y)·exp(b(y) + η(w(y) − ½))` (≈ −ηβ·KL(π_t‖π_ref)
/// since `E_{π_t} w = ½`). Measured here: max |Δ log π| ≤ 2|δ|.
#[test]
fn wind_sq_population_minimizer_is_exact_step_up_to_normalizer() {
    for (seed, eta) in [(3u64, 1.0), (4, 1.0), (5, 0.5)] {
        let (game, reference) = game2x5(seed);
        let fit = fit_population(
            PopulationLoss::Sq,
            &game,
            &reference,
            BETA,
            eta,
            seed,
            &test_device(),
        );
        let (err, delta) = (fit.max_log_err, fit.delta);
        assert!(
            delta > 1e-4,
            "the test needs a non-trivial normaliser (δ = {delta})"
        );
        assert!(
            err <= 2.0 * delta + 2e-3,
            "seed {seed}: max |Δ log π| = {err}, δ = {delta}"
        );
        println!("wind_sq seed {seed} eta {eta}: max |Δ log π| = {err:.3e}, |δ| = {delta:.3e}");
    }
}

fn flat(x: usize, y: usize) -> i64 {
    (x * 5 + y) as i64
}

fn gather(lp: Tensor<1>, idx: &[i64], d: &Device) -> Tensor<1> {
    lp.select(
        0,
        Tensor::from_data(TensorData::new(idx.to_vec(), [idx.len()]), d),
    )
}

/// Finite-difference gradient checks (central differences, f64 tensors) of every loss with
/// respect to its log-probability inputs.
#[test]
fn finite_difference_gradients_of_every_loss() {
    let d = Device::flex().autodiff();
    let mut rng = WindRng::new(9);
    let b = 6;
    let mut rand = |s: f64| -> Vec<f64> { (0..b).map(|_| s * rng.normal()).collect() };
    let f64t = |v: &[f64]| -> Tensor<1> {
        Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), (&d, DType::F64))
    };
    let x1 = rand(1.0);
    let x2 = rand(1.0);
    let c1 = rand(0.5);
    let c2 = rand(0.5);
    let lab: Vec<f64> = rand(1.0).iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect();
    let wts: Vec<f64> = rand(1.0).iter().map(|v| v.exp()).collect();
    type LossFn<'a> = Box<dyn Fn(Tensor<1>, Tensor<1>) -> Tensor<1> + 'a>;
    let cases: Vec<(&str, LossFn)> = vec![
        (
            "wind_sq",
            Box::new(|a, _| {
                losses::wind_sq(a, f64t(&c1), f64t(&c2), f64t(&lab), &Some(f64t(&wts)), 0.7).0
            }),
        ),
        (
            "wind_kl",
            Box::new(|a, _| losses::wind_kl(a.reshape([2, 3]), f64t(&wts).reshape([2, 3]))),
        ),
        (
            "wind_nce",
            Box::new(|a, bb| {
                losses::wind_nce(
                    a,
                    f64t(&c1),
                    f64t(&c2),
                    bb,
                    f64t(&c2),
                    f64t(&c1),
                    &Some(f64t(&wts)),
                    &None,
                    0.7,
                )
            }),
        ),
        (
            "sppo",
            Box::new(|a, _| losses::sppo(a, f64t(&c1), f64t(&lab), &None, 2.0).0),
        ),
        (
            "online_ipo",
            Box::new(|a, bb| {
                losses::online_ipo(a, bb, f64t(&c1), f64t(&c2), f64t(&lab), &None, 0.1).0
            }),
        ),
        (
            "online_dpo",
            Box::new(|a, bb| {
                losses::online_dpo(a, bb, f64t(&c1), f64t(&c2), &Some(f64t(&wts)), 0.5)
            }),
        ),
        (
            "policy_gradient",
            Box::new(|a, _| losses::policy_gradient(a.clone().exp(), f64t(&c1), &None)),
        ),
        (
            "distill",
            Box::new(|a, _| losses::distill(a, &Some(f64t(&wts)))),
        ),
    ];
    for (name, f) in &cases {
        let a = f64t(&x1).require_grad();
        let bb = f64t(&x2).require_grad();
        let grads = f(a.clone(), bb.clone()).backward();
        let ga: Vec<f64> = a
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f64>()
            .unwrap();
        let gb: Vec<f64> = bb
            .grad(&grads)
            .map(|g| g.into_data().try_to_vec::<f64>().unwrap())
            .unwrap_or_else(|| vec![0.0; b]);
        let eval = |u: &[f64], v: &[f64]| -> f64 {
            f(f64t(u), f64t(v)).into_data().try_to_vec::<f64>().unwrap()[0]
        };
        let h = 1e-6;
        for i in 0..b {
            for (which, g) in [(0, &ga), (1, &gb)] {
                let (mut up, mut dn) = ((x1.clone(), x2.clone()), (x1.clone(), x2.clone()));
                if which == 0 {
                    up.0[i] += h;
                    dn.0[i] -= h;
                } else {
                    up.1[i] += h;
                    dn.1[i] -= h;
                }
                let fd = (eval(&up.0, &up.1) - eval(&dn.0, &dn.1)) / (2.0 * h);
                assert!(
                    (fd - g[i]).abs() <= 1e-6 * (1.0 + fd.abs()),
                    "{name}: ∂/∂input{which}[{i}]: autodiff {} vs finite difference {fd}",
                    g[i]
                );
            }
        }
    }
}

/// Public case 11: on a tabular softmax, the expected gradient of Nash-MD-PG's KL part
/// (`y ∼ π_θ`, advantage `−τ·log(π_θ/π_ref)(y)`, score function) equals the exact
/// `τ·∇_θ KL(softmax(θ)‖π_ref)` computed by finite differences. The naive estimator that
/// differentiates the sampled log-ratio directly has expected gradient 0 — wrong.
#[test]
fn case11_nash_md_kl_gradient_is_exact_in_expectation() {
    let d = test_device();
    let (game, reference) = game2x5(6);
    let (net, consts) = perturbed_tabular(&game, &reference, 6, &d);
    let pi = net.policy.to_policy(&consts);
    let tau = 0.3;
    let x = 0;
    let p = pi.probs(x);
    let idx: Vec<i64> = (0..5).map(|y| flat(x, y)).collect();
    let adv: Vec<f64> = (0..5)
        .map(|y| -tau * (pi.logp(x)[y] - reference.logp(x)[y]))
        .collect();
    let lp = gather(net.policy.log_probs_flat(&consts), &idx, &d);
    let loss = losses::policy_gradient(lp.clone(), t1(adv, &d), &Some(t1(p.clone(), &d)));
    let PolicyNet::Tabular(tab) = &net.policy else {
        unreachable!()
    };
    let g = tab.delta.val().grad(&loss.backward()).unwrap();
    let g: Vec<f32> = g.into_data().try_to_vec::<f32>().unwrap();
    // exact gradient by central differences of τ·KL(softmax(ℓ_ref + δ)‖π_ref) in f64
    let delta0: Vec<f64> = (0..5)
        .map(|y| pi.logp(x)[y] - reference.logp(x)[y])
        .collect();
    let kl = |dl: &[f64]| {
        let l: Vec<f64> = (0..5).map(|y| reference.logp(x)[y] + dl[y]).collect();
        let z = logsumexp(&l);
        (0..5)
            .map(|y| (l[y] - z).exp() * (l[y] - z - reference.logp(x)[y]))
            .sum::<f64>()
    };
    let mut naive_nonzero = false;
    for y in 0..5 {
        let (mut up, mut dn) = (delta0.clone(), delta0.clone());
        up[y] += 1e-6;
        dn[y] -= 1e-6;
        let fd = tau * (kl(&up) - kl(&dn)) / 2e-6;
        assert!(
            (g[x * 5 + y] as f64 - fd).abs() < 1e-4,
            "action {y}: score-function {} vs exact {fd}",
            g[x * 5 + y]
        );
        naive_nonzero |= fd.abs() > 1e-3;
    }
    // the naive estimator: E_y[∇ log π_θ(y)]·τ·(log-ratio treated as a constant loss) = 0
    let lp = gather(net.policy.log_probs_flat(&consts), &idx, &d);
    let naive = losses::distill(lp, &Some(t1(p, &d))).neg();
    let gn = tab.delta.val().grad(&naive.backward()).unwrap();
    let gn: Vec<f32> = gn.into_data().try_to_vec::<f32>().unwrap();
    assert!(
        gn[..5].iter().all(|v| v.abs() < 1e-5),
        "E[∇log π] = 0: {gn:?}"
    );
    assert!(naive_nonzero, "the test must have a non-zero KL gradient");
}

fn problem(seed: u64, contexts: usize, actions: usize) -> Problem {
    let game = GameSpec::Contextual {
        contexts,
        actions,
        dim: 4,
        lambda: 0.5,
        temperature: 1.0,
        scale: 3.0,
    }
    .build(seed, Path::new("."))
    .unwrap();
    let reference = ReferenceSpec::SoftmaxGaussian { sigma: 1.0 }
        .build(&game, seed, Path::new("."))
        .unwrap();
    Problem::new(game, reference, BETA).unwrap()
}

fn learner(
    p: &Problem,
    kind: LearnerKind,
    class: PolicyClass,
    mode: OracleMode,
    seed: u64,
) -> Learner {
    let mut spec = LearnerSpec::new(kind);
    spec.batch = 16;
    Learner::new(
        spec,
        class,
        mode,
        &p.game,
        &p.reference,
        BETA,
        seed,
        &test_device(),
    )
    .unwrap()
}

/// Public case 8: all judge scores tied (every preference ½, K = 5): SPPO's update is zero, no
/// DPO pair has chosen = rejected, nothing is NaN.
#[test]
fn case8_all_ties_zero_update() {
    let n = 5;
    let game = Game::from_matrices(&[vec![vec![0.5; n]; n]], None).unwrap();
    let reference = ReferenceSpec::SoftmaxGaussian { sigma: 1.0 }
        .build(&game, 0, Path::new("."))
        .unwrap();
    for kind in [
        LearnerKind::Sppo { eta: 1.0, k: 5 },
        LearnerKind::OnlineDpo {},
    ] {
        let mut l = Learner::new(
            LearnerSpec::new(kind.clone()),
            PolicyClass::Tabular {},
            OracleMode::Exact,
            &game,
            &reference,
            BETA,
            0,
            &test_device(),
        )
        .unwrap();
        let before = l.policy();
        let st = l.iterate(&game);
        let after = l.policy();
        assert!(st.loss.is_finite(), "{kind:?}");
        assert!(
            max_log_diff(&before, &after) < 1e-6,
            "{kind:?}: the policy moved"
        );
        if matches!(kind, LearnerKind::OnlineDpo {}) {
            assert_eq!(st.skipped_pairs, 64, "every tied pair is dropped");
        } else {
            assert_eq!(st.loss, 0.0);
            assert_eq!(
                l.counters().oracle_queries,
                64 * 25,
                "K² judge calls per prompt"
            );
        }
    }
}

/// Public case 12: a near-constant group (7 × 0.35, 1 × 0.95) gives bounded normalised
/// advantages (|z| ≤ √(n−1)) and a constant group gives zeros, thanks to the std floor; the
/// leave-one-out baseline J-BOND uses is bounded by the range.
#[test]
fn case12_near_constant_group() {
    let mut r = vec![0.35; 7];
    r.push(0.95);
    let z = group_normalize(&r, 1e-6);
    assert!(
        z.iter()
            .all(|v| v.is_finite() && v.abs() <= 7f64.sqrt() + 1e-12),
        "{z:?}"
    );
    assert!(group_normalize(&[0.35; 8], 1e-6).iter().all(|&v| v == 0.0));
    let a = losses::leave_one_out(&r);
    assert!(a.iter().all(|v| v.abs() <= 0.6 + 1e-12), "{a:?}");
    assert!((a[7] - 0.6).abs() < 1e-12);
}

/// Public case 14: the SPPO-style target `(1/β)(ŵ − ½)` with β = 1e-3 (η = 1000): the
/// reported loss is divided by η² (scale reported), stays finite, and training does not
/// diverge on the default optimizer settings.
#[test]
fn case14_small_beta_loss_scale() {
    let p = {
        let mut p = problem(3, 4, 6);
        p.beta = 1e-3;
        p
    };
    let mut l = learner(
        &p,
        LearnerKind::Sppo { eta: 1000.0, k: 5 },
        PolicyClass::Tabular {},
        OracleMode::Bernoulli,
        3,
    );
    for _ in 0..5 {
        let st = l.iterate(&p.game);
        assert!(
            st.loss.is_finite() && st.loss < 10.0,
            "reported loss {}",
            st.loss
        );
        assert_eq!(st.loss_scale, 1e6);
    }
    let pi = l.policy();
    for x in 0..pi.n_contexts() {
        assert!(pi.probs(x).iter().all(|v| v.is_finite()));
    }
    assert!(metrics::kl(&p.game, &pi, &p.reference).is_finite());
}

/// Budget accounting: per prompt, WIND-SQ makes 1 query and draws 2 samples; SPPO makes K²
/// queries and draws K; J-BOND 3 and 3; the optimizer counts its steps.
#[test]
fn counters_per_prompt() {
    let p = problem(1, 5, 6);
    for (kind, q, s) in [
        (LearnerKind::WindSq { eta: 1.0 }, 1, 2),
        (
            LearnerKind::WindKl {
                eta: 1.0,
                k: 4,
                g: Default::default(),
            },
            6,
            4,
        ),
        (LearnerKind::WindNce { eta: 1.0 }, 1, 3),
        (LearnerKind::Sppo { eta: 1.0, k: 5 }, 25, 5),
        (
            LearnerKind::Jbond {
                beta_j: 0.5,
                eta_j: 0.02,
                gamma: 0.0,
            },
            3,
            3,
        ),
        (LearnerKind::NashMdPg { m: 0.1, tau: None }, 1, 2),
        (LearnerKind::OnlineIpo {}, 1, 2),
        (LearnerKind::BondMc { n: 4 }, 3, 4),
    ] {
        assert_eq!(kind.queries_per_prompt(), q);
        let mut l = learner(
            &p,
            kind.clone(),
            PolicyClass::Tabular {},
            OracleMode::Bernoulli,
            0,
        );
        l.iterate(&p.game);
        l.iterate(&p.game);
        let c = l.counters();
        assert_eq!(c.oracle_queries, 2 * 16 * q, "{kind:?}");
        assert_eq!(c.samples, 2 * 16 * s, "{kind:?}");
        assert_eq!(c.grad_steps, 2 * kind.default_steps() as u64, "{kind:?}");
    }
}

/// A fixed seed gives the identical policy and counters (CPU backend), for every policy class.
#[test]
fn determinism_fixed_seed() {
    let p = problem(2, 4, 5);
    for class in [
        PolicyClass::Tabular {},
        PolicyClass::LogLinear {},
        PolicyClass::Mlp { hidden: 8 },
    ] {
        let run = || {
            let mut l = learner(
                &p,
                LearnerKind::WindSq { eta: 1.0 },
                class,
                OracleMode::Bernoulli,
                11,
            );
            for _ in 0..3 {
                l.iterate(&p.game);
            }
            (l.policy(), l.counters())
        };
        let (a, ca) = run();
        let (b, cb) = run();
        assert_eq!(ca, cb);
        assert_eq!(a, b, "{class:?}");
        assert!(
            max_log_diff(&a, &p.reference) > 1e-3,
            "{class:?}: training moved the policy"
        );
    }
}

/// Sample-based WIND tracks exact WIND: with the exact (soft) oracle and a large batch,
/// WIND-SQ and -NCE approach their targets (KL down ≥ 10× in 30 iterations; exact WIND gets
/// to 3.9e-4 and 1.5e-3 on this game), and the run records its metrics
/// each iteration within the oracle-query budget. WIND-KL's per-group self-normalised weights
/// are biased for small K (the normaliser of a group of K contains the sample itself), so it
/// stalls at a floor that shrinks as K grows: asserted as K = 16 ending closer than K = 4.
#[test]
fn sample_based_wind_reduces_kl_to_target() {
    let p = problem(4, 3, 5).with_log_target().unwrap();
    let mut kl_floor = vec![];
    for kind in [
        LearnerKind::WindSq { eta: 1.0 },
        LearnerKind::WindNce { eta: 1.0 },
        LearnerKind::WindKl {
            eta: 1.0,
            k: 4,
            g: Default::default(),
        },
        LearnerKind::WindKl {
            eta: 1.0,
            k: 16,
            g: Default::default(),
        },
    ] {
        let mut spec = LearnerSpec::new(kind.clone());
        // NCE fitted to convergence on a small batch pushes actions seen only as negatives
        // towards −∞ (a finite-sample effect), so it gets a larger batch.
        spec.batch = if matches!(kind, LearnerKind::WindNce { .. }) {
            2048
        } else {
            256
        };
        let mut l = Learner::new(
            spec,
            PolicyClass::Tabular {},
            OracleMode::Exact,
            &p.game,
            &p.reference,
            BETA,
            0,
            &test_device(),
        )
        .unwrap();
        let mut rows = vec![];
        let budget = LearnBudget {
            oracle_queries: u64::MAX,
            max_iters: 30,
            tol: 0.0,
        };
        let rep = run_learner(
            &mut l,
            &p,
            &budget,
            &[MetricKind::KlTarget],
            &mut |it: usize, c: wind_dynamics::Counters, m: &[(MetricKind, f64)]| {
                rows.push((it, c.oracle_queries, m[0].1));
            },
        );
        let (first, last) = (rows[0].2, rows.last().unwrap().2);
        let exact = {
            let ex = wind_dynamics::Executor {
                max_iters: 30,
                tol: 0.0,
                metrics: vec![],
            };
            let mut solver = wind_dynamics::build_solver(&wind_dynamics::MethodSpec::Wind {
                g: kind.target_transform(),
                eta: 1.0,
            });
            ex.run(
                solver.as_mut(),
                &p,
                &mut |_: usize, _: wind_dynamics::Counters, _: &[(MetricKind, f64)]| {},
            )
            .final_kl_target
        };
        println!(
            "{kind:?}: KL(target‖π) {first:.3e} → {last:.3e}; exact WIND after 30 iterations {exact:.3e}"
        );
        assert_eq!(rows.len(), rep.iterations + 1);
        assert_eq!(rep.iterations, 30);
        match kind {
            LearnerKind::WindKl { k, .. } => {
                assert!(
                    last < 0.5 * first,
                    "{kind:?}: KL(target‖π) {first} → {last}"
                );
                kl_floor.push((k, last));
            }
            _ => assert!(
                last < 0.1 * first,
                "{kind:?}: KL(target‖π) {first} → {last}"
            ),
        }
    }
    assert!(
        kl_floor[1].1 < kl_floor[0].1,
        "WIND-KL's bias shrinks with K: {kl_floor:?}"
    );
}
