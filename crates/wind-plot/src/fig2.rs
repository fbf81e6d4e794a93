//! The fig2 figure: (a) seconds per iteration by phase (generate / judge / train) for each
//! learner, stacked; (b) win rate against the base model vs cumulative training-judge calls
//! (solid: training judge, dashed: held-out judge); (c) the same against policy samples.

use super::{FONT, PALETTE, PlotError, font, out_dir, persist_pair, temp_in};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Default, Clone)]
struct Curve {
    /// (judge_calls, samples, win_train, win_heldout) per iteration, mean over seeds.
    points: Vec<(f64, f64, f64, f64)>,
    /// mean seconds per iteration: generate, judge, train.
    phases: [f64; 3],
}

fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), PlotError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlotError::Render {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    Ok((header, rows))
}

fn col(header: &[String], name: &str, path: &Path) -> Result<usize, PlotError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| PlotError::Render {
            path: path.to_path_buf(),
            message: format!("column {name:?} missing (is this a fig2 results folder?)"),
        })
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

fn load(dir: &Path) -> Result<Vec<(String, Curve)>, PlotError> {
    let mp = dir.join("metrics.csv");
    let tp = dir.join("timing.csv");
    let (h, rows) = read_csv(&mp)?;
    let (lab, it, calls, samp, wt, wh) = (
        col(&h, "label", &mp)?,
        col(&h, "iteration", &mp)?,
        col(&h, "judge_calls", &mp)?,
        col(&h, "samples", &mp)?,
        col(&h, "win_train", &mp)?,
        col(&h, "win_heldout", &mp)?,
    );
    let mut order: Vec<String> = Vec::new();
    let mut acc: BTreeMap<(String, u64), Vec<[f64; 4]>> = BTreeMap::new();
    for r in &rows {
        if r.len() != h.len() {
            return Err(PlotError::Render {
                path: mp.clone(),
                message: format!("row with {} fields, header has {}", r.len(), h.len()),
            });
        }
        if !order.contains(&r[lab]) {
            order.push(r[lab].clone());
        }
        let i = r[it].parse::<u64>().unwrap_or(0);
        acc.entry((r[lab].clone(), i)).or_default().push([
            num(&r[calls]),
            num(&r[samp]),
            num(&r[wt]),
            num(&r[wh]),
        ]);
    }
    for r in &rows {
        for (k, name) in [(calls, "judge_calls"), (samp, "samples"), (it, "iteration")] {
            if r[k].parse::<f64>().is_err() {
                return Err(PlotError::Render {
                    path: mp.clone(),
                    message: format!("{name} = {:?} is not a number", r[k]),
                });
            }
        }
        for (k, name) in [(wt, "win_train"), (wh, "win_heldout")] {
            if !r[k].is_empty() && r[k].parse::<f64>().is_err() {
                return Err(PlotError::Render {
                    path: mp.clone(),
                    message: format!("{name} = {:?} is not a number", r[k]),
                });
            }
        }
    }
    let (th, trows) = read_csv(&tp)?;
    for r in &trows {
        if r.len() != th.len() {
            return Err(PlotError::Render {
                path: tp.clone(),
                message: format!("row with {} fields, header has {}", r.len(), th.len()),
            });
        }
    }
    let (tl, ti, g, j, t) = (
        col(&th, "label", &tp)?,
        col(&th, "iteration", &tp)?,
        col(&th, "gen_s", &tp)?,
        col(&th, "judge_s", &tp)?,
        col(&th, "train_s", &tp)?,
    );
    let mut out = Vec::new();
    for l in &order {
        let mut c = Curve::default();
        for ((ll, _), v) in acc.iter().filter(|((ll, _), _)| ll == l) {
            let _ = ll;
            let n = v.len() as f64;
            let m = |k: usize| v.iter().map(|x| x[k]).sum::<f64>() / n;
            c.points.push((m(0), m(1), m(2), m(3)));
        }
        let ts: Vec<&Vec<String>> = trows
            .iter()
            .filter(|r| &r[tl] == l && r[ti] != "0")
            .collect();
        let n = ts.len().max(1) as f64;
        c.phases = [
            ts.iter().map(|r| num(&r[g])).sum::<f64>() / n,
            ts.iter().map(|r| num(&r[j])).sum::<f64>() / n,
            ts.iter().map(|r| num(&r[t])).sum::<f64>() / n,
        ];
        out.push((l.clone(), c));
    }
    if out.is_empty() {
        return Err(PlotError::Render {
            path: mp,
            message: "no rows".into(),
        });
    }
    Ok(out)
}

type R<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &[(String, Curve)],
    title: &str,
) -> R<DB> {
    root.fill(&WHITE)?;
    let area = root.titled(title, (FONT, 20))?;
    let panels = area.split_evenly((1, 3));
    // (a) stacked phases.
    let ymax = data
        .iter()
        .map(|(_, c)| c.phases.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1e-6)
        * 1.15;
    let n = data.len();
    let mut ch = ChartBuilder::on(&panels[0])
        .caption(
            "s / iteration: generate (blue), judge (orange), train (green)",
            (FONT, 14),
        )
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..n as f64, 0.0..ymax)?;
    ch.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("seconds")
        .label_style((FONT, 12))
        .draw()?;
    let phase_colors = [
        RGBColor(78, 121, 167),
        RGBColor(242, 142, 43),
        RGBColor(89, 161, 79),
    ];
    for (i, (label, c)) in data.iter().enumerate() {
        let mut y = 0.0;
        for (k, v) in c.phases.iter().enumerate() {
            let x0 = i as f64 + 0.2;
            ch.draw_series(std::iter::once(Rectangle::new(
                [(x0, y), (x0 + 0.6, y + v)],
                phase_colors[k].filled(),
            )))?;
            y += v;
        }
        ch.draw_series(std::iter::once(Text::new(
            format!("{label} ({y:.1} s)"),
            (i as f64 + 0.2, y + ymax * 0.06),
            (FONT, 12).into_font(),
        )))?;
    }
    // (b), (c): win rate vs judge calls / samples.
    for (p, (xname, xi)) in [
        ("cumulative training-judge calls", 0usize),
        ("cumulative policy samples", 1),
    ]
    .iter()
    .enumerate()
    {
        let pts = data.iter().flat_map(|(_, c)| c.points.iter());
        let (mut x1, mut y0, mut y1) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
        for q in pts {
            let x = if *xi == 0 { q.0 } else { q.1 };
            x1 = x1.max(x);
            for v in [q.2, q.3] {
                if v.is_finite() {
                    y0 = y0.min(v);
                    y1 = y1.max(v);
                }
            }
        }
        if !y0.is_finite() {
            (y0, y1) = (0.0, 1.0);
        }
        let pad = ((y1 - y0) * 0.1).max(0.02);
        let mut ch = ChartBuilder::on(&panels[p + 1])
            .caption(format!("win rate vs base — {xname}"), (FONT, 14))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..x1 * 1.05, (y0 - pad)..(y1 + pad))?;
        ch.configure_mesh()
            .x_desc(*xname)
            .y_desc("P(π_t ≻ π_ref)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style((FONT, 12))
            .draw()?;
        for (i, (label, c)) in data.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let xy = |q: &(f64, f64, f64, f64)| if *xi == 0 { q.0 } else { q.1 };
            ch.draw_series(LineSeries::new(
                c.points.iter().map(|q| (xy(q), q.2)),
                color.stroke_width(2),
            ))?
            .label(format!("{label} (training judge)"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
            ch.draw_series(
                c.points
                    .iter()
                    .map(|q| Circle::new((xy(q), q.2), 3, color.filled())),
            )?;
            let dashed: Vec<(f64, f64)> = c.points.iter().map(|q| (xy(q), q.3)).collect();
            ch.draw_series(DashedLineSeries::new(dashed, 6, 4, color.stroke_width(1)))?
                .label(format!("{label} (held-out judge, dashed)"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(1))
                });
        }
        ch.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font((FONT, 11))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// Draw `<dir>/{metrics,timing}.csv` (a fig2 results folder) to `svg_out` and `png_out`.
pub fn plot_fig2(dir: &Path, title: &str, svg_out: &Path, png_out: &Path) -> Result<(), PlotError> {
    let data = load(dir)?;
    font::ensure_registered().map_err(|message| PlotError::Render {
        path: svg_out.to_path_buf(),
        message,
    })?;
    let size = (1380u32, 440u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root, &data, title).map_err(|e| PlotError::Render {
            path: svg_out.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    let png_tmp = temp_in(&out_dir(png_out)?, ".png")?;
    {
        let root = BitMapBackend::new(png_tmp.path(), size).into_drawing_area();
        draw(&root, &data, title).map_err(|e| PlotError::Render {
            path: png_out.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    persist_pair(&svg, png_tmp, svg_out, png_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = "label,method,seed,iteration,samples,judge_calls,win_train,win_heldout\nw,wind_sq,0,0,0,0,0.5,0.5\nw,wind_sq,0,1,8,4,0.6,0.55\n";
    const T: &str = "label,method,seed,iteration,gen_s,judge_s,train_s,eval_s\nw,wind_sq,0,0,0,0,0,0\nw,wind_sq,0,1,1.0,0.1,2.0,0.5\n";

    fn draw_in(m: &str, t: &str) -> Result<(), PlotError> {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("metrics.csv"), m).unwrap();
        std::fs::write(d.path().join("timing.csv"), t).unwrap();
        let out = d.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        plot_fig2(d.path(), "t", &out.join("f.svg"), &out.join("f.png"))
    }

    #[test]
    fn draws_and_rejects_damaged_files() {
        draw_in(M, T).unwrap();
        let short = format!("{T}w,wind_sq\n");
        let e = draw_in(M, &short).unwrap_err().to_string();
        assert!(e.contains("fields"), "{e}");
        let bad = M.replace("0.6,0.55", "abc,0.55");
        let e = draw_in(&bad, T).unwrap_err().to_string();
        assert!(e.contains("win_train"), "{e}");
        let bad = M.replace(",1,8,4,", ",x,8,4,");
        assert!(draw_in(&bad, T).is_err());
    }
}
