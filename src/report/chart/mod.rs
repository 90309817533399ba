//! Charts: pure functions from prepared chart data to SVG or PNG bytes, one chart per
//! file. Drawn with plotters; text is set in DejaVu Sans, embedded in the binary, so
//! nothing needs fontconfig or the system's fonts. What the charts show is prepared in
//! [`data`] from results and comparisons; the drawing modules compute no statistics.

pub mod data;
mod distribution;
mod history;
mod timeline;

pub use distribution::{DistributionChart, Panel, Strip};
pub use history::{HistoryChart, HistoryPoint};
pub use timeline::{Killed, TimelineChart, TimelineSide};

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// The two file formats a chart is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// Which side of a comparison a line belongs to, which gives its colour and marker. A
/// chart of several benchmarks' lines (the overview of a run) uses `Base`, `Head`, then
/// `Other`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Base,
    Head,
    Other(usize),
}

/// The font family every chart names; registered once, from the embedded font.
const FONT: &str = "sans-serif";

/// Okabe–Ito colours: told apart with any colour vision, and in greyscale (the blue is
/// dark, the orange light).
pub const BASE_COLOUR: RGBColor = RGBColor(0x00, 0x72, 0xB2);
pub const HEAD_COLOUR: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
/// For limits and killed runs: vermillion, with a dashed line or a cross besides.
pub const ALERT_COLOUR: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
pub(crate) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(crate) const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);

/// The rest of Okabe–Ito's colours, for the lines after the first two.
const OTHER_COLOURS: [RGBColor; 4] = [
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
];

impl Side {
    pub fn colour(self) -> RGBColor {
        match self {
            Side::Base => BASE_COLOUR,
            Side::Head => HEAD_COLOUR,
            Side::Other(i) => OTHER_COLOURS[i % OTHER_COLOURS.len()],
        }
    }

    /// The `i`th line of a chart of several.
    pub fn nth(i: usize) -> Side {
        match i {
            0 => Side::Base,
            1 => Side::Head,
            n => Side::Other(n - 2),
        }
    }
}

/// Registers the embedded font under [`FONT`], once per process.
fn fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The bytes are a known-good font: this cannot fail, and if it did the charts
        // would fail with a message, not panic.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// What every chart's drawing function returns.
type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart that can be drawn on any plotters backend.
pub trait Chart {
    /// Its size in pixels, the same in both formats.
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB>;
}

/// The chart as a file of `format`: its bytes.
pub fn render(chart: &impl Chart, format: Format) -> Result<Vec<u8>, String> {
    fonts();
    let size = chart.size();
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                root.fill(&WHITE).map_err(|e| e.to_string())?;
                chart
                    .draw(&root)
                    .map_err(|e| format!("cannot draw the chart: {e}"))?;
                root.present().map_err(|e| e.to_string())?;
            }
            Ok(svg.into_bytes())
        }
        Format::Png => {
            let mut pixels = vec![255u8; size.0 as usize * size.1 as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
                chart
                    .draw(&root)
                    .map_err(|e| format!("cannot draw the chart: {e}"))?;
                root.present().map_err(|e| e.to_string())?;
            }
            encode_png(&pixels, size)
        }
    }
}

fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| format!("cannot encode the PNG: {e}"))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| format!("cannot encode the PNG: {e}"))?;
    writer
        .finish()
        .map_err(|e| format!("cannot encode the PNG: {e}"))?;
    Ok(out)
}

/// How an axis shows its values: divided by `div`, in `unit`.
#[derive(Clone, Debug, PartialEq)]
pub struct Scale {
    pub div: f64,
    pub unit: String,
}

impl Scale {
    /// The binary unit that shows `max` bytes as 1 to 1024 of it.
    pub fn bytes(max: f64) -> Scale {
        let (div, unit) = crate::report::units::byte_unit(max);
        Scale {
            div,
            unit: unit.to_owned(),
        }
    }

    /// Seconds, milliseconds or microseconds, whichever shows `max` as 1 or more.
    pub fn seconds(max: f64) -> Scale {
        let (div, unit) = if max.abs() >= 1.0 || max == 0.0 {
            (1.0, "s")
        } else if max.abs() >= 1e-3 {
            (1e-3, "ms")
        } else {
            (1e-6, "µs")
        };
        Scale {
            div,
            unit: unit.to_owned(),
        }
    }

    /// The scale for a metric's unit: `bytes`, `seconds`, or a custom one as it is.
    pub fn of(unit: &str, max: f64) -> Scale {
        match unit {
            "bytes" => Scale::bytes(max),
            "seconds" => Scale::seconds(max),
            other => Scale {
                div: 1.0,
                unit: other.to_owned(),
            },
        }
    }

    /// A figure in this unit.
    pub fn to(&self, raw: f64) -> f64 {
        raw / self.div
    }

    /// A tick label for `value`, already in this unit, with as many decimals as ticks
    /// over a span of `span` (in this unit too) need to be told apart.
    pub fn tick(&self, value: f64, span: f64) -> String {
        // About eight ticks: as many decimals as their step needs.
        let step = span.abs() / 8.0;
        let decimals = if step >= 1.0 {
            0
        } else if step >= 0.1 {
            1
        } else if step >= 0.01 {
            2
        } else {
            3
        };
        // A tick between those (plotters' steps are 1, 2 and 5 of a power of ten, so
        // 0.25 can be one) gets what it needs, up to three.
        let mut decimals = decimals;
        let thousandths = value * 1000.0;
        let exact = (thousandths - thousandths.round()).abs() < 1e-6;
        while exact && decimals < 3 {
            let shifted = value * 10f64.powi(decimals);
            if (shifted - shifted.round()).abs() < 1e-6 {
                break;
            }
            decimals += 1;
        }
        // No "-0".
        let v = if value.abs() < 0.5 * 10f64.powi(-decimals) {
            0.0
        } else {
            value
        };
        format!("{v:.*}", decimals as usize)
    }

    /// An axis title: `memory (MiB)`.
    pub fn title(&self, what: &str) -> String {
        if self.unit.is_empty() {
            what.to_owned()
        } else {
            format!("{what} ({})", self.unit)
        }
    }
}

/// A chart of two `f64` axes, as every chart here is.
type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The legend of the series given labels, at `position`, in every chart's one style.
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plot<'a, DB>,
    position: SeriesLabelPosition,
) -> Drawn<DB> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .label_font(text(13.0))
        .draw()
}

/// A text style in the embedded font.
fn text(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK)
}

fn bold(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().style(FontStyle::Bold).color(&INK)
}

/// Figures beyond this are damage, not measurements (bytes and seconds stay far below
/// it): they are left off the charts, whose axes could not span them.
const DRAWABLE: f64 = 1e100;

/// Whether a figure can be drawn: finite and within [`DRAWABLE`].
pub(crate) fn drawable(v: f64) -> bool {
    v.is_finite() && v.abs() <= DRAWABLE
}

/// The `lo..hi` range of an axis over the drawable `values` (and zero, if `from_zero`),
/// with `pad` of the span added beyond the figures, never empty, always finite.
fn range(values: impl Iterator<Item = f64>, from_zero: bool, pad: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| drawable(*v)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if !lo.is_finite() || lo == hi && lo == 0.0 {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    let span = if span > 0.0 {
        span
    } else if hi != 0.0 {
        hi.abs() * 0.1
    } else {
        1.0
    };
    // Zero stays the edge it is; a figure gets room beyond it.
    let lo = if from_zero && lo == 0.0 {
        lo
    } else {
        lo - span * pad
    };
    let hi = if from_zero && hi == 0.0 {
        hi
    } else {
        hi + span * pad
    };
    (lo, hi)
}

#[cfg(test)]
mod tests;
