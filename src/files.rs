//! Files that someone else may have put there (a store directory, a report left by an
//! earlier CI step, a benchmark's logs and metrics): read only as regular files, and only
//! up to a size, since a FIFO would block the read forever, `/dev/zero` would fill memory,
//! a directory is not a record, and a link a benchmark made may point anywhere; and
//! written only as a fresh file renamed into place ([`replace`]), never through whatever
//! stands at the path.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why a file was not read.
#[derive(Debug)]
pub enum Unread {
    /// Not a regular file: what it is instead (`a directory`, `a FIFO`, ...).
    NotAFile(&'static str),
    /// Larger than the bound (its size).
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::NotAFile(what) => write!(f, "it is {what}, not a regular file"),
            Unread::TooLarge(size) => write!(f, "it is too large ({size} bytes)"),
            Unread::Io(e) => write!(f, "{e}"),
        }
    }
}

/// The bytes of the regular file at `path` (symbolic links followed), if it holds at most
/// `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, Unread> {
    read_regular(path, max, true)
}

/// Like [`read_bounded`], for a path a benchmark may have replaced: a symbolic link is
/// not followed (it is not a regular file).
pub fn read_own(path: &Path, max: u64) -> Result<Vec<u8>, Unread> {
    read_regular(path, max, false)
}

/// Creates a file that must not exist yet, for writing: never through a link, never
/// waiting on a FIFO a benchmark put there.
pub fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::File::options()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// The first executable named `program` (a name without a slash) in the folders of
/// `path` (a PATH's bytes; the usual `/usr/local/bin:/usr/bin:/bin` when `None`), an
/// empty or relative entry taken from `cwd`, as exec looks it up.
pub fn find_program(program: &str, cwd: &Path, path: Option<&[u8]>) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let path = path.unwrap_or(b"/usr/local/bin:/usr/bin:/bin");
    path.split(|&b| b == b':').find_map(|dir| {
        let dir = if dir.is_empty() {
            cwd.to_path_buf()
        } else {
            cwd.join(std::ffi::OsStr::from_bytes(dir))
        };
        let candidate = dir.join(program);
        std::fs::metadata(&candidate)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .then_some(candidate)
    })
}

/// The `#!` line a program at `path` starts with (its first 128 bytes at most), if it is
/// a regular file that has one.
pub fn shebang(path: &Path) -> Option<String> {
    let file = open_regular(path, true).ok()?;
    let mut head = [0u8; 128];
    let read = (&file).read(&mut head).unwrap_or(0);
    let line = head[..read].split(|&b| b == b'\n').next().unwrap_or(&[]);
    line.starts_with(b"#!")
        .then(|| String::from_utf8_lossy(line).into_owned())
}

/// Opens the regular file at `path` for reading, without waiting on a FIFO.
pub fn open_regular(path: &Path, follow: bool) -> Result<std::fs::File, Unread> {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait for one.
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => Unread::NotAFile("a symbolic link"),
            _ => Unread::Io(e),
        })?;
    let kind = file.metadata().map_err(Unread::Io)?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    use std::os::unix::fs::FileTypeExt;
    Err(Unread::NotAFile(if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "something else"
    }))
}

/// Writes `parts`, one after the other, to a new file beside `path`, syncs it and renames
/// it over `path`: whatever stood there (a link, a FIFO, an older file) is replaced, never
/// written through, and a reader sees the old file or the whole new one.
/// The new file is private to its owner (0600).
pub fn replace(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    replace_as(path, parts, None)
}

/// [`replace`], the new file with `mode` (a report, a config: 0644), set before it takes
/// the place of the old one, so nothing at `path` is ever changed through a link.
pub fn replace_with_mode(path: &Path, parts: &[&[u8]], mode: u32) -> std::io::Result<()> {
    replace_as(path, parts, Some(mode))
}

fn replace_as(path: &Path, parts: &[&[u8]], mode: Option<u32>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    for part in parts {
        temp.write_all(part)?;
    }
    if let Some(mode) = mode {
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn read_regular(path: &Path, max: u64, follow: bool) -> Result<Vec<u8>, Unread> {
    let file = open_regular(path, follow)?;
    let meta = file.metadata().map_err(Unread::Io)?;
    if meta.len() > max {
        return Err(Unread::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow while it is read: never past the bound.
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(Unread::Io)?;
    if bytes.len() as u64 > max {
        return Err(Unread::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mode is the new file's from the start: a link at the place is replaced, and
    /// the file it pointed to keeps its own mode and text.
    #[test]
    fn a_replacement_has_its_mode_and_never_touches_a_link_s_target() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "kept").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        let path = dir.path().join("report.html");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        replace_with_mode(&path, &[b"new"], 0o644).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept");
        let target_mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(target_mode & 0o777, 0o600);
        replace(&path, &[b"private"]).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn only_regular_files_within_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        std::fs::write(&file, "12345").unwrap();
        assert_eq!(read_bounded(&file, 5).unwrap(), b"12345");
        assert!(matches!(read_bounded(&file, 4), Err(Unread::TooLarge(5))));
        assert!(matches!(
            read_bounded(dir.path(), 100),
            Err(Unread::NotAFile("a directory"))
        ));
        let fifo = dir.path().join("fifo.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read_bounded(&fifo, 100),
            Err(Unread::NotAFile("a FIFO"))
        ));
        let zero = dir.path().join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read_bounded(&zero, 100),
            Err(Unread::NotAFile("a device"))
        ));
        // A benchmark's own files: a link is not followed at all.
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_bounded(&link, 5).unwrap(), b"12345");
        assert!(matches!(
            read_own(&link, 5),
            Err(Unread::NotAFile("a symbolic link"))
        ));
    }
}
