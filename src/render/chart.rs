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

/// How wide a chart is shown per week, in CSS pixels.
pub const WEEK_WIDTH: u32 = 14;
/// The narrowest and widest a chart is shown, in CSS pixels. The widest
/// leaves room for the 1–5 scale hint beside it on a 390 px phone screen
/// (the email's column is 332 px wide there); a longer run of weeks is
/// drawn closer together.
pub const MIN_WIDTH: u32 = 80;
pub const MAX_WIDTH: u32 = 280;
/// How high every chart is shown, in CSS pixels.
pub const HEIGHT: u32 = 48;
/// Pixels drawn per CSS pixel, so the image is crisp on high-density screens.
pub const DENSITY: u32 = 2;

/// The width (CSS pixels) a chart of `weeks` weeks is shown at: it grows
/// with the number of weeks, from [`MIN_WIDTH`] up to [`MAX_WIDTH`].
pub fn width_for(weeks: usize) -> u32 {
    let weeks = u32::try_from(weeks).unwrap_or(u32::MAX);
    weeks
        .saturating_mul(WEEK_WIDTH)
        .saturating_add(20)
        .clamp(MIN_WIDTH, MAX_WIDTH)
}

// Mid tones, thin grid: on a transparent background the chart reads on a
// white card and on a dark one alike (a light grid would glare in dark mode).
const GRID: RGBColor = RGBColor(0xb8, 0xbf, 0xcc);
const BASELINE: RGBColor = RGBColor(0x66, 0x70, 0x85);
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
    let (width, height) = (width_for(points.len()) * DENSITY, HEIGHT * DENSITY);
    SCRATCH.with_borrow_mut(|scratch| {
        let Scratch { rgb, indexed } = scratch;
        rgb.clear();
        rgb.resize((width * height * 3) as usize, 0);
        {
            let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(rgb, (width, height))
                .map_err(|e| chart_error(&e))?;
            let root = backend.into_drawing_area();
            draw(&root, points, baseline, dip_threshold).map_err(|e| chart_error(&e))?;
            root.present().map_err(|e| chart_error(&e))?;
        }
        encode_png(rgb, indexed, width, height)
    })
}

/// Buffers every chart drawn on a thread reuses: the RGB surface and its
/// palette indices.
#[derive(Default)]
struct Scratch {
    rgb: Vec<u8>,
    indexed: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
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
            GRID.stroke_width(1),
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

/// The colours the chart draws with; the white background becomes
/// transparent, and edge pixels blended into white become the colour with
/// partial opacity, so the chart reads on a dark background too.
const INKS: [RGBColor; 4] = [GRID, BASELINE, LINE, DIP];

/// The palette entry (colour and opacity) for a pixel drawn on white.
fn unblend(c: [u8; 3]) -> ([u8; 3], u8) {
    let mut best = (c, 255u8, u32::MAX);
    for ink in INKS {
        let k = [ink.0, ink.1, ink.2];
        // Least squares for c = 255 - a (255 - k), channel by channel.
        let (mut num, mut den) = (0f64, 0f64);
        for i in 0..3 {
            let (dc, dk) = (255.0 - f64::from(c[i]), 255.0 - f64::from(k[i]));
            num += dc * dk;
            den += dk * dk;
        }
        let a = if den > 0.0 {
            (num / den).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let err = (0..3)
            .map(|i| {
                let back = 255.0 - a * (255.0 - f64::from(k[i]));
                (back - f64::from(c[i])).abs().round() as u32
            })
            .max()
            .unwrap_or(0);
        if err < best.2 {
            let alpha = (a * 255.0).round() as u8;
            best = (if alpha == 0 { [255; 3] } else { k }, alpha, err);
        }
    }
    // A pixel that is no blend of one colour into white stays as drawn.
    if best.2 > 2 {
        (c, 255)
    } else {
        (best.0, best.1)
    }
}

/// The distinct colours of `rgb` (at most 256) and each pixel's index
/// into them, or `None` when there are more.
fn palette_of(rgb: &[u8], indexed: &mut Vec<u8>) -> Option<Vec<[u8; 3]>> {
    let mut colours: Vec<[u8; 3]> = Vec::with_capacity(16);
    let mut last = (None, 0u8);
    indexed.clear();
    for px in rgb.chunks_exact(3) {
        let c = [px[0], px[1], px[2]];
        if last.0 != Some(c) {
            let i = match colours.iter().position(|k| *k == c) {
                Some(i) => i,
                None if colours.len() < 256 => {
                    colours.push(c);
                    colours.len() - 1
                }
                None => return None,
            };
            last = (Some(c), i as u8);
        }
        indexed.push(last.1);
    }
    Some(colours)
}

/// An 8-bit RGB buffer of `width` × `height` as PNG bytes: indexed
/// with a transparent background when it has at most 256 colours (it
/// does), RGB otherwise. zlib at a balanced level: `High` costs twice the
/// time for a few bytes.
fn encode_png(
    rgb: &[u8],
    indexed: &mut Vec<u8>,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::with_capacity(8 * 1024);
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Balanced);
        let data: &[u8] = match palette_of(rgb, indexed) {
            Some(colours) => {
                let entries: Vec<([u8; 3], u8)> = colours.into_iter().map(unblend).collect();
                let palette: Vec<u8> = entries.iter().flat_map(|(c, _)| *c).collect();
                let trns: Vec<u8> = entries.iter().map(|(_, a)| *a).collect();
                encoder.set_color(png::ColorType::Indexed);
                encoder.set_palette(palette);
                encoder.set_trns(trns);
                indexed
            }
            None => {
                encoder.set_color(png::ColorType::Rgb);
                rgb
            }
        };
        let mut writer = encoder.write_header().map_err(|e| chart_error(&e))?;
        writer.write_image_data(data).map_err(|e| chart_error(&e))?;
        writer.finish().map_err(|e| chart_error(&e))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::ALPHA);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    /// True when some pixel of the RGBA image is `c`, fully opaque.
    fn has_color(rgba: &[u8], c: RGBColor) -> bool {
        rgba.chunks(4).any(|p| p == [c.0, c.1, c.2, 255])
    }

    #[test]
    fn chart_is_a_png_of_the_stated_size() {
        let png = skill_chart(&[Some(3), Some(4), None, Some(2)], Some(3.5), 1.0).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (info, _) = decode(&png);
        assert_eq!(
            (info.width, info.height),
            (width_for(4) * DENSITY, HEIGHT * DENSITY)
        );
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
            rgb.chunks(4)
                .position(|p| p == [LINE.0, LINE.1, LINE.2, 255])
                .unwrap()
                / (width_for(1) * DENSITY) as usize
        };
        assert!(top(5) < top(1));
    }

    #[test]
    fn background_is_transparent_and_the_drawing_opaque() {
        let (info, rgba) = decode(&skill_chart(&[Some(3), Some(4)], Some(3.0), 1.0).unwrap());
        assert_eq!(info.color_type, png::ColorType::Rgba);
        assert_eq!(rgba[3], 0, "top-left corner");
        let opaque = rgba.chunks(4).filter(|p| p[3] == 255).count();
        assert!(opaque > 500, "{opaque} opaque pixels");
    }

    #[test]
    fn edges_blended_into_white_become_partly_transparent_ink() {
        let c = [LINE.0, LINE.1, LINE.2];
        let half = c.map(|k| ((255 + u16::from(k)) / 2) as u8);
        let (colour, alpha) = unblend(half);
        assert_eq!(colour, c);
        assert!((126..=129).contains(&alpha), "{alpha}");
        assert_eq!(unblend([255, 255, 255]).1, 0);
        assert_eq!(unblend(c), (c, 255));
    }

    #[test]
    fn same_scores_give_the_same_bytes() {
        let a = skill_chart(&[Some(1), Some(5)], Some(3.0), 1.0).unwrap();
        let b = skill_chart(&[Some(1), Some(5)], Some(3.0), 1.0).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_year_and_more_of_weeks_still_fits_the_widest_chart() {
        let points: Vec<Option<u8>> = (0..520).map(|i| Some((i % 5 + 1) as u8)).collect();
        let (info, _) = decode(&skill_chart(&points, Some(3.0), 1.0).unwrap());
        assert_eq!(info.width, MAX_WIDTH * DENSITY);
    }

    #[test]
    fn a_chart_grows_with_its_weeks_up_to_the_cap() {
        assert!(width_for(8) < width_for(12));
        assert!(width_for(12) < width_for(18));
        assert_eq!(width_for(26), MAX_WIDTH);
        assert_eq!(width_for(1), MIN_WIDTH);
        let (eight, _) = decode(&skill_chart(&[Some(3); 8], None, 1.0).unwrap());
        let (twelve, _) = decode(&skill_chart(&[Some(3); 12], None, 1.0).unwrap());
        assert!(eight.width < twelve.width);
    }
}
