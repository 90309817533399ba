//! What the crate's own tests share: the pieces fixture results are built from, folders of
//! fixture files, how many cases a fuzz property runs, and the byte edits the fuzz tests
//! damage valid text with.

use proptest::prelude::*;
use proptest::sample::Index;

use crate::measure::probe::ProbeKind;
use crate::measure::units::Bytes;
use crate::results::{Better, Metric, RunRecord, Status, Testbed};

/// A temporary folder holding `files`: (path relative to it, text, mode).
pub(crate) fn folder(files: &[(&str, &str, u32)]) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary directory");
    for (rel, text, mode) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a file in the folder")).unwrap();
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    dir
}

/// A temporary folder holding `files` of text: (path relative to it, text), mode 0644.
pub(crate) fn text_folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let files: Vec<_> = files
        .iter()
        .map(|&(rel, text)| (rel, text, 0o644))
        .collect();
    folder(&files)
}

pub(crate) fn metric(unit: &str, samples: &[f64], better: Better) -> Metric {
    Metric {
        unit: unit.into(),
        samples: samples.to_vec(),
        better,
    }
}

/// A run that succeeded after `wall_time` seconds, with a timeline of `points`
/// (`(seconds, bytes)`) and the timeline's peak as its peaks.
pub(crate) fn run(points: &[(f64, u64)], wall_time: f64) -> RunRecord {
    use crate::measure::units::Seconds;
    let mut timeline = crate::measure::timeline::Timeline::default();
    timeline.points = points
        .iter()
        .map(|&(t, b)| (Seconds(t), Bytes(b)))
        .collect();
    RunRecord {
        status: Status::Ok,
        wall_time: Seconds(wall_time),
        cpu_time: Seconds(wall_time),
        peak_memory: timeline.peak(),
        max_rss: timeline.peak(),
        exit_code: Some(0),
        signal: None,
        sampler_cpu_time: Seconds(0.0),
        peak_quality: None,
        samples: None,
        peak_lower_bound: None,
        peak_upper_bound: None,
        timeline,
    }
}

/// A two-core Linux machine named `ci-large`.
pub(crate) fn testbed() -> Testbed {
    Testbed {
        id: "ci-large".into(),
        name: Some("ci-large".into()),
        os: "linux".into(),
        kernel: "6.1".into(),
        arch: "x86_64".into(),
        cpu: "cpu".into(),
        cores: 2,
        memory: Bytes(1 << 34),
        probe: ProbeKind::Proc,
    }
}

/// Cases of each fuzz property in `cargo test`: enough to catch a regression, quick on
/// two cores.
pub(crate) const QUICK_CASES: u32 = 300;

/// Cases of each fuzz property in the long run: `MEMGATE_FUZZ_CASES`, or 100,000.
pub(crate) fn long_cases() -> u32 {
    std::env::var("MEMGATE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

/// One change to a text's bytes; places are drawn as [`Index`]es so they fit any length.
#[derive(Clone, Debug)]
pub(crate) enum Edit {
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    /// Puts the bytes in place of so many.
    Replace(Index, usize, Vec<u8>),
    /// Copies a stretch of so many bytes to another place.
    Copy(Index, usize, Index),
    Truncate(Index),
    SwapLines(Index, Index),
    RepeatLine(Index),
    DeleteLine(Index),
    /// Moves a line right (positive) or left by so many spaces.
    Indent(Index, i8),
}

impl Edit {
    /// A [`Edit::Replace`] that overwrites as many bytes as it brings.
    pub(crate) fn overwrite(at: Index, piece: Vec<u8>) -> Edit {
        Edit::Replace(at, piece.len(), piece)
    }

    pub(crate) fn apply(&self, text: &mut Vec<u8>) {
        let len = text.len();
        match self {
            Edit::Insert(at, piece) => {
                let at = at.index(len + 1);
                text.splice(at..at, piece.iter().copied());
            }
            Edit::Delete(at, n) if len > 0 => {
                let at = at.index(len);
                text.drain(at..(at + n).min(len));
            }
            Edit::Replace(at, n, piece) if len > 0 => {
                let at = at.index(len);
                text.splice(at..(at + n).min(len), piece.iter().copied());
            }
            Edit::Copy(from, n, to) if len > 0 => {
                let from = from.index(len);
                let stretch = text[from..(from + n).min(len)].to_vec();
                let to = to.index(len + 1);
                text.splice(to..to, stretch);
            }
            Edit::Delete(..) | Edit::Replace(..) | Edit::Copy(..) => {}
            Edit::Truncate(at) => text.truncate(at.index(len + 1)),
            Edit::SwapLines(..) | Edit::RepeatLine(_) | Edit::DeleteLine(_) | Edit::Indent(..) => {
                let mut lines: Vec<Vec<u8>> =
                    text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let count = lines.len();
                match self {
                    Edit::SwapLines(a, b) => lines.swap(a.index(count), b.index(count)),
                    Edit::RepeatLine(at) => {
                        let at = at.index(count);
                        lines.insert(at, lines[at].clone());
                    }
                    Edit::DeleteLine(at) => {
                        lines.remove(at.index(count));
                    }
                    Edit::Indent(at, by) => {
                        let line = &mut lines[at.index(count)];
                        if *by >= 0 {
                            line.splice(0..0, std::iter::repeat_n(b' ', *by as usize));
                        } else {
                            let spaces = line.iter().take_while(|&&b| b == b' ').count();
                            line.drain(..spaces.min(by.unsigned_abs() as usize));
                        }
                    }
                    _ => unreachable!("only line edits come here"),
                }
                *text = lines.join(&b'\n');
            }
        }
    }
}

/// Bytes to put into a text: mostly one of the tokens (what means something to the
/// reader under test), else any character or a few bytes of any value.
pub(crate) fn piece(tokens: Vec<&'static str>) -> BoxedStrategy<Vec<u8>> {
    let tokens = prop::sample::select(tokens).prop_map(|s| s.as_bytes().to_vec());
    prop_oneof![
        6 => tokens,
        2 => any::<char>().prop_map(|c| c.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 1..4),
    ]
    .boxed()
}

/// Why `xml` is not well-formed XML, if it is not: quick-xml reads it to the end.
pub(crate) fn xml_error(xml: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return None,
            Ok(_) => {}
            Err(e) => return Some(e.to_string()),
        }
    }
}
