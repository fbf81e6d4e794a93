//! Linear-rate estimation from a convergence curve.

/// A fitted geometric rate `ρ̂` with the window it was fitted on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearRate {
    /// `ρ̂ = exp(slope of log value vs iteration)`.
    pub rate: f64,
    /// First iteration of the window.
    pub from: usize,
    /// Last iteration of the window.
    pub to: usize,
}

/// Least-squares slope of `log value` against iteration over the points with
/// `lo ≤ value ≤ hi` (the asymptotic linear regime, away from the start and the rounding
/// floor). `None` with fewer than 3 points.
pub fn linear_rate(curve: &[(usize, f64)], lo: f64, hi: f64) -> Option<LinearRate> {
    let pts: Vec<(f64, f64)> = curve
        .iter()
        .filter(|(_, v)| *v >= lo && *v <= hi && *v > 0.0)
        .map(|(t, v)| (*t as f64, v.ln()))
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    if sxx == 0.0 {
        return None;
    }
    let from = curve
        .iter()
        .find(|(_, v)| *v >= lo && *v <= hi)
        .map(|p| p.0)
        .unwrap_or(0);
    let to = curve
        .iter()
        .rev()
        .find(|(_, v)| *v >= lo && *v <= hi)
        .map(|p| p.0)
        .unwrap_or(0);
    Some(LinearRate {
        rate: (sxy / sxx).exp(),
        from,
        to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_geometric_rate() {
        let c: Vec<(usize, f64)> = (0..200).map(|t| (t, 0.9f64.powi(t as i32))).collect();
        let r = linear_rate(&c, 1e-12, 1e-2).unwrap();
        assert!((r.rate - 0.9).abs() < 1e-10);
        assert!(linear_rate(&c[..2], 0.0, 1.0).is_none());
    }
}
