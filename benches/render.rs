//! What one chart costs: drawing plus PNG encoding, as the digest and the
//! trend email pay for every skill.
//!
//! `chart/skill_chart_12w` and `chart/skill_chart_52w` are the whole call
//! (a digest's recent weeks, a year's trend). `png/*` re-encodes the same
//! pixels as plain RGB at each zlib level, for comparison with the
//! indexed encoding the chart uses (`chart/*` minus drawing). After the
//! criterion run, the bytes of each variant are printed.
//!
//! Run: `cargo bench --features sqlcipher --bench render`.

use std::hint::black_box;

use coachmail::render::chart::{DENSITY, HEIGHT, skill_chart, width_for};
use criterion::Criterion;

fn weeks(n: usize) -> Vec<Option<u8>> {
    (0..n)
        .map(|i| {
            if i % 11 == 5 {
                None
            } else {
                Some((i * 7 % 5 + 1) as u8)
            }
        })
        .collect()
}

/// The chart's pixels as 8-bit RGB on white (what the old encoder wrote).
fn rgb_of(png_bytes: &[u8]) -> Vec<u8> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::ALPHA);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut rgba = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut rgba).expect("a frame");
    rgba.truncate(info.buffer_size());
    rgba.chunks(4)
        .flat_map(|p| {
            let a = u16::from(p[3]);
            [0, 1, 2].map(|i| ((u16::from(p[i]) * a + 255 * (255 - a)) / 255) as u8)
        })
        .collect()
}

fn encode_rgb(rgb: &[u8], level: png::Compression) -> Vec<u8> {
    let mut out = Vec::new();
    // The 12-week chart's pixel size.
    let mut encoder = png::Encoder::new(&mut out, width_for(12) * DENSITY, HEIGHT * DENSITY);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(level);
    let mut writer = encoder.write_header().expect("header");
    writer.write_image_data(rgb).expect("data");
    writer.finish().expect("finish");
    out
}

const LEVELS: [(&str, png::Compression); 3] = [
    ("high", png::Compression::High),
    ("balanced", png::Compression::Balanced),
    ("fast", png::Compression::Fast),
];

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let recent = weeks(12);
    let year = weeks(52);
    c.bench_function("chart/skill_chart_12w", |b| {
        b.iter(|| skill_chart(black_box(&recent), Some(3.4), 1.0).expect("chart"))
    });
    c.bench_function("chart/skill_chart_52w", |b| {
        b.iter(|| skill_chart(black_box(&year), Some(3.4), 1.0).expect("chart"))
    });
    let chart = skill_chart(&recent, Some(3.4), 1.0).expect("chart");
    let rgb = rgb_of(&chart);
    for (name, level) in LEVELS {
        c.bench_function(&format!("png/rgb_{name}_12w"), |b| {
            b.iter(|| encode_rgb(black_box(&rgb), level))
        });
    }
    c.final_summary();
    println!("bytes: chart (indexed, balanced) {}", chart.len());
    for (name, level) in LEVELS {
        println!("bytes: rgb {name} {}", encode_rgb(&rgb, level).len());
    }
}
