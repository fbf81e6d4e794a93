//! The Best-of-N operators of `wind-bond` for n ∈ {10, 100, 1000} actions and
//! N ∈ {2, 16, 256}:
//!
//! - reward laws on one distribution (`O(n²)` CDFs): `reward_bon` with distinct rewards and
//!   with ties (classes of 5 equal rewards), `reward_bon_bond_form`, `bond_reward`, and the
//!   identity-tie-break law that is not BoN;
//! - preference-oracle forms on a one-context cyclic game: `power_bon` (= `iterative_bond_step`;
//!   `duel_bon2` for N = 2) and one `jbond_step`;
//! - the Monte-Carlo sampler `sample_reward_bon` (one draw of the best of N).
//!
//! Run with `cargo bench -p wind-bond --bench bon`.

use divan::{Bencher, black_box};
use std::path::Path;
use wind_bond::{
    JBondState, bond_reward, duel_bon2, iterative_bond_step, jbond_step, power_bon, reward_bon,
    reward_bon_bond_form, reward_bon_identity_ties, sample_reward_bon,
};
use wind_game::{Game, GameSpec, Policy, WindRng};

fn main() {
    divan::main();
}

/// Action counts.
const SIZES: &[usize] = &[10, 100, 1000];
/// Time cap (seconds) per benchmark.
const MAX_SECS: u64 = 2;

/// A non-uniform distribution over `n` actions (weights 1..=7, normalized).
fn probs(n: usize) -> Vec<f64> {
    let w: Vec<f64> = (0..n).map(|y| 1.0 + (y % 7) as f64).collect();
    let z: f64 = w.iter().sum();
    w.into_iter().map(|v| v / z).collect()
}

/// Distinct rewards in a scrambled order (`y ↦ 7919·y mod n` is a permutation for `n` coprime
/// to 7919, which every benchmarked `n` is).
fn distinct_rewards(n: usize) -> Vec<f64> {
    (0..n).map(|y| ((y * 7919) % n) as f64).collect()
}

/// The same order with ties: classes of 5 equal rewards.
fn tied_rewards(n: usize) -> Vec<f64> {
    (0..n).map(|y| (((y * 7919) % n) / 5) as f64).collect()
}

fn cyclic(n: usize) -> Game {
    GameSpec::Cyclic {
        contexts: 1,
        actions: n,
        scale: 3.0,
    }
    .build(1, Path::new("."))
    .expect("cyclic game")
}

/// A non-uniform full-support policy on one context.
fn policy(n: usize) -> Policy {
    Policy::from_logits(&[(0..n).map(|y| ((y % 11) as f64 - 5.0) * 0.2).collect()])
}

fn bench_reward_law(
    bencher: Bencher,
    n: usize,
    big_n: u32,
    rewards: fn(usize) -> Vec<f64>,
    law: fn(&[f64], &[f64], u32) -> Vec<f64>,
) {
    let p = probs(n);
    let r = rewards(n);
    bencher.bench_local(|| law(black_box(&p), black_box(&r), black_box(big_n)));
}

/// `reward_bon`, all rewards distinct.
#[divan::bench(consts = [2, 16, 256], args = SIZES, max_time = MAX_SECS)]
fn reward_bon_distinct<const N: u32>(bencher: Bencher, n: usize) {
    bench_reward_law(bencher, n, N, distinct_rewards, reward_bon);
}

/// `reward_bon` with ties (classes of 5 equal rewards).
#[divan::bench(consts = [2, 16, 256], args = SIZES, max_time = MAX_SECS)]
fn reward_bon_ties<const N: u32>(bencher: Bencher, n: usize) {
    bench_reward_law(bencher, n, N, tied_rewards, reward_bon);
}

/// `reward_bon_bond_form` (BOND's sum form, `O(N)` per action), with ties.
#[divan::bench(consts = [2, 16, 256], args = SIZES, max_time = MAX_SECS)]
fn reward_bon_bond_form_ties<const N: u32>(bencher: Bencher, n: usize) {
    bench_reward_law(bencher, n, N, tied_rewards, reward_bon_bond_form);
}

/// `bond_reward` (`r_BOND`), with ties.
#[divan::bench(consts = [2, 16, 256], args = SIZES, max_time = MAX_SECS)]
fn bond_reward_ties<const N: u32>(bencher: Bencher, n: usize) {
    bench_reward_law(bencher, n, N, tied_rewards, bond_reward);
}

/// `reward_bon_identity_ties` (not BoN; lower index wins ties), with ties.
#[divan::bench(consts = [2, 16, 256], args = SIZES, max_time = MAX_SECS)]
fn reward_bon_identity_ties_ties<const N: u32>(bencher: Bencher, n: usize) {
    bench_reward_law(bencher, n, N, tied_rewards, reward_bon_identity_ties);
}

/// `power_bon` under the cyclic game's preference oracle.
#[divan::bench(consts = [2, 16, 256], args = SIZES, max_time = MAX_SECS)]
fn power_bon_cyclic<const N: u32>(bencher: Bencher, n: usize) {
    let g = cyclic(n);
    let pi = policy(n);
    bencher.bench_local(|| power_bon(black_box(&g), black_box(&pi), black_box(N)));
}

/// `iterative_bond_step` (power form; the duel for N = 2).
#[divan::bench(consts = [2, 16, 256], args = SIZES, max_time = MAX_SECS)]
fn iterative_bond_step_cyclic<const N: u32>(bencher: Bencher, n: usize) {
    let g = cyclic(n);
    let pi = policy(n);
    bencher.bench_local(|| iterative_bond_step(black_box(&g), black_box(&pi), black_box(N)));
}

/// `duel_bon2` (Best-of-2 under the oracle).
#[divan::bench(args = SIZES, max_time = MAX_SECS)]
fn duel_bon2_cyclic(bencher: Bencher, n: usize) {
    let g = cyclic(n);
    let pi = policy(n);
    bencher.bench_local(|| duel_bon2(black_box(&g), black_box(&pi)));
}

/// One exact J-BOND step (γ = 0.1), policy ≠ anchor.
#[divan::bench(args = SIZES, max_time = MAX_SECS)]
fn jbond_step_cyclic(bencher: Bencher, n: usize) {
    let g = cyclic(n);
    let state = JBondState {
        policy: policy(n),
        anchor: Policy::uniform(1, n),
    };
    bencher.bench_local(|| jbond_step(black_box(&g), black_box(&state), black_box(0.1)));
}

/// One Monte-Carlo best-of-N draw (`N` categorical draws), distinct rewards.
#[divan::bench(consts = [2, 16, 256], args = SIZES, max_time = MAX_SECS)]
fn sample_reward_bon_distinct<const N: u32>(bencher: Bencher, n: usize) {
    let p = probs(n);
    let r = distinct_rewards(n);
    let mut rng = WindRng::new(0);
    bencher.bench_local(|| sample_reward_bon(black_box(&p), black_box(&r), black_box(N), &mut rng));
}
