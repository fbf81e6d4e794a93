//! End-to-end tests: CSV in, SVG + PNG out, and clean failures.

use std::fmt::Write as _;
use std::path::Path;

use wind_plot::{PlotError, PlotSpec, XAxis, band, plot_csv, plot_rows, read_rows};

const HEADER: &str =
    "experiment,game,method,seed,iteration,samples,oracle_queries,grad_steps,metric,value";

/// 2 games × 2 metrics × 2 methods × 3 seeds × 20 iterations, with the third
/// seed stopping early to exercise ragged runs.
fn sample_csv() -> String {
    let mut s = String::from(HEADER);
    s.push('\n');
    for game in ["matching_pennies", "rps"] {
        for method in ["extragradient", "optimistic_gd"] {
            for seed in 0..3u64 {
                let last = if seed == 2 { 15 } else { 20 };
                for it in 1..=last {
                    for metric in ["gap", "distance"] {
                        let rate = if method == "extragradient" { 0.7 } else { 0.8 };
                        let scale = if metric == "gap" { 1.0 } else { 3.0 };
                        let value = scale * rate_pow(rate, it) * (1.0 + 0.1 * seed as f64);
                        writeln!(
                            s,
                            "exact,{game},{method},{seed},{it},{},{},{},{metric},{value:e}",
                            it * 64,
                            it * 2,
                            it * 3
                        )
                        .unwrap();
                    }
                }
            }
        }
    }
    // Pathological values are skipped, not fatal.
    s.push_str("exact,rps,optimistic_gd,0,21,1344,42,63,gap,inf\n");
    s.push_str("exact,rps,optimistic_gd,0,22,1408,44,66,gap,NaN\n");
    s
}

fn rate_pow(r: f64, k: u64) -> f64 {
    r.powi(k as i32)
}

fn outputs(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    (dir.join("figs/out.svg"), dir.join("figs/out.png"))
}

fn assert_no_outputs(dir: &Path) {
    let (svg, png) = outputs(dir);
    assert!(!svg.exists(), "{} should not exist", svg.display());
    assert!(!png.exists(), "{} should not exist", png.display());
    // No temp files left behind either.
    if let Ok(entries) = std::fs::read_dir(dir.join("figs")) {
        let left: Vec<_> = entries.map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

#[test]
fn band_matches_t_interval() {
    let (m, lo, hi) = band(&[1.0, 2.0, 3.0]);
    assert!((m - 2.0).abs() < 1e-12);
    assert!((hi - 2.0 - 2.484_138).abs() < 1e-5, "hi = {hi}");
    assert!((2.0 - lo - 2.484_138).abs() < 1e-5, "lo = {lo}");
    assert_eq!(band(&[7.0]), (7.0, 7.0, 7.0));
}

#[test]
fn plots_small_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("metrics.csv");
    std::fs::write(&csv, sample_csv()).unwrap();

    let rows = read_rows(&csv).unwrap();
    assert_eq!(
        rows.len(),
        2 * 2 * 2 * (20 + 20 + 15),
        "non-finite rows skipped"
    );
    assert!(rows.iter().all(|r| r.value.is_finite()));

    let (svg, png) = outputs(dir.path());
    let spec = PlotSpec {
        title: "exact".into(),
        ..PlotSpec::default()
    };
    let summary = plot_csv(&csv, &spec, &svg, &png).unwrap();
    assert_eq!(summary.panels, 4);
    assert_eq!(summary.series, 8);
    // seed 2 stops at iteration 15: means are drawn only where all three seeds have values
    assert_eq!(summary.points, 8 * 15);

    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.len() > 1000);
    assert!(svg_text.contains("extragradient") && svg_text.contains("optimistic_gd"));
    assert!(svg_text.contains("matching_pennies — gap"), "panel caption");
    assert!(svg_text.contains("<path") || svg_text.contains("<polyline"));
    assert!(svg_text.contains("<polygon"), "shaded band");

    let png_bytes = std::fs::read(&png).unwrap();
    assert!(png_bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(
        png_bytes.len() > 5 * 1024,
        "png is only {} bytes",
        png_bytes.len()
    );
    // IHDR: width and height (big-endian) at bytes 16..24: 2 columns × 2 rows + title.
    let w = u32::from_be_bytes(png_bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png_bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (2 * 420, 2 * 320 + 40 + 60)); // + the shared legend strip

    // No temp files left in the output folder.
    let names: Vec<String> = std::fs::read_dir(svg.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // Selecting one metric, another x axis and linear scales.
    let spec = PlotSpec {
        metrics: vec!["distance".into()],
        x: XAxis::OracleQueries,
        log_x: true,
        log_y: false,
        ..PlotSpec::default()
    };
    let summary = plot_rows(&rows, &spec, &svg, &png).unwrap();
    assert_eq!((summary.panels, summary.series), (2, 4));
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.contains("oracle queries"));
    assert!(!svg_text.contains("— gap"));
}

fn expect_failure(csv_text: Option<&str>, spec: &PlotSpec) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("metrics.csv");
    if let Some(text) = csv_text {
        std::fs::write(&csv, text).unwrap();
    }
    let (svg, png) = outputs(dir.path());
    let err = plot_csv(&csv, spec, &svg, &png).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("metrics.csv"),
        "error should name the file: {msg}"
    );
    assert_no_outputs(dir.path());
    (dir, msg)
}

#[test]
fn missing_file_is_reported() {
    let (_dir, msg) = expect_failure(None, &PlotSpec::default());
    assert!(msg.contains("cannot read"), "{msg}");
}

#[test]
fn bad_number_names_line_and_column() {
    let mut text = sample_csv();
    text.push_str("exact,rps,optimistic_gd,0,23,1,1,1,gap,abc\n");
    let lines = text.lines().count();
    let (_dir, msg) = expect_failure(Some(&text), &PlotSpec::default());
    assert!(msg.contains(&format!("metrics.csv:{lines}:")), "{msg}");
    assert!(
        msg.contains("column 'value'") && msg.contains("'abc'"),
        "{msg}"
    );

    let text = format!("{HEADER}\nexact,rps,eg,zero,1,1,1,1,gap,0.5\n");
    let (_dir, msg) = expect_failure(Some(&text), &PlotSpec::default());
    assert!(
        msg.contains("metrics.csv:2:") && msg.contains("column 'seed'"),
        "{msg}"
    );
}

#[test]
fn missing_column_is_named() {
    let text = "experiment,game,method,seed,iteration,samples,oracle_queries,grad_steps,value\n\
                exact,rps,eg,0,1,1,1,1,0.5\n";
    let (_dir, msg) = expect_failure(Some(text), &PlotSpec::default());
    assert!(msg.contains("'metric'"), "{msg}");
    assert!(!msg.contains("'value'"), "{msg}");
}

#[test]
fn other_failures_leave_no_outputs() {
    // Wrong field count.
    let text = format!("{HEADER}\nexact,rps,eg,0,1,1,1,1,gap\n");
    let (_dir, msg) = expect_failure(Some(&text), &PlotSpec::default());
    assert!(msg.contains("metrics.csv:2:"), "{msg}");
    // Empty file and header-only file.
    let (_dir, msg) = expect_failure(Some(""), &PlotSpec::default());
    assert!(msg.contains("missing column"), "{msg}");
    let (_dir, msg) = expect_failure(Some(&format!("{HEADER}\n")), &PlotSpec::default());
    assert!(msg.contains("no plottable rows"), "{msg}");
    // Unknown metric.
    let spec = PlotSpec {
        metrics: vec!["gap".into(), "exploitability".into()],
        ..PlotSpec::default()
    };
    let (_dir, msg) = expect_failure(Some(&sample_csv()), &spec);
    assert!(msg.contains("no rows for metric 'exploitability'"), "{msg}");
    assert!(msg.contains("'distance'"), "lists available metrics: {msg}");
}

#[test]
fn existing_figure_is_replaced_not_appended() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("metrics.csv");
    std::fs::write(&csv, sample_csv()).unwrap();
    let (svg, png) = outputs(dir.path());
    std::fs::create_dir_all(svg.parent().unwrap()).unwrap();
    std::fs::write(&svg, "old").unwrap();
    std::fs::write(&png, "old").unwrap();
    plot_csv(&csv, &PlotSpec::default(), &svg, &png).unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));

    // A failing run keeps the previous (complete) figures untouched.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("{HEADER}\nexact,rps,eg,0,1,1,1,1,gap,x\n")).unwrap();
    let before = std::fs::read(&png).unwrap();
    let err = plot_csv(&bad, &PlotSpec::default(), &svg, &png).unwrap_err();
    assert!(
        matches!(err, PlotError::BadValue { line: 2, .. }),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&png).unwrap(), before);
}
