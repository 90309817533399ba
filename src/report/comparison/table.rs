//! The terminal table of a comparison: a row per benchmark × metric, changes colored by
//! verdict, the verdict in one line at the end. Colors are ANSI codes here; the writer
//! strips them where they do not belong (not a terminal, `NO_COLOR`, a file).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::cells::{Levels, change_with_interval, p_value, summary, value};
use crate::compare::{Overall, Report, Verdict};
use crate::report::text::printable;
use crate::report::units::short_rev as short;

fn style(verdict: Verdict) -> Style {
    let color = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
    match verdict {
        Verdict::Regression => color(AnsiColor::Red).bold(),
        Verdict::Failure => color(AnsiColor::Red),
        Verdict::Improvement => color(AnsiColor::Green),
        Verdict::Inconclusive => color(AnsiColor::Yellow),
        Verdict::Missing => Style::new().dimmed(),
        Verdict::Pass => Style::new(),
    }
}

pub fn render(report: &Report) -> Vec<u8> {
    let levels = Levels::of(&report.comparisons);
    let header = [
        "benchmark".to_owned(),
        "metric".into(),
        "base".into(),
        "head".into(),
        levels.header(),
        "p".into(),
        "verdict".into(),
    ];
    let rows: Vec<([String; 7], Verdict)> = report
        .comparisons
        .iter()
        .map(|c| {
            (
                [
                    printable(&c.label()).into_owned(),
                    printable(&c.metric).into_owned(),
                    printable(&value(c.base.median, &c.unit)).into_owned(),
                    printable(&value(c.head.median, &c.unit)).into_owned(),
                    change_with_interval(c, &levels),
                    p_value(c.p_value),
                    c.verdict.as_str().to_owned(),
                ],
                c.verdict,
            )
        })
        .collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for (row, _) in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String], verdict: Option<Verdict>| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = " ".repeat(w - cell.chars().count());
            let styled = match verdict {
                // The change and the verdict carry the color.
                Some(v) if i == 4 || i == 6 => {
                    format!("{}{cell}{}", style(v).render(), style(v).render_reset())
                }
                _ => cell.clone(),
            };
            if (2..=5).contains(&i) {
                let _ = write!(text, "{pad}{styled}  ");
            } else {
                let _ = write!(text, "{styled}{pad}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut out, &header, None);
    for (row, verdict) in &rows {
        line(&mut out, row, Some(*verdict));
    }
    for c in report
        .comparisons
        .iter()
        .filter(|c| c.note.is_some() && c.verdict != Verdict::Pass)
    {
        let _ = writeln!(
            out,
            "  {} {}: {}",
            printable(&c.label()),
            printable(&c.metric),
            printable(c.note.as_deref().unwrap_or_default())
        );
    }
    let _ = writeln!(
        out,
        "\nbase {}{}",
        printable(short(&report.base.rev)),
        note(&report.base.note)
    );
    let _ = writeln!(
        out,
        "head {}{}",
        printable(short(&report.head.rev)),
        note(&report.head.note)
    );
    let _ = writeln!(out, "testbed {}", printable(&report.testbed));
    let verdict_style = match report.verdict {
        Overall::Regression | Overall::Failure => style(Verdict::Regression),
        Overall::Pass => Style::new().bold(),
    };
    let _ = writeln!(
        out,
        "\n{}verdict: {}{}",
        verdict_style.render(),
        summary(report.verdict, &report.comparisons),
        verdict_style.render_reset()
    );
    if let Some(explained) = &report.explain {
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(&crate::report::explain::text(
            explained,
        )));
    }
    out.into_bytes()
}

fn note(note: &Option<String>) -> String {
    note.as_ref()
        .map(|n| format!(" ({})", printable(n)))
        .unwrap_or_default()
}
