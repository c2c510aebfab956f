//! Sweeps refuse tampered output: `--resume` and `merge` check every sealed record, CSV length,
//! hash and row count, and an interrupted append is cut off and resumed to the same bytes.

mod common;

use std::path::Path;

use common::{
    SMALL, csv, expect_user_error, lambdasim, scratch, stderr, sweep, words, write_config,
};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn resume_and_merge_refuse_tampered_directories() {
    use lambdasim::sweep::manifest::{Progress, read_sealed, write_sealed};
    let dir = scratch("sweep-tamper");
    let config = write_config(&dir, "small.toml", SMALL);
    let reference = dir.join("reference");
    sweep(&config, &reference, "");
    let stopped = dir.join("stopped");
    sweep(&config, &stopped, "--limit 10");
    let partial_len = std::fs::metadata(stopped.join("points.csv.partial"))
        .unwrap()
        .len();
    // (case, what to do to a copy of the stopped directory, what the refusal must say)
    type Tamper = fn(&Path, u64);
    let cases: &[(&str, Tamper, &str)] = &[
        (
            "shorter",
            |d, len| truncate(&d.join("points.csv.partial"), len - 7),
            "fewer than the",
        ),
        (
            "longer",
            |d, _| append(&d.join("points.csv.partial"), b"9,9,9\n"),
            "more than the",
        ),
        (
            "different",
            |d, _| flip_last_digit(&d.join("points.csv.partial")),
            "do not have the recorded SHA-256",
        ),
        (
            "random",
            |d, len| {
                let noise: Vec<u8> = (0..len).map(|i| (i * 7919 % 251) as u8).collect();
                std::fs::write(d.join("points.csv.partial"), noise).unwrap()
            },
            "do not have the recorded SHA-256",
        ),
        (
            "edited-progress",
            |d, _| {
                replace_in(
                    &d.join("progress.json"),
                    "\"points_done\": 10",
                    "\"points_done\": 40",
                )
            },
            "checksum does not match",
        ),
        (
            "no-progress",
            |d, _| std::fs::remove_file(d.join("progress.json")).unwrap(),
            "without progress.json",
        ),
        (
            "no-partial",
            |d, _| std::fs::remove_file(d.join("points.csv.partial")).unwrap(),
            "without points.csv.partial",
        ),
    ];
    for (name, tamper, needle) in cases {
        let copy = dir.join(name);
        copy_dir(&stopped, &copy);
        tamper(&copy, partial_len);
        expect_user_error(
            &words(&format!("sweep {config} --out {} --resume", copy.display())),
            &[needle],
        );
    }
    // A run stopped while appending a chunk (announced in progress.json, partly written) resumes
    // to the same bytes: the uncommitted tail is cut off and recomputed.
    let appending = dir.join("appending");
    copy_dir(&stopped, &appending);
    let before: Progress = read_sealed(&appending.join("progress.json")).unwrap();
    sweep(&config, &appending, "--resume --limit 10");
    let grown = std::fs::metadata(appending.join("points.csv.partial"))
        .unwrap()
        .len();
    let mut announced = before.clone();
    announced.pending_bytes = grown - before.csv_bytes;
    write_sealed(&appending.join("progress.json"), &mut announced).unwrap();
    truncate(&appending.join("points.csv.partial"), grown - 5);
    sweep(&config, &appending, "--resume");
    assert_eq!(csv(&appending), csv(&reference));
    // A complete directory whose CSV was edited is not a no-op resume.
    let edited = dir.join("edited");
    copy_dir(&reference, &edited);
    flip_last_digit(&edited.join("points.csv"));
    expect_user_error(
        &words(&format!(
            "sweep {config} --out {} --resume",
            edited.display()
        )),
        &["points.csv", "SHA-256"],
    );
    // Merge verifies every shard.
    let mut shards = Vec::new();
    for i in 0..2 {
        let d = dir.join(format!("shard{i}"));
        sweep(&config, &d, &format!("--shard {i}/2"));
        shards.push(d);
    }
    let merge_line = |shard0: &Path| {
        format!(
            "merge --out {} {} {}",
            dir.join("merged.csv").display(),
            shard0.display(),
            shards[1].display()
        )
    };
    let merge_cases: &[(&str, Tamper, &str)] = &[
        (
            "no-final-newline",
            |d, _| {
                let p = d.join("points.csv");
                let len = std::fs::metadata(&p).unwrap().len();
                truncate(&p, len - 1)
            },
            "fewer than the",
        ),
        (
            "edited-row",
            |d, _| flip_last_digit(&d.join("points.csv")),
            "SHA-256",
        ),
        (
            "extra-row",
            |d, _| append(&d.join("points.csv"), b"99,1,1,1\n"),
            "more than the",
        ),
        (
            "edited-manifest",
            |d, _| replace_in(&d.join("manifest.json"), "\"rows\": ", "\"rows\": 1"),
            "checksum does not match",
        ),
    ];
    for (name, tamper, needle) in merge_cases {
        let copy = dir.join(format!("merge-{name}"));
        copy_dir(&shards[0], &copy);
        tamper(&copy, 0);
        expect_user_error(&words(&merge_line(&copy)), &[needle]);
        assert!(
            !dir.join("merged.csv").exists(),
            "{name}: merge wrote output"
        );
    }
    let run = lambdasim(&words(&merge_line(&shards[0])));
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(
        std::fs::read(dir.join("merged.csv")).unwrap(),
        csv(&reference)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn truncate(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

fn append(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{}: lacks {from}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Changes the last digit of the file to another digit (same length).
fn flip_last_digit(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let i = bytes.iter().rposition(u8::is_ascii_digit).unwrap();
    bytes[i] = if bytes[i] == b'9' { b'8' } else { bytes[i] + 1 };
    std::fs::write(path, bytes).unwrap();
}
