//! Plots of transport plans (plotters, pure Rust, with an embedded DejaVu Sans Mono font so
//! no system font library is needed): points with their strongest couplings as segments
//! for 2-D data, a heat map of the plan otherwise. PNG or SVG by extension; written
//! atomically.

use std::path::Path;
use std::sync::Once;

use anyhow::{Context, Result, anyhow, bail};
use ndarray::ArrayView2;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::io::output::write_atomic;

const FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono.ttf");
const SIZE: (u32, u32) = (900, 800);
/// Segments drawn at most (the strongest couplings).
const MAX_SEGMENTS: usize = 600;
/// Cells per side of a heat map at most (larger plans are binned).
const MAX_CELLS: usize = 300;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

#[derive(Clone, Copy)]
enum Kind {
    Png,
    Svg,
}

fn kind(path: &Path) -> Result<Kind> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(Kind::Png),
        Some("svg") => Ok(Kind::Svg),
        _ => bail!("plot file `{}` must end in .png or .svg", path.display()),
    }
}

/// Renders with `draw` on the backend the extension asks for and writes the file.
fn render(
    path: &Path,
    draw_png: impl FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
    draw_svg: impl FnOnce(DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<()> {
    register_font();
    let bytes = match kind(path)? {
        Kind::Png => {
            let mut buf = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
            {
                let area = BitMapBackend::with_buffer(&mut buf, SIZE).into_drawing_area();
                draw_png(area)?;
            }
            let image = image::RgbImage::from_raw(SIZE.0, SIZE.1, buf)
                .ok_or_else(|| anyhow!("plot buffer has the wrong size"))?;
            let mut out = std::io::Cursor::new(Vec::new());
            image
                .write_to(&mut out, image::ImageFormat::Png)
                .context("encoding the PNG")?;
            out.into_inner()
        }
        Kind::Svg => {
            let mut text = String::new();
            {
                let area = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
                draw_svg(area)?;
            }
            text.into_bytes()
        }
    };
    write_atomic(path, &bytes)
}

fn plot_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing the plot: {e:?}")
}

fn bounds(points: &[ArrayView2<'_, f64>]) -> ((f64, f64), (f64, f64)) {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in points {
        for row in p.outer_iter() {
            for k in 0..2 {
                let v = if k < row.len() { row[k] } else { 0.0 };
                lo[k] = lo[k].min(v);
                hi[k] = hi[k].max(v);
            }
        }
    }
    let pad = |l: f64, h: f64| {
        let w = (h - l).max(1e-9) * 0.05;
        (l - w, h + w)
    };
    (pad(lo[0], hi[0]), pad(lo[1], hi[1]))
}

fn coord(row: ndarray::ArrayView1<'_, f64>) -> (f64, f64) {
    (row[0], if row.len() > 1 { row[1] } else { 0.0 })
}

fn draw_couplings<DB: DrawingBackend>(
    area: DrawingArea<DB, Shift>,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    pairs: &[(usize, usize, f64)],
    title: &str,
) -> Result<()> {
    area.fill(&WHITE).map_err(plot_error)?;
    let ((x0, x1), (y0, y1)) = bounds(&[x, y]);
    let mut chart = ChartBuilder::on(&area)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(45)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;
    let mut strongest: Vec<&(usize, usize, f64)> = pairs.iter().collect();
    strongest.sort_by(|a, b| b.2.total_cmp(&a.2));
    strongest.truncate(MAX_SEGMENTS);
    let top = strongest.first().map_or(1.0, |p| p.2);
    for &&(i, j, mass) in &strongest {
        let alpha = (0.08 + 0.35 * mass / top).min(0.45);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![coord(x.row(i)), coord(y.row(j))],
                RGBColor(90, 90, 90).mix(alpha),
            )))
            .map_err(plot_error)?;
    }
    let source = RGBColor(31, 119, 180);
    let target = RGBColor(255, 127, 14);
    chart
        .draw_series(
            x.outer_iter()
                .map(|r| Circle::new(coord(r), 2, source.filled())),
        )
        .map_err(plot_error)?
        .label("source x")
        .legend(move |(a, b)| Circle::new((a, b), 4, source.filled()));
    chart
        .draw_series(
            y.outer_iter()
                .map(|r| Circle::new(coord(r), 2, target.filled())),
        )
        .map_err(plot_error)?
        .label("target y")
        .legend(move |(a, b)| Circle::new((a, b), 4, target.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()
        .map_err(plot_error)?;
    area.present().map_err(plot_error)
}

/// Points (first two coordinates) and the strongest couplings `(i, j, mass)` as segments.
///
/// # Errors
/// An unsupported extension, or a drawing or writing failure.
pub fn couplings(
    path: &Path,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    pairs: &[(usize, usize, f64)],
    title: &str,
) -> Result<()> {
    render(
        path,
        |a| draw_couplings(a, x, y, pairs, title),
        |a| draw_couplings(a, x, y, pairs, title),
    )
}

fn draw_heatmap<DB: DrawingBackend>(
    area: DrawingArea<DB, Shift>,
    bins: &[Vec<f64>],
    shape: (usize, usize),
    title: &str,
) -> Result<()> {
    area.fill(&WHITE).map_err(plot_error)?;
    let (rows, cols) = (bins.len(), bins.first().map_or(0, Vec::len));
    let mut chart = ChartBuilder::on(&area)
        .caption(
            format!("{title} ({} x {})", shape.0, shape.1),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(45)
        .build_cartesian_2d(0.0..shape.1 as f64, shape.0 as f64..0.0)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("target j")
        .y_desc("source i")
        .draw()
        .map_err(plot_error)?;
    let top = bins
        .iter()
        .flatten()
        .copied()
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let (h, w) = (shape.0 as f64 / rows as f64, shape.1 as f64 / cols as f64);
    chart
        .draw_series(bins.iter().enumerate().flat_map(|(r, row)| {
            row.iter()
                .enumerate()
                .filter(|(_, v)| **v > 0.0)
                .map(move |(c, &v)| {
                    let t = (v / top).sqrt();
                    let shade = (255.0 * (1.0 - t)) as u8;
                    Rectangle::new(
                        [
                            (c as f64 * w, r as f64 * h),
                            ((c + 1) as f64 * w, (r + 1) as f64 * h),
                        ],
                        RGBColor(shade, shade, 255).filled(),
                    )
                })
        }))
        .map_err(plot_error)?;
    area.present().map_err(plot_error)
}

/// A heat map of a plan given by its entries, binned to at most 300 × 300 cells.
///
/// # Errors
/// An unsupported extension, or a drawing or writing failure.
pub fn heatmap(
    path: &Path,
    shape: (usize, usize),
    entries: impl Iterator<Item = (usize, usize, f64)>,
    title: &str,
) -> Result<()> {
    let (rows, cols) = (shape.0.clamp(1, MAX_CELLS), shape.1.clamp(1, MAX_CELLS));
    let mut bins = vec![vec![0.0; cols]; rows];
    for (i, j, v) in entries {
        bins[i * rows / shape.0.max(1)][j * cols / shape.1.max(1)] += v;
    }
    render(
        path,
        |a| draw_heatmap(a, &bins, shape, title),
        |a| draw_heatmap(a, &bins, shape, title),
    )
}
