//! `wind bench`: median wall time of the exact solvers and one exact-WIND iteration.

use anyhow::Result;
use std::path::Path;
use std::time::Instant;
use wind_dynamics::{MethodSpec, Problem, State, build_solver};
use wind_game::{GameSpec, Policy, Transform, solve_nash, solve_regularized};

fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Run the benchmarks and print a table.
pub fn run(quick: bool) -> Result<()> {
    let sizes: &[usize] = if quick { &[10, 100] } else { &[10, 100, 1000] };
    println!("{:<40} {:>8} {:>14}", "benchmark", "reps", "median");
    for &n in sizes {
        let g = GameSpec::Cyclic {
            contexts: 1,
            actions: n,
            scale: 3.0,
        }
        .build(1, Path::new("."))?;
        let reps = if n >= 1000 {
            3
        } else if n >= 100 {
            10
        } else {
            200
        };
        let t = median_secs(reps, || {
            solve_nash(&g).expect("nash");
        });
        println!(
            "{:<40} {:>8} {:>12.3} ms",
            format!("nash (cyclic, n = {n})"),
            reps,
            t * 1e3
        );
        let r = Policy::uniform(1, n);
        let t = median_secs(reps, || {
            solve_regularized(&g, &r, 0.1, Transform::Identity).expect("reg");
        });
        println!(
            "{:<40} {:>8} {:>12.3} ms",
            format!("regularized nash (β = 0.1, n = {n})"),
            reps,
            t * 1e3
        );
    }
    let (c, n) = if quick { (10, 100) } else { (100, 100) };
    let g = GameSpec::Cyclic {
        contexts: c,
        actions: n,
        scale: 3.0,
    }
    .build(2, Path::new("."))?;
    let r = Policy::uniform(c, n);
    let p = Problem::new(g, r, 0.1)?;
    let mut s = build_solver(&MethodSpec::Wind {
        g: Transform::Identity,
        eta: 1.0,
    });
    let st = State {
        iter: 0,
        policy: p.reference.clone(),
        aux: None,
    };
    let reps = 20;
    let t = median_secs(reps, || {
        std::hint::black_box(s.next_iter(&p, &st));
    });
    let bytes = (c * n * n * 8) as f64;
    println!(
        "{:<40} {:>8} {:>12.3} ms  ({:.2} GB/s of payoff matrix)",
        format!("exact WIND iteration ({c} ctx × {n} actions)"),
        reps,
        t * 1e3,
        bytes / t / 1e9
    );
    learners(quick)?;
    Ok(())
}

/// Throughput of the learners: policy samples/s and optimizer steps/s per policy class and
/// learner on the fig1 bandit (20 contexts × 10 actions, 8 features), flex backend.
fn learners(quick: bool) -> Result<()> {
    use wind_learn::{BackendChoice, Learner, LearnerKind, LearnerSpec, OracleMode, PolicyClass};
    let g = GameSpec::Contextual {
        contexts: 20,
        actions: 10,
        dim: 8,
        lambda: 0.5,
        temperature: 1.0,
        scale: 3.0,
    }
    .build(0, Path::new("."))?;
    let r =
        wind_game::ReferenceSpec::SoftmaxGaussian { sigma: 1.0 }.build(&g, 0, Path::new("."))?;
    let dev = wind_learn::select_device(BackendChoice::Cpu).map_err(anyhow::Error::msg)?;
    println!();
    println!(
        "{:<12} {:<12} {:>7} {:>12} {:>12} {:>12}   (batch 64, 20 steps/iter for iterative methods, flex)",
        "policy", "learner", "iters", "iters/s", "samples/s", "steps/s"
    );
    let kinds = [
        LearnerKind::WindSq { eta: 1.0 },
        LearnerKind::WindKl {
            eta: 1.0,
            k: 4,
            g: Transform::Identity,
        },
        LearnerKind::WindNce { eta: 1.0 },
        LearnerKind::Sppo { eta: 1.0, k: 5 },
        LearnerKind::Jbond {
            beta_j: 0.5,
            eta_j: 0.02,
            gamma: 0.0,
        },
        LearnerKind::NashMdPg { m: 0.1, tau: None },
        LearnerKind::OnlineIpo {},
        LearnerKind::OnlineDpo {},
        LearnerKind::BondMc { n: 2 },
    ];
    let classes = [
        PolicyClass::Tabular {},
        PolicyClass::LogLinear {},
        PolicyClass::Mlp { hidden: 32 },
    ];
    for class in classes {
        for kind in &kinds {
            let spec = LearnerSpec::new(kind.clone());
            let mut l = Learner::new(
                spec,
                class,
                OracleMode::Bernoulli,
                &g,
                &r,
                0.1,
                0,
                &dev.device,
            )?;
            let iters = if quick {
                3
            } else if kind.default_steps() > 1 {
                20
            } else {
                200
            };
            l.iterate(&g); // warm-up
            let c0 = l.counters();
            let t0 = Instant::now();
            for _ in 0..iters {
                l.iterate(&g);
            }
            let t = t0.elapsed().as_secs_f64();
            let c = l.counters();
            println!(
                "{:<12} {:<12} {:>7} {:>12.1} {:>12.0} {:>12.0}",
                class.name(),
                kind.name(),
                iters,
                iters as f64 / t,
                (c.samples - c0.samples) as f64 / t,
                (c.grad_steps - c0.grad_steps) as f64 / t
            );
        }
    }
    Ok(())
}
