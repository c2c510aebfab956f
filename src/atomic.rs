//! Writing files whole or not at all: into a temporary file beside the target, synced, then
//! renamed over it. An interrupted or failed write leaves the target as it was and no temporary
//! file behind. A symbolic link is written through (its target is replaced, the link stays); a
//! path that exists but is not a regular file (a directory, a device, a pipe) is refused rather
//! than replaced.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes a file whole or not at all: into a temporary file beside it, then renamed over it.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let target = regular_target(path)?;
    let path = target.as_path();
    let name = path
        .file_name()
        .ok_or_else(|| io_error(std::io::Error::other("not a file name")))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = std::fs::File::create(&tmp).and_then(|file| {
        let mut writer = std::io::BufWriter::new(file);
        write(&mut writer)?;
        writer.flush()?;
        writer.get_ref().sync_all()?;
        drop(writer);
        std::fs::rename(&tmp, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_error)
}

/// The regular file a write to `path` replaces: `path` itself, or the file a symbolic link at
/// `path` points to. An error for anything else that exists there.
fn regular_target(path: &Path) -> Result<std::path::PathBuf> {
    let refuse = |what: &str| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!(
            "{what}; refusing to replace it with a regular file"
        )),
    };
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(source) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        Ok(meta) => meta,
    };
    if meta.is_file() {
        return Ok(path.to_path_buf());
    }
    if !meta.file_type().is_symlink() {
        return Err(refuse("exists and is not a regular file"));
    }
    let target =
        std::fs::canonicalize(path).map_err(|_| refuse("is a symbolic link to a missing file"))?;
    match std::fs::metadata(&target) {
        Ok(m) if m.is_file() => Ok(target),
        _ => Err(refuse(
            "is a symbolic link to something that is not a regular file",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_nothing_on_failure() {
        let dir = std::env::temp_dir().join(format!("lambdasim-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.csv");
        write_atomically(&path, |f| f.write_all(b"ok\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "ok\n");
        let failed = write_atomically(&dir.join("bad.csv"), |_| Err(std::io::Error::other("boom")));
        assert!(failed.is_err());
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("out.csv")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn links_are_written_through_and_special_files_refused() {
        let dir = std::env::temp_dir().join(format!("lambdasim-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target.csv");
        std::fs::write(&target, "old\n").unwrap();
        let link = dir.join("link.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomically(&link, |f| f.write_all(b"new\n")).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
        let dangling = dir.join("dangling.csv");
        std::os::unix::fs::symlink(dir.join("missing.csv"), &dangling).unwrap();
        let e = write_atomically(&dangling, |f| f.write_all(b"x")).unwrap_err();
        assert!(e.to_string().contains("missing file"), "{e}");
        assert_eq!(e.exit_code(), 2);
        let e = write_atomically(&dir, |f| f.write_all(b"x")).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = write_atomically(Path::new("/dev/null"), |f| f.write_all(b"x")).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert!(Path::new("/dev/null").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
