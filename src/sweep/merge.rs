//! `merge`: the shards of a sweep, verified, combined into the CSV one run of the whole sweep
//! writes.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::manifest::{Committed, Manifest, io, read_sealed, verify_csv};
use crate::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::fingerprint::Sha256Stream;

/// What `merge` wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// Rows after the header.
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
    /// SHA-256 of the merged file.
    pub sha256: String,
}

/// Combines complete shard outputs into the CSV one run of the whole sweep writes. Every shard is
/// verified first: its manifest is intact and complete, its `points.csv` has exactly the length,
/// SHA-256 and rows the manifest records and ends with a newline, and the shards are `0..N` of
/// one sweep and sharding with one header. Nothing is written unless all pass.
pub fn merge(shard_dirs: &[PathBuf], out: &Path) -> Result<Merged> {
    let invalid = |message: String| Error::invalid("merge", message);
    let mut shards: Vec<(Manifest, PathBuf)> = Vec::new();
    for dir in shard_dirs {
        let manifest: Manifest = read_sealed(&dir.join("manifest.json"))?;
        if manifest.status != "complete" {
            return Err(invalid(format!(
                "{}: shard {}/{} is not complete ({} of its points done); resume it first",
                dir.display(),
                manifest.shard.index,
                manifest.shard.count,
                manifest.points_done
            )));
        }
        shards.push((manifest, dir.join("points.csv")));
    }
    let Some((first, _)) = shards.first() else {
        return Err(invalid("no shard directories given".into()));
    };
    let (fingerprint, count) = (first.config_fingerprint.clone(), first.shard.count);
    for (m, path) in &shards {
        if m.config_fingerprint != fingerprint || m.shard.count != count {
            return Err(invalid(format!(
                "{} comes from another sweep or sharding than the first shard",
                path.display()
            )));
        }
    }
    shards.sort_by_key(|(m, _)| m.shard.index);
    let indices: Vec<u64> = shards.iter().map(|(m, _)| m.shard.index).collect();
    if indices != (0..count).collect::<Vec<_>>() {
        return Err(invalid(format!(
            "expected shards 0..{count} exactly once, got {indices:?}"
        )));
    }
    let mut text = String::new();
    let mut rows = 0u64;
    for (i, (manifest, path)) in shards.iter().enumerate() {
        let committed = Committed {
            bytes: manifest.csv_bytes,
            sha256: &manifest.csv_sha256,
            rows: manifest.rows,
        };
        verify_csv(path, committed, 0)?;
        let content = std::fs::read_to_string(path).map_err(io(path))?;
        let (head, body) = content.split_once('\n').unwrap_or((&content, ""));
        if i == 0 {
            text.push_str(head);
            text.push('\n');
        } else if text.split('\n').next() != Some(head) {
            return Err(invalid(format!(
                "{}: header differs from the first shard's",
                path.display()
            )));
        }
        rows += manifest.rows;
        text.push_str(body);
    }
    write_atomically(out, |f| f.write_all(text.as_bytes()))?;
    let mut hash = Sha256Stream::default();
    hash.update(text.as_bytes());
    Ok(Merged {
        rows,
        bytes: hash.len(),
        sha256: hash.hex(),
    })
}
