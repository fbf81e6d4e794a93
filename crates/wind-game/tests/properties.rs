//! Property tests on random skew games.

use proptest::prelude::*;
use wind_game::metrics::{exploitability, gap, kl};
use wind_game::regularized::residual;
use wind_game::strategies::{policy, skew_game};
use wind_game::{Transform, solve_nash, solve_regularized};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn nash_is_verified(g in skew_game(2..=12)) {
        let s = solve_nash(&g).unwrap();
        let q = &s.contexts[0].strategy;
        prop_assert!((q.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        prop_assert!(q.iter().all(|v| *v >= 0.0 && v.is_finite()));
        prop_assert!(exploitability(&g, &s.policy()) <= 1e-9);
    }

    #[test]
    fn regularized_fixed_point_and_gap(g in skew_game(2..=10), beta in 0.01f64..2.0, seed in 0u64..1000) {
        let n = g.n_actions();
        let r = {
            let mut rng = wind_game::WindRng::new(seed);
            wind_game::Policy::from_logits(&[(0..n).map(|_| rng.normal()).collect()])
        };
        let sol = solve_regularized(&g, &r, beta, Transform::Identity).unwrap();
        prop_assert!(residual(&g, &r, &sol.policy, beta, Transform::Identity) <= 1e-12);
        let g_star = gap(&g, &sol.policy, &r, beta);
        prop_assert!(g_star.abs() <= 1e-10, "G_β(π*) = {}", g_star);
        // log-win-rate game fixed point also solves
        let sl = solve_regularized(&g, &r, beta.max(0.05), Transform::Log).unwrap();
        prop_assert!(sl.residual <= 1e-12);
        let _ = kl(&g, &sl.policy, &r);
    }

    #[test]
    fn tiny_beta_still_solves(g in skew_game(2..=12), beta in 1e-4f64..1e-2) {
        let n = g.n_actions();
        let r = wind_game::Policy::uniform(1, n);
        let sol = solve_regularized(&g, &r, beta, Transform::Identity).unwrap();
        prop_assert!(residual(&g, &r, &sol.policy, beta, Transform::Identity) <= 1e-12);
        prop_assert!(sol.policy.logp(0).iter().all(|v| v.is_finite()));
        // close to the Nash set: exploitability of π*_β is at most β·log n (entropy bound)
        prop_assert!(exploitability(&g, &sol.policy) <= beta * (n as f64).ln() + 1e-12);
    }

    #[test]
    fn gap_is_nonnegative(g in skew_game(2..=10), p in policy(10), beta in 0.01f64..2.0) {
        let n = g.n_actions();
        let probs: Vec<f64> = p.probs(0)[..n].to_vec();
        let s: f64 = probs.iter().sum();
        let p = wind_game::Policy::from_probs(&[probs.iter().map(|v| v / s).collect()]).unwrap();
        let r = wind_game::Policy::uniform(1, n);
        prop_assert!(gap(&g, &p, &r, beta) >= -1e-12);
        prop_assert!(gap(&g, &p, &r, 0.0) >= 0.0);
    }
}
