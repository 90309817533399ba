//! The default store: git notes on `refs/notes/memgate` (git2), one record a line, so
//! that notes from many runners merge line by line with git's `cat_sort_uniq` strategy;
//! the records' timelines alike, one line a record, on `refs/notes/memgate-timelines`.
//! A note is written as a new notes commit and a ref update, which git makes atomic: a
//! memgate killed while saving leaves the old state or the new. Main type: [`NotesStore`].

use git2::{Blob, ErrorCode, ObjectType, Oid, Repository, Signature};

use super::lock::FileLock;
use super::record::Record;
use super::timelines;
use super::{Loaded, Store};
use crate::error::{Error, Result};
use crate::git::Repo;

/// Where memgate keeps its notes.
pub const NOTES_REF: &str = "refs/notes/memgate";

/// Where memgate keeps the records' timelines (see [`super::timelines`]).
pub const TIMELINES_REF: &str = "refs/notes/memgate-timelines";

pub struct NotesStore {
    repo: Repository,
}

impl NotesStore {
    pub fn open(repo: &Repo) -> Result<NotesStore> {
        // libgit2 re-hashes every object it reads (SHA-1 with collision detection): a
        // fifth of `memgate log`'s time over a thousand notes. The git command does not
        // on reads either; zlib still checks each object's integrity.
        git2::opts::strict_hash_verification(false);
        let repo = Repository::open(repo.common_dir())
            .map_err(|e| Error::Git(format!("cannot open the repository: {}", e.message())))?;
        Ok(NotesStore { repo })
    }

    fn oid(revision: &str) -> Result<Oid> {
        Oid::from_str(revision)
            .map_err(|_| Error::Usage(format!("{revision:?} is not a commit id")))
    }

    /// The blob of `revision`'s note in `notes_ref`, if it has one, to read its whole
    /// text from (libgit2's note message stops at the first NUL byte: a damaged note
    /// would read as empty); only up to [`MAX_NOTE`].
    fn note_blob(&self, notes_ref: &str, revision: &str, oid: Oid) -> Result<Option<Blob<'_>>> {
        let unreadable = |e: git2::Error| {
            Error::Git(format!(
                "cannot read the note of {revision} in {notes_ref}: {}",
                e.message()
            ))
        };
        let Some(blob) = self.note_id(notes_ref, oid).map_err(unreadable)? else {
            return Ok(None);
        };
        let (size, _) = self
            .repo
            .odb()
            .and_then(|odb| odb.read_header(blob))
            .map_err(unreadable)?;
        if size as u64 > MAX_NOTE {
            return Err(Error::Git(format!(
                "the note of {revision} in {notes_ref} is {size} bytes, more than memgate writes in years of runs: remove it with `git notes --ref={} remove {revision}`",
                short_ref(notes_ref)
            )));
        }
        self.repo.find_blob(blob).map(Some).map_err(unreadable)
    }

    /// The id of the blob holding `oid`'s note in `notes_ref`, found as git lays notes
    /// out: a note is named by the commit's id, whole or after one or more fan-out
    /// directories named by two of its hex digits each (`ab/cdef...`). Not
    /// `Repository::find_note`: that reads the whole note and copies it before memgate
    /// can check its size, and memgate then read it again from the blob.
    fn note_id(&self, notes_ref: &str, oid: Oid) -> Result<Option<Oid>, git2::Error> {
        let notes = match self.repo.find_reference(notes_ref) {
            Ok(notes) => notes,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut tree = notes.peel_to_tree()?;
        let hex = oid.to_string();
        let mut rest = hex.as_str();
        loop {
            if let Some(entry) = tree.get_name(rest) {
                return Ok((entry.kind() == Some(ObjectType::Blob)).then(|| entry.id()));
            }
            let fanout = match rest.get(..2).and_then(|dir| tree.get_name(dir)) {
                Some(entry) if entry.kind() == Some(ObjectType::Tree) => entry.id(),
                _ => return Ok(None),
            };
            tree = self.repo.find_tree(fanout)?;
            rest = &rest[2..];
        }
    }

    /// Adds `line` to `revision`'s note in `notes_ref`. Every line is kept, a damaged one
    /// too; only a NUL byte, which a note's text cannot hold, becomes U+FFFD (its line
    /// was unreadable already).
    fn append(&self, notes_ref: &str, revision: &str, oid: Oid, line: &str) -> Result<()> {
        let mut text = match self.note_blob(notes_ref, revision, oid)? {
            Some(blob) => String::from_utf8_lossy(blob.content()).replace('\0', "\u{fffd}"),
            None => String::new(),
        };
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(line);
        text.push('\n');
        let sig = signature(&self.repo)?;
        self.repo
            .note(&sig, &sig, Some(notes_ref), oid, &text, true)
            .map_err(|e| {
                Error::Git(format!(
                    "cannot save the note of {revision} in {notes_ref}: {}",
                    e.message()
                ))
            })?;
        Ok(())
    }

    /// The records of `revision`, with their runs (and the timelines they carry inline)
    /// if `runs`.
    fn read(&self, revision: &str, runs: bool) -> Result<Loaded> {
        let oid = Self::oid(revision)?;
        let Some(blob) = self.note_blob(NOTES_REF, revision, oid)? else {
            return Ok(Loaded::default());
        };
        let text = text(blob.content());
        let short = crate::report::units::short_rev(revision);
        let lines = text.lines().enumerate().map(|(i, line)| {
            (
                line,
                format!("commit {short}, line {} of its note in {NOTES_REF}", i + 1),
            )
        });
        let fix = format!("drop or fix the line with `git notes --ref=memgate edit {short}`");
        Ok(if runs {
            Loaded::parse_with_runs(revision, lines, &fix)
        } else {
            Loaded::parse(revision, lines, &fix)
        })
    }
}

/// A note's bytes as text, a bad byte as U+FFFD (its line will not read).
fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    // `from_utf8` checks plain ASCII many bytes at a time; `from_utf8_lossy` byte by byte,
    // which took a tenth of `memgate log`'s time.
    match std::str::from_utf8(bytes) {
        Ok(text) => text.into(),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// `memgate` for `refs/notes/memgate`, as `git notes --ref` takes it.
fn short_ref(notes_ref: &str) -> &str {
    notes_ref.trim_start_matches("refs/notes/")
}

/// The largest note memgate reads: a thousand runs of a hundred benchmarks fit.
const MAX_NOTE: u64 = 256 * 1024 * 1024;

/// The user's git identity, or memgate's where none is configured (CI).
pub(crate) fn signature(repo: &Repository) -> Result<Signature<'static>> {
    repo.signature()
        .or_else(|_| Signature::now("memgate", "memgate@localhost"))
        .map_err(|e| Error::Git(format!("cannot make a git signature: {}", e.message())))
}

impl Store for NotesStore {
    fn describe(&self) -> String {
        format!("git notes ({NOTES_REF})")
    }

    fn save(&self, revision: &str, record: &Record) -> Result<()> {
        let oid = Self::oid(revision)?;
        let lines = record.stored_lines().map_err(Error::Usage)?;
        let _lock = FileLock::acquire(&self.repo.path().join("memgate-notes.lock"))?;
        // The timelines first: a memgate stopped between the two notes leaves timelines
        // that no record names, never a record whose timelines are missing.
        if let Some((_, timelines)) = &lines.timelines {
            self.append(TIMELINES_REF, revision, oid, timelines)?;
        }
        self.append(NOTES_REF, revision, oid, &lines.record)
    }

    fn load(&self, revision: &str) -> Result<Loaded> {
        self.read(revision, false)
    }

    fn load_with_runs(&self, revision: &str) -> Result<Loaded> {
        let mut loaded = self.read(revision, true)?;
        if loaded.records.iter().all(|r| r.timelines_key.is_none()) {
            return Ok(loaded);
        }
        let oid = Self::oid(revision)?;
        let short = crate::report::units::short_rev(revision);
        let at = format!("commit {short}");
        let complete = "its figures are complete";
        let blob = match self.note_blob(TIMELINES_REF, revision, oid) {
            Ok(blob) => blob,
            Err(e) => {
                loaded.problem(&at, &format!("its timelines cannot be read: {e}"), complete);
                return Ok(loaded);
            }
        };
        let text = blob.as_ref().map(|b| text(b.content())).unwrap_or_default();
        let lines = text.lines().enumerate().map(|(i, line)| {
            (
                line,
                format!(
                    "commit {short}, line {} of its note in {TIMELINES_REF}",
                    i + 1
                ),
            )
        });
        let fix = format!(
            "drop or fix the line with `git notes --ref={} edit {short}`",
            short_ref(TIMELINES_REF)
        );
        for i in loaded.attach_timelines(revision, lines, &fix) {
            let what = timelines::missing(&loaded.records[i], TIMELINES_REF);
            loaded.problem(
                &at,
                &what,
                "fetch them with `memgate notes fetch` if the record was pushed from elsewhere; its figures are complete",
            );
        }
        Ok(loaded)
    }
}
