//! Pure: one skill's weekly scores → a small PNG line chart, for the trend
//! email and the coach digest (embedded inline, `cid:`).
//!
//! Owns the look of the charts. Draws with plotters' bitmap backend into a
//! buffer and encodes it with `png`; no file, no clock, no network, no log.
//!
//! # No text in the image, on purpose
//!
//! plotters draws text only through a font backend (`ttf`, which loads
//! system fonts through font-kit and FreeType, or `ab_glyph` with a font
//! file we would have to ship and load). Neither is worth it here: the
//! charts are small multiples with a fixed, explained scale — score 1 at the
//! bottom gridline to 5 at the top, oldest week on the left — so the skill
//! name, the week range and the numbers live in the HTML around the image,
//! where they stay selectable, translatable, readable by screen readers and
//! present when a client blocks images (the `alt` text lists the scores).
//! The image is pure geometry: five gridlines, the baseline as a dashed
//! grey line, the scores as a line with dots (a gap for a week without a
//! score), the newest score drawn larger.

use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::RenderError;

/// Pixel size of every chart. HTML shows it at half that size (or less),
/// so it is crisp on high-density screens.
pub const WIDTH: u32 = 480;
pub const HEIGHT: u32 = 120;

const GRID: RGBColor = RGBColor(0xea, 0xec, 0xf0);
const BASELINE: RGBColor = RGBColor(0x98, 0xa2, 0xb3);
const LINE: RGBColor = RGBColor(0x17, 0x5c, 0xd3);
const DIP: RGBColor = RGBColor(0xb4, 0x23, 0x18);

/// A chart of one skill: `points` oldest first (`None`: no score that week),
/// the PM's `baseline` if there is one. A score at or below baseline −
/// `dip_threshold` is drawn in red (the HTML says DIP in words too).
pub fn skill_chart(
    points: &[Option<u8>],
    baseline: Option<f64>,
    dip_threshold: f64,
) -> Result<Vec<u8>, RenderError> {
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (WIDTH, HEIGHT))
            .map_err(|e| chart_error(&e))?;
        let root = backend.into_drawing_area();
        draw(&root, points, baseline, dip_threshold).map_err(|e| chart_error(&e))?;
        root.present().map_err(|e| chart_error(&e))?;
    }
    encode_png(&rgb)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[Option<u8>],
    baseline: Option<f64>,
    dip_threshold: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let n = points.len().max(1);
    let x_max = n as f64 - 0.5;
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .build_cartesian_2d(-0.5f64..x_max, 0.7f64..5.3f64)?;

    for level in 1..=5 {
        let y = f64::from(level);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, y), (x_max, y)],
            GRID.stroke_width(2),
        )))?;
    }
    if let Some(b) = baseline {
        // Dashed: segments of a quarter week with gaps of the same length.
        let dashes = (0..)
            .map(|i| -0.5 + f64::from(i) * 0.5)
            .take_while(|x| *x < x_max)
            .map(|x| {
                PathElement::new(
                    vec![(x, b), ((x + 0.25).min(x_max), b)],
                    BASELINE.stroke_width(3),
                )
            });
        chart.draw_series(dashes)?;
    }
    let at = |i: usize, s: u8| (i as f64, f64::from(s));
    let segments = points.windows(2).enumerate().filter_map(|(i, w)| match w {
        [Some(a), Some(b)] => Some(PathElement::new(
            vec![at(i, *a), at(i + 1, *b)],
            LINE.stroke_width(4),
        )),
        _ => None,
    });
    chart.draw_series(segments)?;
    let newest = points.iter().rposition(Option::is_some);
    let dots = points.iter().enumerate().filter_map(|(i, s)| {
        let s = (*s)?;
        let dip = baseline.is_some_and(|b| crate::analysis::is_dip(s, b, dip_threshold));
        let color = if dip { DIP } else { LINE };
        let radius = if Some(i) == newest { 9 } else { 6 };
        Some(Circle::new(at(i, s), radius, color.filled()))
    });
    chart.draw_series(dots)?;
    Ok(())
}

fn chart_error(e: &dyn std::fmt::Display) -> RenderError {
    RenderError::Chart(e.to_string())
}

/// An 8-bit RGB buffer of [`WIDTH`] × [`HEIGHT`] as PNG bytes.
fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header().map_err(|e| chart_error(&e))?;
        writer.write_image_data(rgb).map_err(|e| chart_error(&e))?;
        writer.finish().map_err(|e| chart_error(&e))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    fn has_color(rgb: &[u8], c: RGBColor) -> bool {
        rgb.chunks(3).any(|p| p == [c.0, c.1, c.2])
    }

    #[test]
    fn chart_is_a_png_of_the_stated_size() {
        let png = skill_chart(&[Some(3), Some(4), None, Some(2)], Some(3.5), 1.0).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (info, _) = decode(&png);
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert!(png.len() < 12_000, "{} bytes", png.len());
    }

    #[test]
    fn scores_baseline_and_dips_are_drawn_in_their_colours() {
        let (_, rgb) = decode(&skill_chart(&[Some(4), Some(4), Some(2)], Some(4.0), 1.0).unwrap());
        assert!(has_color(&rgb, LINE));
        assert!(has_color(&rgb, BASELINE));
        assert!(has_color(&rgb, DIP), "2 against a baseline of 4 is a dip");
        let (_, calm) = decode(&skill_chart(&[Some(4), Some(4), Some(4)], Some(4.0), 1.0).unwrap());
        assert!(!has_color(&calm, DIP));
    }

    #[test]
    fn no_scores_draws_only_the_grid() {
        let (_, rgb) = decode(&skill_chart(&[None, None, None], None, 1.0).unwrap());
        assert!(has_color(&rgb, GRID));
        assert!(!has_color(&rgb, LINE));
        assert!(!has_color(&rgb, BASELINE));
    }

    #[test]
    fn higher_scores_are_drawn_higher() {
        // The topmost line-coloured pixel of a 5 is above that of a 1.
        let top = |s: u8| {
            let (_, rgb) = decode(&skill_chart(&[Some(s)], None, 1.0).unwrap());
            rgb.chunks(3)
                .position(|p| p == [LINE.0, LINE.1, LINE.2])
                .unwrap()
                / WIDTH as usize
        };
        assert!(top(5) < top(1));
    }

    #[test]
    fn same_scores_give_the_same_bytes() {
        let a = skill_chart(&[Some(1), Some(5)], Some(3.0), 1.0).unwrap();
        let b = skill_chart(&[Some(1), Some(5)], Some(3.0), 1.0).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_year_and_more_of_weeks_still_fits() {
        let points: Vec<Option<u8>> = (0..520).map(|i| Some((i % 5 + 1) as u8)).collect();
        let (info, _) = decode(&skill_chart(&points, Some(3.0), 1.0).unwrap());
        assert_eq!(info.width, WIDTH);
    }
}
