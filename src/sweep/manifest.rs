//! The records a sweep directory keeps about its CSV, and their verification.
//!
//! `manifest.json` describes the sweep (or shard) and, once complete, the exact bytes of
//! `points.csv`: its length, SHA-256 (as `sha256sum points.csv` prints it) and row count.
//! `progress.json` records, while a sweep runs, how much of `points.csv.partial` is final: its
//! length, SHA-256 and rows, and the length of the chunk being appended, if any. Both carry a
//! `checksum`: the SHA-256 of the record itself (with an empty checksum), so that an edited record
//! is detected rather than believed.
//!
//! Resuming and merging verify the CSV against these records and refuse, with a message saying
//! what differs, a file that is shorter, longer or different from what was committed.

use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::run::ShardInfo;
use crate::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::fingerprint::{Sha256Stream, sha256_hex};

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Sweep name.
    pub name: String,
    /// Sweep description.
    pub description: String,
    /// lambdasim version that wrote it.
    pub lambdasim_version: String,
    /// Path of the configuration as given.
    pub config_file: String,
    /// FNV-1a fingerprint of the configuration text.
    pub config_fingerprint: String,
    /// Sweep seed.
    pub seed: u64,
    /// Points in the whole sweep's cross product.
    pub points_total: u64,
    /// This shard.
    pub shard: ShardInfo,
    /// `running` or `complete`.
    pub status: String,
    /// Points of this shard processed (filtered points included).
    pub points_done: u64,
    /// Rows written (points that ran).
    pub rows: u64,
    /// Bytes of the CSV committed (header included).
    pub csv_bytes: u64,
    /// SHA-256 of those bytes.
    pub csv_sha256: String,
    /// Wall time spent over all invocations (s).
    pub wall_time_s: f64,
    /// SHA-256 of this record with an empty checksum.
    pub checksum: String,
}

/// `progress.json`: what part of `points.csv.partial` is final.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// FNV-1a fingerprint of the configuration text.
    pub config_fingerprint: String,
    /// This shard.
    pub shard: ShardInfo,
    /// Points of this shard processed.
    pub points_done: u64,
    /// Rows committed.
    pub rows: u64,
    /// Bytes committed (header included).
    pub csv_bytes: u64,
    /// SHA-256 of those bytes.
    pub csv_sha256: String,
    /// Bytes of the chunk being appended beyond `csv_bytes` (0 between chunks): a run stopped
    /// while appending leaves at most this many uncommitted bytes, which resuming discards.
    pub pending_bytes: u64,
    /// Wall time spent over all invocations (s).
    pub wall_time_s: f64,
    /// SHA-256 of this record with an empty checksum.
    pub checksum: String,
}

/// A record that carries a checksum of itself.
pub trait Sealed: Serialize + serde::de::DeserializeOwned {
    /// The checksum field.
    fn checksum_mut(&mut self) -> &mut String;
}

impl Sealed for Manifest {
    fn checksum_mut(&mut self) -> &mut String {
        &mut self.checksum
    }
}

impl Sealed for Progress {
    fn checksum_mut(&mut self) -> &mut String {
        &mut self.checksum
    }
}

/// The checksum of `record`: SHA-256 of its JSON with an empty checksum field.
fn seal_of<T: Sealed + Clone>(record: &T) -> Result<String> {
    let mut unsealed = record.clone();
    unsealed.checksum_mut().clear();
    let text = serde_json::to_string(&unsealed).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(sha256_hex(text.as_bytes()))
}

pub(super) fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `record`, sealed, whole or not at all.
pub fn write_sealed<T: Sealed + Clone>(path: &Path, record: &mut T) -> Result<()> {
    *record.checksum_mut() = seal_of(record)?;
    let text =
        serde_json::to_string_pretty(record).map_err(|e| Error::Internal(e.to_string()))? + "\n";
    write_atomically(path, |f| f.write_all(text.as_bytes()))
}

/// Reads a sealed record, refusing one whose checksum does not match (it was edited).
pub fn read_sealed<T: Sealed + Clone>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut record: T = serde_json::from_str(&text).map_err(|e| Error::Syntax {
        location: format!("{}:{}:{}", path.display(), e.line(), e.column()),
        message: format!("{e} (not a record lambdasim wrote, or an older version's)"),
    })?;
    let recorded = std::mem::take(record.checksum_mut());
    let expected = seal_of(&record)?;
    if recorded != expected {
        return Err(Error::Syntax {
            location: path.display().to_string(),
            message: "its checksum does not match its content: the record was edited or damaged"
                .into(),
        });
    }
    *record.checksum_mut() = recorded;
    Ok(record)
}

/// What a CSV must hold: its first `bytes` bytes hash to `sha256` and contain `rows` rows after
/// the header, ending with a newline.
#[derive(Clone, Copy, Debug)]
pub struct Committed<'a> {
    /// Committed length.
    pub bytes: u64,
    /// SHA-256 of the committed bytes.
    pub sha256: &'a str,
    /// Rows after the header.
    pub rows: u64,
}

/// Reads the committed part of `path` and checks it against `committed`, allowing at most `slack`
/// bytes beyond it (an interrupted append); returns the hash state after the committed bytes.
/// Errors say what differs and name the file.
pub fn verify_csv(path: &Path, committed: Committed, slack: u64) -> Result<Sha256Stream> {
    let refuse = |what: String| Error::Syntax {
        location: path.display().to_string(),
        message: format!("{what}; the file was changed or damaged, so it cannot be trusted"),
    };
    let length = std::fs::metadata(path).map_err(io(path))?.len();
    if length < committed.bytes {
        return Err(refuse(format!(
            "it holds {length} bytes, fewer than the {} recorded",
            committed.bytes
        )));
    }
    if length > committed.bytes.saturating_add(slack) {
        return Err(refuse(format!(
            "it holds {length} bytes, more than the {} recorded{}",
            committed.bytes,
            if slack > 0 {
                format!(" and the {slack} of the chunk being written")
            } else {
                String::new()
            }
        )));
    }
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut stream = Sha256Stream::default();
    let mut lines = 0u64;
    let mut last = b'\n';
    let mut buffer = vec![0u8; 1 << 20];
    let mut left = committed.bytes;
    while left > 0 {
        let want = left.min(buffer.len() as u64) as usize;
        let got = file.read(&mut buffer[..want]).map_err(io(path))?;
        if got == 0 {
            return Err(refuse("it ended while being read".into()));
        }
        let piece = &buffer[..got];
        stream.update(piece);
        lines += piece.iter().filter(|&&b| b == b'\n').count() as u64;
        last = piece[got - 1];
        left -= got as u64;
    }
    if stream.hex() != committed.sha256 {
        return Err(refuse(format!(
            "its first {} bytes do not have the recorded SHA-256",
            committed.bytes
        )));
    }
    if last != b'\n' {
        return Err(refuse(
            "its committed part does not end with a newline".into(),
        ));
    }
    if lines != committed.rows + 1 {
        return Err(refuse(format!(
            "it holds {} rows, not the {} recorded",
            lines.saturating_sub(1),
            committed.rows
        )));
    }
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_records_read_back_for_any_float_and_refuse_edits() {
        let dir = std::env::temp_dir().join(format!("lambdasim-seal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("progress.json");
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..500 {
            // Floats whose shortest decimal form a parser that is not correctly rounded would
            // read back one unit off, breaking the seal.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut p = Progress {
                config_fingerprint: "f".into(),
                shard: ShardInfo {
                    index: 0,
                    count: 1,
                    first_point: 0,
                    end_point: 1,
                },
                points_done: 1,
                rows: 1,
                csv_bytes: 1,
                csv_sha256: String::new(),
                pending_bytes: 0,
                wall_time_s: (x >> 11) as f64 / (1u64 << 53) as f64 * 1e4,
                checksum: String::new(),
            };
            write_sealed(&path, &mut p).unwrap();
            assert_eq!(read_sealed::<Progress>(&path).unwrap(), p);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"rows\": 1", "\"rows\": 2")).unwrap();
        let e = read_sealed::<Progress>(&path).unwrap_err();
        assert!(e.to_string().contains("checksum does not match"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
