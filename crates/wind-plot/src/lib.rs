//! wind-plot: turn a tidy long-format metrics CSV into a figure (SVG and PNG).
//!
//! The input CSV has the header
//! `experiment,game,method,seed,iteration,samples,oracle_queries,grad_steps,metric,value`
//! (one row per measurement). [`plot_csv`] reads such a file and draws a grid of
//! panels — one row per `game`, one column per metric — with one line per
//! `method` showing the mean over seeds and a shaded 95% Student-t band (see
//! [`band`]).
//!
//! Text is rendered with an embedded copy of DejaVu Sans, so no system fonts or
//! fontconfig are needed at run time. Outputs are written atomically: both
//! figures are rendered into temporary files next to their targets and renamed
//! over them only once rendering succeeded.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

pub mod fig2;
mod font;

/// Columns the input CSV must have (in any order; extra columns are ignored).
pub const COLUMNS: [&str; 10] = [
    "experiment",
    "game",
    "method",
    "seed",
    "iteration",
    "samples",
    "oracle_queries",
    "grad_steps",
    "metric",
    "value",
];

/// Width of one panel column in pixels.
pub const PANEL_WIDTH: u32 = 420;
/// Height of one panel row in pixels.
pub const PANEL_HEIGHT: u32 = 320;
/// Height reserved for the figure title (only when the title is non-empty).
const TITLE_HEIGHT: u32 = 40;

/// Which counter is used as the x axis of every panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XAxis {
    /// Outer iteration counter (`iteration` column).
    #[default]
    Iteration,
    /// Number of samples drawn so far (`samples` column).
    Samples,
    /// Number of oracle queries so far (`oracle_queries` column).
    OracleQueries,
    /// Number of gradient steps so far (`grad_steps` column).
    GradSteps,
    /// Wall-clock milliseconds to reach the iteration, mean over seeds (from `wall.csv`,
    /// joined by `wind plot --x wall_ms`; 0 in `metrics.csv`, which stays byte-stable).
    WallMs,
}

impl XAxis {
    /// The CSV column this axis reads.
    pub fn column(self) -> &'static str {
        match self {
            XAxis::Iteration => "iteration",
            XAxis::Samples => "samples",
            XAxis::OracleQueries => "oracle_queries",
            XAxis::GradSteps => "grad_steps",
            XAxis::WallMs => "wall_ms",
        }
    }

    /// Human-readable axis label.
    pub fn label(self) -> &'static str {
        match self {
            XAxis::Iteration => "iteration",
            XAxis::Samples => "samples",
            XAxis::OracleQueries => "oracle queries",
            XAxis::GradSteps => "gradient steps",
            XAxis::WallMs => "wall-clock ms (mean over seeds)",
        }
    }

    /// The x value of `row` on this axis.
    pub fn value(self, row: &Row) -> u64 {
        match self {
            XAxis::Iteration => row.iteration,
            XAxis::Samples => row.samples,
            XAxis::OracleQueries => row.oracle_queries,
            XAxis::GradSteps => row.grad_steps,
            XAxis::WallMs => row.wall_ms,
        }
    }
}

/// What to plot and how.
///
/// Deserializes from e.g. TOML/JSON with every field optional; unknown fields
/// are rejected so typos surface as errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlotSpec {
    /// Figure title drawn above the grid; empty means no title.
    pub title: String,
    /// Metrics to plot, one panel column each, in this order. Empty means every
    /// metric found in the data, in order of first appearance.
    pub metrics: Vec<String>,
    /// Which counter to use as the x axis.
    pub x: XAxis,
    /// Logarithmic x axis (points with x = 0 are dropped).
    pub log_x: bool,
    /// Logarithmic y axis (points whose mean is ≤ 0 are dropped).
    pub log_y: bool,
}

impl Default for PlotSpec {
    fn default() -> Self {
        PlotSpec {
            title: String::new(),
            metrics: Vec::new(),
            x: XAxis::Iteration,
            log_x: false,
            log_y: true,
        }
    }
}

/// What a rendered figure contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlotSummary {
    /// Number of panels (games × metrics).
    pub panels: usize,
    /// Number of drawn lines (one per method per panel that has data).
    pub series: usize,
    /// Total number of plotted (x, mean) points over all lines.
    pub points: usize,
}

/// One row of the tidy metrics CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Experiment name.
    pub experiment: String,
    /// Game name (one panel row per game).
    pub game: String,
    /// Method name (one line per method).
    pub method: String,
    /// Random seed of the run.
    pub seed: u64,
    /// Iteration counter.
    pub iteration: u64,
    /// Samples drawn so far.
    pub samples: u64,
    /// Oracle queries so far.
    pub oracle_queries: u64,
    /// Gradient steps so far.
    pub grad_steps: u64,
    /// Wall-clock milliseconds (not in `metrics.csv`: 0 there; filled from `wall.csv`).
    pub wall_ms: u64,
    /// Metric name (one panel column per metric).
    pub metric: String,
    /// Metric value.
    pub value: f64,
}

/// Errors from reading metrics or drawing figures.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum PlotError {
    /// The input file could not be opened or read.
    #[error(
        "cannot read '{path}': {source} (check the path; run the experiment first to create it)"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The CSV is malformed (wrong number of fields, bad UTF-8, ...).
    #[error("{path}:{line}: malformed CSV: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 if unknown).
        line: u64,
        /// What went wrong.
        message: String,
    },
    /// The header lacks required columns.
    #[error(
        "{path}: header is missing column(s) {missing} (found: {found}); expected header: {expected}",
        missing = quoted_list(.missing),
        found = if .found.is_empty() { "nothing — is the file empty?".to_string() } else { .found.join(",") },
        expected = COLUMNS.join(",")
    )]
    MissingColumns {
        /// The file.
        path: PathBuf,
        /// Required columns that are absent.
        missing: Vec<String>,
        /// Columns that are present.
        found: Vec<String>,
    },
    /// A field could not be parsed.
    #[error("{path}:{line}: column '{column}' is not {expected} ('{value}')")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: String,
        /// What was expected, e.g. "a number".
        expected: &'static str,
        /// The offending text.
        value: String,
    },
    /// There is nothing to plot.
    #[error("no plottable rows in {source_name} (the data is empty or every value is NaN/inf)")]
    NoData {
        /// Where the rows came from.
        source_name: String,
    },
    /// A metric requested in the spec does not occur in the data.
    #[error(
        "no rows for metric '{metric}' in {source_name} (available metrics: {available}); fix the 'metrics' list of the plot spec",
        available = quoted_list(.available)
    )]
    NoMetric {
        /// The requested metric.
        metric: String,
        /// Where the rows came from.
        source_name: String,
        /// Metrics that do occur.
        available: Vec<String>,
    },
    /// plotters failed while drawing.
    #[error("failed to draw {path}: {message}")]
    Render {
        /// The output being drawn.
        path: PathBuf,
        /// The plotters error.
        message: String,
    },
    /// An output file could not be written.
    #[error("cannot write '{path}': {source} (check that the folder is writable)")]
    Write {
        /// The output file or folder.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn quoted_list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_string();
    }
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Mean and 95% Student-t confidence interval of `values` (e.g. one value per seed).
///
/// Returns `(mean, lo, hi)` with `lo/hi = mean ∓ t_{0.975, n-1} · s / √n`, where
/// `s` is the sample standard deviation. For a single value `lo = hi = mean`;
/// for an empty slice all three are NaN.
pub fn band(values: &[f64]) -> (f64, f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, mean, mean);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(f64::NAN);
    let half = t * se;
    (mean, mean - half, mean + half)
}

/// Reads the tidy metrics CSV at `csv`.
///
/// Columns are located by name (order free, extra columns ignored). Rows whose
/// `value` is not finite (`inf`, `NaN`) are skipped.
pub fn read_rows(csv: &Path) -> Result<Vec<Row>, PlotError> {
    let file = std::fs::File::open(csv).map_err(|source| PlotError::Read {
        path: csv.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(std::io::BufReader::new(file));
    let csv_err = |e: csv::Error| -> PlotError {
        if let csv::ErrorKind::Io(_) = e.kind() {
            let csv::ErrorKind::Io(io) = e.into_kind() else {
                unreachable!()
            };
            return PlotError::Read {
                path: csv.to_path_buf(),
                source: io,
            };
        }
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!(
                "expected {expected_len} fields like the header, found {len} (quote fields that contain commas)"
            ),
            _ => e.to_string(),
        };
        PlotError::Csv {
            path: csv.to_path_buf(),
            line,
            message,
        }
    };

    let header = reader.headers().map_err(csv_err)?.clone();
    let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let mut idx = [0usize; COLUMNS.len()];
    let mut missing = Vec::new();
    for (k, col) in COLUMNS.iter().enumerate() {
        match names.iter().position(|n| n == col) {
            Some(i) => idx[k] = i,
            None => missing.push((*col).to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(PlotError::MissingColumns {
            path: csv.to_path_buf(),
            missing,
            found: names.into_iter().filter(|n| !n.is_empty()).collect(),
        });
    }

    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_err)? {
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let field = |k: usize| record.get(idx[k]).unwrap_or("").trim();
        let int = |k: usize| -> Result<u64, PlotError> {
            let raw = field(k);
            raw.parse::<u64>().map_err(|_| PlotError::BadValue {
                path: csv.to_path_buf(),
                line,
                column: COLUMNS[k].to_string(),
                expected: "a non-negative integer",
                value: raw.to_string(),
            })
        };
        let raw_value = field(9);
        let value: f64 = raw_value.parse().map_err(|_| PlotError::BadValue {
            path: csv.to_path_buf(),
            line,
            column: "value".to_string(),
            expected: "a number",
            value: raw_value.to_string(),
        })?;
        let row = Row {
            experiment: field(0).to_string(),
            game: field(1).to_string(),
            method: field(2).to_string(),
            seed: int(3)?,
            iteration: int(4)?,
            samples: int(5)?,
            oracle_queries: int(6)?,
            grad_steps: int(7)?,
            wall_ms: 0,
            metric: field(8).to_string(),
            value,
        };
        if row.value.is_finite() {
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Reads `csv` and draws the figure described by `spec` to `svg_out` and `png_out`.
///
/// Nothing is written unless both figures were rendered successfully; parent
/// folders are created as needed.
pub fn plot_csv(
    csv: &Path,
    spec: &PlotSpec,
    svg_out: &Path,
    png_out: &Path,
) -> Result<PlotSummary, PlotError> {
    let rows = read_rows(csv)?;
    plot_impl(
        &rows,
        spec,
        svg_out,
        png_out,
        &format!("'{}'", csv.display()),
    )
}

/// Draws the figure described by `spec` from in-memory `rows` to `svg_out` and `png_out`.
///
/// Rows with non-finite values are ignored. Nothing is written unless both
/// figures were rendered successfully; parent folders are created as needed.
pub fn plot_rows(
    rows: &[Row],
    spec: &PlotSpec,
    svg_out: &Path,
    png_out: &Path,
) -> Result<PlotSummary, PlotError> {
    plot_impl(rows, spec, svg_out, png_out, "the given rows")
}

// ---------------------------------------------------------------------------
// Aggregation
// ---------------------------------------------------------------------------

/// One aggregated point of a line.
#[derive(Debug, Clone, Copy)]
struct Point {
    x: f64,
    mean: f64,
    lo: f64,
    hi: f64,
}

#[derive(Debug)]
struct Series {
    method: String,
    color: usize,
    points: Vec<Point>,
}

#[derive(Debug)]
struct Panel {
    game: String,
    metric: String,
    series: Vec<Series>,
}

#[derive(Debug)]
struct Figure {
    title: String,
    x_label: &'static str,
    log_x: bool,
    log_y: bool,
    rows: usize,
    cols: usize,
    panels: Vec<Panel>,
}

impl Figure {
    fn size(&self) -> (u32, u32) {
        let title = if self.title.is_empty() {
            0
        } else {
            TITLE_HEIGHT
        };
        (
            PANEL_WIDTH * self.cols.max(1) as u32,
            PANEL_HEIGHT * self.rows.max(1) as u32 + title + 60,
        )
    }

    fn summary(&self) -> PlotSummary {
        PlotSummary {
            panels: self.panels.len(),
            series: self.panels.iter().map(|p| p.series.len()).sum(),
            points: self
                .panels
                .iter()
                .flat_map(|p| &p.series)
                .map(|s| s.points.len())
                .sum(),
        }
    }
}

/// Distinct values in order of first appearance.
fn first_seen<'a>(it: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = Vec::<String>::new();
    for s in it {
        if !seen.iter().any(|x| x == s) {
            seen.push(s.to_string());
        }
    }
    seen
}

fn build_figure(rows: &[Row], spec: &PlotSpec, source_name: &str) -> Result<Figure, PlotError> {
    let rows: Vec<&Row> = rows.iter().filter(|r| r.value.is_finite()).collect();
    if rows.is_empty() {
        return Err(PlotError::NoData {
            source_name: source_name.to_string(),
        });
    }
    let available = first_seen(rows.iter().map(|r| r.metric.as_str()));
    let metrics = if spec.metrics.is_empty() {
        available.clone()
    } else {
        for m in &spec.metrics {
            if !available.contains(m) {
                return Err(PlotError::NoMetric {
                    metric: m.clone(),
                    source_name: source_name.to_string(),
                    available,
                });
            }
        }
        spec.metrics.clone()
    };
    let games = first_seen(rows.iter().map(|r| r.game.as_str()));
    let methods = first_seen(rows.iter().map(|r| r.method.as_str()));

    // (game, metric, method) -> (experiment, seed) -> x -> value (last row wins).
    type Runs<'a> = HashMap<(&'a str, u64), BTreeMap<u64, f64>>;
    let mut groups: HashMap<(&str, &str, &str), Runs<'_>> = HashMap::new();
    for r in &rows {
        groups
            .entry((&r.game, &r.metric, &r.method))
            .or_default()
            .entry((&r.experiment, r.seed))
            .or_default()
            .insert(spec.x.value(r), r.value);
    }

    let mut panels = Vec::new();
    for game in &games {
        for metric in &metrics {
            let mut series = Vec::new();
            for (color, method) in methods.iter().enumerate() {
                let Some(runs) = groups.get(&(game.as_str(), metric.as_str(), method.as_str()))
                else {
                    continue;
                };
                let mut by_x: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
                for run in runs.values() {
                    for (&x, &v) in run {
                        by_x.entry(x).or_default().push(v);
                    }
                }
                // Only x values every seed reached: a run that stops early (converged) would
                // otherwise make the mean jump when it leaves the average.
                let n_runs = runs.len();
                let points: Vec<Point> = by_x
                    .into_iter()
                    .filter(|(_, vs)| vs.len() == n_runs)
                    .filter(|&(x, _)| !spec.log_x || x > 0)
                    .map(|(x, vs)| {
                        // On a log axis the band is taken over log10 values (geometric mean
                        // and a multiplicative 95% interval); non-positive values are dropped.
                        let (mean, lo, hi) = if spec.log_y {
                            let logs: Vec<f64> =
                                vs.iter().filter(|v| **v > 0.0).map(|v| v.log10()).collect();
                            if logs.is_empty() {
                                (f64::NAN, f64::NAN, f64::NAN)
                            } else {
                                let (m, l, h) = band(&logs);
                                (10f64.powf(m), 10f64.powf(l), 10f64.powf(h))
                            }
                        } else {
                            band(&vs)
                        };
                        Point {
                            x: x as f64,
                            mean,
                            lo,
                            hi,
                        }
                    })
                    .filter(|p| p.mean.is_finite() && (!spec.log_y || p.mean > 0.0))
                    .collect();
                if !points.is_empty() {
                    series.push(Series {
                        method: method.clone(),
                        color,
                        points,
                    });
                }
            }
            if spec.log_y {
                // Clip band edges to a positive floor so they can be drawn.
                let min_mean = series
                    .iter()
                    .flat_map(|s| &s.points)
                    .map(|p| p.mean)
                    .fold(f64::INFINITY, f64::min);
                let floor = min_mean / 10.0;
                for p in series.iter_mut().flat_map(|s| &mut s.points) {
                    // `max` also replaces a NaN edge.
                    p.lo = p.lo.max(floor).min(p.mean);
                    p.hi = p.hi.max(p.mean);
                }
            }
            panels.push(Panel {
                game: game.clone(),
                metric: metric.clone(),
                series,
            });
        }
    }

    Ok(Figure {
        title: spec.title.clone(),
        x_label: spec.x.label(),
        log_x: spec.log_x,
        log_y: spec.log_y,
        rows: games.len(),
        cols: metrics.len(),
        panels,
    })
}

// ---------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------

/// Tableau-10 colors, one per method (cycled).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const FONT: &str = "sans-serif";

/// Compact tick label: plain for moderate magnitudes, scientific otherwise.
fn fmt_tick(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    let mut s = String::new();
    let _ = write!(s, "{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "-0" { "0".to_string() } else { s }
}

fn linear_range(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi > lo {
        let pad = (hi - lo) * 0.05;
        (lo - pad, hi + pad)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    }
}

fn log_range(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi > 0.0) {
        return (1.0, 10.0);
    }
    if hi > lo {
        let pad = (hi / lo).powf(0.04);
        (lo / pad, hi * pad)
    } else {
        (lo / 2.0, hi * 2.0)
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_figure<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let area = if fig.title.is_empty() {
        root.clone()
    } else {
        root.titled(&fig.title, (FONT, 22))?
    };
    // One shared legend strip (method colors are the same in every panel).
    let mut entries: Vec<(usize, &str)> = Vec::new();
    for s in fig.panels.iter().flat_map(|p| &p.series) {
        if !entries.iter().any(|(_, m)| *m == s.method) {
            entries.push((s.color, s.method.as_str()));
        }
    }
    entries.sort_by_key(|e| e.0);
    let (w, _) = area.dim_in_pixel();
    let per_row = ((w as usize).saturating_sub(20) / 190).max(1);
    let legend_h = 24 * entries.len().div_ceil(per_row).max(1) as u32 + 6;
    let (legend, area) = area.split_vertically(legend_h);
    for (k, (color, method)) in entries.iter().enumerate() {
        let x = 20 + (k % per_row) as i32 * 190;
        let y = 14 + (k / per_row) as i32 * 24;
        let c = PALETTE[color % PALETTE.len()];
        legend.draw(&PathElement::new(
            vec![(x, y), (x + 26, y)],
            c.stroke_width(3),
        ))?;
        legend.draw(&Text::new(
            method.to_string(),
            (x + 32, y - 7),
            (FONT, 14).into_font(),
        ))?;
    }
    let cells = area.split_evenly((fig.rows.max(1), fig.cols.max(1)));
    for (cell, panel) in cells.iter().zip(&fig.panels) {
        let points = panel.series.iter().flat_map(|s| &s.points);
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for p in points {
            x0 = x0.min(p.x);
            x1 = x1.max(p.x);
            y0 = y0.min(p.lo.min(p.mean));
            y1 = y1.max(p.hi.max(p.mean));
        }
        let (x0, x1) = if fig.log_x {
            log_range(x0, x1)
        } else if x0.is_finite() && x1 > x0 {
            (x0, x1)
        } else {
            linear_range(x0, x1)
        };
        let (y0, y1) = if fig.log_y {
            log_range(y0, y1)
        } else {
            linear_range(y0, y1)
        };
        match (fig.log_x, fig.log_y) {
            (false, false) => draw_panel(cell, fig, panel, x0..x1, y0..y1)?,
            (true, false) => draw_panel(cell, fig, panel, (x0..x1).log_scale(), y0..y1)?,
            (false, true) => draw_panel(cell, fig, panel, x0..x1, (y0..y1).log_scale())?,
            (true, true) => {
                draw_panel(cell, fig, panel, (x0..x1).log_scale(), (y0..y1).log_scale())?
            }
        }
    }
    root.present()
}

fn draw_panel<DB, XS, YS>(
    area: &DrawingArea<DB, Shift>,
    fig: &Figure,
    panel: &Panel,
    x_spec: XS,
    y_spec: YS,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    XS: AsRangedCoord<Value = f64>,
    YS: AsRangedCoord<Value = f64>,
    XS::CoordDescType: ValueFormatter<f64>,
    YS::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} — {}", panel.game, panel.metric), (FONT, 16))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(58)
        .build_cartesian_2d(x_spec, y_spec)?;
    let fmt = |v: &f64| fmt_tick(*v);
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .x_desc(fig.x_label)
        .y_desc(panel.metric.as_str())
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(BLACK.mix(0.04))
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;

    if panel.series.is_empty() {
        let plot = chart.plotting_area().strip_coord_spec();
        let (w, h) = plot.dim_in_pixel();
        let style = (FONT, 14)
            .into_font()
            .color(&BLACK.mix(0.5))
            .pos(Pos::new(HPos::Center, VPos::Center));
        plot.draw(&Text::new(
            "no data",
            ((w / 2) as i32, (h / 2) as i32),
            style,
        ))?;
        return Ok(());
    }

    for s in &panel.series {
        let color = PALETTE[s.color % PALETTE.len()];
        if s.points.len() >= 2 {
            let outline: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|p| (p.x, p.hi))
                .chain(s.points.iter().rev().map(|p| (p.x, p.lo)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                color.mix(0.18).filled(),
            )))?;
        }
        let line = color.stroke_width(2);
        let anno = if s.points.len() == 1 {
            let p = s.points[0];
            chart.draw_series(std::iter::once(Circle::new(
                (p.x, p.mean),
                3,
                color.filled(),
            )))?
        } else {
            chart.draw_series(LineSeries::new(
                s.points.iter().map(|p| (p.x, p.mean)),
                line,
            ))?
        };
        let _ = anno;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

fn out_dir(path: &Path) -> Result<PathBuf, PlotError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|source| PlotError::Write {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

fn temp_in(dir: &Path, suffix: &str) -> Result<tempfile::NamedTempFile, PlotError> {
    let mut b = tempfile::Builder::new();
    b.prefix(".wind-plot-").suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // Figures are meant to be shared: the usual file mode, minus umask.
        b.permissions(std::fs::Permissions::from_mode(0o644));
    }
    b.tempfile_in(dir).map_err(|source| PlotError::Write {
        path: dir.to_path_buf(),
        source,
    })
}

fn plot_impl(
    rows: &[Row],
    spec: &PlotSpec,
    svg_out: &Path,
    png_out: &Path,
    source_name: &str,
) -> Result<PlotSummary, PlotError> {
    let fig = build_figure(rows, spec, source_name)?;
    font::ensure_registered().map_err(|message| PlotError::Render {
        path: svg_out.to_path_buf(),
        message,
    })?;
    let size = fig.size();

    // SVG: render in memory.
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw_figure(&root, &fig).map_err(|e| PlotError::Render {
            path: svg_out.to_path_buf(),
            message: e.to_string(),
        })?;
    }

    // PNG: plotters encodes by file extension, so render into a `.png` temp file
    // next to the target. The backend is dropped before the temp file, so even a
    // failed render leaves nothing behind.
    let png_tmp = temp_in(&out_dir(png_out)?, ".png")?;
    {
        let root = BitMapBackend::new(png_tmp.path(), size).into_drawing_area();
        draw_figure(&root, &fig).map_err(|e| PlotError::Render {
            path: png_out.to_path_buf(),
            message: e.to_string(),
        })?;
    }

    persist_pair(&svg, png_tmp, svg_out, png_out)?;
    Ok(fig.summary())
}

/// Write the in-memory SVG and move the rendered PNG temp file into place (both atomically).
pub(crate) fn persist_pair(
    svg: &str,
    png_tmp: tempfile::NamedTempFile,
    svg_out: &Path,
    png_out: &Path,
) -> Result<(), PlotError> {
    let mut svg_tmp = temp_in(&out_dir(svg_out)?, ".svg")?;
    svg_tmp
        .write_all(svg.as_bytes())
        .and_then(|()| svg_tmp.as_file().sync_all())
        .map_err(|source| PlotError::Write {
            path: svg_out.to_path_buf(),
            source,
        })?;
    svg_tmp.persist(svg_out).map_err(|e| PlotError::Write {
        path: svg_out.to_path_buf(),
        source: e.error,
    })?;
    png_tmp.persist(png_out).map_err(|e| PlotError::Write {
        path: png_out.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_known_values() {
        let (m, lo, hi) = band(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12);
        // t_{0.975,2} = 4.302653; s = 1; half = 4.302653 / sqrt(3) = 2.484138
        assert!((hi - m - 2.484_138).abs() < 1e-5, "hi = {hi}");
        assert!((m - lo - 2.484_138).abs() < 1e-5, "lo = {lo}");
    }

    #[test]
    fn band_single_and_empty() {
        assert_eq!(band(&[4.5]), (4.5, 4.5, 4.5));
        let (m, lo, hi) = band(&[]);
        assert!(m.is_nan() && lo.is_nan() && hi.is_nan());
        // Identical values: zero-width band.
        assert_eq!(band(&[2.0, 2.0]), (2.0, 2.0, 2.0));
    }

    #[test]
    fn tick_format() {
        assert_eq!(fmt_tick(0.0), "0");
        assert_eq!(fmt_tick(1e-7), "1e-7");
        assert_eq!(fmt_tick(2.5e-6), "2.5e-6");
        assert_eq!(fmt_tick(0.25), "0.25");
        assert_eq!(fmt_tick(100.0), "100");
        assert_eq!(fmt_tick(1e6), "1e6");
    }

    #[test]
    fn spec_defaults_and_unknown_fields() {
        let spec: PlotSpec = serde_json::from_str("{}").unwrap();
        assert_eq!(spec, PlotSpec::default());
        assert!(spec.log_y && !spec.log_x && spec.x == XAxis::Iteration);
        let spec: PlotSpec =
            serde_json::from_str(r#"{"x":"oracle_queries","metrics":["gap"]}"#).unwrap();
        assert_eq!(spec.x, XAxis::OracleQueries);
        assert!(serde_json::from_str::<PlotSpec>(r#"{"log_z":true}"#).is_err());
    }

    fn row(game: &str, method: &str, seed: u64, it: u64, value: f64) -> Row {
        Row {
            experiment: "e".into(),
            game: game.into(),
            method: method.into(),
            seed,
            iteration: it,
            samples: it * 10,
            oracle_queries: it * 2,
            grad_steps: it,
            wall_ms: 0,
            metric: "gap".into(),
            value,
        }
    }

    #[test]
    fn ragged_seeds_end_where_the_shortest_run_ends() {
        // Seed 0 stops after iteration 1; seed 1 runs to iteration 2: the mean is drawn only
        // where every seed has a value (no jump when a converged run leaves the average).
        let rows = vec![
            row("g", "m", 0, 1, 1.0),
            row("g", "m", 1, 1, 3.0),
            row("g", "m", 1, 2, 5.0),
            row("g", "m", 1, 3, f64::NAN),
        ];
        let spec = PlotSpec {
            log_y: false,
            ..PlotSpec::default()
        };
        let fig = build_figure(&rows, &spec, "test").unwrap();
        let pts = &fig.panels[0].series[0].points;
        assert_eq!(pts.len(), 1);
        assert_eq!((pts[0].x, pts[0].mean), (1.0, 2.0));
    }

    #[test]
    fn log_axes_drop_nonpositive_and_clip_band() {
        let rows = vec![
            row("g", "m", 0, 0, 1.0),
            row("g", "m", 0, 1, 1.0),
            row("g", "m", 1, 1, -0.5),
            row("g", "m", 0, 2, 0.0),
            row("g", "m", 0, 3, 0.1),
            row("g", "m", 1, 3, 0.3),
        ];
        let spec = PlotSpec {
            log_x: true,
            log_y: true,
            ..PlotSpec::default()
        };
        let fig = build_figure(&rows, &spec, "test").unwrap();
        let pts = &fig.panels[0].series[0].points;
        // x = 0 dropped (log x), x = 2 dropped (mean 0).
        assert_eq!(pts.iter().map(|p| p.x).collect::<Vec<_>>(), vec![1.0, 3.0]);
        for p in pts {
            assert!(p.lo > 0.0 && p.lo <= p.mean && p.hi >= p.mean, "{p:?}");
        }
    }

    #[test]
    fn unknown_metric_is_named() {
        let rows = vec![row("g", "m", 0, 1, 1.0)];
        let spec = PlotSpec {
            metrics: vec!["nope".into()],
            ..PlotSpec::default()
        };
        let msg = build_figure(&rows, &spec, "'x.csv'")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("'nope'") && msg.contains("'gap'") && msg.contains("x.csv"),
            "{msg}"
        );
    }
}
