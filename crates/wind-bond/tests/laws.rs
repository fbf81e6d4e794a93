//! BoN laws: normalization, enumeration, composition, KL bound, agreement with Monte Carlo,
//! and the exact log-space identity of iterative BOND.

use proptest::prelude::*;
use wind_bond::*;
use wind_game::strategies::skew_game;
use wind_game::{Policy, WindRng};

/// Brute-force BoN law: enumerate all Nᴹ ordered draws; ties go to the first best draw.
fn enumerate(p: &[f64], r: &[f64], n: u32) -> Vec<f64> {
    let m = p.len();
    let mut out = vec![0.0; m];
    let total = m.pow(n);
    for code in 0..total {
        let mut c = code;
        let mut prob = 1.0;
        let mut best: Option<usize> = None;
        for _ in 0..n {
            let y = c % m;
            c /= m;
            prob *= p[y];
            if best.is_none_or(|b| r[y] > r[b]) {
                best = Some(y);
            }
        }
        out[best.unwrap()] += prob;
    }
    out
}

fn dist_and_rewards() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (2usize..6).prop_flat_map(|m| {
        (
            proptest::collection::vec(0.01f64..1.0, m),
            proptest::collection::vec(0u8..3, m),
        )
            .prop_map(|(w, r)| {
                let s: f64 = w.iter().sum();
                (
                    w.iter().map(|v| v / s).collect(),
                    r.into_iter().map(f64::from).collect(),
                )
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sums_to_one_and_matches_enumeration((p, r) in dist_and_rewards(), n in 1u32..5) {
        let b = reward_bon(&p, &r, n);
        prop_assert!((b.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let e = enumerate(&p, &r, n);
        for (x, y) in b.iter().zip(&e) { prop_assert!((x - y).abs() < 1e-12); }
        if n >= 2 {
            // π_BoN = π·exp((N−1)·r_BOND), already normalized
            let rb = bond_reward(&p, &r, n);
            for y in 0..p.len() {
                prop_assert!((p[y] * ((n as f64 - 1.0) * rb[y]).exp() - b[y]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn composition_law((p, r) in dist_and_rewards(), n in 1u32..4, m in 1u32..4) {
        let lhs = reward_bon(&reward_bon(&p, &r, m), &r, n);
        let rhs = reward_bon(&p, &r, n * m);
        for (a, b) in lhs.iter().zip(&rhs) { prop_assert!((a - b).abs() < 1e-12); }
    }

    #[test]
    fn kl_bound((p, r) in dist_and_rewards(), n in 1u32..8) {
        let b = reward_bon(&p, &r, n);
        let bound = (n as f64).ln() - (n as f64 - 1.0) / n as f64;
        prop_assert!(kl_probs(&b, &p) <= bound + 1e-12);
    }

    #[test]
    fn iterative_bond_is_mirror_step_on_log_win_rate(g in skew_game(2..=8), n in 2u32..6) {
        let m = g.n_actions();
        let pi = Policy::uniform(1, m);
        let next = iterative_bond_step(&g, &pi, n);
        let w = g.win_rates(0, &pi.probs(0));
        // log π_{t+1} − log π_t − (N−1)·log w is constant over y
        let d: Vec<f64> = (0..m).map(|y| next.logp(0)[y] - pi.logp(0)[y] - (n as f64 - 1.0) * w[y].ln()).collect();
        for v in &d { prop_assert!((v - d[0]).abs() < 1e-12); }
    }
}

/// Monte Carlo agrees with the exact law within a 5-sigma binomial bound per action.
#[test]
fn monte_carlo_matches_exact_reward_bon() {
    let p = [0.5, 0.3, 0.2];
    let r = [1.0, 1.0, 0.0];
    let mut rng = WindRng::new(42);
    for n in [2u32, 3, 5] {
        let exact = reward_bon(&p, &r, n);
        let trials = 200_000;
        let mut counts = [0usize; 3];
        for _ in 0..trials {
            counts[sample_reward_bon(&p, &r, n, &mut rng)] += 1;
        }
        for y in 0..3 {
            let f = counts[y] as f64 / trials as f64;
            let sd = (exact[y] * (1.0 - exact[y]) / trials as f64).sqrt();
            assert!(
                (f - exact[y]).abs() <= 5.0 * sd + 1e-9,
                "N={n} y={y}: {f} vs {}",
                exact[y]
            );
        }
        // and the identity-tie law is rejected by the same samples when it differs
        let wrong = reward_bon_identity_ties(&p, &r, n);
        let f0 = counts[0] as f64 / trials as f64;
        let sd = (wrong[0] * (1.0 - wrong[0]) / trials as f64).sqrt();
        assert!((f0 - wrong[0]).abs() > 5.0 * sd);
    }
}

#[test]
fn monte_carlo_matches_exact_duel() {
    let g = wind_game::Game::from_matrices(
        &[vec![
            vec![0.5, 0.9, 0.2],
            vec![0.1, 0.5, 0.6],
            vec![0.8, 0.4, 0.5],
        ]],
        None,
    )
    .unwrap();
    let pi = Policy::from_probs(&[vec![0.2, 0.5, 0.3]]).unwrap();
    let exact = duel_bon2(&g, &pi).probs(0);
    let mut rng = WindRng::new(3);
    let trials = 200_000;
    let mut counts = [0usize; 3];
    for _ in 0..trials {
        counts[sample_duel(&g, 0, &pi.probs(0), &mut rng)] += 1;
    }
    for y in 0..3 {
        let f = counts[y] as f64 / trials as f64;
        let sd = (exact[y] * (1.0 - exact[y]) / trials as f64).sqrt();
        assert!(
            (f - exact[y]).abs() <= 5.0 * sd,
            "y={y}: {f} vs {}",
            exact[y]
        );
    }
}

#[test]
fn iterative_bond_fixed_point_is_nash() {
    // On a transitive game iterative BOND concentrates on the Condorcet winner (the Nash).
    let g = wind_game::GameSpec::BradleyTerry {
        contexts: 1,
        actions: 5,
        temperature: 0.2,
    }
    .build(1, std::path::Path::new("."))
    .unwrap();
    let mut pi = Policy::uniform(1, 5);
    for _ in 0..3000 {
        pi = iterative_bond_step(&g, &pi, 2);
    }
    let e = wind_game::metrics::exploitability(&g, &pi);
    assert!(e < 1e-6, "{e} {:?} {:?}", pi.probs(0), g.matrix(0));
    // the limit point (the Condorcet winner, pure) is a fixed point and a Nash equilibrium
    let best = (0..5)
        .max_by(|a, b| pi.probs(0)[*a].total_cmp(&pi.probs(0)[*b]))
        .unwrap();
    let mut d = vec![0.0; 5];
    d[best] = 1.0;
    let delta = Policy::from_probs(&[d]).unwrap();
    assert_eq!(iterative_bond_step(&g, &delta, 4), delta);
    assert_eq!(wind_game::metrics::exploitability(&g, &delta), 0.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Random distributions and tied rewards: Monte Carlo frequencies lie within a 5-sigma
    /// binomial bound of the exact law for every response.
    #[test]
    fn monte_carlo_agrees_on_random_inputs((p, r) in dist_and_rewards(), n in 2u32..5, seed in 0u64..1000) {
        let exact = reward_bon(&p, &r, n);
        let mut rng = WindRng::new(seed);
        let trials = 20_000;
        let mut counts = vec![0usize; p.len()];
        for _ in 0..trials {
            counts[sample_reward_bon(&p, &r, n, &mut rng)] += 1;
        }
        for y in 0..p.len() {
            let f = counts[y] as f64 / trials as f64;
            let sd = (exact[y] * (1.0 - exact[y]) / trials as f64).sqrt();
            prop_assert!((f - exact[y]).abs() <= 5.0 * sd + 1e-12, "y={} {} vs {}", y, f, exact[y]);
        }
    }
}

/// The sort-based CDFs (O(n log n)) agree with their definition (O(n²) sums) on a large
/// distribution with many ties, zero-mass responses and unsorted rewards.
#[test]
fn reward_bon_matches_definition_on_large_tied_input() {
    let mut rng = WindRng::derive(3, "bon-large");
    let m = 1500;
    let mut p: Vec<f64> = (0..m)
        .map(|i| {
            if i % 17 == 0 {
                0.0
            } else {
                rng.uniform() + 1e-3
            }
        })
        .collect();
    let s: f64 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= s);
    let r: Vec<f64> = (0..m).map(|_| (rng.uniform() * 40.0).floor()).collect();
    for n in [2u32, 7, 64] {
        let got = reward_bon(&p, &r, n);
        for y in 0..m {
            let lt: f64 = (0..m).filter(|&z| r[z] < r[y]).map(|z| p[z]).sum();
            let le: f64 = (0..m)
                .filter(|&z| r[z] <= r[y])
                .map(|z| p[z])
                .sum::<f64>()
                .min(1.0);
            let want = if p[y] <= 0.0 {
                0.0
            } else {
                p[y] / (le - lt) * (le.powi(n as i32) - lt.powi(n as i32))
            };
            assert!(
                (got[y] - want).abs() <= 1e-12,
                "y = {y}, N = {n}: {} vs {want}",
                got[y]
            );
        }
        assert!((got.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
