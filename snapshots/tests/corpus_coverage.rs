//! The snapshot corpus in `tests/configs/` must keep covering what users can run into: every key
//! set validly somewhere, and every kind of problem (error, warning, note) shown somewhere,
//! down to each kind of shell error, entry error, entry warning and TLS error.

use std::collections::BTreeSet;
use std::path::Path;

use corral_core::acl::{EntryError, EntryWarning};
use corral_core::config::shell::ShellError;
use corral_core::config::{Key, Problem, proxy};
use corral_core::tls::TlsError;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("the corpus directory exists")
        .map(|entry| {
            let path = entry.expect("readable directory entry").path();
            let name = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("readable corpus file"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_corpus_is_large_enough() {
    let files = corpus();
    assert!(files.len() >= 30, "only {} config files", files.len());
    let bad = files
        .iter()
        .filter(|(_, bytes)| proxy::parse(bytes).config.is_none())
        .count();
    let good = files.len() - bad;
    assert!(
        good >= 10 && bad >= 10,
        "{good} usable and {bad} unusable files"
    );
}

/// Every problem in the corpus, as `(kind, code)`: the problem's own code, and for problems
/// that wrap a finer error or warning, that one's code too.
fn codes_seen() -> BTreeSet<(&'static str, &'static str)> {
    let mut seen = BTreeSet::new();
    for (_, bytes) in corpus() {
        for diagnostic in proxy::parse(&bytes).diagnostics {
            let problem = &diagnostic.problem;
            seen.insert(("problem", problem.code()));
            let detail = match problem {
                Problem::Shell(error) => Some(("shell", error.code())),
                Problem::BadEntry { error, .. } => Some(("entry", error.reason.code())),
                Problem::EntryWarning { warning, .. } => {
                    Some(("entry-warning", warning.warning.code()))
                }
                Problem::Tls { error } => Some(("tls", error.code())),
                _ => None,
            };
            seen.extend(detail);
        }
    }
    seen
}

#[test]
fn every_problem_kind_appears() {
    let seen = codes_seen();
    let expected = [
        ("problem", Problem::CODES),
        ("shell", ShellError::CODES),
        ("entry", EntryError::CODES),
        ("entry-warning", EntryWarning::CODES),
        ("tls", TlsError::CODES),
    ];
    let missing: Vec<(&str, &str)> = expected
        .iter()
        .flat_map(|(kind, codes)| codes.iter().map(move |code| (*kind, *code)))
        .filter(|pair| !seen.contains(pair))
        .collect();
    assert!(missing.is_empty(), "no corpus file shows {missing:?}");
}

#[test]
fn every_key_is_set_somewhere() {
    let set: BTreeSet<Key> = corpus()
        .iter()
        .filter_map(|(_, bytes)| proxy::parse(bytes).config)
        .flat_map(|config| config.lines.into_keys())
        .collect();
    let missing: Vec<Key> = Key::ALL
        .into_iter()
        .filter(|key| !set.contains(key))
        .collect();
    assert!(missing.is_empty(), "no usable corpus file sets {missing:?}");
}
