//! What a figure draws, independent of how: panels of series of points with optional error bars,
//! and the plotters renderer that draws it to SVG and PNG.
//!
//! Figures are sized for a paper column: 3.5 x 2.5 in per panel (panels side by side), drawn at
//! 150 px per inch for SVG and twice that for PNG. Text in PNGs is drawn by `ab_glyph` from the
//! embedded DejaVu Sans (`assets/fonts/`), so no system font library is needed; SVGs name the
//! family and leave text to the viewer. Colours come from one palette keyed by series name, so a
//! strategy has the same colour in every figure.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// One point of a series, with an optional vertical error bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Horizontal value.
    pub x: f64,
    /// Vertical value.
    pub y: f64,
    /// Error bar (low, high), if any.
    pub bar: Option<(f64, f64)>,
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// A line through the points.
    Line,
    /// A dashed line through the points (models and predictions).
    Dashed,
    /// Markers only.
    Points,
    /// Open markers only (measurements beside a simulated series of the same colour).
    Hollow,
    /// A line with markers.
    LinePoints,
    /// Bars from zero, one per point (with categories on the horizontal axis).
    Bars,
}

/// A named series.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label; also chooses the colour.
    pub name: String,
    /// How it is drawn.
    pub mark: Mark,
    /// Its points, in drawing order.
    pub points: Vec<Point>,
}

/// One panel: axes with labels (units included) and series.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// Panel title, e.g. `(a) MobileNet`.
    pub title: String,
    /// Horizontal axis label with unit.
    pub x_label: String,
    /// Vertical axis label with unit.
    pub y_label: String,
    /// The series.
    pub series: Vec<Series>,
    /// Whether the vertical axis starts at zero.
    pub y_from_zero: bool,
    /// A horizontal reference line and its label (an objective, a timeout).
    pub reference: Option<(f64, String)>,
    /// Where the legend goes (upper right unless the data are there).
    pub legend: Legend,
    /// Names of the horizontal positions 0, 1, ... (bar charts), if categorical.
    pub categories: Option<Vec<String>>,
    /// A heat map drawn under the series, if any.
    pub heat: Option<Heat>,
}

/// A heat map: a value per cell of a grid, shaded from light (lowest) to dark (highest).
#[derive(Clone, Debug, PartialEq)]
pub struct Heat {
    /// Cell centres along the horizontal axis (evenly spaced).
    pub xs: Vec<f64>,
    /// Cell centres along the vertical axis (evenly spaced).
    pub ys: Vec<f64>,
    /// `values[j][i]` at `(xs[i], ys[j])`; NaN cells are left blank.
    pub values: Vec<Vec<f64>>,
}

impl Heat {
    fn half_step(centres: &[f64]) -> f64 {
        if centres.len() > 1 {
            (centres[centres.len() - 1] - centres[0]) / (centres.len() - 1) as f64 / 2.0
        } else {
            0.5
        }
    }
}

/// Legend placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Legend {
    /// Upper right.
    #[default]
    UpperRight,
    /// Lower right.
    LowerRight,
    /// Upper left.
    UpperLeft,
    /// No legend (the axis names the series).
    None,
}

/// A whole figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// Panels, left to right, then top to bottom.
    pub panels: Vec<Panel>,
    /// Panels per row (0: all in one row).
    pub per_row: usize,
}

impl Chart {
    /// Panels in one row.
    pub fn row(panels: Vec<Panel>) -> Chart {
        Chart { panels, per_row: 0 }
    }

    fn grid(&self) -> (usize, usize) {
        let n = self.panels.len().max(1);
        let per_row = if self.per_row == 0 {
            n
        } else {
            self.per_row.min(n)
        };
        (n.div_ceil(per_row), per_row)
    }
}

/// Colours by series name: strategies and the model's roles keep theirs across figures.
fn colour(name: &str) -> RGBColor {
    // A measurement drawn beside its simulated series shares its colour.
    let name = name.strip_suffix(" (paper)").unwrap_or(name);
    const NAMED: &[(&str, RGBColor)] = &[
        ("lambdadnn", RGBColor(0, 114, 178)),
        ("naive", RGBColor(230, 159, 0)),
        ("siren", RGBColor(0, 158, 115)),
        ("oracle", RGBColor(204, 121, 167)),
        ("predictable", RGBColor(213, 94, 0)),
        ("random", RGBColor(120, 120, 120)),
        ("simulated", RGBColor(0, 114, 178)),
        ("closed form", RGBColor(213, 94, 0)),
        ("paper", RGBColor(0, 0, 0)),
        ("objective", RGBColor(90, 90, 90)),
    ];
    const CYCLE: [RGBColor; 6] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
        RGBColor(86, 180, 233),
    ];
    // A strategy with parameters (`lambdadnn{margin=0.1}`) is a different curve from the
    // strategy's defaults: it takes a colour of its own.
    NAMED
        .iter()
        .find(|(n, _)| *n == name || (!name.contains('{') && name.starts_with(n)))
        .map(|(_, c)| *c)
        .unwrap_or_else(|| {
            let hash = name
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
            CYCLE[(hash % CYCLE.len() as u64) as usize]
        })
}

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Registered for the family name the charts ask for; the font is valid by construction.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Pixels per inch of the SVG; PNGs are drawn at twice this.
const SVG_PPI: f64 = 150.0;
/// One panel's size in inches.
const PANEL_IN: (f64, f64) = (3.5, 2.5);

fn range(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-12 * hi.abs().max(1.0) {
        hi = lo + hi.abs().max(1.0) * 0.1;
    }
    let pad = (hi - lo) * 0.06;
    (if from_zero && lo >= 0.0 { lo } else { lo - pad }, hi + pad)
}

/// An axis tick: no trailing zeros, at most three decimals.
fn tick(v: &f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    scale: f64,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let px = |v: f64| (v * scale).round() as u32;
    let font = |size: f64| ("sans-serif", size * scale).into_font();
    let xs = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.x));
    let ys = panel.series.iter().flat_map(|s| {
        s.points
            .iter()
            .flat_map(|p| [Some(p.y), p.bar.map(|b| b.0), p.bar.map(|b| b.1)])
            .flatten()
    });
    let reference = panel.reference.iter().map(|r| r.0);
    let (x0, x1, y0, y1) = match (&panel.heat, &panel.categories) {
        (Some(h), _) => {
            let (hx, hy) = (Heat::half_step(&h.xs), Heat::half_step(&h.ys));
            let first = |v: &[f64]| v.first().copied().unwrap_or(0.0);
            let last = |v: &[f64]| v.last().copied().unwrap_or(1.0);
            (
                first(&h.xs) - hx,
                last(&h.xs) + hx,
                first(&h.ys) - hy,
                last(&h.ys) + hy,
            )
        }
        (None, Some(c)) => {
            let (y0, y1) = range(ys.chain(reference), panel.y_from_zero);
            (-0.6, c.len() as f64 - 0.4, y0, y1)
        }
        (None, None) => {
            let (x0, x1) = range(xs, false);
            let (y0, y1) = range(ys.chain(reference), panel.y_from_zero);
            (x0, x1, y0, y1)
        }
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, font(11.0))
        .margin(px(6.0))
        .x_label_area_size(px(30.0))
        .y_label_area_size(px(46.0))
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .label_style(font(8.5))
        .axis_desc_style(font(9.5))
        .x_labels(panel.categories.as_ref().map_or(6, |c| c.len() * 2 + 1))
        .y_labels(6)
        .x_label_formatter(&|v: &f64| match &panel.categories {
            Some(names) if (v - v.round()).abs() < 1e-9 && *v >= 0.0 => {
                names.get(v.round() as usize).cloned().unwrap_or_default()
            }
            Some(_) => String::new(),
            None => tick(v),
        })
        .y_label_formatter(&tick)
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    let stroke = px(1.4).max(1);
    if let Some(h) = &panel.heat {
        let (hx, hy) = (Heat::half_step(&h.xs), Heat::half_step(&h.ys));
        let finite = h.values.iter().flatten().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
        let span = (hi - lo).max(1e-300);
        let cells = h.ys.iter().enumerate().flat_map(|(j, &y)| {
            h.xs.iter().enumerate().filter_map(move |(i, &x)| {
                let v = *h.values.get(j)?.get(i)?;
                v.is_finite().then(|| {
                    // Light yellow (lowest) to dark blue (highest).
                    let f = (v - lo) / span;
                    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
                    let shade = RGBColor(mix(255.0, 8.0), mix(247.0, 48.0), mix(188.0, 107.0));
                    Rectangle::new([(x - hx, y - hy), (x + hx, y + hy)], shade.filled())
                })
            })
        });
        chart.draw_series(cells)?;
    }
    if let Some((y, label)) = &panel.reference {
        let style = RGBColor(90, 90, 90).stroke_width(px(1.0).max(1));
        chart
            .draw_series(DashedLineSeries::new(
                [(x0, *y), (x1, *y)],
                px(5.0),
                px(3.0),
                style,
            ))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
    }
    for series in &panel.series {
        let c = colour(&series.name);
        // Error bars on bars are drawn dark, to show against the bar's colour.
        let bar_colour = if series.mark == Mark::Bars {
            RGBColor(40, 40, 40)
        } else {
            c
        };
        let line = c.stroke_width(stroke);
        let points: Vec<(f64, f64)> = series
            .points
            .iter()
            .filter(|p| p.x.is_finite() && p.y.is_finite())
            .map(|p| (p.x, p.y))
            .collect();
        let annotated = match series.mark {
            Mark::Line | Mark::LinePoints => {
                chart.draw_series(LineSeries::new(points.iter().copied(), line))?
            }
            Mark::Dashed => chart.draw_series(DashedLineSeries::new(
                points.iter().copied(),
                px(5.0),
                px(3.0),
                line,
            ))?,
            Mark::Points => {
                chart.draw_series(points.iter().map(|&p| Circle::new(p, px(2.6), c.filled())))?
            }
            Mark::Hollow => chart.draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, px(3.2), c.stroke_width(px(1.2).max(1)))),
            )?,
            Mark::Bars => chart.draw_series(points.iter().map(|&(x, y)| {
                Rectangle::new([(x - 0.35, 0.0), (x + 0.35, y)], c.mix(0.85).filled())
            }))?,
        };
        annotated
            .label(series.name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], c.stroke_width(stroke)));
        if series.mark == Mark::LinePoints {
            chart.draw_series(points.iter().map(|&p| Circle::new(p, px(2.2), c.filled())))?;
        }
        chart.draw_series(series.points.iter().filter_map(|p| {
            let (lo, hi) = p.bar?;
            (lo.is_finite() && hi.is_finite()).then(|| {
                ErrorBar::new_vertical(
                    p.x,
                    lo,
                    p.y,
                    hi,
                    bar_colour.stroke_width(px(1.0).max(1)),
                    px(5.0),
                )
            })
        }))?;
    }
    if panel.legend == Legend::None {
        return Ok(());
    }
    chart
        .configure_series_labels()
        .label_font(font(8.0))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .position(match panel.legend {
            Legend::UpperRight => SeriesLabelPosition::UpperRight,
            Legend::LowerRight => SeriesLabelPosition::LowerRight,
            Legend::UpperLeft | Legend::None => SeriesLabelPosition::UpperLeft,
        })
        .draw()?;
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    chart: &Chart,
    scale: f64,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let areas = root.split_evenly(chart.grid());
    for (area, panel) in areas.iter().zip(&chart.panels) {
        draw_panel(area, panel, scale)?;
    }
    root.present()
}

/// Pixel size of `chart` at `ppi`.
fn size(chart: &Chart, ppi: f64) -> (u32, u32) {
    let (rows, columns) = chart.grid();
    (
        (PANEL_IN.0 * columns as f64 * ppi).round() as u32,
        (PANEL_IN.1 * rows as f64 * ppi).round() as u32,
    )
}

/// Draws `chart` to `svg` and `png`.
pub fn render(chart: &Chart, svg: &Path, png: &Path) -> Result<()> {
    register_font();
    let failed =
        |path: &Path, e: String| Error::Internal(format!("drawing {}: {e}", path.display()));
    let scale = SVG_PPI / 100.0;
    draw(
        SVGBackend::new(svg, size(chart, SVG_PPI)).into_drawing_area(),
        chart,
        scale,
    )
    .map_err(|e| failed(svg, e.to_string()))?;
    draw(
        BitMapBackend::new(png, size(chart, 2.0 * SVG_PPI)).into_drawing_area(),
        chart,
        2.0 * scale,
    )
    .map_err(|e| failed(png, e.to_string()))
}
