//! Exact solvers on the single-context cyclic game (`GameSpec::Cyclic`, scale 3):
//! `solve_nash` and `solve_regularized` (β = 0.1 and 0.01, uniform reference, identity
//! transform) for n ∈ {10, 30, 100, 300, 1000} actions.
//!
//! Run with `cargo bench -p wind-game --bench solvers`. The n = 1000 cases take seconds per
//! call (Nash ≈ 2 s with steepest-edge pricing; 9.6 s with the earlier Dantzig rule), so they
//! live in their own `cyclic_large` benchmarks with [`LARGE_SAMPLES`] samples of one call; the
//! smaller sizes take divan's default 100 samples but stop after [`MAX_SECS`] seconds each
//! (only n = 300 reaches that). The whole file runs in about a minute.

use divan::{Bencher, black_box};
use std::path::Path;
use wind_game::{Game, GameSpec, Policy, Transform, solve_nash, solve_regularized};

fn main() {
    divan::main();
}

/// Action counts benchmarked with divan's default sample count.
const SIZES: &[usize] = &[10, 30, 100, 300];
/// Action counts benchmarked with [`LARGE_SAMPLES`] samples.
const LARGE: &[usize] = &[1000];
/// Samples (of one call each) for the n = 1000 cases.
const LARGE_SAMPLES: u32 = 3;
/// Time cap (seconds) per benchmark for [`SIZES`].
const MAX_SECS: u64 = 5;

/// The cyclic game the `wind bench` command uses: one context, `n` actions, scale 3, seed 1.
fn cyclic(n: usize) -> Game {
    GameSpec::Cyclic {
        contexts: 1,
        actions: n,
        scale: 3.0,
    }
    .build(1, Path::new("."))
    .expect("cyclic game")
}

fn bench_nash(bencher: Bencher, n: usize) {
    let g = cyclic(n);
    bencher.bench_local(|| solve_nash(black_box(&g)).expect("nash"));
}

fn bench_regularized(bencher: Bencher, n: usize, beta: f64) {
    let g = cyclic(n);
    let r = Policy::uniform(1, n);
    bencher.bench_local(|| {
        solve_regularized(
            black_box(&g),
            black_box(&r),
            black_box(beta),
            Transform::Identity,
        )
        .expect("regularized")
    });
}

/// `solve_nash` (exact symmetric Nash with verification).
mod nash {
    use super::*;

    #[divan::bench(args = SIZES, max_time = MAX_SECS)]
    fn cyclic(bencher: Bencher, n: usize) {
        bench_nash(bencher, n);
    }

    #[divan::bench(args = LARGE, sample_count = LARGE_SAMPLES, sample_size = 1)]
    fn cyclic_large(bencher: Bencher, n: usize) {
        bench_nash(bencher, n);
    }
}

/// `solve_regularized` with β = 0.1.
mod regularized_beta_0_1 {
    use super::*;

    #[divan::bench(args = SIZES, max_time = MAX_SECS)]
    fn cyclic(bencher: Bencher, n: usize) {
        bench_regularized(bencher, n, 0.1);
    }

    #[divan::bench(args = LARGE, sample_count = LARGE_SAMPLES, sample_size = 1)]
    fn cyclic_large(bencher: Bencher, n: usize) {
        bench_regularized(bencher, n, 0.1);
    }
}

/// `solve_regularized` with β = 0.01.
mod regularized_beta_0_01 {
    use super::*;

    #[divan::bench(args = SIZES, max_time = MAX_SECS)]
    fn cyclic(bencher: Bencher, n: usize) {
        bench_regularized(bencher, n, 0.01);
    }

    #[divan::bench(args = LARGE, sample_count = LARGE_SAMPLES, sample_size = 1)]
    fn cyclic_large(bencher: Bencher, n: usize) {
        bench_regularized(bencher, n, 0.01);
    }
}
