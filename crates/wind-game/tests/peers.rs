//! Cross-checks against solvers nobody here wrote: scipy (HiGHS LP), nashpy (support
//! enumeration), pygambit (enummixed / lcp) and OpenSpiel (lp_solver via cvxpy/ECOS), and the
//! logit QRE at λ = 1/β (scipy root-finding), read from `tests/fixtures/peers/peers.json`
//! (regenerate with `just peers`).

use serde_json::Value;
use wind_game::{Game, Policy, Transform, metrics, solve_nash, solve_regularized};

fn fixture() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/peers/peers.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// The game of a fixture entry, its name and its number of actions.
fn game_of(g: &Value) -> (&str, Game, usize) {
    let p: Vec<Vec<f64>> = g["preference"]
        .as_array()
        .unwrap()
        .iter()
        .map(vecf)
        .collect();
    let n = p.len();
    (
        g["name"].as_str().unwrap(),
        Game::from_matrices(&[p], None).unwrap(),
        n,
    )
}

fn vecf(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Agreement tolerance per peer. OpenSpiel's lp_solver goes through cvxpy's ECOS, an
/// interior-point solver whose default accuracy is ~1e-8, so it is held to 1e-7; the others to 1e-9.
fn tol(peer: &str) -> f64 {
    if peer == "openspiel" { 1e-7 } else { 1e-9 }
}

#[test]
fn nash_agrees_with_every_peer() {
    let f = fixture();
    let mut worst: std::collections::BTreeMap<String, f64> = Default::default();
    for g in f["games"].as_array().unwrap() {
        let (name, game, _) = game_of(g);
        let sol = solve_nash(&game).unwrap();
        let ours = sol.policy();
        let x = ours.probs(0);
        let e = metrics::exploitability(&game, &ours);
        assert!(e <= 1e-9, "{name}: our exploitability {e}");
        let degenerate = sol.is_degenerate();
        for (peer, r) in g["nash"].as_object().unwrap() {
            let Some(eqs) = r.get("equilibria") else {
                continue;
            };
            for eq in eqs.as_array().unwrap() {
                // interior-point peers return entries like −5e-10: clip at 0 (bounded) and renormalise
                let mut y = vecf(eq);
                assert!(
                    y.iter().all(|&v| v >= -tol(peer)),
                    "{name}: {peer} returned {y:?}"
                );
                y.iter_mut().for_each(|v| *v = v.max(0.0));
                let s: f64 = y.iter().sum();
                y.iter_mut().for_each(|v| *v /= s);
                // every peer point is verified by our exploitability
                let ep = metrics::exploitability(&game, &Policy::from_probs(&[y.clone()]).unwrap());
                assert!(
                    ep <= tol(peer),
                    "{name}: {peer}'s point has exploitability {ep}"
                );
                if !degenerate {
                    let d = x
                        .iter()
                        .zip(&y)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    assert!(d <= tol(peer), "{name}: |ours − {peer}| = {d}");
                    let w = worst.entry(peer.clone()).or_default();
                    *w = w.max(d);
                }
            }
        }
        if degenerate {
            // our point lies in the equilibrium set (exploitability 0) that the peers sample
            assert!(
                name.contains("case2") || name.contains("case3"),
                "{name} unexpectedly degenerate"
            );
        }
    }
    println!("max |ours − peer| on non-degenerate games: {worst:?}");
    assert!(worst.len() >= 4, "all four peers compared: {worst:?}");
}

#[test]
fn regularized_equilibrium_is_the_logit_qre() {
    let f = fixture();
    let mut worst: f64 = 0.0;
    for g in f["games"].as_array().unwrap() {
        let (name, game, n) = game_of(g);
        for q in g["qre"].as_array().unwrap() {
            let beta = q["beta"].as_f64().unwrap();
            assert!(
                q["residual"].as_f64().unwrap() <= 1e-12,
                "{name}: peer QRE not converged"
            );
            let ours = solve_regularized(&game, &Policy::uniform(1, n), beta, Transform::Identity)
                .unwrap();
            let d = ours
                .policy
                .probs(0)
                .iter()
                .zip(vecf(&q["pi"]))
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(d <= 1e-9, "{name}, β = {beta}: |π*_β − QRE(1/β)| = {d}");
            worst = worst.max(d);
        }
    }
    println!("max |π*_β − QRE| = {worst:e}");
}
