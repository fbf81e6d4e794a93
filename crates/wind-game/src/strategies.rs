//! proptest strategies for random games and policies (feature `proptest`), reused by the
//! tests of every crate.

use crate::game::Game;
use crate::policy::Policy;
use proptest::prelude::*;

/// A random skew game with `n ∈ sizes` actions and one context; entries of `A` in `[−½, ½]`.
pub fn skew_game(sizes: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Game> {
    sizes.prop_flat_map(|n| {
        proptest::collection::vec(-0.5f64..=0.5, n * (n - 1) / 2).prop_map(move |upper| {
            let mut a = vec![0.0; n * n];
            let mut k = 0;
            for i in 0..n {
                for j in (i + 1)..n {
                    a[i * n + j] = upper[k];
                    a[j * n + i] = -upper[k];
                    k += 1;
                }
            }
            Game::from_skew(n, vec![a], None).expect("valid by construction")
        })
    })
}

/// A full-support policy of one context over `n` actions (logits in `[−3, 3]`).
pub fn policy(n: usize) -> impl Strategy<Value = Policy> {
    proptest::collection::vec(-3.0f64..3.0, n).prop_map(|l| Policy::from_logits(&[l]))
}
