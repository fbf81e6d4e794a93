//! Experiment files.
//!
//! ```toml
//! name = "exact"
//! seeds = [0, 1, 2, 3, 4]
//! beta = 0.1
//! iterations = 400
//! metrics = ["kl_star", "kl_target", "gap"]
//! [reference]
//! kind = "softmax_gaussian"
//! sigma = 1.0
//! [[games]]
//! kind = "cyclic"
//! contexts = 10
//! actions = 10
//! [[methods]]
//! kind = "wind"
//! g = "identity"
//! eta = 1.0
//! [plot]
//! metrics = ["kl_target", "gap"]
//! log_y = true
//! ```
//! Unknown keys and bad values are rejected with `file:line:column` and the fix.

use crate::{ExpError, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use toml::Spanned;
use wind_dynamics::{MethodSpec, MetricKind};
use wind_game::{GameSpec, ReferenceSpec};
use wind_learn::{LearnerKind, LearnerSpec, OracleMode, PolicyClass};
use wind_plot::PlotSpec;

/// Settings shared by the parametric learners (`[learning]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearningSpec {
    /// Policy class (`[learning.policy] class = "tabular" | "log_linear" | "mlp"`).
    #[serde(default)]
    pub policy: PolicyClass,
    /// Oracle labels: `"bernoulli"` (a judge's 0/1) or `"exact"` (the soft value).
    #[serde(default)]
    pub oracle: OracleMode,
    /// Oracle-query budget per run (every learner gets the same).
    pub budget: u64,
}

const LEARNER_COMMON: [&str; 4] = ["batch", "steps", "lr", "label"];

/// Split a `[[learners]]` table into the algorithm (tagged by `kind`) and the optimisation
/// settings shared by all learners.
fn parse_learner(table: &toml::Table) -> std::result::Result<LearnerSpec, String> {
    let mut rest = table.clone();
    let mut common = toml::Table::new();
    for k in LEARNER_COMMON {
        if let Some(v) = rest.remove(k) {
            common.insert(k.into(), v);
        }
    }
    let kind: LearnerKind = toml::Value::Table(rest)
        .try_into()
        .map_err(|e: toml::de::Error| {
            let mut m = e.message().trim().to_string();
            if m.contains("unknown field") {
                m.push_str(&format!(
                "; remove the key or fix its spelling (every learner also takes {LEARNER_COMMON:?})"
            ));
            }
            m
        })?;
    let mut spec = LearnerSpec::new(kind);
    let int = |k: &str, v: &toml::Value| -> std::result::Result<usize, String> {
        v.as_integer()
            .filter(|&i| (1..=1_000_000).contains(&i))
            .map(|i| i as usize)
            .ok_or_else(|| format!("{k} = {v}: must be an integer in 1..=1000000"))
    };
    if let Some(v) = common.get("batch") {
        spec.batch = int("batch", v)?;
    }
    if let Some(v) = common.get("steps") {
        spec.steps = int("steps", v)?;
    }
    if let Some(v) = common.get("lr") {
        let lr = v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
        match lr {
            Some(lr) if lr.is_finite() && lr > 0.0 && lr <= 10.0 => spec.lr = lr,
            _ => {
                return Err(format!(
                    "lr = {v}: the learning rate must be a number in (0, 10]"
                ));
            }
        }
    }
    if let Some(v) = common.get("label") {
        spec.label = Some(
            v.as_str()
                .filter(|s| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                })
                .ok_or_else(|| format!("label = {v}: use letters, digits, '_' or '-'"))?
                .to_string(),
        );
    }
    Ok(spec)
}

fn default_tol() -> f64 {
    1e-13
}

fn one() -> Spanned<usize> {
    Spanned::new(0..0, 1)
}

fn default_metrics() -> Vec<MetricKind> {
    vec![MetricKind::KlStar, MetricKind::KlTarget, MetricKind::Gap]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExperiment {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    seeds: Spanned<Vec<u64>>,
    beta: Spanned<f64>,
    iterations: Spanned<usize>,
    #[serde(default = "default_tol")]
    tol: f64,
    #[serde(default = "one")]
    log_every: Spanned<usize>,
    #[serde(default = "default_metrics")]
    metrics: Vec<MetricKind>,
    #[serde(default)]
    reference: ReferenceSpec,
    games: Vec<Spanned<GameSpec>>,
    #[serde(default)]
    methods: Vec<Spanned<MethodSpec>>,
    #[serde(default)]
    learning: Option<Spanned<LearningSpec>>,
    #[serde(default)]
    learners: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    plot: PlotSpec,
}

/// A validated experiment (what the runner executes and the manifest records).
#[derive(Debug, Clone, Serialize)]
pub struct Experiment {
    /// Name: results go to `results/<name>/`, figures to `paper-figures/<name>.{svg,png}`.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Seeds (each seed draws the game instance and `π_ref`).
    pub seeds: Vec<u64>,
    /// Regularization β > 0.
    pub beta: f64,
    /// Iteration budget per run.
    pub iterations: usize,
    /// Convergence tolerance on `KL(target‖π_t)`.
    pub tol: f64,
    /// Record metrics every `log_every` iterations (plus the first and the last).
    pub log_every: usize,
    /// Metrics recorded every iteration.
    pub metrics: Vec<MetricKind>,
    /// Reference policy.
    pub reference: ReferenceSpec,
    /// Games.
    pub games: Vec<GameSpec>,
    /// Exact methods.
    pub methods: Vec<MethodSpec>,
    /// Learner settings (present when there are learners).
    pub learning: Option<LearningSpec>,
    /// Parametric learners.
    pub learners: Vec<LearnerSpec>,
    /// Figure.
    pub plot: PlotSpec,
    /// Folder of the experiment file (relative paths resolve against it).
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The experiment file.
    pub source: PathBuf,
}

/// 1-based (line, column) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let off = offset.min(text.len());
    let before = &text[..off];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map(|p| off - p).unwrap_or(off + 1);
    (line, col)
}

/// Parse and validate an experiment file.
pub fn load_experiment(path: &Path) -> Result<Experiment> {
    let text = std::fs::read_to_string(path).map_err(|e| ExpError::Io {
        path: path.display().to_string(),
        msg: format!("cannot read the experiment file: {e}"),
    })?;
    parse_experiment(&text, path)
}

/// Parse and validate experiment text (`path` is used for messages and relative paths).
pub fn parse_experiment(text: &str, path: &Path) -> Result<Experiment> {
    let file = path.display().to_string();
    let err_at = |offset: usize, msg: String| {
        let (line, column) = line_col(text, offset);
        ExpError::Config {
            file: file.clone(),
            line,
            column,
            msg,
        }
    };
    let raw: RawExperiment = toml::from_str(text).map_err(|e| {
        let off = e.span().map(|s| s.start).unwrap_or(0);
        let mut msg = e.message().trim().to_string();
        if msg.contains("unknown field") {
            msg.push_str("; remove the key or fix its spelling");
        } else if msg.starts_with("missing field") {
            msg.push_str("; add it (see experiments/exact.toml for a complete example)");
        }
        err_at(off, msg)
    })?;
    let name = raw.name.get_ref().clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(err_at(
            raw.name.span().start,
            format!(
                "name = {name:?}: use letters, digits, '_' or '-' (it names the results folder)"
            ),
        ));
    }
    let beta = *raw.beta.get_ref();
    if !(beta.is_finite() && beta > 0.0) {
        return Err(err_at(
            raw.beta.span().start,
            format!("beta = {beta}: β must be finite and > 0 (e.g. beta = 0.1)"),
        ));
    }
    if raw.seeds.get_ref().is_empty() {
        return Err(err_at(
            raw.seeds.span().start,
            "seeds is empty: give at least one seed, e.g. seeds = [0, 1, 2]".into(),
        ));
    }
    {
        let mut s = raw.seeds.get_ref().clone();
        s.sort_unstable();
        s.dedup();
        if s.len() != raw.seeds.get_ref().len() {
            return Err(err_at(
                raw.seeds.span().start,
                "seeds has duplicates: each seed must appear once".into(),
            ));
        }
    }
    let iterations = *raw.iterations.get_ref();
    if iterations == 0 || iterations > 10_000_000 {
        return Err(err_at(
            raw.iterations.span().start,
            format!("iterations = {iterations}: must be in 1..=10000000"),
        ));
    }
    let log_every = *raw.log_every.get_ref();
    if log_every == 0 {
        return Err(err_at(
            raw.log_every.span().start,
            "log_every = 0: must be ≥ 1 (1 records every iteration)".into(),
        ));
    }
    if !(raw.tol.is_finite() && raw.tol >= 0.0) {
        return Err(err_at(
            0,
            format!("tol = {}: must be finite and ≥ 0", raw.tol),
        ));
    }
    if raw.games.is_empty() {
        return Err(err_at(
            text.len(),
            "no [[games]]: add at least one game table".into(),
        ));
    }
    if raw.methods.is_empty() && raw.learners.is_empty() {
        return Err(err_at(
            text.len(),
            "no [[methods]] and no [[learners]]: add at least one method or learner table".into(),
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    let mut learners = Vec::new();
    for (i, t) in raw.learners.iter().enumerate() {
        let spec = parse_learner(t.get_ref())
            .map_err(|m| err_at(t.span().start, format!("[[learners]] #{}: {m}", i + 1)))?;
        if let Err((field, msg)) = spec.kind.validate(beta) {
            return Err(err_at(
                t.span().start,
                format!("[[learners]] #{} ({}), {field}: {msg}", i + 1, spec.name()),
            ));
        }
        if !names.insert(spec.name()) {
            return Err(err_at(
                t.span().start,
                format!(
                    "[[learners]] #{}: method '{}' is listed twice (give one a distinct `label`)",
                    i + 1,
                    spec.name()
                ),
            ));
        }
        learners.push(spec);
    }
    if learners.is_empty()
        && let Some(l) = &raw.learning
    {
        return Err(err_at(
            l.span().start,
            "[learning] is given but there are no [[learners]]: add a learner table or remove [learning]".into(),
        ));
    }
    if !learners.is_empty() {
        match &raw.learning {
            None => {
                return Err(err_at(
                    raw.learners[0].span().start,
                    "[[learners]] need a [learning] table with at least `budget = <oracle queries per run>`".into(),
                ));
            }
            Some(l) if l.get_ref().budget == 0 => {
                return Err(err_at(
                    l.span().start,
                    "[learning] budget = 0: give the oracle-query budget per run (e.g. budget = 20000)".into(),
                ));
            }
            Some(l) => {
                let budget = l.get_ref().budget;
                for (i, spec) in learners.iter().enumerate() {
                    let q = spec.queries_per_iteration();
                    if q > budget {
                        return Err(err_at(
                            raw.learners[i].span().start,
                            format!(
                                "[[learners]] #{} ({}): one iteration makes batch × queries per prompt = {} × {} = {q} oracle queries, more than [learning] budget = {budget}; lower batch or raise the budget",
                                i + 1,
                                spec.name(),
                                spec.batch,
                                spec.kind.queries_per_prompt()
                            ),
                        ));
                    }
                }
                if let PolicyClass::Mlp { hidden } = l.get_ref().policy
                    && !(1..=4096).contains(&hidden)
                {
                    return Err(err_at(
                        l.span().start,
                        format!("[learning.policy] hidden = {hidden}: use a width in 1..=4096"),
                    ));
                }
            }
        }
    }
    for (i, m) in raw.methods.iter().enumerate() {
        if let Err((field, msg)) = m.get_ref().validate(beta) {
            return Err(err_at(
                m.span().start,
                format!(
                    "[[methods]] #{} ({}), {field}: {msg}",
                    i + 1,
                    m.get_ref().name()
                ),
            ));
        }
        if !names.insert(m.get_ref().name()) {
            return Err(err_at(
                m.span().start,
                format!(
                    "[[methods]] #{}: method '{}' is listed twice",
                    i + 1,
                    m.get_ref().name()
                ),
            ));
        }
    }
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    // Build every game and reference once now, so a bad file or parameter stops the run before
    // any output exists.
    let mut labels = std::collections::BTreeSet::new();
    for (i, g) in raw.games.iter().enumerate() {
        for &seed in raw.seeds.get_ref() {
            let game = g.get_ref().build(seed, &base_dir).map_err(|e| {
                err_at(
                    g.span().start,
                    format!("[[games]] #{} ({}): {e}", i + 1, g.get_ref().label()),
                )
            })?;
            raw.reference
                .build(&game, seed, &base_dir)
                .map_err(|e| err_at(0, format!("[reference]: {e}")))?;
            if let Some(l) = &raw.learning
                && !learners.is_empty()
                && !matches!(l.get_ref().policy, PolicyClass::Tabular {})
                && game.features().is_none()
            {
                return Err(err_at(
                    g.span().start,
                    format!(
                        "[[games]] #{} ({}): the policy class '{}' of [learning] needs features φ(x,y), which this game has none of; use kind = \"contextual\" or class = \"tabular\"",
                        i + 1,
                        g.get_ref().label(),
                        l.get_ref().policy.name()
                    ),
                ));
            }
        }
        if !labels.insert(g.get_ref().label()) {
            return Err(err_at(
                g.span().start,
                format!(
                    "[[games]] #{}: game '{}' is listed twice",
                    i + 1,
                    g.get_ref().label()
                ),
            ));
        }
    }
    let known: Vec<&str> = raw.metrics.iter().map(|m| m.name()).collect();
    for m in &raw.plot.metrics {
        if !known.contains(&m.as_str()) {
            return Err(err_at(
                0,
                format!("[plot] metrics: '{m}' is not recorded; recorded metrics are {known:?}"),
            ));
        }
    }
    Ok(Experiment {
        name,
        description: raw.description,
        seeds: raw.seeds.into_inner(),
        beta,
        iterations,
        tol: raw.tol,
        log_every,
        metrics: raw.metrics,
        reference: raw.reference,
        games: raw.games.into_iter().map(Spanned::into_inner).collect(),
        methods: raw.methods.into_iter().map(Spanned::into_inner).collect(),
        learning: raw.learning.map(Spanned::into_inner),
        learners,
        plot: raw.plot,
        base_dir,
        source: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
seeds = [0, 1]
beta = 0.1
iterations = 10

[[games]]
kind = "rps"

[[methods]]
kind = "wind"
eta = 1.0
"#;

    fn err(text: &str) -> String {
        parse_experiment(text, Path::new("x.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn good_parses() {
        let e = parse_experiment(GOOD, Path::new("x.toml")).unwrap();
        assert_eq!(e.seeds, vec![0, 1]);
        assert_eq!(e.methods.len(), 1);
    }

    #[test]
    fn errors_name_line_and_fix() {
        let e = err(&GOOD.replace("beta = 0.1", "beta = -0.1"));
        assert!(
            e.starts_with("x.toml:4:") && e.contains("β must be finite and > 0"),
            "{e}"
        );
        let e = err(&GOOD.replace("eta = 1.0", "eta = 10.0"));
        assert!(
            e.starts_with("x.toml:10:") && e.contains("ηβ must be < 1"),
            "{e}"
        );
        let e = err(&GOOD.replace("iterations = 10", "iterations = 10\nbogus = 3"));
        assert!(
            e.starts_with("x.toml:6:") && e.contains("unknown field") && e.contains("bogus"),
            "{e}"
        );
        let e = err(&GOOD.replace("kind = \"rps\"", "kind = \"rps\"\nsize = 3"));
        assert!(e.contains("x.toml:") && e.contains("size"), "{e}");
        let e = err("name = \"t\"\nseeds = [0\n");
        assert!(e.starts_with("x.toml:2:"), "{e}");
        let e = err(&GOOD.replace("kind = \"rps\"", "kind = \"file\"\npath = \"nope.csv\""));
        assert!(e.contains("[[games]] #1") && e.contains("nope.csv"), "{e}");
    }
}
