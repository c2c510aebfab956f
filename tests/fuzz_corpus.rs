//! The fuzzing corpus as a regression test: every input kept by the fuzzer (`examples/fuzz.rs`,
//! one folder per parser in `tests/fuzz-corpus/`) is parsed again in this debug build (overflow
//! checks on). None may panic, and each must still be accepted (`ok-*`) or refused (`err-*`) as
//! it was when the fuzzer kept it; a changed answer is either a fixed bug or a new one, so the
//! file is renamed on purpose or the change is looked at.

mod common;

use lambdasim::fuzz::Target;

#[test]
fn the_kept_fuzzing_inputs_still_get_their_answers() {
    let root = common::repo("tests/fuzz-corpus");
    let mut checked = 0;
    let mut changed = Vec::new();
    for target in Target::ALL {
        let dir = root.join(target.name());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(
            files.len() >= 10,
            "{} holds {} inputs; regenerate with the command in README",
            dir.display(),
            files.len()
        );
        for file in files {
            let input = std::fs::read(&file).unwrap();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let accepted = target.run(&input).is_ok();
            if accepted != name.starts_with("ok-") {
                changed.push(format!(
                    "{}/{name}: now {}",
                    target.name(),
                    if accepted { "accepted" } else { "refused" }
                ));
            }
            checked += 1;
        }
    }
    assert!(changed.is_empty(), "answers changed: {changed:#?}");
    assert!(checked >= 100, "only {checked} corpus inputs");
}

#[test]
fn every_target_accepts_what_the_repository_ships() {
    let ok = |target: Target, path: &str| {
        let input = std::fs::read(common::repo(path)).unwrap();
        assert!(
            target.run(&input).is_ok(),
            "{path}: {:?}",
            target.run(&input)
        );
    };
    ok(Target::Workload, "configs/workloads/resnet50.toml");
    ok(Target::Platform, "configs/platforms/aws-2024.toml");
    ok(Target::Sweep, "configs/sweeps/fig4-batch.toml");
    ok(Target::Trace, "traces/aws-2020/espcn.csv");
    assert!(Target::Jitter.run(b"lambda").is_ok());
    assert!(Target::Jitter.run(b"lognormal{cv=-1}").is_err());
    assert!(Target::Strategy.run(b"oracle{q=0.9}").is_ok());
    assert!(Target::Strategy.run(b"oracle{q=9}").is_err());
    assert!(
        Target::Summarize
            .run(b"workload,time_s\nmobilenet,1\n")
            .is_ok()
    );
    assert!(
        Target::Summarize
            .run(b"workload,time_s\nmobilenet,x\n")
            .is_err()
    );
}
