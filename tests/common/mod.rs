//! Helpers shared by integration tests.

use std::path::PathBuf;

/// The directory of real public data (`../shared/data` beside the repository, or
/// `$LAMBDASIM_DATA_DIR`). `None` when absent: the caller skips with a message, except that with
/// `CI=true` a missing directory is a failure, so CI never passes by skipping.
pub fn shared_data_dir() -> Option<PathBuf> {
    let candidates = std::env::var_os("LAMBDASIM_DATA_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .map(|a| a.join("shared").join("data")),
        );
    for dir in candidates {
        if dir.is_dir() {
            return Some(dir);
        }
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but ../shared/data (or $LAMBDASIM_DATA_DIR) is missing"
    );
    eprintln!("skipping: ../shared/data not found (set LAMBDASIM_DATA_DIR)");
    None
}
