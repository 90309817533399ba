use super::*;

/// A sawtooth climbing to `top` bytes over `seconds`, `points` long, with teeth.
fn sawtooth(top: f64, seconds: f64, points: usize, phase: usize) -> Vec<(f64, f64)> {
    (0..points)
        .map(|i| {
            let t = seconds * i as f64 / (points - 1) as f64;
            let climb = top * 0.3 + top * 0.7 * (i as f64 / points as f64);
            let tooth = ((i + phase) % 50) as f64 / 50.0;
            (t, climb * (0.6 + 0.4 * tooth))
        })
        .collect()
}

const MIB: f64 = 1_048_576.0;

pub fn timeline_fixture() -> TimelineChart {
    let side = |side, name: &str, top, seconds| {
        let median = sawtooth(top, seconds, 400, 0);
        let peak = median
            .iter()
            .copied()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        TimelineSide {
            side,
            name: name.into(),
            runs: (1..4)
                .map(|p| sawtooth(top * (1.0 - 0.02 * p as f64), seconds, 200, p * 7))
                .collect(),
            median,
            peak: Some(peak),
            killed: vec![],
        }
    };
    let mut head = side(Side::Head, "head 5d6e7f8a9b0c", 812.0 * MIB, 9.0);
    head.killed.push(Killed {
        at: 7.5,
        memory: 700.0 * MIB,
        what: "memory limit".into(),
    });
    TimelineChart {
        title: "pipeline[trips]: memory over time".into(),
        sides: vec![
            side(Side::Base, "base 1a2b3c4d5e6f", 402.0 * MIB, 8.0),
            head,
        ],
        limit: Some(1024.0 * MIB),
    }
}

pub fn distribution_fixture() -> DistributionChart {
    let strip = |side, name: &str, at: f64| Strip {
        side,
        name: name.into(),
        samples: (0..5).map(|i| at * (1.0 + 0.01 * i as f64)).collect(),
        median: Some(at * 1.02),
    };
    DistributionChart {
        title: "pipeline[trips]: every run, base against head".into(),
        panels: vec![
            Panel {
                metric: "peak_memory".into(),
                unit: "bytes".into(),
                strips: vec![
                    strip(Side::Base, "base", 402.0 * MIB),
                    strip(Side::Head, "head", 812.0 * MIB),
                ],
                change: Some("+102.0% [+98.1%, +104.9%]: regression".into()),
            },
            Panel {
                metric: "wall_time".into(),
                unit: "seconds".into(),
                strips: vec![
                    strip(Side::Base, "base", 8.0),
                    strip(Side::Head, "head", 9.1),
                ],
                change: Some("+13.8% [+9.0%, +15.1%]: inconclusive".into()),
            },
        ],
    }
}

pub fn history_fixture() -> HistoryChart {
    HistoryChart {
        title: "pipeline[trips]: peak_memory across revisions".into(),
        metric: "peak_memory".into(),
        unit: "bytes".into(),
        points: (0..14)
            .map(|i| {
                let at = if i < 11 { 400.0 } else { 810.0 } * MIB;
                HistoryPoint {
                    rev: format!("{:07x}", 0x1a2b3c0 + i * 977),
                    samples: (0..3).map(|k| at * (1.0 + 0.01 * k as f64)).collect(),
                    median: at * 1.01,
                    dirty: i == 13,
                    role: match i {
                        10 => Some(Side::Base),
                        12 => Some(Side::Head),
                        _ => None,
                    },
                }
            })
            .collect(),
    }
}

/// The SVG's structure: its tags (a run of the same tag as one line with its count),
/// and its texts with every figure replaced by `N`.
fn structure(svg: &[u8]) -> String {
    let text = std::str::from_utf8(svg).unwrap();
    let mut lines: Vec<(String, usize)> = Vec::new();
    for line in tags(text).lines() {
        match lines.last_mut() {
            Some((last, n)) if last == line => *n += 1,
            _ => lines.push((line.to_owned(), 1)),
        }
    }
    lines
        .into_iter()
        .map(|(line, n)| match n {
            1 => format!("{line}\n"),
            n => format!("{line} ×{n}\n"),
        })
        .collect()
}

fn tags(text: &str) -> String {
    let mut out = String::new();
    for tag in text.split('<').skip(1) {
        let name: String = tag
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>')
            .collect();
        let content = tag.split_once('>').map_or("", |(_, c)| c.trim());
        if name.starts_with('/') {
            continue;
        }
        out.push_str(&name);
        if name == "text" {
            out.push(' ');
            out.push_str(&redact(content));
        }
        out.push('\n');
    }
    out
}

fn redact(text: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

/// Writes every fixture chart into `$MEMGATE_CHART_SAMPLES` when it is set, to look at.
fn keep(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("MEMGATE_CHART_SAMPLES") {
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
    }
}

#[test]
fn timeline_svg_structure() {
    let svg = render(&timeline_fixture(), Format::Svg).unwrap();
    keep("timeline.svg", &svg);
    insta::assert_snapshot!(structure(&svg));
}

#[test]
fn distribution_svg_structure() {
    let svg = render(&distribution_fixture(), Format::Svg).unwrap();
    keep("distribution.svg", &svg);
    insta::assert_snapshot!(structure(&svg));
}

#[test]
fn history_svg_structure() {
    let svg = render(&history_fixture(), Format::Svg).unwrap();
    keep("history.svg", &svg);
    insta::assert_snapshot!(structure(&svg));
}

fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    (info.width, info.height, pixels)
}

#[test]
fn the_pngs_decode_at_their_size_and_show_both_colours() {
    let charts: [(&str, Vec<u8>, (u32, u32)); 3] = [
        (
            "timeline.png",
            render(&timeline_fixture(), Format::Png).unwrap(),
            timeline_fixture().size(),
        ),
        (
            "distribution.png",
            render(&distribution_fixture(), Format::Png).unwrap(),
            distribution_fixture().size(),
        ),
        (
            "history.png",
            render(&history_fixture(), Format::Png).unwrap(),
            history_fixture().size(),
        ),
    ];
    for (name, png, size) in charts {
        keep(name, &png);
        let (w, h, pixels) = decode(&png);
        assert_eq!((w, h), size, "{name}");
        let has = |c: RGBColor| pixels.chunks(3).any(|p| p == [c.0, c.1, c.2]);
        assert!(has(BASE_COLOUR), "{name} has no base colour");
        assert!(has(HEAD_COLOUR), "{name} has no head colour");
        // Text was drawn: dark pixels from the embedded font.
        assert!(
            pixels
                .chunks(3)
                .filter(|p| p.iter().all(|&v| v < 0x40))
                .count()
                > 500,
            "{name}"
        );
    }
    assert_eq!(timeline_fixture().size(), (960, 420));
    assert_eq!(distribution_fixture().size(), (960, 36 + 2 * 112));
}

#[test]
fn empty_and_odd_data_draw_without_error() {
    let empty = TimelineChart {
        title: "x".into(),
        sides: vec![],
        limit: None,
    };
    for format in [Format::Svg, Format::Png] {
        render(&empty, format).unwrap();
        let mut odd = timeline_fixture();
        odd.sides[0].median = vec![(0.0, 0.0)];
        odd.sides[1].median = vec![(f64::NAN, 5.0), (1.0, f64::INFINITY)];
        odd.limit = Some(f64::NAN);
        render(&odd, format).unwrap();
        let mut one = history_fixture();
        one.points.truncate(1);
        render(&one, format).unwrap();
        let flat = DistributionChart {
            title: "x".into(),
            panels: vec![Panel {
                metric: "m".into(),
                unit: "".into(),
                strips: vec![],
                change: None,
            }],
        };
        render(&flat, format).unwrap();
    }
}

#[test]
fn a_limit_far_above_the_figures_is_named_not_drawn() {
    let mut chart = timeline_fixture();
    chart.limit = Some(64.0 * 1024.0 * MIB);
    let svg = String::from_utf8(render(&chart, Format::Svg).unwrap()).unwrap();
    assert!(
        svg.contains("memory limit 64.0 GiB (above this chart)"),
        "{svg}"
    );
    chart.limit = Some(1024.0 * MIB);
    let svg = String::from_utf8(render(&chart, Format::Svg).unwrap()).unwrap();
    assert!(
        svg.contains(">\nmemory limit 1.00 GiB\n<") || svg.contains("memory limit 1.00 GiB\n"),
        "{svg}"
    );
}

#[test]
fn axes_are_in_human_units() {
    assert_eq!(Scale::bytes(812.0 * MIB).unit, "MiB");
    assert_eq!(Scale::bytes(3.0 * 1024.0 * MIB).unit, "GiB");
    assert_eq!(Scale::bytes(100.0).unit, "B");
    assert_eq!(Scale::seconds(0.25).unit, "ms");
    assert_eq!(Scale::seconds(12.0).unit, "s");
    assert_eq!(Scale::seconds(0.0005).unit, "µs");
    let mib = Scale::bytes(900.0 * MIB);
    assert_eq!(mib.to(512.0 * MIB), 512.0);
    assert_eq!(mib.tick(512.0, 900.0), "512");
    assert_eq!(Scale::seconds(9.0).tick(2.5, 4.0), "2.5");
    assert_eq!(Scale::seconds(9.0).tick(-0.0001, 4.0), "0.0");
    assert_eq!(Scale::seconds(9.0).tick(0.25, 1.0), "0.25");
    let svg = String::from_utf8(render(&timeline_fixture(), Format::Svg).unwrap()).unwrap();
    assert!(
        svg.contains("memory (GiB)") && svg.contains("time (s)"),
        "{svg}"
    );
    for side in &timeline_fixture().sides {
        let label = format!("peak {}", crate::report::units::bytes(side.peak.unwrap().1));
        assert!(svg.contains(&label), "{label} in {svg}");
    }
}

#[test]
fn absurd_figures_are_left_off_and_every_chart_ends() {
    // Figures a benchmark or a damaged note can give: axes over them would never end.
    let huge = [-1.7e308, 1.7e308, 1.6e308, f64::MAX, -f64::MAX];
    let mut distribution = distribution_fixture();
    distribution.panels[0].strips[0].samples.extend(huge);
    distribution.panels[0].strips[1].median = Some(f64::MAX);
    let mut history = history_fixture();
    history.points[0].samples.extend(huge);
    history.points[1].median = 1.6e308;
    let mut timeline = timeline_fixture();
    timeline.sides[0].median.push((1.79e308, 5.0));
    timeline.sides[1].runs[0].push((3.0, 1.7e308));
    timeline.sides[1].peak = Some((1e300, 1e300));
    timeline.sides[1].killed[0].at = f64::MAX;
    timeline.limit = Some(f64::MAX);
    for format in [Format::Svg, Format::Png] {
        render(&distribution, format).unwrap();
        render(&history, format).unwrap();
        render(&timeline, format).unwrap();
    }
    // The absurd ones are not on the axes: the sane figures set them (the absurd limit
    // is not drawn either, so memory is in MiB).
    let svg = String::from_utf8(render(&timeline, Format::Svg).unwrap()).unwrap();
    assert!(
        svg.contains("memory (MiB)") && svg.contains("time (s)"),
        "{svg}"
    );
    assert!(!svg.contains("memory limit"), "{svg}");
}

#[test]
fn a_metric_below_zero_has_its_history_on_the_chart() {
    let mut chart = history_fixture();
    chart.unit = String::new();
    for (i, p) in chart.points.iter_mut().enumerate() {
        p.median = -5.0 + i as f64 * 0.25;
        p.samples = vec![p.median - 0.1, p.median + 0.1];
    }
    let svg = String::from_utf8(render(&chart, Format::Svg).unwrap()).unwrap();
    // Ticks below zero: the axis reaches the figures.
    assert!(svg.contains("\n-5\n") || svg.contains("\n-5.0\n"), "{svg}");
    assert!(svg.contains("\n0\n") || svg.contains("\n0.0\n"), "{svg}");
}

/// The `(x, y)` a text of the SVG is drawn at.
fn text_at(svg: &str, text: &str) -> (i32, i32) {
    let end = svg
        .find(&format!(">\n{text}\n<"))
        .unwrap_or_else(|| panic!("{text} in {svg}"));
    let tag = &svg[svg[..end].rfind("<text").unwrap()..end];
    let attr = |name: &str| -> i32 {
        let from = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        tag[from..].split('"').next().unwrap().parse().unwrap()
    };
    (attr("x"), attr("y"))
}

#[test]
fn a_peak_label_keeps_clear_of_the_limit_note() {
    // The head peaks just under its limit, at the right edge, where the limit's note is.
    let mut chart = timeline_fixture();
    let peak = chart.sides[1].peak.unwrap().1;
    chart.limit = Some(peak * 1.04);
    let svg = String::from_utf8(render(&chart, Format::Svg).unwrap()).unwrap();
    let note = text_at(
        &svg,
        &format!("memory limit {}", crate::report::units::bytes(peak * 1.04)),
    );
    let label = text_at(&svg, &format!("peak {}", crate::report::units::bytes(peak)));
    // The note's baseline is its bottom (anchored there); the label's y is its top: the
    // label is below the note, not across it.
    assert!(
        label.1 >= note.1,
        "note ends at {note:?}, label starts at {label:?}"
    );
    keep(
        "timeline-near-limit.png",
        &render(&chart, Format::Png).unwrap(),
    );
}
