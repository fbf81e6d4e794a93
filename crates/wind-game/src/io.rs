//! Game and policy files.
//!
//! **Game CSV**: one row of `n` comma-separated numbers per matrix row (`P(row ≻ col)`);
//! contexts separated by a blank line; `#` starts a comment line.
//! **Game JSON**: a matrix `[[…]]`, a list of matrices `[[[…]]]`, or
//! `{"contexts": [[[…]]], "rho": […]}`.
//! **Policy CSV/JSON**: one probability row per context (`[[…]]`, or `[…]` for one context).

use crate::error::{GameError, Result};
use crate::game::Game;
use crate::policy::Policy;
use std::path::Path;

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| GameError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn parse_err(path: &Path, line: usize, msg: impl Into<String>) -> GameError {
    GameError::Parse {
        path: path.to_path_buf(),
        line,
        msg: msg.into(),
    }
}

fn is_json(path: &Path) -> Result<bool> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
    {
        Some(e) if e == "json" => Ok(true),
        Some(e) if e == "csv" => Ok(false),
        _ => Err(parse_err(
            path,
            0,
            "unknown file type; use a .csv or .json file",
        )),
    }
}

/// Numeric rows of a CSV file, grouped into blocks by blank lines; each row keeps its line.
/// Rows of one block, each with its 1-based line number.
type Block = Vec<(usize, Vec<f64>)>;

fn csv_blocks(path: &Path, text: &str) -> Result<Vec<Block>> {
    let mut blocks: Vec<Block> = vec![Vec::new()];
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            if !blocks.last().unwrap().is_empty() {
                blocks.push(Vec::new());
            }
            continue;
        }
        let row = line
            .split(',')
            .enumerate()
            .map(|(c, f)| {
                f.trim().parse::<f64>().map_err(|_| {
                    parse_err(
                        path,
                        i + 1,
                        format!("field {} ('{}') is not a number", c + 1, f.trim()),
                    )
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        blocks.last_mut().unwrap().push((i + 1, row));
    }
    if blocks.last().is_some_and(|b| b.is_empty()) {
        blocks.pop();
    }
    Ok(blocks)
}

/// Matrices, optional ρ, and (for CSV) the line of every matrix row.
type Parsed = (
    Vec<Vec<Vec<f64>>>,
    Option<Vec<f64>>,
    Option<Vec<Vec<usize>>>,
);

/// Load and validate a game file (CSV or JSON).
pub fn load_game(path: &Path) -> Result<Game> {
    let text = read(path)?;
    let (mats, rho, lines): Parsed = if is_json(path)? {
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| parse_err(path, e.line(), format!("invalid JSON: {e}")))?;
        let (ctx, rho) = match v {
            serde_json::Value::Object(mut o) => {
                for k in o.keys() {
                    if k != "contexts" && k != "rho" {
                        return Err(parse_err(
                            path,
                            0,
                            format!(
                                "unknown key '{k}'; expected \"contexts\" and optional \"rho\""
                            ),
                        ));
                    }
                }
                let c = o
                    .remove("contexts")
                    .ok_or_else(|| parse_err(path, 0, "missing key \"contexts\""))?;
                let rho = match o.remove("rho") {
                    None => None,
                    Some(r) => Some(
                        serde_json::from_value::<Vec<f64>>(r)
                            .map_err(|e| parse_err(path, 0, format!("\"rho\": {e}")))?,
                    ),
                };
                (c, rho)
            }
            other => (other, None),
        };
        let mats = if let Ok(m) = serde_json::from_value::<Vec<Vec<f64>>>(ctx.clone()) {
            vec![m]
        } else {
            serde_json::from_value::<Vec<Vec<Vec<f64>>>>(ctx).map_err(|e| {
                parse_err(
                    path,
                    0,
                    format!("expected a matrix or a list of matrices of numbers: {e}"),
                )
            })?
        };
        (mats, rho, None)
    } else {
        let blocks = csv_blocks(path, &text)?;
        let lines = blocks
            .iter()
            .map(|b| b.iter().map(|(l, _)| *l).collect())
            .collect();
        (
            blocks
                .into_iter()
                .map(|b| b.into_iter().map(|(_, r)| r).collect())
                .collect(),
            None,
            Some(lines),
        )
    };
    Game::from_matrices(&mats, rho)
        .map_err(|e| {
            let line = match (&e, &lines) {
                (
                    GameError::Entry { context, row, .. }
                    | GameError::Complement { context, row, .. }
                    | GameError::Shape { context, row, .. },
                    Some(l),
                ) => l
                    .get(*context)
                    .and_then(|c| c.get(*row))
                    .copied()
                    .unwrap_or(0),
                _ => 0,
            };
            parse_err(path, line, e.to_string())
        })
        .map(|g| {
            g.named(
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        })
}

/// Load a policy file: one probability row per context.
pub fn load_policy(path: &Path) -> Result<Policy> {
    let text = read(path)?;
    let rows: Vec<Vec<f64>> = if is_json(path)? {
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| parse_err(path, e.line(), format!("invalid JSON: {e}")))?;
        if let Ok(r) = serde_json::from_value::<Vec<f64>>(v.clone()) {
            vec![r]
        } else {
            serde_json::from_value(v).map_err(|e| {
                parse_err(
                    path,
                    0,
                    format!("expected [[probabilities]] per context: {e}"),
                )
            })?
        }
    } else {
        csv_blocks(path, &text)?
            .into_iter()
            .flatten()
            .map(|(_, r)| r)
            .collect()
    };
    Policy::from_probs(&rows).map_err(|e| parse_err(path, 0, e.to_string()))
}
