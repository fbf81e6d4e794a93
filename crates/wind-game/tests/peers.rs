//! Cross-checks against solvers nobody here wrote: scipy (HiGHS LP), nashpy (support
//! enumeration), pygambit (enummixed / lcp) and OpenSpiel (lp_solver via cvxpy/ECOS), and the
//! logit QRE at λ = 1/β three ways (scipy root-finding, OpenSpiel's magnetic mirror descent,
//! pygambit's logit path-follower), read from `tests/fixtures/peers/peers.json`
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

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// A QRE peer's entry in a fixture `qre` item; a peer that errored fails the test.
fn qre_peer<'a>(q: &'a Value, peer: &str, name: &str, beta: f64) -> &'a Value {
    let r = &q[peer];
    assert!(
        r.is_object(),
        "{name}, β = {beta}: no {peer} entry in the fixture"
    );
    assert!(
        r.get("error").is_none(),
        "{name}, β = {beta}: {peer} failed: {}",
        r["error"]
    );
    r
}

fn pi_star(game: &Game, n: usize, beta: f64) -> Vec<f64> {
    solve_regularized(game, &Policy::uniform(1, n), beta, Transform::Identity)
        .unwrap()
        .policy
        .probs(0)
        .to_vec()
}

/// OpenSpiel's MMD (`mmd_dilated`, alpha = β, uniform magnet) run to its fixed point. The script
/// iterates OpenSpiel's own update (default stepsize α/max|A|²) until the QRE fixed-point residual
/// of the last iterate reaches the rounding floor of the iteration, max(1e-15, 1e-16/(η·α)) —
/// 2.5e-13 at β = 0.01 — or stops improving there. Near the fixed point the error of the iterate
/// is of the order of that residual, so the residual is required ≤ 1e-12 and both players'
/// strategies are held to 1e-9 against π*_β (they agree to ~1e-13).
#[test]
fn regularized_equilibrium_agrees_with_openspiel_mmd() {
    let f = fixture();
    let mut worst: f64 = 0.0;
    let mut compared = 0;
    for g in f["games"].as_array().unwrap() {
        let (name, game, n) = game_of(g);
        for q in g["qre"].as_array().unwrap() {
            let beta = q["beta"].as_f64().unwrap();
            let m = qre_peer(q, "openspiel_mmd", name, beta);
            let res = m["residual"].as_f64().unwrap();
            assert!(
                res <= 1e-12,
                "{name}, β = {beta}: MMD not converged (residual {res} after {} updates)",
                m["iterations"]
            );
            let ours = pi_star(&game, n, beta);
            for key in ["pi", "pi_p1"] {
                let d = max_abs_diff(&ours, &vecf(&m[key]));
                assert!(d <= 1e-9, "{name}, β = {beta}: |π*_β − MMD {key}| = {d}");
                worst = worst.max(d);
            }
            compared += 1;
        }
    }
    println!("max |π*_β − OpenSpiel MMD| = {worst:e} over {compared} (game, β)");
    assert!(compared >= 30, "only {compared} MMD comparisons");
}

/// pygambit's logit QRE (`pygambit.qre.logit_solve_lambda` at λ = 1/β). Gambit's path tracer
/// corrects back onto the QRE curve (its points satisfy the QRE equations to ~1e-16 at the λ it
/// reports) but stops its λ search once |λ − target| < 1e-8 (`c_newtonTol` in Gambit's
/// path.cc), so its point is the QRE at a λ_g a little off 1/β (by up to 6e-9 here). It is held
///  * to 1e-9 against π* at β_g = 1/λ_g, the λ it attained, and
///  * to 1e-8 against π*_β at the requested β — the tolerance Gambit's own λ stopping rule
///    allows (|Δπ| ≲ |dπ*/dλ|·1e-8; up to 3e-10 here) — and there no further than the shift
///    |π*_β − π*_{β_g}| that the λ offset alone explains, plus 1e-9.
#[test]
fn regularized_equilibrium_agrees_with_pygambit_logit() {
    let f = fixture();
    let (mut worst_attained, mut worst_nominal, mut worst_dlam): (f64, f64, f64) = (0.0, 0.0, 0.0);
    let mut compared = 0;
    for g in f["games"].as_array().unwrap() {
        let (name, game, n) = game_of(g);
        for q in g["qre"].as_array().unwrap() {
            let beta = q["beta"].as_f64().unwrap();
            let r = qre_peer(q, "pygambit_logit", name, beta);
            let lam_g = r["lambda"].as_f64().unwrap();
            let dlam = (lam_g - 1.0 / beta).abs();
            assert!(
                dlam < 1e-8,
                "{name}, β = {beta}: Gambit stopped at λ = {lam_g}"
            );
            let res = r["residual"].as_f64().unwrap();
            assert!(
                res <= 1e-12,
                "{name}, β = {beta}: Gambit's point off the QRE curve ({res})"
            );
            let at_attained = pi_star(&game, n, 1.0 / lam_g);
            let at_nominal = pi_star(&game, n, beta);
            let shift = max_abs_diff(&at_attained, &at_nominal);
            for key in ["pi", "pi_p1"] {
                let y = vecf(&r[key]);
                let d = max_abs_diff(&at_attained, &y);
                assert!(
                    d <= 1e-9,
                    "{name}, β = 1/{lam_g}: |π* − Gambit {key}| = {d}"
                );
                let dn = max_abs_diff(&at_nominal, &y);
                assert!(
                    dn <= 1e-8 && dn <= shift + 1e-9,
                    "{name}, β = {beta}: |π*_β − Gambit {key}| = {dn}, λ offset {dlam} explains {shift}"
                );
                worst_attained = worst_attained.max(d);
                worst_nominal = worst_nominal.max(dn);
            }
            worst_dlam = worst_dlam.max(dlam);
            compared += 1;
        }
    }
    println!(
        "max |π*_(1/λ_g) − Gambit| = {worst_attained:e}, max |π*_β − Gambit| = {worst_nominal:e}, \
         max |λ_g − 1/β| = {worst_dlam:e} over {compared} (game, β)"
    );
    assert!(compared >= 30, "only {compared} Gambit comparisons");
}
