//! Rows 1, 2, 3 and 9 of `shared/cases/public-cases.md` (rows 4, 5, 7, 10 live next to the
//! numerics; 6 in wind-bond).

use wind_game::generators::GameSpec;
use wind_game::metrics::{exploitability, kl};
use wind_game::{Game, Policy, Transform, solve_nash, solve_regularized};

fn game_from_int_skew(rows: &[&[f64]]) -> Game {
    let mats: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().map(|v| (1.0 + v) / 2.0).collect())
        .collect();
    Game::from_matrices(&[mats], None).unwrap()
}

#[test]
fn case1_degenerate_cyclic_game_unique_nash() {
    let g = game_from_int_skew(&[
        &[0., -1., -1., -1., 1., -1.],
        &[1., 0., 1., -1., -1., -1.],
        &[1., -1., 0., -1., -1., 1.],
        &[1., 1., 1., 0., -1., -1.],
        &[-1., 1., 1., 1., 0., -1.],
        &[1., 1., -1., 1., 1., 0.],
    ]);
    let s = solve_nash(&g).unwrap();
    let want = [0.0, 0.0, 1.0 / 3.0, 0.0, 1.0 / 3.0, 1.0 / 3.0];
    for (v, w) in s.contexts[0].strategy.iter().zip(want) {
        assert!((v - w).abs() < 1e-12, "{:?}", s.contexts[0].strategy);
    }
    assert!(s.contexts[0].exploitability <= 1e-12);
    assert!(
        s.contexts[0].degenerate.is_none(),
        "{:?}",
        s.contexts[0].degenerate
    );
}

fn on_segment(q: &[f64]) -> bool {
    // (1/2,0,1/2,0) + t·((1/3,1/3,0,1/3) − (1/2,0,1/2,0)), t ∈ [0,1]
    let t = q[1] * 3.0;
    let p = [0.5 - t / 6.0, t / 3.0, 0.5 - t / 2.0, t / 3.0];
    (-1e-9..=1.0 + 1e-9).contains(&t) && q.iter().zip(p).all(|(a, b)| (a - b).abs() < 1e-6)
}

#[test]
fn case2_segment_of_equilibria() {
    let g = game_from_int_skew(&[
        &[0., 1., 0., -1.],
        &[-1., 0., 1., 1.],
        &[0., -1., 0., 1.],
        &[1., -1., -1., 0.],
    ]);
    let s = solve_nash(&g).unwrap();
    let c = &s.contexts[0];
    assert!(c.exploitability <= 1e-9);
    assert!(on_segment(&c.strategy), "{:?}", c.strategy);
    assert!(
        c.degenerate.is_some(),
        "segment game must be flagged degenerate"
    );
    // β → 0: the regularized equilibrium approaches the segment, continuously in β.
    let r = Policy::uniform(1, 4);
    let mut prev: Option<Vec<f64>> = None;
    for beta in [1e-1, 1e-2, 1e-3, 1e-4] {
        let sol = solve_regularized(&g, &r, beta, Transform::Identity).unwrap();
        let q = sol.policy.probs(0);
        if let Some(p) = &prev {
            let d: f64 = p.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum();
            assert!(d < 0.2, "jump of {d} at β = {beta}");
        }
        prev = Some(q);
    }
    let q = prev.unwrap();
    assert!(exploitability(&g, &Policy::from_probs(std::slice::from_ref(&q)).unwrap()) < 1e-3);
    let dist = (0..=1000)
        .map(|k| {
            let t = k as f64 / 1000.0;
            let p = [0.5 - t / 6.0, t / 3.0, 0.5 - t / 2.0, t / 3.0];
            q.iter().zip(p).map(|(a, b)| (a - b).abs()).sum::<f64>()
        })
        .fold(f64::INFINITY, f64::min);
    assert!(
        dist < 2e-3,
        "β→0 limit {q:?} is {dist} away from the segment"
    );
}

#[test]
fn case3_duplicate_actions() {
    // RPS with rock twice: actions (rock, rock', paper, scissors).
    let g = game_from_int_skew(&[
        &[0., 0., -1., 1.],
        &[0., 0., -1., 1.],
        &[1., 1., 0., -1.],
        &[-1., -1., 1., 0.],
    ]);
    let s = solve_nash(&g).unwrap();
    let q = &s.contexts[0].strategy;
    assert!(s.contexts[0].exploitability <= 1e-12);
    assert!((q[0] + q[1] - 1.0 / 3.0).abs() < 1e-12 && (q[2] - 1.0 / 3.0).abs() < 1e-12);
    assert!(s.contexts[0].degenerate.is_some());
    for beta in [1.0, 0.1, 1e-3] {
        let sol = solve_regularized(&g, &Policy::uniform(1, 4), beta, Transform::Identity).unwrap();
        let p = sol.policy.probs(0);
        assert!(
            (p[0] - p[1]).abs() < 1e-14,
            "copies differ at β={beta}: {p:?}"
        );
    }
}

#[test]
fn case9_tiny_beta_on_50_action_cyclic_game() {
    let g = GameSpec::Cyclic {
        contexts: 1,
        actions: 50,
        scale: 3.0,
    }
    .build(9, std::path::Path::new("."))
    .unwrap();
    let r = Policy::uniform(1, 50);
    let sol = solve_regularized(&g, &r, 1e-4, Transform::Identity).unwrap();
    assert!(sol.residual <= 1e-12, "residual {}", sol.residual);
    assert!(sol.policy.logp(0).iter().all(|v| v.is_finite()));
    // close to the Nash equilibrium of the game
    let nash = solve_nash(&g).unwrap().policy();
    assert!(kl(&g, &nash, &sol.policy) < 0.05);
}
