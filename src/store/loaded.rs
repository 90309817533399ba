//! What reading a revision's records gives: the records that could be read, and a
//! message for each that could not. One bad record never hides the others, and bad runs
//! or timelines never hide a record: its figures stand without them. Main type:
//! [`Loaded`].

use super::record::Record;
use super::timelines::{self, Timelines};

#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<Record>,
    /// One sentence per unreadable record: where it is, what is wrong, what to do.
    pub problems: Vec<String>,
}

impl Loaded {
    /// Reads the records of `revision` from `(text, where)` pairs, without their runs;
    /// `fix` says what to do about a bad one.
    pub fn parse<'a>(
        revision: &str,
        lines: impl Iterator<Item = (&'a str, String)>,
        fix: &str,
    ) -> Loaded {
        Loaded::read(revision, lines, fix, false)
    }

    /// Like [`Loaded::parse`], with the runs, and the timelines of records that carry
    /// them inline (those stored apart are added by [`Loaded::attach_timelines`]).
    pub fn parse_with_runs<'a>(
        revision: &str,
        lines: impl Iterator<Item = (&'a str, String)>,
        fix: &str,
    ) -> Loaded {
        Loaded::read(revision, lines, fix, true)
    }

    fn read<'a>(
        revision: &str,
        lines: impl Iterator<Item = (&'a str, String)>,
        fix: &str,
        runs: bool,
    ) -> Loaded {
        let mut loaded = Loaded::default();
        for (line, at) in lines {
            if line.trim().is_empty() {
                continue;
            }
            match Record::from_line(line).and_then(|r| r.check(revision).map(|()| r)) {
                Ok(mut record) => {
                    if runs && let Err(what) = record.read_runs(line) {
                        loaded.problem(
                            &at,
                            &format!("its runs cannot be read, its figures can ({what})"),
                            fix,
                        );
                    }
                    loaded.records.push(record)
                }
                Err(what) => loaded.problem(&at, &what, fix),
            }
        }
        loaded
    }

    /// Gives the records that keep their timelines apart the timelines read from `(text,
    /// where)` pairs; `fix` says what to do about a bad line, or one that does not fit
    /// the record it names. Returns the records (their indices) that no line named.
    pub fn attach_timelines<'a>(
        &mut self,
        revision: &str,
        lines: impl Iterator<Item = (&'a str, String)>,
        fix: &str,
    ) -> Vec<usize> {
        let mut wanted: Vec<usize> = (0..self.records.len())
            .filter(|&i| self.records[i].timelines_key.is_some())
            .collect();
        for (line, at) in lines {
            if wanted.is_empty() {
                break;
            }
            if line.trim().is_empty() {
                continue;
            }
            let found = match Timelines::from_line(line).and_then(|t| t.check(revision).map(|()| t))
            {
                Ok(found) => found,
                Err(what) => {
                    self.problem(&at, &what, fix);
                    continue;
                }
            };
            // Timelines no record here names (left by a memgate stopped while saving)
            // are no one's business.
            let Some(at_wanted) = wanted
                .iter()
                .position(|&i| self.records[i].timelines_key.as_deref() == Some(&found.key))
            else {
                continue;
            };
            let record = wanted.remove(at_wanted);
            if let Err(what) = timelines::attach(&mut self.records[record], found.benchmarks) {
                self.problem(
                    &at,
                    &format!("they do not fit the record they belong to: {what}"),
                    fix,
                );
            }
        }
        wanted
    }

    /// Notes a record that cannot be used: where, what is wrong, what to do. Its text
    /// (which may quote the record) is made one line.
    pub fn problem(&mut self, at: &str, what: &str, fix: &str) {
        let line = format!("{at}: {what}; {fix}");
        self.problems
            .push(crate::report::text::printable(&line).replace('\t', " "));
    }

    /// The newest clean record of `testbed`, or a dirty one if `allow_dirty`.
    pub fn latest(&self, testbed: Option<&str>, allow_dirty: bool) -> Option<&Record> {
        self.records
            .iter()
            .filter(|r| testbed.is_none_or(|t| r.testbed_id() == t))
            .filter(|r| allow_dirty || !r.dirty)
            .max_by(|a, b| a.time.cmp(&b.time))
    }
}
