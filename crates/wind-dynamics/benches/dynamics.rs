//! One `next_iter` of every exact method `build_solver` builds, on the cyclic game with
//! C contexts × n actions, (C, n) ∈ {(10, 100), (100, 300)}, uniform reference, β = 0.1;
//! plus a memory-bandwidth reference (`membw`): copying and summing a 256 MiB `f64` buffer.
//!
//! Every method benchmark carries a [`BytesCount`] of the payoff matrix (`C·n·n·8` bytes),
//! so divan prints GB/s comparable to `membw::sum` (a read-only pass over memory): one
//! iteration of WIND, SPPO, Nash-MD, iterative BOND and J-BOND reads the matrix once, OMWU
//! (extragradient) twice. `membw::copy` counts the bytes it reads plus the bytes it writes
//! (2 × 256 MiB), the STREAM convention.
//!
//! Run with `cargo bench -p wind-dynamics --bench dynamics`.

use divan::counter::BytesCount;
use divan::{Bencher, black_box};
use std::fmt;
use std::path::Path;
use std::sync::LazyLock;
use wind_dynamics::{MethodSpec, Problem, Solver, State, build_solver};
use wind_game::{GameSpec, Policy, Transform};

fn main() {
    divan::main();
}

/// Time cap (seconds) per benchmark.
const MAX_SECS: u64 = 5;

/// A problem size: `c` contexts × `n` actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    c: usize,
    n: usize,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.c, self.n)
    }
}

impl Shape {
    /// Bytes of the payoff (skew) matrices, `C·n·n·8`.
    fn payoff_bytes(self) -> usize {
        self.c * self.n * self.n * std::mem::size_of::<f64>()
    }
}

const SHAPES: [Shape; 2] = [Shape { c: 10, n: 100 }, Shape { c: 100, n: 300 }];

fn build_problem(s: Shape) -> Problem {
    let g = GameSpec::Cyclic {
        contexts: s.c,
        actions: s.n,
        scale: 3.0,
    }
    .build(2, Path::new("."))
    .expect("cyclic game");
    Problem::new(g, Policy::uniform(s.c, s.n), 0.1).expect("problem")
}

// Built once per process (solving π*_β for 100 × 300 takes seconds) and shared by all methods.
static SMALL: LazyLock<Problem> = LazyLock::new(|| build_problem(SHAPES[0]));
static LARGE: LazyLock<Problem> = LazyLock::new(|| build_problem(SHAPES[1]));

fn problem(s: Shape) -> &'static Problem {
    if s == SHAPES[0] { &SMALL } else { &LARGE }
}

/// Time one `next_iter` of `spec` from a non-trivial state (three iterations past `init`).
fn bench_method(bencher: Bencher, s: Shape, spec: MethodSpec) {
    let p = problem(s);
    let mut solver: Box<dyn Solver> = build_solver(&spec);
    let mut st: State = solver.init(p);
    for _ in 0..3 {
        st = solver.next_iter(p, &st);
    }
    bencher
        .counter(BytesCount::new(s.payoff_bytes()))
        .bench_local(|| black_box(solver.next_iter(black_box(p), black_box(&st))));
}

/// Exact WIND, `g = identity`, η = 1.
#[divan::bench(args = SHAPES, max_time = MAX_SECS)]
fn wind_identity(bencher: Bencher, s: Shape) {
    let spec = MethodSpec::Wind {
        g: Transform::Identity,
        eta: 1.0,
    };
    bench_method(bencher, s, spec);
}

/// Exact WIND, `g = log`, η = 1.
#[divan::bench(args = SHAPES, max_time = MAX_SECS)]
fn wind_log(bencher: Bencher, s: Shape) {
    let spec = MethodSpec::Wind {
        g: Transform::Log,
        eta: 1.0,
    };
    bench_method(bencher, s, spec);
}

/// PU/OMWU extragradient (two payoff evaluations), η = 0.1.
#[divan::bench(args = SHAPES, max_time = MAX_SECS)]
fn omwu(bencher: Bencher, s: Shape) {
    bench_method(bencher, s, MethodSpec::Omwu { eta: 0.1 });
}

/// SPPO's exact update, η = 1.
#[divan::bench(args = SHAPES, max_time = MAX_SECS)]
fn sppo_exact(bencher: Bencher, s: Shape) {
    bench_method(bencher, s, MethodSpec::SppoExact { eta: 1.0 });
}

/// Nash-MD, η = 1.
#[divan::bench(args = SHAPES, max_time = MAX_SECS)]
fn nash_md(bencher: Bencher, s: Shape) {
    bench_method(bencher, s, MethodSpec::NashMd { eta: 1.0 });
}

/// Iterative BOND, N = 2 (duel).
#[divan::bench(args = SHAPES, max_time = MAX_SECS)]
fn iterative_bond_n2(bencher: Bencher, s: Shape) {
    bench_method(bencher, s, MethodSpec::IterativeBond { n: 2 });
}

/// Iterative BOND, N = 16 (power form).
#[divan::bench(args = SHAPES, max_time = MAX_SECS)]
fn iterative_bond_n16(bencher: Bencher, s: Shape) {
    bench_method(bencher, s, MethodSpec::IterativeBond { n: 16 });
}

/// Exact J-BOND analogue, γ = 0.1.
#[divan::bench(args = SHAPES, max_time = MAX_SECS)]
fn jbond(bencher: Bencher, s: Shape) {
    bench_method(bencher, s, MethodSpec::Jbond { gamma: 0.1 });
}

/// Memory-bandwidth reference on a 256 MiB `f64` buffer.
mod membw {
    use super::*;

    /// Buffer length: 256 MiB of `f64`.
    const LEN: usize = 256 * 1024 * 1024 / std::mem::size_of::<f64>();
    const SAMPLES: u32 = 20;

    /// `dst.copy_from_slice(src)`; counts bytes read + bytes written (2 × 256 MiB).
    #[divan::bench(sample_count = SAMPLES, sample_size = 1)]
    fn copy(bencher: Bencher) {
        // Non-zero fills, so every page is touched (and mapped) before timing.
        let src = vec![1.0f64; LEN];
        let mut dst = vec![2.0f64; LEN];
        bencher
            .counter(BytesCount::new(2 * LEN * std::mem::size_of::<f64>()))
            .bench_local(|| {
                dst.copy_from_slice(black_box(&src));
                black_box(&mut dst);
            });
    }

    /// Read-only sum with 8 independent accumulators (vectorizes; not add-latency bound);
    /// counts the 256 MiB read.
    #[divan::bench(sample_count = SAMPLES, sample_size = 1)]
    fn sum(bencher: Bencher) {
        let src: Vec<f64> = (0..LEN).map(|i| (i % 1024) as f64).collect();
        bencher
            .counter(BytesCount::new(LEN * std::mem::size_of::<f64>()))
            .bench_local(|| {
                let acc = black_box(&src)
                    .chunks_exact(8)
                    .fold([0.0f64; 8], |mut acc, c| {
                        for k in 0..8 {
                            acc[k] += c[k];
                        }
                        acc
                    });
                black_box(acc.iter().sum::<f64>())
            });
    }
}
