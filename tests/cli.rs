//! End-to-end tests of the `wind` binary on real configs (workspace-level; run by
//! `cargo test --workspace` through the wind-cli package).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn wind() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wind"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Write `text` as `file_name` in a fresh folder (with the bad-matrix fixture beside it) and
/// assert that `wind run` fails with `needle` and `file_name:` (file:line) in its message, a
/// non-zero exit, and no output folder.
fn assert_run_fails_cleanly(file_name: &str, what: &str, text: &str, needle: &str) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("bad_matrix.csv"), tmp.path().join("bad_matrix.csv")).unwrap();
    let cfg = tmp.path().join(file_name);
    std::fs::write(&cfg, text).unwrap();
    let results = tmp.path().join("results");
    let out = wind()
        .arg("run")
        .arg(&cfg)
        .arg("--results")
        .arg(&results)
        .arg("--quiet")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{what}: should fail");
    assert!(
        err.contains(needle),
        "{what}: message {err:?} lacks {needle:?}"
    );
    assert!(
        err.contains(&format!("{file_name}:")),
        "{what}: message {err:?} lacks file:line"
    );
    assert!(!results.exists(), "{what}: output was written");
}

fn run_small(results: &Path, threads: &str) -> Vec<u8> {
    let out = wind()
        .args([
            "run",
            fixture("small.toml").to_str().unwrap(),
            "--quiet",
            "--threads",
            threads,
            "--results",
        ])
        .arg(results)
        .output()
        .unwrap();
    ok(&out);
    std::fs::read(results.join("small/metrics.csv")).unwrap()
}

#[test]
fn run_plot_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let csv = run_small(&results, "2");
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "experiment,game,method,seed,iteration,samples,oracle_queries,grad_steps,metric,value"
    );
    // expected rows: Σ over runs (iterations + 1) × 2 metrics, from runs.csv
    let runs = std::fs::read_to_string(results.join("small/runs.csv")).unwrap();
    let mut expected = 0;
    let mut n_runs = 0;
    for l in runs.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        expected += (f[4].parse::<usize>().unwrap() + 1) * 2;
        n_runs += 1;
        assert!(["converged", "budget", "diverged"].contains(&f[5]));
    }
    assert_eq!(n_runs, 2 * 2 * 2, "2 games × 2 seeds × 2 methods");
    assert_eq!(lines.count(), expected);
    assert!(text.contains(",wind_identity,") && text.contains(",iterative_bond_n2,"));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(results.join("small/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["experiment"]["beta"], 0.2);
    assert!(manifest["host"]["cpus"].as_u64().unwrap() >= 1);
    assert!(results.join("small/timing.csv").exists());

    let out = wind()
        .arg("table")
        .arg(results.join("small"))
        .output()
        .unwrap();
    ok(&out);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.starts_with("| method | cyclic_2x4 | rps | 1 − ηβ |"),
        "{table}"
    );
    assert!(
        table.contains("| `wind_identity` |") && table.contains("0.800 |"),
        "{table}"
    );

    let figs = tmp.path().join("figs");
    let out = wind()
        .arg("plot")
        .arg(results.join("small"))
        .arg("--out")
        .arg(&figs)
        .output()
        .unwrap();
    ok(&out);
    let svg = std::fs::read_to_string(figs.join("small.svg")).unwrap();
    assert!(svg.len() > 1000 && svg.contains("wind_identity"));
    let png = std::fs::read(figs.join("small.png")).unwrap();
    assert!(png.len() > 5000 && png.starts_with(b"\x89PNG"));
}

#[test]
fn same_seed_gives_identical_bytes_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run_small(&tmp.path().join("a"), "1");
    let b = run_small(&tmp.path().join("b"), "2");
    let c = run_small(&tmp.path().join("a"), "2"); // replaces a's results
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn reproduce_runs_and_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let exps = tmp.path().join("experiments");
    std::fs::create_dir_all(&exps).unwrap();
    std::fs::copy(fixture("small.toml"), exps.join("small.toml")).unwrap();
    let out = wind()
        .current_dir(tmp.path())
        .args(["reproduce", "small", "--quiet"])
        .output()
        .unwrap();
    ok(&out);
    assert!(tmp.path().join("results/small/metrics.csv").exists());
    assert!(
        std::fs::metadata(tmp.path().join("paper-figures/small.svg"))
            .unwrap()
            .len()
            > 0
    );
    assert!(
        std::fs::metadata(tmp.path().join("paper-figures/small.png"))
            .unwrap()
            .len()
            > 0
    );
    let out = wind()
        .current_dir(tmp.path())
        .args(["reproduce", "nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("available: small"));
}

/// Each bad input: message asserted, non-zero exit, nothing written (and an earlier good
/// result with the same name is left untouched).
#[test]
fn bad_inputs_fail_cleanly_without_output() {
    let good = std::fs::read_to_string(fixture("small.toml")).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "malformed",
            good.replace("seeds = [0, 1]", "seeds = [0, 1"),
            "small.toml:",
        ),
        (
            "unknown key",
            good.replace("iterations = 30", "iterations = 30\nlearning_rate = 3"),
            "unknown field `learning_rate`",
        ),
        (
            "bad matrix",
            good.replace(
                "kind = \"rps\"",
                "kind = \"file\"\npath = \"bad_matrix.csv\"",
            ),
            "must be 1",
        ),
        (
            "beta <= 0",
            good.replace("beta = 0.2", "beta = 0.0"),
            "β must be finite and > 0",
        ),
        (
            "eta*beta >= 1",
            good.replace("eta = 1.0", "eta = 5.0"),
            "ηβ must be < 1",
        ),
        (
            "missing game file",
            good.replace("kind = \"rps\"", "kind = \"file\"\npath = \"missing.csv\""),
            "missing.csv",
        ),
    ];
    for (what, text, needle) in cases {
        assert_run_fails_cleanly("small.toml", what, &text, needle);
    }
    // missing experiment file
    let tmp = tempfile::tempdir().unwrap();
    let out = wind()
        .arg("run")
        .arg(tmp.path().join("none.toml"))
        .arg("--results")
        .arg(tmp.path().join("r"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("none.toml"));
    assert!(!tmp.path().join("r").exists());

    // a failing run does not touch an earlier good result of the same name
    let results = tmp.path().join("results");
    let before = run_small(&results, "2");
    let cfg = tmp.path().join("small.toml");
    std::fs::write(&cfg, good.replace("beta = 0.2", "beta = -1")).unwrap();
    let out = wind()
        .arg("run")
        .arg(&cfg)
        .arg("--results")
        .arg(&results)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read(results.join("small/metrics.csv")).unwrap(),
        before
    );
}

#[test]
fn solve_reports_nash_and_degeneracy() {
    let out = wind()
        .arg("solve")
        .arg(fixture("segment.csv"))
        .args(["--beta", "0.01"])
        .output()
        .unwrap();
    ok(&out);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("degenerate"), "{s}");
    assert!(s.contains("exploitability"));
    let out = wind()
        .arg("solve")
        .arg(fixture("segment.csv"))
        .args(["--beta", "0.01", "--json"])
        .output()
        .unwrap();
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["exploitability_nash"].as_f64().unwrap() <= 1e-9);
    assert!(v["gap_regularized"].as_f64().unwrap().abs() <= 1e-10);
    let out = wind()
        .arg("solve")
        .arg(fixture("bad_matrix.csv"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("bad_matrix.csv:1") && e.contains("row 0, column 1"),
        "{e}"
    );
    let out = wind()
        .arg("solve")
        .arg(fixture("segment.csv"))
        .args(["--beta", "-1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// A learner experiment end to end: both learners in the CSV, the budget respected, the
/// per-prompt query counts (WIND-SQ 1, SPPO K² = 25), byte-identical reruns, the backend
/// recorded in the manifest, and the figure written.
#[test]
fn learners_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let figs = tmp.path().join("figs");
    let run = || {
        let out = wind()
            .args([
                "run",
                fixture("learners.toml").to_str().unwrap(),
                "--quiet",
                "--backend",
                "cpu",
                "--results",
            ])
            .arg(&results)
            .output()
            .unwrap();
        ok(&out);
        std::fs::read(results.join("learners/metrics.csv")).unwrap()
    };
    let a = run();
    assert_eq!(a, run(), "same seed, same bytes");
    let text = String::from_utf8(a).unwrap();
    let mut max_q = std::collections::BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (method, iter, q): (&str, u64, u64) =
            (f[2], f[4].parse().unwrap(), f[6].parse().unwrap());
        let per_iter = match method {
            "wind_sq" => 16,
            "sppo" => 16 * 25,
            other => panic!("unexpected method {other}"),
        };
        assert_eq!(q, iter * per_iter, "{method}: queries at iteration {iter}");
        let e = max_q.entry(method.to_string()).or_insert(0);
        *e = (*e).max(q);
    }
    assert_eq!(max_q.len(), 2);
    // the budget is a hard cap: no run exceeds it, and each stops within one iteration of it
    for (m, q) in &max_q {
        let per_iter = if m == "sppo" { 16 * 25 } else { 16 };
        assert!(
            *q <= 1990 && *q + per_iter > 1990,
            "{m}: stopped at {q} queries"
        );
    }
    let manifest = std::fs::read_to_string(results.join("learners/manifest.json")).unwrap();
    assert!(
        manifest.contains("\"backend\": \"flex (cpu)\""),
        "{manifest}"
    );
    let out = wind()
        .arg("plot")
        .arg(results.join("learners"))
        .arg("--out")
        .arg(&figs)
        .output()
        .unwrap();
    ok(&out);
    assert!(std::fs::metadata(figs.join("learners.png")).unwrap().len() > 1000);
    let out = wind()
        .arg("plot")
        .arg(results.join("learners"))
        .arg("--out")
        .arg(&figs)
        .args(["--x", "samples"])
        .output()
        .unwrap();
    ok(&out);
    assert!(
        std::fs::metadata(figs.join("learners_samples.svg"))
            .unwrap()
            .len()
            > 1000
    );
    // wall time per recorded iteration goes to wall.csv (metrics.csv stays byte-stable), and
    // `--x wall_ms` plots against it
    let wall = std::fs::read_to_string(results.join("learners/wall.csv")).unwrap();
    assert!(wall.starts_with("game,method,seed,iteration,wall_ms\n"));
    assert_eq!(
        wall.lines().count() - 1,
        (text.lines().count() - 1) / 3,
        "one wall row per recorded iteration (3 metrics each)"
    );
    let out = wind()
        .arg("plot")
        .arg(results.join("learners"))
        .arg("--out")
        .arg(&figs)
        .args(["--x", "wall_ms"])
        .output()
        .unwrap();
    ok(&out);
    assert!(
        std::fs::metadata(figs.join("learners_wall_ms.png"))
            .unwrap()
            .len()
            > 1000
    );
}

/// Bad learner input: each fails with file:line, the fix, a non-zero exit and no output.
#[test]
fn bad_learner_inputs_fail_cleanly() {
    let good = std::fs::read_to_string(fixture("learners.toml")).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("unknown learner key", good.replace("k = 5", "k = 5\nkk = 3"), "unknown field `kk`"),
        ("learner eta*beta >= 1", good.replace("kind = \"wind_sq\"\neta = 1.0", "kind = \"wind_sq\"\neta = 20.0"), "ηβ must be < 1"),
        ("bad batch", good.replace("batch = 16\n\n[[learners]]", "batch = 0\n\n[[learners]]"), "batch = 0"),
        ("unknown learner", good.replace("kind = \"sppo\"", "kind = \"sppo2\""), "sppo2"),
        ("no [learning]", good.replace("[learning]\nbudget = 1990\noracle = \"bernoulli\"\n[learning.policy]\nclass = \"log_linear\"\n", ""), "need a [learning] table"),
        ("features needed", good.replace("kind = \"contextual\"\ncontexts = 4\nactions = 5\ndim = 3\nlambda = 0.5", "kind = \"rps\""), "needs features"),
        ("iteration over budget", good.replace("budget = 1990", "budget = 100"), "more than [learning] budget = 100"),
        ("unknown policy key", good.replace("class = \"log_linear\"", "class = \"log_linear\"\nhiden = 3"), "unknown field `hiden`"),
        ("learning without learners", good.split("[[learners]]").next().unwrap().to_string() + "[[methods]]\nkind = \"wind\"\neta = 1.0\n", "no [[learners]]"),
        ("duplicate learner", good.replace("kind = \"sppo\"\neta = 1.0\nk = 5", "kind = \"wind_sq\"\neta = 0.5"), "listed twice"),
    ];
    for (what, text, needle) in cases {
        assert_run_fails_cleanly("learners.toml", what, &text, needle);
    }
    // --backend wgpu in a build without the gpu feature: a clear error, no output
    let tmp = tempfile::tempdir().unwrap();
    let out = wind()
        .args([
            "run",
            fixture("learners.toml").to_str().unwrap(),
            "--backend",
            "wgpu",
            "--results",
        ])
        .arg(tmp.path().join("r"))
        .output()
        .unwrap();
    if !cfg!(feature = "gpu") {
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--features gpu"));
        assert!(!tmp.path().join("r").exists());
    }
}
