//! Embedded font registration (no system fonts or fontconfig needed).

use std::sync::OnceLock;

/// DejaVu Sans (Bitstream Vera license, see `assets/DejaVu-LICENSE`).
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the embedded font as plotters' "sans-serif" family, once per process.
pub(crate) fn ensure_registered() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(
                "sans-serif",
                plotters::style::FontStyle::Normal,
                DEJAVU_SANS,
            )
            .map_err(|_| "the embedded DejaVu Sans font could not be loaded".to_string())
        })
        .clone()
}
