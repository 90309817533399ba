//! JUnit XML of a comparison, for CI systems that show test reports: a test suite per
//! benchmark × dataset, a test case per metric; a regression is a failure, a failed
//! benchmark an error, a missing base a skip.

use std::fmt::Write;

use quick_xml::escape::escape as xml_escape;

use super::cells::{Levels, change_with_interval, p_value, threshold, value};
use crate::compare::{Comparison, Report, Verdict};

/// XML-escaped, and with control characters (which XML 1.0 does not allow) written out.
fn escape(text: &str) -> String {
    xml_escape(crate::report::text::printable(text).as_ref()).replace("##\\[", "##&#91;")
}

pub fn render(report: &Report) -> Vec<u8> {
    let mut suites: Vec<(String, Vec<&Comparison>)> = Vec::new();
    for c in &report.comparisons {
        let label = c.label();
        match suites.iter_mut().find(|(l, _)| *l == label) {
            Some((_, cases)) => cases.push(c),
            None => suites.push((label, vec![c])),
        }
    }
    let count = |cases: &[&Comparison], v: Verdict| cases.iter().filter(|c| c.verdict == v).count();
    let all: Vec<&Comparison> = report.comparisons.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"memgate\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        all.len(),
        count(&all, Verdict::Regression),
        count(&all, Verdict::Failure),
        count(&all, Verdict::Missing)
    );
    for (label, cases) in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            escape(label.as_str()),
            cases.len(),
            count(cases, Verdict::Regression),
            count(cases, Verdict::Failure),
            count(cases, Verdict::Missing)
        );
        for c in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"memgate.{}\" name=\"{}\"",
                escape(label.as_str()),
                escape(c.metric.as_str())
            );
            let detail = format!(
                "base {}, head {}, change {}, p {}, threshold {}, verdict {}",
                value(c.base.median, &c.unit),
                value(c.head.median, &c.unit),
                change_with_interval(c, &Levels::Mixed),
                p_value(c.p_value),
                threshold(c),
                c.verdict.as_str()
            );
            let note = c.note.as_deref().unwrap_or_default();
            let element = match c.verdict {
                Verdict::Regression => Some(("failure", "regression", detail.clone())),
                Verdict::Failure => Some(("error", "failure", note.to_owned())),
                Verdict::Missing => Some(("skipped", "missing", note.to_owned())),
                _ => None,
            };
            match element {
                Some((tag, kind, message)) => {
                    let _ = writeln!(out, ">");
                    let _ = writeln!(
                        out,
                        "      <{tag} type=\"{kind}\" message=\"{}\">{}</{tag}>",
                        escape(message.as_str()),
                        escape(detail.as_str())
                    );
                    let _ = writeln!(out, "    </testcase>");
                }
                None => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>{}</system-out>\n    </testcase>",
                        escape(detail.as_str())
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out.into_bytes()
}
