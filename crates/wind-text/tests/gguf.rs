//! GGUF reader/writer tests: metadata round trip, hand-built quantized blocks, quantization
//! error bounds, truncated and corrupted files, and (when cached) the real SmolLM2 file.

use std::path::PathBuf;
use std::time::Instant;

use half::f16;
use wind_text::gguf::{
    GgmlType, Gguf, GgufError, GgufWriter, MetaValue, dequantize_into, quantize_q4_1, quantize_q8_0,
};

/// Small deterministic generator (SplitMix64) for test data.
struct Rng(u64);
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

fn err_msg<T: std::fmt::Debug>(r: Result<T, GgufError>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e.to_string(),
    }
}

fn all_types_meta() -> Vec<(&'static str, MetaValue)> {
    vec![
        ("t.u8", MetaValue::U8(250)),
        ("t.i8", MetaValue::I8(-7)),
        ("t.u16", MetaValue::U16(65000)),
        ("t.i16", MetaValue::I16(-30000)),
        ("t.u32", MetaValue::U32(4_000_000_000)),
        ("t.i32", MetaValue::I32(-2_000_000_000)),
        ("t.u64", MetaValue::U64(u64::MAX - 3)),
        ("t.i64", MetaValue::I64(i64::MIN + 5)),
        ("t.f32", MetaValue::F32(1e-5)),
        ("t.f64", MetaValue::F64(-std::f64::consts::PI)),
        ("t.bool", MetaValue::Bool(true)),
        ("t.bool2", MetaValue::Bool(false)),
        ("t.str", MetaValue::String("héllo 世界 🎉".into())),
        ("t.empty_str", MetaValue::String(String::new())),
        (
            "t.arr_str",
            MetaValue::Array(vec![
                MetaValue::String("a b".into()),
                MetaValue::String("Ġthe".into()),
            ]),
        ),
        (
            "t.arr_i32",
            MetaValue::Array(vec![
                MetaValue::I32(1),
                MetaValue::I32(-3),
                MetaValue::I32(3),
            ]),
        ),
        (
            "t.arr_f32",
            MetaValue::Array(vec![MetaValue::F32(0.5), MetaValue::F32(-2.0)]),
        ),
        (
            "t.nested",
            MetaValue::Array(vec![
                MetaValue::Array(vec![MetaValue::U8(1), MetaValue::U8(2)]),
                MetaValue::Array(vec![MetaValue::String("x".into())]),
                MetaValue::Array(vec![MetaValue::Array(vec![MetaValue::F64(1.5)])]),
            ]),
        ),
        ("t.empty_arr", MetaValue::Array(vec![])),
    ]
}

#[test]
fn metadata_round_trip_every_type_in_file_order() {
    let mut w = GgufWriter::new();
    for (k, v) in all_types_meta() {
        w.add_meta(k, v);
    }
    let g = Gguf::parse(w.to_bytes().unwrap()).unwrap();
    assert_eq!(g.version(), 3);
    let expected = all_types_meta();
    assert_eq!(g.metadata().len(), expected.len());
    for ((k, v), (gk, gv)) in expected.iter().zip(g.metadata()) {
        assert_eq!(k, gk, "file order kept");
        assert_eq!(v, gv, "value of {k}");
        assert_eq!(g.meta(k), Some(v));
    }
    assert!(g.tensors().is_empty());
}

#[test]
fn typed_accessors_convert_and_name_the_key_on_error() {
    let mut w = GgufWriter::new();
    for (k, v) in all_types_meta() {
        w.add_meta(k, v);
    }
    let g = Gguf::parse(w.to_bytes().unwrap()).unwrap();
    assert_eq!(g.meta_u32("t.u8").unwrap(), 250);
    assert_eq!(g.meta_u32("t.u16").unwrap(), 65000);
    assert_eq!(g.meta_u32("t.u32").unwrap(), 4_000_000_000);
    assert_eq!(g.meta_i64("t.i8").unwrap(), -7);
    assert_eq!(g.meta_u64("t.u64").unwrap(), u64::MAX - 3);
    assert_eq!(g.meta_f32("t.f32").unwrap(), 1e-5);
    assert!((g.meta_f32("t.f64").unwrap() + std::f32::consts::PI).abs() < 1e-6);
    assert!(g.meta_bool("t.bool").unwrap());
    assert_eq!(g.meta_str("t.str").unwrap(), "héllo 世界 🎉");
    assert_eq!(g.meta_str_array("t.arr_str").unwrap(), vec!["a b", "Ġthe"]);
    assert_eq!(g.meta_i32_array("t.arr_i32").unwrap(), vec![1, -3, 3]);
    assert!(
        g.meta_u32_array("t.arr_i32")
            .unwrap_err()
            .to_string()
            .contains("t.arr_i32")
    );
    assert_eq!(g.meta_f32_array("t.arr_f32").unwrap(), vec![0.5, -2.0]);

    let e = err_msg(g.meta_u32("t.i8"));
    assert!(e.contains("t.i8") && e.contains("u32"), "{e}");
    let e = err_msg(g.meta_u32("t.u64"));
    assert!(e.contains("t.u64") && e.contains("fits in u32"), "{e}");
    let e = err_msg(g.meta_str("t.u32"));
    assert!(e.contains("t.u32") && e.contains("expected string"), "{e}");
    let e = err_msg(g.meta_f32("t.str"));
    assert!(e.contains("t.str") && e.contains("f32"), "{e}");
    let e = err_msg(g.meta_str_array("t.arr_i32"));
    assert!(
        e.contains("t.arr_i32") && e.contains("array of string"),
        "{e}"
    );
    let e = err_msg(g.meta_u32("llama.block_count"));
    assert!(
        e.contains("llama.block_count") && e.contains("missing"),
        "{e}"
    );
    assert!(g.meta("nope").is_none());
}

#[test]
fn f32_and_f16_tensors_are_exact() {
    let data: Vec<f32> = (0..24).map(|i| i as f32 * 0.25 - 3.0).collect();
    let mut w = GgufWriter::new();
    w.add_f32_tensor("a", &[2, 3, 4], &data, GgmlType::F32)
        .unwrap();
    w.add_f32_tensor("h", &[4, 6], &data, GgmlType::F16)
        .unwrap();
    w.add_f32_tensor("scalar", &[], &[7.5], GgmlType::F32)
        .unwrap();
    let g = Gguf::parse(w.to_bytes().unwrap()).unwrap();
    let t = g.tensor_info("a").unwrap();
    assert_eq!(t.dims, vec![4, 3, 2], "GGUF order is ne0 first");
    assert_eq!(t.shape(), vec![2, 3, 4]);
    let (shape, vals) = g.tensor_f32("a").unwrap();
    assert_eq!(shape, vec![2, 3, 4]);
    assert_eq!(vals, data);
    let (shape, vals) = g.tensor_f32("h").unwrap();
    assert_eq!(shape, vec![4, 6]);
    assert_eq!(vals, data, "these values are exact in f16");
    assert_eq!(g.tensor_f32("scalar").unwrap(), (vec![], vec![7.5]));
    for t in g.tensors() {
        assert_eq!(t.offset % 32, 0, "{} aligned", t.name);
    }
    let e = err_msg(g.tensor_f32("missing"));
    assert!(e.contains("missing") && e.contains("3 tensors"), "{e}");
}

fn f16_bytes(v: f32) -> [u8; 2] {
    f16::from_f32(v).to_bits().to_le_bytes()
}

#[test]
fn q4_1_hand_built_block_dequantizes_to_hand_computed_values() {
    // d = 0.5 (f16 0x3800), m = -1.0 (f16 0xBC00); qs[j] = j | (15 - j) << 4.
    let mut block = vec![0x00, 0x38, 0x00, 0xBC];
    for j in 0..16u8 {
        block.push(j | ((15 - j) << 4));
    }
    assert_eq!(block.len(), 20);
    #[rustfmt::skip]
    let expected: [f32; 32] = [
        // x[j] = (qs[j] & 0xF)·0.5 − 1 = j/2 − 1
        -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5,
        // x[j+16] = (qs[j] >> 4)·0.5 − 1 = (15 − j)/2 − 1
        6.5, 6.0, 5.5, 5.0, 4.5, 4.0, 3.5, 3.0, 2.5, 2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0,
    ];
    // Second row: d = 0.25, m = 2; all nibbles 3 (low) and 10 (high).
    let mut block2 = f16_bytes(0.25).to_vec();
    block2.extend_from_slice(&f16_bytes(2.0));
    block2.extend(std::iter::repeat_n(0xA3u8, 16));
    let mut raw = block.clone();
    raw.extend_from_slice(&block2);

    let mut w = GgufWriter::new();
    w.add_raw_tensor("q", &[32, 2], 3, raw).unwrap();
    let g = Gguf::parse(w.to_bytes().unwrap()).unwrap();
    assert_eq!(g.tensor_info("q").unwrap().ty, GgmlType::Q4_1);
    let (shape, vals) = g.tensor_f32("q").unwrap();
    assert_eq!(shape, vec![2, 32]);
    assert_eq!(&vals[..32], &expected);
    assert!(vals[32..48].iter().all(|&v| v == 2.75), "3·0.25 + 2");
    assert!(vals[48..].iter().all(|&v| v == 4.5), "10·0.25 + 2");
}

#[test]
fn q8_0_hand_built_block_dequantizes_to_hand_computed_values() {
    // d = 0.25 (f16 0x3400); qs = -128, -1, 0, 1, 127, then 2, 3, ... 28.
    let mut block = vec![0x00, 0x34];
    let qs: Vec<i8> = [-128i8, -1, 0, 1, 127].into_iter().chain(2..29).collect();
    assert_eq!(qs.len(), 32);
    block.extend(qs.iter().map(|&q| q as u8));
    let mut w = GgufWriter::new();
    w.add_raw_tensor("q", &[32], 8, block).unwrap();
    let g = Gguf::parse(w.to_bytes().unwrap()).unwrap();
    let (shape, vals) = g.tensor_f32("q").unwrap();
    assert_eq!(shape, vec![32]);
    assert_eq!(&vals[..5], &[-32.0, -0.25, 0.0, 0.25, 31.75]);
    assert_eq!(vals[5], 0.5);
    assert_eq!(vals[31], 7.0);
}

#[test]
fn quantizers_follow_llama_cpp_reference_on_a_known_block() {
    // Q8_0 of 0, 1, ..., 31 scaled: amax = 31 → d = 31/127, q = round(x·127/31).
    let x: Vec<f32> = (0..32).map(|i| i as f32).collect();
    let b = quantize_q8_0(&x).unwrap();
    assert_eq!(b.len(), 34);
    assert_eq!(
        u16::from_le_bytes([b[0], b[1]]),
        f16::from_f32(31.0 / 127.0).to_bits()
    );
    assert_eq!(b[2 + 31] as i8, 127);
    assert_eq!(b[2 + 1] as i8, 4, "round(127/31) = round(4.097)");
    assert_eq!(b[2 + 10] as i8, 41, "round(40.97)");
    // Q4_1: min 0, max 31 → d = 31/15; q = round(x·15/31).
    let b = quantize_q4_1(&x).unwrap();
    assert_eq!(b.len(), 20);
    assert_eq!(
        u16::from_le_bytes([b[0], b[1]]),
        f16::from_f32(31.0 / 15.0).to_bits()
    );
    assert_eq!(
        u16::from_le_bytes([b[2], b[3]]),
        f16::from_f32(0.0).to_bits()
    );
    assert_eq!(b[4] & 0xF, 0);
    assert_eq!(b[4] >> 4, 8, "x[16] = 16 → round(7.74) = 8");
    assert_eq!(b[4 + 15] >> 4, 15, "x[31] = max → 15");
    assert_eq!(b[4 + 1] & 0xF, 0, "x[1] = 1 → round(0.48) = 0");
    assert_eq!(b[4 + 2] & 0xF, 1, "x[2] = 2 → round(0.97) = 1");
    // Wrong lengths are errors.
    assert!(quantize_q8_0(&x[..31]).is_err());
    assert!(quantize_q4_1(&x[..31]).is_err());
}

#[test]
fn quantize_dequantize_error_is_at_most_half_a_step() {
    let mut rng = Rng(7);
    let rows = 16;
    let cols = 64;
    let data: Vec<f32> = (0..rows * cols)
        .map(|i| rng.f32() * (1.0 + (i % 7) as f32))
        .collect();
    let mut w = GgufWriter::new();
    w.add_f32_tensor("q8", &[rows, cols], &data, GgmlType::Q8_0)
        .unwrap();
    w.add_f32_tensor("q4", &[rows, cols], &data, GgmlType::Q4_1)
        .unwrap();
    let g = Gguf::parse(w.to_bytes().unwrap()).unwrap();
    let (_, q8) = g.tensor_f32("q8").unwrap();
    let (_, q4) = g.tensor_f32("q4").unwrap();
    let raw8 = g.tensor_bytes("q8").unwrap();
    let raw4 = g.tensor_bytes("q4").unwrap();
    for (b, x) in data.chunks(32).enumerate() {
        // Q8_0: |x − q·d| ≤ d/2 in exact arithmetic; the stored scale is d rounded to f16,
        // which adds at most |q|·|d − d16| ≤ 127·|d − d16|.
        let d = x.iter().fold(0f32, |a, v| a.max(v.abs())) / 127.0;
        let d16 = f16::from_le_bytes([raw8[b * 34], raw8[b * 34 + 1]]).to_f32();
        let bound = d / 2.0 + 127.0 * (d - d16).abs() + 1e-6;
        for j in 0..32 {
            let e = (x[j] - q8[b * 32 + j]).abs();
            assert!(
                e <= bound,
                "Q8_0 block {b} elem {j}: err {e} > {bound} (d = {d})"
            );
            assert!(e <= 0.57 * d, "Q8_0 err {e} > 0.57·d");
        }
        // Q4_1: ≤ d/2, plus 15·|d − d16| and |min − m16| for the f16-stored scale and min.
        let min = x.iter().fold(f32::INFINITY, |a, &v| a.min(v));
        let max = x.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
        let d = (max - min) / 15.0;
        let d16 = f16::from_le_bytes([raw4[b * 20], raw4[b * 20 + 1]]).to_f32();
        let m16 = f16::from_le_bytes([raw4[b * 20 + 2], raw4[b * 20 + 3]]).to_f32();
        let bound = d / 2.0 + 15.0 * (d - d16).abs() + (min - m16).abs() + 1e-6;
        for j in 0..32 {
            let e = (x[j] - q4[b * 32 + j]).abs();
            assert!(
                e <= bound,
                "Q4_1 block {b} elem {j}: err {e} > {bound} (d = {d})"
            );
            assert!(e <= 0.53 * d, "Q4_1 err {e} > 0.53·d");
        }
    }
    // A constant block (d = 0) is exact.
    let mut out = vec![0f32; 32];
    dequantize_into(
        GgmlType::Q8_0,
        &quantize_q8_0(&[0.0; 32]).unwrap(),
        &mut out,
    )
    .unwrap();
    assert!(out.iter().all(|&v| v == 0.0));
    dequantize_into(
        GgmlType::Q4_1,
        &quantize_q4_1(&[1.5; 32]).unwrap(),
        &mut out,
    )
    .unwrap();
    assert!(out.iter().all(|&v| v == 1.5));
    // Mismatched lengths are errors, not panics.
    assert!(dequantize_into(GgmlType::Q4_1, &[0u8; 19], &mut out).is_err());
    assert!(dequantize_into(GgmlType::F32, &[0u8; 4], &mut out).is_err());
}

/// A file with metadata and F32 / Q8_0 / Q4_1 / F16 tensors.
fn sample_file() -> Vec<u8> {
    let mut rng = Rng(42);
    let mut w = GgufWriter::new();
    w.add_meta("general.architecture", MetaValue::String("llama".into()));
    w.add_meta("general.alignment", MetaValue::U32(32));
    w.add_meta(
        "tokenizer.ggml.tokens",
        MetaValue::Array(vec![
            MetaValue::String("a".into()),
            MetaValue::String("bc".into()),
        ]),
    );
    w.add_meta("llama.rope.freq_base", MetaValue::F32(100000.0));
    let v: Vec<f32> = (0..3 * 64).map(|_| rng.f32()).collect();
    w.add_f32_tensor("norm", &[5], &v[..5], GgmlType::F32)
        .unwrap();
    w.add_f32_tensor("emb", &[3, 64], &v, GgmlType::Q8_0)
        .unwrap();
    w.add_f32_tensor("blk.0.attn_q.weight", &[2, 64], &v[..128], GgmlType::Q4_1)
        .unwrap();
    w.add_f32_tensor("h", &[3], &v[..3], GgmlType::F16).unwrap();
    w.to_bytes().unwrap()
}

/// End of the last tensor's data (bytes after it are padding).
fn data_end(g: &Gguf) -> usize {
    g.tensors()
        .iter()
        .map(|t| (g.data_offset() + t.offset + t.byte_size().unwrap()) as usize)
        .max()
        .unwrap()
}

#[test]
fn writer_output_parses_and_respects_alignment() {
    for align in [32u32, 64, 8] {
        let mut w = GgufWriter::new();
        w.add_meta("general.alignment", MetaValue::U32(align));
        w.add_f32_tensor("a", &[3], &[1.0, 2.0, 3.0], GgmlType::F32)
            .unwrap();
        w.add_f32_tensor("b", &[32], &[0.5; 32], GgmlType::Q8_0)
            .unwrap();
        let bytes = w.to_bytes().unwrap();
        assert_eq!(bytes.len() % align as usize, 0);
        let g = Gguf::parse(bytes).unwrap();
        assert_eq!(g.alignment(), align as u64);
        assert_eq!(g.data_offset() % align as u64, 0);
        assert!(g.tensors().iter().all(|t| t.offset % align as u64 == 0));
        assert_eq!(g.tensor_f32("a").unwrap().1, vec![1.0, 2.0, 3.0]);
        let (_, b) = g.tensor_f32("b").unwrap();
        assert!(
            b.iter().all(|&v| (v - 0.5).abs() < 1e-4),
            "Q8_0 of a constant: {b:?}"
        );
    }
    // Writer input errors.
    let mut w = GgufWriter::new();
    assert!(
        w.add_f32_tensor("x", &[2, 2], &[1.0; 3], GgmlType::F32)
            .is_err()
    );
    assert!(
        w.add_f32_tensor("x", &[2, 16], &[1.0; 32], GgmlType::Q8_0)
            .is_err()
    );
    w.add_f32_tensor("x", &[1], &[1.0], GgmlType::F32).unwrap();
    assert!(
        w.add_f32_tensor("x", &[1], &[1.0], GgmlType::F32).is_err(),
        "duplicate name"
    );
    w.add_meta(
        "bad",
        MetaValue::Array(vec![MetaValue::U8(1), MetaValue::I8(1)]),
    );
    let e = err_msg(w.to_bytes());
    assert!(e.contains("bad") && e.contains("share one type"), "{e}");
    // Version 2 is accepted too.
    let mut w = GgufWriter::new();
    w.set_version(2).add_meta("k", MetaValue::U8(1));
    assert_eq!(Gguf::parse(w.to_bytes().unwrap()).unwrap().version(), 2);
}

#[test]
fn open_and_write_through_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.gguf");
    let mut w = GgufWriter::new();
    w.add_meta("k", MetaValue::String("v".into()));
    w.add_f32_tensor("t", &[2], &[1.0, -1.0], GgmlType::F32)
        .unwrap();
    w.write(&path).unwrap();
    let g = Gguf::open(&path).unwrap();
    assert_eq!(g.meta_str("k").unwrap(), "v");
    assert_eq!(g.tensor_f32("t").unwrap().1, vec![1.0, -1.0]);
    let e = err_msg(Gguf::open(&dir.path().join("absent.gguf")));
    assert!(e.contains("absent.gguf"), "{e}");
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = sample_file();
    let full = Gguf::parse(bytes.clone()).unwrap();
    let end = data_end(&full);
    let header = full.data_offset() as usize;
    let mut cuts: Vec<usize> = (0..header + 8).collect();
    cuts.extend((header + 8..end).step_by(7));
    cuts.push(end - 1);
    for cut in cuts {
        let r = Gguf::parse(bytes[..cut].to_vec());
        assert!(r.is_err(), "cut at {cut} of {} parsed", bytes.len());
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("truncated") || msg.contains("outside the file") || msg.contains("remain"),
            "cut at {cut}: {msg}"
        );
    }
    // The full file and the file without trailing padding both parse.
    assert!(Gguf::parse(bytes[..end].to_vec()).is_ok());
    assert!(
        Gguf::parse(Vec::new())
            .unwrap_err()
            .to_string()
            .contains("byte offset 0")
    );
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A file with no metadata and tensors `ta` (F32 [4]) and `tb` (F32 [8]): the first tensor
/// info starts at byte 24 (name length), name at 32, n_dims at 34, dim at 38, type at 46,
/// offset at 50; the second info starts at 58.
fn two_tensor_file() -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_f32_tensor("ta", &[4], &[1.0; 4], GgmlType::F32)
        .unwrap();
    w.add_f32_tensor("tb", &[8], &[2.0; 8], GgmlType::F32)
        .unwrap();
    let b = w.to_bytes().unwrap();
    assert_eq!(&b[32..34], b"ta");
    assert_eq!(u32::from_le_bytes(b[34..38].try_into().unwrap()), 1);
    assert_eq!(&b[66..68], b"tb");
    b
}

#[test]
fn corrupted_headers_are_clear_errors() {
    // Bad magic.
    let mut b = sample_file();
    b[0] = b'X';
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("magic") && e.contains("XGUF"), "{e}");
    let e = err_msg(Gguf::parse(
        b"version https://git-lfs.github.com/spec/v1\n".to_vec(),
    ));
    assert!(e.contains("git-lfs"), "{e}");
    // Unsupported versions (and big-endian hint).
    for (v, needle) in [(1u32, "v1"), (4, "version 4"), (0x0300_0000, "big-endian")] {
        let mut b = sample_file();
        put_u32(&mut b, 4, v);
        let e = err_msg(Gguf::parse(b));
        assert!(e.contains("version") && e.contains(needle), "{e}");
    }
    // Huge string length (first metadata key's length is at byte 24).
    let mut b = sample_file();
    put_u64(&mut b, 24, u64::MAX / 2);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("length") && e.contains("byte offset 24"), "{e}");
    // Huge metadata / tensor counts.
    let mut b = sample_file();
    put_u64(&mut b, 16, 1 << 50);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("metadata count"), "{e}");
    let mut b = sample_file();
    put_u64(&mut b, 8, u64::MAX);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("tensor count"), "{e}");

    // Huge array count: one array entry; key "a" → type at 33, element type at 37, count at 41.
    let mut w = GgufWriter::new();
    w.add_meta(
        "a",
        MetaValue::Array(vec![MetaValue::U32(1), MetaValue::U32(2)]),
    );
    let good = w.to_bytes().unwrap();
    assert_eq!(u64::from_le_bytes(good[41..49].try_into().unwrap()), 2);
    let mut b = good.clone();
    put_u64(&mut b, 41, 1 << 40);
    let e = err_msg(Gguf::parse(b));
    assert!(
        e.contains("elements") && e.contains("byte offset 41") && e.contains("`a`"),
        "{e}"
    );
    // Unknown value type (top level) and unknown array element type.
    let mut b = good.clone();
    put_u32(&mut b, 33, 99);
    let e = err_msg(Gguf::parse(b));
    assert!(
        e.contains("unknown value type 99") && e.contains("`a`"),
        "{e}"
    );
    let mut b = good.clone();
    put_u32(&mut b, 37, 13);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("element type 13"), "{e}");
    // Bool byte that is neither 0 nor 1.
    let mut w = GgufWriter::new();
    w.add_meta("b", MetaValue::Bool(true));
    let mut b = w.to_bytes().unwrap();
    b[37] = 2;
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("bool") && e.contains("`b`"), "{e}");
    // Invalid UTF-8 in a key.
    let mut b = good.clone();
    b[32] = 0xFF;
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("UTF-8") && e.contains("byte offset 32"), "{e}");
    // Duplicate metadata key.
    let mut w = GgufWriter::new();
    w.add_meta("k", MetaValue::U8(1))
        .add_meta("k", MetaValue::U8(2));
    let e = err_msg(Gguf::parse(w.to_bytes().unwrap()));
    assert!(e.contains("duplicate metadata key `k`"), "{e}");
    // Alignment not a power of two.
    let mut w = GgufWriter::new();
    w.add_meta("general.alignment", MetaValue::U32(2));
    let mut b = w.to_bytes().unwrap();
    let at = 24 + 8 + "general.alignment".len() + 4;
    assert_eq!(u32::from_le_bytes(b[at..at + 4].try_into().unwrap()), 2);
    put_u32(&mut b, at, 3);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("general.alignment"), "{e}");
    // Deeply nested arrays.
    let mut v = MetaValue::U8(1);
    for _ in 0..20 {
        v = MetaValue::Array(vec![v]);
    }
    let mut w = GgufWriter::new();
    w.add_meta("deep", v);
    let e = err_msg(Gguf::parse(w.to_bytes().unwrap()));
    assert!(e.contains("deeper"), "{e}");
}

#[test]
fn corrupted_tensor_infos_are_clear_errors() {
    let good = two_tensor_file();
    assert!(Gguf::parse(good.clone()).is_ok());
    // n_dims = 9.
    let mut b = good.clone();
    put_u32(&mut b, 34, 9);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("n_dims = 9") && e.contains("`ta`"), "{e}");
    // Offset beyond EOF (aligned).
    let mut b = good.clone();
    put_u64(&mut b, 50, 1 << 20);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("`ta`") && e.contains("outside the file"), "{e}");
    // Offset + size overflowing u64.
    let mut b = good.clone();
    put_u64(&mut b, 50, u64::MAX - 31);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("`ta`") && e.contains("outside the file"), "{e}");
    // Misaligned offset.
    let mut b = good.clone();
    put_u64(&mut b, 50, 4);
    let e = err_msg(Gguf::parse(b));
    assert!(
        e.contains("`ta`") && e.contains("not a multiple of the alignment 32"),
        "{e}"
    );
    // Huge dims (element count overflow) and negative dims.
    let mut b = good.clone();
    put_u64(&mut b, 38, i64::MAX as u64);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("`ta`"), "{e}");
    let mut b = good.clone();
    put_u64(&mut b, 38, u64::MAX);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("`ta`") && e.contains("negative"), "{e}");
    // Duplicate names: rename `tb` to `ta`.
    let mut b = good.clone();
    b[67] = b'a';
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("duplicate tensor name `ta`"), "{e}");
    // Overlapping data: point `tb` at `ta`'s offset.
    let mut b = good.clone();
    let tb_offset_at = 58 + 8 + 2 + 4 + 8 + 4;
    assert_eq!(
        u64::from_le_bytes(b[tb_offset_at..tb_offset_at + 8].try_into().unwrap()),
        32
    );
    put_u64(&mut b, tb_offset_at, 0);
    let e = err_msg(Gguf::parse(b));
    assert!(e.contains("overlaps"), "{e}");
    // Quantized row length not a multiple of the block size: make `ta` Q8_0 with 4 values.
    let mut b = good.clone();
    put_u32(&mut b, 46, 8);
    let e = err_msg(Gguf::parse(b));
    assert!(
        e.contains("`ta`") && e.contains("multiple of Q8_0's block size 32"),
        "{e}"
    );
}

#[test]
fn unsupported_tensor_types_parse_but_do_not_dequantize() {
    let mut w = GgufWriter::new();
    w.add_meta("general.architecture", MetaValue::String("llama".into()));
    w.add_raw_tensor("k4", &[256, 2], 12, vec![0u8; 2 * 144])
        .unwrap();
    w.add_raw_tensor("bf", &[4], 30, vec![0u8; 8]).unwrap();
    w.add_raw_tensor("weird", &[4], 99, vec![0u8; 8]).unwrap();
    w.add_f32_tensor("ok", &[2], &[1.0, 2.0], GgmlType::F32)
        .unwrap();
    let g = Gguf::parse(w.to_bytes().unwrap()).unwrap();
    assert_eq!(g.meta_str("general.architecture").unwrap(), "llama");
    assert_eq!(g.tensor_info("k4").unwrap().ty, GgmlType::Other(12));
    assert_eq!(g.tensor_info("k4").unwrap().ty.name(), "Q4_K");
    let e = err_msg(g.tensor_f32("k4"));
    assert!(
        e.contains("`k4`") && e.contains("Q4_K (type 12) is not supported") && e.contains("Q8_0"),
        "{e}"
    );
    let e = err_msg(g.tensor_f32("bf"));
    assert!(e.contains("BF16 (type 30)"), "{e}");
    let e = err_msg(g.tensor_f32("weird"));
    assert!(e.contains("unknown (type 99)"), "{e}");
    assert_eq!(g.tensor_f32("ok").unwrap().1, vec![1.0, 2.0]);
    // Known-size unsupported types are still range checked: a truncated Q4_K tensor is an error.
    let mut w = GgufWriter::new();
    w.add_raw_tensor("k4", &[256, 2], 12, vec![0u8; 144])
        .unwrap();
    let e = err_msg(Gguf::parse(w.to_bytes().unwrap()));
    assert!(e.contains("`k4`") && e.contains("outside the file"), "{e}");
}

#[test]
fn random_corruption_never_panics() {
    let good = sample_file();
    let header = Gguf::parse(good.clone()).unwrap().data_offset() as usize;
    let mut rng = Rng(1234);
    let mut errors = 0;
    for _ in 0..3000 {
        let mut b = good.clone();
        for _ in 0..1 + rng.next_u64() % 3 {
            let at = (rng.next_u64() as usize) % header;
            b[at] = match rng.next_u64() % 3 {
                0 => rng.next_u64() as u8,
                1 => 0xFF,
                _ => b[at] ^ (1 << (rng.next_u64() % 8)),
            };
        }
        match Gguf::parse(b) {
            Err(_) => errors += 1,
            Ok(g) => {
                for t in g.tensors() {
                    let _ = g.tensor_f32(&t.name);
                }
            }
        }
    }
    assert!(errors > 1000, "most corruptions are detected ({errors})");
}

fn smol_path() -> PathBuf {
    match std::env::var_os("WIND_SMOL_GGUF") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/cache/smol/SmolLM2-135M-Instruct.Q4_1.gguf"
        )),
    }
}

#[test]
fn real_smollm2_gguf() {
    let path = smol_path();
    if !path.exists() {
        println!("skipped: SmolLM2 GGUF not cached (run `wind data fetch smol`)");
        return;
    }
    let t0 = Instant::now();
    let g = Gguf::open(&path).unwrap();
    let t_open = t0.elapsed();
    assert_eq!(g.version(), 3);
    assert_eq!(g.meta_str("general.architecture").unwrap(), "llama");
    assert_eq!(g.meta_u32("llama.block_count").unwrap(), 30);
    assert_eq!(g.meta_u32("llama.embedding_length").unwrap(), 576);
    assert_eq!(g.meta_u32("llama.feed_forward_length").unwrap(), 1536);
    assert_eq!(g.meta_u32("llama.attention.head_count").unwrap(), 9);
    assert_eq!(g.meta_u32("llama.attention.head_count_kv").unwrap(), 3);
    assert_eq!(g.meta_u32("llama.context_length").unwrap(), 8192);
    assert_eq!(g.meta_u32("llama.rope.dimension_count").unwrap(), 64);
    assert_eq!(g.meta_u32("llama.vocab_size").unwrap(), 49152);
    assert_eq!(g.meta_f32("llama.rope.freq_base").unwrap(), 100000.0);
    assert!(
        (g.meta_f32("llama.attention.layer_norm_rms_epsilon")
            .unwrap()
            - 1e-5)
            .abs()
            < 1e-9
    );
    assert_eq!(g.meta_str("tokenizer.ggml.model").unwrap(), "gpt2");
    assert_eq!(g.meta_str("tokenizer.ggml.pre").unwrap(), "smollm");
    assert_eq!(
        g.meta_str_array("tokenizer.ggml.tokens").unwrap().len(),
        49152
    );
    assert_eq!(
        g.meta_str_array("tokenizer.ggml.merges").unwrap().len(),
        48900
    );
    assert_eq!(g.meta_u32("tokenizer.ggml.bos_token_id").unwrap(), 1);
    assert_eq!(g.meta_u32("tokenizer.ggml.eos_token_id").unwrap(), 2);
    assert_eq!(g.alignment(), 32);
    // Independently checked with gguf-py 0.19.0 (GGUFReader): data section at byte 1785664.
    assert_eq!(g.data_offset(), 1_785_664);

    assert_eq!(g.tensors().len(), 272);
    assert!(
        g.tensor_info("output.weight").is_none(),
        "LM head is tied to token_embd.weight"
    );
    for t in g.tensors() {
        let expect_ty = if t.name.ends_with("norm.weight") {
            GgmlType::F32
        } else if t.name == "token_embd.weight" {
            GgmlType::Q8_0
        } else {
            GgmlType::Q4_1
        };
        assert_eq!(t.ty, expect_ty, "{}", t.name);
    }
    let shape = |n: &str| g.tensor_info(n).unwrap().shape();
    assert_eq!(shape("token_embd.weight"), vec![49152, 576]);
    assert_eq!(shape("blk.0.attn_q.weight"), vec![576, 576]);
    assert_eq!(shape("blk.0.attn_k.weight"), vec![192, 576]);
    assert_eq!(shape("blk.0.attn_v.weight"), vec![192, 576]);
    assert_eq!(shape("blk.0.attn_output.weight"), vec![576, 576]);
    assert_eq!(shape("blk.0.ffn_gate.weight"), vec![1536, 576]);
    assert_eq!(shape("blk.0.ffn_up.weight"), vec![1536, 576]);
    assert_eq!(shape("blk.0.ffn_down.weight"), vec![576, 1536]);
    assert_eq!(shape("blk.29.attn_norm.weight"), vec![576]);
    assert_eq!(shape("output_norm.weight"), vec![576]);

    // Reference values from gguf-py 0.19.0 (`gguf.quants.dequantize`, float64 sums).
    // The values are exact (f16 scale × small integer + f16 min), printed by Python as f64.
    let check = |name: &str, shape: &[usize], sum: f64, first: [f64; 4], last: f64| {
        let (s, v) = g.tensor_f32(name).unwrap();
        assert_eq!(s, shape, "{name}");
        assert_eq!(v.len(), shape.iter().product::<usize>());
        assert!(v.iter().all(|x| x.is_finite()), "{name} finite");
        let head: Vec<f64> = v[..4].iter().map(|&x| f64::from(x)).collect();
        assert_eq!(head, first, "{name} first values");
        assert_eq!(f64::from(*v.last().unwrap()), last, "{name} last value");
        let total: f64 = v.iter().map(|&x| x as f64).sum();
        assert!(
            (total - sum).abs() < 1e-6 * sum.abs().max(1.0) + 1e-3,
            "{name}: sum {total} vs {sum}"
        );
    };
    check(
        "token_embd.weight",
        &[49152, 576],
        -15353.0445,
        [
            -0.10654449462890625,
            0.032978057861328125,
            0.048198699951171875,
            -0.022830963134765625,
        ],
        -0.0417022705078125,
    );
    check(
        "blk.0.attn_q.weight",
        &[576, 576],
        59.2232208,
        [
            -0.0963134765625,
            0.1573486328125,
            -0.0963134765625,
            -0.73046875,
        ],
        -0.255859375,
    );
    check(
        "blk.7.attn_k.weight",
        &[192, 576],
        -47.4967804,
        [
            -0.002532958984375,
            0.321746826171875,
            -0.27276611328125,
            0.051513671875,
        ],
        -0.0545654296875,
    );
    check(
        "blk.0.attn_norm.weight",
        &[576],
        0.612943649,
        [
            0.01397705078125,
            0.0238037109375,
            -0.019775390625,
            -0.0302734375,
        ],
        -0.038330078125,
    );
    check(
        "output_norm.weight",
        &[576],
        1038.33203,
        [1.7578125, 1.8203125, 1.78125, 1.6015625],
        1.984375,
    );

    // Dequantize everything, timed.
    let t1 = Instant::now();
    let mut n = 0usize;
    for t in g.tensors() {
        let (_, v) = g.tensor_f32(&t.name).unwrap();
        n += v.len();
    }
    let t_deq = t1.elapsed();
    assert_eq!(n, 134_515_008);
    println!(
        "SmolLM2 GGUF: open+parse {:.3}s, dequantize all {n} values {:.3}s ({:.0} M values/s)",
        t_open.as_secs_f64(),
        t_deq.as_secs_f64(),
        n as f64 / t_deq.as_secs_f64() / 1e6
    );
}
