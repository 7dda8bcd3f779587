//! The SVG chart of a scale report (plotters, SVG text: no font files needed).
//!
//! Upper panel: log events/s per backend (solid, left axis) and model-events/s (dashed,
//! right axis) against log events (log scale); lower panel: each run's peak RSS. One
//! colour per backend.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{show_size, ScaleReport, ScaleRun};
use crate::BenchError;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 860;
const UPPER: u32 = 520;
const FONT: &str = "sans-serif";

/// Writes the chart of `report` to `path`.
pub fn write_svg(report: &ScaleReport, path: &Path) -> Result<(), BenchError> {
    let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(failed)?;
    let title = format!(
        "readmodel run --all --full, {} models: {} ({} cores{})",
        report.models,
        report.date.get(..10).unwrap_or(&report.date),
        report.machine.cores,
        report
            .machine
            .cpu
            .as_ref()
            .map_or(String::new(), |c| format!(", {c}"))
    );
    let root = root.titled(&title, (FONT, 24)).map_err(failed)?;
    let (upper, lower) = root.split_vertically(UPPER);
    throughput(report, &upper)?;
    memory(report, &lower)?;
    root.present().map_err(failed)
}

fn failed(error: impl std::fmt::Display) -> BenchError {
    BenchError::new(format!("cannot draw the chart: {error}"))
}

/// The x range: the sizes on a log scale, widened to powers of ten.
fn x_range(report: &ScaleReport) -> std::ops::Range<f64> {
    let events = report.runs.iter().map(|r| r.log_events as f64);
    let low = events.clone().fold(f64::INFINITY, f64::min);
    let high = events.fold(0.0, f64::max);
    if !(low.is_finite() && high > 0.0) {
        return 1.0..10.0;
    }
    let low = 10f64.powf((low / 1.2).log10().floor());
    let high = 10f64.powf((high * 1.2).log10().ceil());
    low..high
}

/// The x axis's labels and grid lines: the sizes measured.
fn sizes(report: &ScaleReport) -> Vec<f64> {
    let mut events: Vec<u64> = report.runs.iter().map(|r| r.log_events).collect();
    events.sort_unstable();
    events.dedup();
    events.into_iter().map(|e| e as f64).collect()
}

fn colour(backend: &str) -> RGBColor {
    match backend {
        "sqlite" => RGBColor(31, 119, 180),
        "postgres" => RGBColor(214, 39, 40),
        _ => RGBColor(44, 160, 44),
    }
}

fn runs_of<'r>(
    report: &'r ScaleReport,
    backend: &'r str,
) -> impl Iterator<Item = &'r ScaleRun> + Clone {
    report.runs.iter().filter(move |r| r.backend == backend)
}

/// `1.25M`, `350k`, `1.5k`, `900` for axis labels.
fn compact(value: f64) -> String {
    let (scaled, unit) = if value >= 1e6 {
        (value / 1e6, "M")
    } else if value >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let digits = format!("{scaled:.2}");
    format!(
        "{}{unit}",
        digits.trim_end_matches('0').trim_end_matches('.')
    )
}

fn top(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, f64::max).max(1.0) * 1.15
}

fn throughput(
    report: &ScaleReport,
    area: &DrawingArea<SVGBackend<'_>, Shift>,
) -> Result<(), BenchError> {
    let x = x_range(report);
    let left = top(report.runs.iter().map(|r| r.log_events_per_second));
    let right = top(report.runs.iter().map(|r| r.model_events_per_second));
    let passes = report.passes();
    let caption = if passes > 1 {
        format!("throughput of the pass (the median of {passes} passes)")
    } else {
        "throughput of the pass".to_owned()
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&caption, (FONT, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .right_y_label_area_size(80)
        .build_cartesian_2d(
            x.clone().log_scale().with_key_points(sizes(report)),
            0.0..left,
        )
        .map_err(failed)?
        .set_secondary_coord(x.log_scale(), 0.0..right);
    chart
        .configure_mesh()
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .x_desc("log events")
        .y_desc("log events/s (solid)")
        .x_label_formatter(&|v| show_size(v.round() as u64))
        .y_label_formatter(&|v| compact(*v))
        .draw()
        .map_err(failed)?;
    chart
        .configure_secondary_axes()
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .y_desc("model-events/s (dashed)")
        .y_label_formatter(&|v| compact(*v))
        .draw()
        .map_err(failed)?;
    for &backend in &report.backends {
        let style = colour(backend);
        let log: Vec<(f64, f64)> = runs_of(report, backend)
            .map(|r| (r.log_events as f64, r.log_events_per_second))
            .collect();
        chart
            .draw_series(LineSeries::new(log.clone(), style.stroke_width(2)).point_size(4))
            .map_err(failed)?
            .label(format!("{backend} log events/s"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], style.stroke_width(2))
            });
        let model =
            runs_of(report, backend).map(|r| (r.log_events as f64, r.model_events_per_second));
        chart
            .draw_secondary_series(DashedLineSeries::new(model, 8, 5, style.stroke_width(1)))
            .map_err(failed)?
            .label(format!("{backend} model-events/s"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 10, y)], style.stroke_width(1))
            });
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(failed)
}

fn memory(
    report: &ScaleReport,
    area: &DrawingArea<SVGBackend<'_>, Shift>,
) -> Result<(), BenchError> {
    let mib = |r: &ScaleRun| {
        r.peak_rss_kib
            .map(|k| (r.log_events as f64, k as f64 / 1024.0))
    };
    let high = top(report.runs.iter().filter_map(mib).map(|(_, m)| m));
    let mut chart = ChartBuilder::on(area)
        .caption("peak RSS of the pass (its own process)", (FONT, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .right_y_label_area_size(80)
        .build_cartesian_2d(
            x_range(report).log_scale().with_key_points(sizes(report)),
            0.0..high,
        )
        .map_err(failed)?;
    chart
        .configure_mesh()
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .x_desc("log events")
        .y_desc("peak RSS, MiB")
        .x_label_formatter(&|v| show_size(v.round() as u64))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(failed)?;
    for &backend in &report.backends {
        let style = colour(backend);
        let points: Vec<(f64, f64)> = runs_of(report, backend).filter_map(mib).collect();
        chart
            .draw_series(LineSeries::new(points, style.stroke_width(2)).point_size(4))
            .map_err(failed)?
            .label(format!("{backend} peak RSS"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], style.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(failed)
}
