//! Reading the files users name: regular files only, never more than a stated number of
//! bytes, and a file found by name inside a directory without building a path from
//! the name.
//!
//! `/dev/zero`, a FIFO, a directory or a socket named as a policy or a source is
//! refused before a byte is read (a FIFO is not even opened, since opening one waits
//! for a writer); a file larger than its limit is refused from its size, and a file
//! that grows while it is read stops at the limit.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest policy document or configuration file read (IAM's own largest policy is
/// 10,240 characters; this leaves room for `validate` to say a file is too large).
pub const MAX_POLICY_FILE_BYTES: u64 = 16 << 20;

/// The largest configuration file read (inline policies included).
pub const MAX_CONFIG_FILE_BYTES: u64 = 64 << 20;

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The path names something other than a regular file.
    #[error("`{path}` is not a regular file ({what}); swf-iam reads only regular files")]
    NotRegular {
        /// The path.
        path: String,
        /// What it is instead.
        what: &'static str,
    },
    /// The file is larger than the limit.
    #[error("`{path}` is {len} bytes; swf-iam reads at most {max} bytes from it")]
    TooLarge {
        /// The path.
        path: String,
        /// Its size (or the bytes read before the limit was passed).
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The system refused.
    #[error("cannot read `{path}`: {message}")]
    Io {
        /// The path.
        path: String,
        /// The system's message.
        message: String,
    },
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

/// Reads the regular file at `path` (symlinks followed), at most `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, FileError> {
    let shown = || path.display().to_string();
    let io = |e: std::io::Error| FileError::Io {
        path: shown(),
        message: e.to_string(),
    };
    let check = |meta: &std::fs::Metadata| -> Result<(), FileError> {
        if !meta.is_file() {
            return Err(FileError::NotRegular {
                path: shown(),
                what: kind_of(meta),
            });
        }
        if meta.len() > max {
            return Err(FileError::TooLarge {
                path: shown(),
                len: meta.len(),
                max,
            });
        }
        Ok(())
    };
    // Before opening: opening a FIFO would wait for a writer.
    check(&std::fs::metadata(path).map_err(io)?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: should the path become a FIFO between the check and the open,
        // the open does not wait.
        options.custom_flags(0o4000);
    }
    let file = options.open(path).map_err(io)?;
    // The file opened is the one checked (not a FIFO swapped in since).
    let meta = file.metadata().map_err(io)?;
    check(&meta)?;
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > max {
        return Err(FileError::TooLarge {
            path: shown(),
            len: buf.len() as u64,
            max,
        });
    }
    Ok(buf)
}

/// The file `dir/SEGMENT/.../NAME.json` for the path segments `segments` (the last is the
/// name), found by listing each directory and comparing entry names, never by joining
/// user text to a path: a segment that is empty, `.` or `..`, or holds a separator
/// names nothing. The file found must stay inside `dir` once symlinks are resolved.
pub fn find_inside(dir: &Path, segments: &[&str], extension: &str) -> Option<PathBuf> {
    let (name, folders) = segments.split_last()?;
    let plain = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && !s.contains(['/', '\\', '\0'])
            && !s.starts_with('~')
    };
    if !segments.iter().all(|s| plain(s)) {
        return None;
    }
    let entry = |at: &Path, want: &str| -> Option<PathBuf> {
        std::fs::read_dir(at)
            .ok()?
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_str() == Some(want))
            .map(|e| e.path())
    };
    let mut at = dir.to_path_buf();
    for f in folders {
        at = entry(&at, f)?;
    }
    let found = entry(&at, &format!("{name}.{extension}"))?;
    let root = std::fs::canonicalize(dir).ok()?;
    let real = std::fs::canonicalize(&found).ok()?;
    real.starts_with(&root).then_some(found)
}

/// `path` with `.` dropped and each `..` taking away the component before it, as
/// text (no file system look-up): `policies/sources-example/../../tests/x` →
/// `tests/x`. A `..` with nothing before it to take stays.
pub fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_as_text() {
        for (given, want) in [
            (
                "policies/sources-example/../../tests/x.json",
                "tests/x.json",
            ),
            ("./a/./b", "a/b"),
            ("../a/b/..", "../a"),
            ("/x/../../y", "/y"),
            ("a/..", "."),
        ] {
            assert_eq!(lexical(Path::new(given)), PathBuf::from(want), "{given}");
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("swf-iam-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let d = tmp("bounded");
        let f = d.join("p.json");
        std::fs::write(&f, b"{}").unwrap();
        assert_eq!(read_bounded(&f, 2).unwrap(), b"{}");
        assert!(matches!(
            read_bounded(&f, 1),
            Err(FileError::TooLarge { len: 2, max: 1, .. })
        ));
        assert!(matches!(
            read_bounded(&d, 10),
            Err(FileError::NotRegular {
                what: "a directory",
                ..
            })
        ));
        #[cfg(unix)]
        {
            let e = read_bounded(Path::new("/dev/zero"), 10).unwrap_err();
            assert!(
                matches!(
                    e,
                    FileError::NotRegular {
                        what: "a character device",
                        ..
                    }
                ),
                "{e}"
            );
            let fifo = d.join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                // Returns at once: a FIFO is never opened.
                let e = read_bounded(&fifo, 10).unwrap_err();
                assert!(
                    matches!(e, FileError::NotRegular { what: "a FIFO", .. }),
                    "{e}"
                );
            }
            let link = d.join("zero.json");
            std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
            assert!(matches!(
                read_bounded(&link, 10),
                Err(FileError::NotRegular { .. })
            ));
        }
        assert!(matches!(
            read_bounded(&d.join("none"), 10),
            Err(FileError::Io { .. })
        ));
    }

    #[test]
    fn names_are_found_inside_the_directory_only() {
        let d = tmp("inside");
        let outside = tmp("outside");
        std::fs::write(outside.join("secret.json"), b"{}").unwrap();
        std::fs::create_dir_all(d.join("service-role")).unwrap();
        std::fs::write(d.join("service-role/P.json"), b"{}").unwrap();
        std::fs::write(d.join("Q.json"), b"{}").unwrap();
        assert_eq!(
            find_inside(&d, &["service-role", "P"], "json"),
            Some(d.join("service-role/P.json"))
        );
        assert_eq!(find_inside(&d, &["Q"], "json"), Some(d.join("Q.json")));
        let out = outside.to_str().unwrap().trim_start_matches('/').to_owned();
        let mut escape: Vec<&str> = vec![""];
        escape.extend(out.split('/'));
        escape.push("secret");
        for bad in [
            escape.clone(),
            vec!["..", "secret"],
            vec![".", "Q"],
            vec!["Q/../Q"],
            vec![""],
            vec![],
        ] {
            assert_eq!(find_inside(&d, &bad, "json"), None, "{bad:?}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.join("secret.json"), d.join("S.json")).unwrap();
            assert_eq!(
                find_inside(&d, &["S"], "json"),
                None,
                "a symlink leaving the folder"
            );
            std::os::unix::fs::symlink(&outside, d.join("out")).unwrap();
            assert_eq!(find_inside(&d, &["out", "secret"], "json"), None);
        }
    }
}
