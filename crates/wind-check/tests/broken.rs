//! A deliberately broken implementation makes the claim that covers it fail, by name; the real
//! implementations pass every fast claim.

use wind_check::{Impls, Outcome, registry, run_claims};
use wind_dynamics::Problem;
use wind_game::{Policy, Transform};

fn measure(name: &str, im: &Impls) -> Outcome {
    let c = registry()
        .into_iter()
        .find(|c| c.name == name)
        .expect("registered");
    (c.measure)(im, false)
}

/// Exact WIND with the sign of the payoff term flipped (`−η·g(w)`).
fn wind_sign_flip(p: &Problem, pi: &Policy, eta: f64, _g: Transform) -> Policy {
    pi.map_log_weights(|x, l, _| {
        let w = p.game.win_rates(x, &pi.probs(x));
        (0..l.len())
            .map(|y| {
                (1.0 - eta * p.beta) * l[y] + eta * p.beta * p.reference.logp(x)[y] - eta * w[y]
            })
            .collect()
    })
}

#[test]
fn broken_updates_fail_their_claims() {
    let real = Impls::default();
    let no_ties = Impls {
        reward_bon: wind_bond::reward_bon_identity_ties,
        ..real
    };
    match measure("bon_ties_enumeration", &no_ties) {
        Outcome::Measured { pass, value, .. } => {
            assert!(!pass, "BoN without tie handling must fail (value {value})")
        }
        o => panic!("{o:?}"),
    }
    // Breaking ties by identity is still a consistent law: it composes. Only the enumeration
    // claim catches it — which is why that claim exists.
    assert!(matches!(
        measure("bon_composition", &no_ties),
        Outcome::Measured { pass: true, .. }
    ));
    let flipped = Impls {
        wind_step: wind_sign_flip,
        ..real
    };
    match measure("wind_linear_rate", &flipped) {
        Outcome::Measured { pass, detail, .. } => assert!(!pass, "sign flip must fail: {detail}"),
        o => panic!("{o:?}"),
    }
}

#[test]
fn real_implementations_pass_every_fast_claim() {
    for r in run_claims(&Impls::default(), true) {
        assert!(
            !r.failed(),
            "{}: {} ({})",
            r.claim.name,
            r.value(),
            r.detail()
        );
    }
}
