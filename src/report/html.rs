//! The HTML report: one self-contained page (inline SVG and CSS, no script, no request
//! to anywhere), readable on a phone and in dark mode, that opens from a CI artifact or
//! an email. A pure function from a prepared [`Page`] to bytes; every text on it is
//! escaped here, and the charts are memgate's own SVG.

use std::fmt::Write;

/// What the page shows, prepared by [`super::bundle`].
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// `memgate: base 1a2b3c4d5e6f → head 5d6e7f8a9b0c`.
    pub title: String,
    /// `regression`, `failure`, `pass`, or for a run `ok`/`failed`: the badge's class.
    pub verdict: String,
    /// One sentence under the title.
    pub summary: String,
    /// Name → value lines: testbed, revisions, memgate's version.
    pub facts: Vec<(String, String)>,
    pub table: Table,
    /// Sentences under the table: how far apart the members of a group are.
    pub groups: Vec<String>,
    /// `(caption, svg)`: charts of every benchmark together, after the table.
    pub overview: Vec<(String, String)>,
    pub sections: Vec<Section>,
    /// What `memgate explain` found, as an HTML fragment escaped where it was made.
    pub explain: Option<String>,
    /// Said once at the end: charts left out, timelines missing.
    pub notes: Vec<String>,
}

/// The verdict table: cells of plain text; each row has a class (its verdict).
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

/// One benchmark × dataset.
#[derive(Clone, Debug, Default)]
pub struct Section {
    pub label: String,
    /// Its worst verdict or its status, for the badge.
    pub verdict: String,
    /// `(caption, svg)`: memgate's own SVG, inlined.
    pub charts: Vec<(String, String)>,
    pub failures: Vec<FailureText>,
}

/// What went wrong in one side's runs of a benchmark.
#[derive(Clone, Debug, Default)]
pub struct FailureText {
    /// `head`, `base`, or a revision.
    pub side: String,
    pub message: String,
    pub stderr_tail: Vec<String>,
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff;
  --line: #d1d9e0; --card: #f6f8fa; --bad: #b3261e; --warn: #8a5a00; --good: #1a7f37; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --line: #3d444d;
    --card: #151b23; --bad: #ff8a80; --warn: #e3b341; --good: #56d364; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 16px; max-width: 1040px; color: var(--fg);
  background: var(--bg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.5em; margin: 0.2em 0; overflow-wrap: anywhere; }
h2 { font-size: 1.2em; margin: 1.6em 0 0.4em; overflow-wrap: anywhere; }
.summary { font-size: 1.1em; margin: 0.3em 0 0.8em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 1em;
  color: var(--muted); }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; text-align: left; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
th { background: var(--card); }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 0.85em;
  font-weight: 600; border: 1px solid currentColor; vertical-align: middle; }
.regression, .failure, .failed, .timeout, .memory_limit { color: var(--bad); }
.inconclusive, .missing { color: var(--warn); }
.improvement, .pass, .ok { color: var(--good); }
td.regression, td.failure { font-weight: 600; }
nav ul { padding-left: 1.2em; columns: 2 16em; }
figure { margin: 12px 0; }
figure svg { display: block; width: 100%; height: auto; background: #fff;
  border-radius: 6px; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 0.9em; }
/* On a phone a chart keeps a legible size and scrolls sideways. */
@media (max-width: 760px) {
  figure { overflow-x: auto; }
  figure svg { width: 720px; max-width: none; }
}
pre { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: 8px; overflow-x: auto; font-size: 0.85em; }
footer { margin-top: 2em; color: var(--muted); font-size: 0.85em; }
"#;

/// The page as one HTML document.
pub fn render(page: &Page) -> Vec<u8> {
    let mut out = String::with_capacity(
        16 * 1024
            + page
                .sections
                .iter()
                .flat_map(|s| &s.charts)
                .map(|c| c.1.len())
                .sum::<usize>(),
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&page.title)
    );
    let _ = writeln!(
        out,
        "<header>\n<h1>{} <span class=\"badge {}\">{}</span></h1>",
        escape(&page.title),
        class(&page.verdict),
        escape(&page.verdict)
    );
    let _ = writeln!(out, "<p class=\"summary\">{}</p>", escape(&page.summary));
    out.push_str("<dl>\n");
    for (name, value) in &page.facts {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(value));
    }
    out.push_str("</dl>\n</header>\n");

    if !page.table.rows.is_empty() {
        out.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
        for h in &page.table.header {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for (verdict, cells) in &page.table.rows {
            out.push_str("<tr>");
            for (i, cell) in cells.iter().enumerate() {
                // The verdict column (the last) carries its colour, beside its word.
                if i + 1 == cells.len() {
                    let _ = write!(
                        out,
                        "<td class=\"{}\">{}</td>",
                        class(verdict),
                        escape(cell)
                    );
                } else {
                    let _ = write!(out, "<td>{}</td>", escape(cell));
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table></div>\n");
    }
    if !page.groups.is_empty() {
        out.push_str("<ul class=\"groups\">\n");
        for sentence in &page.groups {
            let _ = writeln!(out, "<li>{}</li>", escape(sentence));
        }
        out.push_str("</ul>\n");
    }

    for (caption, svg) in &page.overview {
        figure(&mut out, caption, svg);
    }
    if let Some(explain) = &page.explain {
        out.push_str(explain);
    }
    if page.sections.len() > 1 {
        out.push_str("<nav><ul>\n");
        for (i, s) in page.sections.iter().enumerate() {
            let _ = writeln!(
                out,
                "<li><a href=\"#b{i}\">{}</a> <span class=\"{}\">{}</span></li>",
                escape(&s.label),
                class(&s.verdict),
                escape(&s.verdict)
            );
        }
        out.push_str("</ul></nav>\n");
    }

    for (i, s) in page.sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section id=\"b{i}\">\n<h2>{} <span class=\"badge {}\">{}</span></h2>",
            escape(&s.label),
            class(&s.verdict),
            escape(&s.verdict)
        );
        for (caption, svg) in &s.charts {
            figure(&mut out, caption, svg);
        }
        for f in &s.failures {
            let _ = writeln!(
                out,
                "<p><strong>{}</strong>: {}</p>",
                escape(&f.side),
                escape(&f.message)
            );
            if !f.stderr_tail.is_empty() {
                let _ = writeln!(
                    out,
                    "<details open><summary>last lines of stderr ({})</summary><pre>{}</pre></details>",
                    escape(&f.side),
                    escape(&f.stderr_tail.join("\n"))
                );
            }
        }
        out.push_str("</section>\n");
    }
    if !page.notes.is_empty() {
        out.push_str("<ul class=\"notes\">\n");
        for note in &page.notes {
            let _ = writeln!(out, "<li>{}</li>", escape(note));
        }
        out.push_str("</ul>\n");
    }
    let _ = writeln!(
        out,
        "<footer>Made by memgate {}. Every chart is also beside this page as SVG and PNG.</footer>\n</body>\n</html>",
        escape(env!("CARGO_PKG_VERSION"))
    );
    out.into_bytes()
}

fn figure(out: &mut String, caption: &str, svg: &str) {
    let _ = writeln!(
        out,
        "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>",
        inline_svg(svg, caption),
        escape(caption)
    );
}

/// An SVG of memgate's charts, inlined: its XML namespace (which HTML does not need, and
/// which is the page's only web address otherwise) dropped, and a label for screen
/// readers added.
fn inline_svg(svg: &str, label: &str) -> String {
    let svg = svg.trim_start();
    let Some(rest) = svg.strip_prefix("<svg ") else {
        return String::new();
    };
    let rest = rest.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    format!("<svg role=\"img\" aria-label=\"{}\" {rest}", escape(label))
}

/// Text for HTML: element content and attribute values alike; a control character is
/// written out as an escape, like `\u{1b}`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.extend(c.escape_unicode());
            }
            c => out.push(c),
        }
    }
    out
}

/// A verdict or status as a CSS class: one of memgate's words, else none.
fn class(word: &str) -> &'static str {
    match word {
        "regression" => "regression",
        "failure" => "failure",
        "failed" => "failed",
        "timeout" => "timeout",
        "memory_limit" => "memory_limit",
        "inconclusive" => "inconclusive",
        "missing" => "missing",
        "improvement" => "improvement",
        "pass" => "pass",
        "ok" => "ok",
        _ => "",
    }
}
