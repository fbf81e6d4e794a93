//! GGUF (v2/v3) reader and writer.
//!
//! The reader ([`Gguf`]) keeps the whole file in memory, parses the typed metadata (in file
//! order, with lookup by key) and the tensor infos, and dequantizes tensors of type F32, F16,
//! Q4_1 and Q8_0 to `f32` ([`Gguf::tensor_f32`]). Every read is bounds checked: a truncated
//! or corrupted file is an [`GgufError`] naming what was wrong and where (byte offset or
//! tensor name), never a panic and never a silently wrong tensor. Files with tensors of other
//! types still parse, so their metadata can be read; only dequantizing such a tensor errors.
//!
//! The writer ([`GgufWriter`]) produces small synthetic files for tests, quantizing `f32`
//! data with [`quantize_q8_0`] / [`quantize_q4_1`] (llama.cpp's reference rounding).
//!
//! Layout (little-endian): magic `GGUF`, u32 version, u64 tensor count, u64 metadata count,
//! metadata key/value pairs, tensor infos (name, u32 n_dims, n_dims × u64 dims, u32 type,
//! u64 offset relative to the data section), padding to `general.alignment` (default 32),
//! tensor data.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use half::f16;

/// The GGUF magic, `GGUF` as bytes.
pub const GGUF_MAGIC: [u8; 4] = *b"GGUF";
/// Alignment of the data section and of every tensor when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// Maximum number of dimensions of a tensor (ggml's `GGML_MAX_DIMS`).
pub const MAX_DIMS: u32 = 4;
/// Maximum nesting depth of metadata arrays accepted by the reader.
pub const MAX_ARRAY_DEPTH: usize = 8;
/// Number of values in one Q4_1 / Q8_0 block.
pub const QK: usize = 32;
/// Bytes of one Q4_1 block (f16 `d`, f16 `m`, 16 bytes of nibbles).
pub const Q4_1_BLOCK_BYTES: usize = 20;
/// Bytes of one Q8_0 block (f16 `d`, 32 × i8).
pub const Q8_0_BLOCK_BYTES: usize = 34;

/// Errors of reading, validating, dequantizing or writing GGUF files.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    /// The file could not be read or written.
    #[error("GGUF file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file ends before a value that the header says is there.
    #[error(
        "GGUF truncated at byte offset {offset}: reading {what} needs {needed} bytes but only {available} remain \
         (file is {file_len} bytes) — the download is incomplete or the file is not GGUF; fetch it again"
    )]
    Truncated {
        /// Byte offset where the read started.
        offset: u64,
        /// What was being read.
        what: String,
        /// Bytes needed.
        needed: u64,
        /// Bytes left in the file from `offset`.
        available: u64,
        /// Total file length.
        file_len: u64,
    },
    /// The first four bytes are not `GGUF`.
    #[error("not a GGUF file: magic at byte offset 0 is {found:?} (expected \"GGUF\"){hint}")]
    BadMagic {
        /// The first bytes as a lossy string.
        found: String,
        /// An extra hint (e.g. the file is a git-lfs pointer or a zip).
        hint: String,
    },
    /// The version is not 2 or 3.
    #[error("unsupported GGUF version {version} at byte offset 4 (supported: 2, 3){hint}")]
    UnsupportedVersion {
        /// The version read.
        version: u32,
        /// An extra hint (e.g. big-endian file, old v1 file).
        hint: String,
    },
    /// A structural problem in the header (bad count, bad type id, bad UTF-8, ...).
    #[error("malformed GGUF at byte offset {offset}: {msg}")]
    Format {
        /// Byte offset of the offending value.
        offset: u64,
        /// What was wrong and how to fix it.
        msg: String,
    },
    /// A problem with one tensor's info (range outside the file, misaligned, bad shape, ...).
    #[error("GGUF tensor `{name}`: {msg}")]
    Tensor {
        /// The tensor name.
        name: String,
        /// What was wrong.
        msg: String,
    },
    /// A metadata key is missing.
    #[error("GGUF metadata key `{key}` is missing{hint}")]
    MissingKey {
        /// The key.
        key: String,
        /// An extra hint.
        hint: String,
    },
    /// A metadata value has the wrong type or does not fit.
    #[error("GGUF metadata key `{key}`: expected {expected}, found {found}")]
    WrongType {
        /// The key.
        key: String,
        /// What the caller wanted.
        expected: String,
        /// What the file has.
        found: String,
    },
    /// No tensor of that name.
    #[error("GGUF has no tensor named `{name}` ({count} tensors; e.g. {examples})")]
    MissingTensor {
        /// The name asked for.
        name: String,
        /// Number of tensors in the file.
        count: usize,
        /// A few names that exist.
        examples: String,
    },
    /// The tensor's type cannot be dequantized by this reader.
    #[error(
        "GGUF tensor `{name}`: type {type_name} (type {type_id}) is not supported; supported: F32, F16, Q4_1, Q8_0 — \
         re-quantize the model with llama.cpp's `llama-quantize --allow-requantize in.gguf out.gguf Q8_0`"
    )]
    UnsupportedType {
        /// The tensor name.
        name: String,
        /// ggml's name for the type (or `unknown`).
        type_name: String,
        /// The numeric type id.
        type_id: u32,
    },
    /// The writer was given inconsistent input.
    #[error("GGUF writer: {0}")]
    Writer(String),
}

/// A ggml tensor element type. Only `F32`, `F16`, `Q4_1` and `Q8_0` can be dequantized;
/// every other id is kept as [`GgmlType::Other`] so the file still parses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum GgmlType {
    /// 32-bit float (type 0).
    F32,
    /// 16-bit IEEE float (type 1).
    F16,
    /// 4-bit with per-block scale and minimum (type 3).
    Q4_1,
    /// 8-bit with per-block scale (type 8).
    Q8_0,
    /// Any other type id (Q4_K, BF16, ...): parses, but [`Gguf::tensor_f32`] errors.
    Other(u32),
}

/// ggml type table: (id, name, values per block, bytes per block). Sizes are those of
/// llama.cpp's `ggml.c` type traits; ids 4, 5, 31–33 and 36–38 were removed from ggml.
const GGML_TYPES: &[(u32, &str, u64, u64)] = &[
    (0, "F32", 1, 4),
    (1, "F16", 1, 2),
    (2, "Q4_0", 32, 18),
    (3, "Q4_1", 32, 20),
    (6, "Q5_0", 32, 22),
    (7, "Q5_1", 32, 24),
    (8, "Q8_0", 32, 34),
    (9, "Q8_1", 32, 36),
    (10, "Q2_K", 256, 84),
    (11, "Q3_K", 256, 110),
    (12, "Q4_K", 256, 144),
    (13, "Q5_K", 256, 176),
    (14, "Q6_K", 256, 210),
    (15, "Q8_K", 256, 292),
    (16, "IQ2_XXS", 256, 66),
    (17, "IQ2_XS", 256, 74),
    (18, "IQ3_XXS", 256, 98),
    (19, "IQ1_S", 256, 50),
    (20, "IQ4_NL", 32, 18),
    (21, "IQ3_S", 256, 110),
    (22, "IQ2_S", 256, 82),
    (23, "IQ4_XS", 256, 136),
    (24, "I8", 1, 1),
    (25, "I16", 1, 2),
    (26, "I32", 1, 4),
    (27, "I64", 1, 8),
    (28, "F64", 1, 8),
    (29, "IQ1_M", 256, 56),
    (30, "BF16", 1, 2),
    (34, "TQ1_0", 256, 54),
    (35, "TQ2_0", 256, 66),
    (39, "MXFP4", 32, 17),
];

impl GgmlType {
    /// The type for a GGUF type id.
    pub fn from_id(id: u32) -> GgmlType {
        match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            other => GgmlType::Other(other),
        }
    }

    /// The GGUF type id.
    pub fn id(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_1 => 3,
            GgmlType::Q8_0 => 8,
            GgmlType::Other(id) => id,
        }
    }

    fn table_entry(self) -> Option<&'static (u32, &'static str, u64, u64)> {
        let id = self.id();
        GGML_TYPES.iter().find(|e| e.0 == id)
    }

    /// ggml's name of the type (`"Q4_K"`, ...), or `"unknown"` for ids ggml does not define.
    pub fn name(self) -> &'static str {
        self.table_entry().map_or("unknown", |e| e.1)
    }

    /// Values per block (1 for plain types), if the type is known.
    pub fn block_size(self) -> Option<u64> {
        self.table_entry().map(|e| e.2)
    }

    /// Bytes per block, if the type is known.
    pub fn block_bytes(self) -> Option<u64> {
        self.table_entry().map(|e| e.3)
    }

    /// Whether [`Gguf::tensor_f32`] can dequantize this type.
    pub fn is_supported(self) -> bool {
        !matches!(self, GgmlType::Other(_))
    }
}

impl fmt::Display for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (type {})", self.name(), self.id())
    }
}

/// A typed GGUF metadata value (all 13 GGUF value types; arrays may nest).
#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    /// Value type 0.
    U8(u8),
    /// Value type 1.
    I8(i8),
    /// Value type 2.
    U16(u16),
    /// Value type 3.
    I16(i16),
    /// Value type 4.
    U32(u32),
    /// Value type 5.
    I32(i32),
    /// Value type 10.
    U64(u64),
    /// Value type 11.
    I64(i64),
    /// Value type 6.
    F32(f32),
    /// Value type 12.
    F64(f64),
    /// Value type 7 (one byte, 0 or 1).
    Bool(bool),
    /// Value type 8 (u64 length + UTF-8 bytes).
    String(String),
    /// Value type 9 (u32 element type + u64 count + elements); elements share one type.
    Array(Vec<MetaValue>),
}

const VT_U8: u32 = 0;
const VT_I8: u32 = 1;
const VT_U16: u32 = 2;
const VT_I16: u32 = 3;
const VT_U32: u32 = 4;
const VT_I32: u32 = 5;
const VT_F32: u32 = 6;
const VT_BOOL: u32 = 7;
const VT_STRING: u32 = 8;
const VT_ARRAY: u32 = 9;
const VT_U64: u32 = 10;
const VT_I64: u32 = 11;
const VT_F64: u32 = 12;

fn value_type_name(vt: u32) -> &'static str {
    match vt {
        VT_U8 => "u8",
        VT_I8 => "i8",
        VT_U16 => "u16",
        VT_I16 => "i16",
        VT_U32 => "u32",
        VT_I32 => "i32",
        VT_F32 => "f32",
        VT_BOOL => "bool",
        VT_STRING => "string",
        VT_ARRAY => "array",
        VT_U64 => "u64",
        VT_I64 => "i64",
        VT_F64 => "f64",
        _ => "unknown",
    }
}

/// Smallest encoded size of one value of a type (used to reject absurd counts before allocating).
fn min_value_bytes(vt: u32) -> u64 {
    match vt {
        VT_U8 | VT_I8 | VT_BOOL => 1,
        VT_U16 | VT_I16 => 2,
        VT_U32 | VT_I32 | VT_F32 => 4,
        VT_U64 | VT_I64 | VT_F64 | VT_STRING => 8,
        VT_ARRAY => 12,
        _ => 1,
    }
}

impl MetaValue {
    /// The GGUF value type id.
    pub fn type_id(&self) -> u32 {
        match self {
            MetaValue::U8(_) => VT_U8,
            MetaValue::I8(_) => VT_I8,
            MetaValue::U16(_) => VT_U16,
            MetaValue::I16(_) => VT_I16,
            MetaValue::U32(_) => VT_U32,
            MetaValue::I32(_) => VT_I32,
            MetaValue::F32(_) => VT_F32,
            MetaValue::Bool(_) => VT_BOOL,
            MetaValue::String(_) => VT_STRING,
            MetaValue::Array(_) => VT_ARRAY,
            MetaValue::U64(_) => VT_U64,
            MetaValue::I64(_) => VT_I64,
            MetaValue::F64(_) => VT_F64,
        }
    }

    /// A short description of the type, e.g. `u32`, `string`, `array of 49152 string`.
    pub fn type_desc(&self) -> String {
        match self {
            MetaValue::Array(items) => match items.first() {
                Some(first) => format!("array of {} {}", items.len(), first.type_desc()),
                None => "empty array".to_string(),
            },
            other => value_type_name(other.type_id()).to_string(),
        }
    }

    /// The value as an `i128` if it is an integer type (not bool, not float).
    pub fn as_int(&self) -> Option<i128> {
        Some(match *self {
            MetaValue::U8(v) => v.into(),
            MetaValue::I8(v) => v.into(),
            MetaValue::U16(v) => v.into(),
            MetaValue::I16(v) => v.into(),
            MetaValue::U32(v) => v.into(),
            MetaValue::I32(v) => v.into(),
            MetaValue::U64(v) => v.into(),
            MetaValue::I64(v) => v.into(),
            _ => return None,
        })
    }

    /// The value as an `f64` if it is F32 or F64.
    pub fn as_float(&self) -> Option<f64> {
        match *self {
            MetaValue::F32(v) => Some(v.into()),
            MetaValue::F64(v) => Some(v),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[MetaValue]> {
        match self {
            MetaValue::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// One tensor's entry in the GGUF header.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    /// Tensor name, e.g. `blk.0.attn_q.weight`.
    pub name: String,
    /// Dimensions in GGUF order: `dims[0]` (ne0) is the contiguous (row) length.
    pub dims: Vec<u64>,
    /// Element type.
    pub ty: GgmlType,
    /// Offset of the data relative to the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// Row-major shape: `dims` reversed, so `[576, 49152]` becomes `[49152, 576]` (= [rows, row length]).
    pub fn shape(&self) -> Vec<usize> {
        // Element counts are validated to fit in usize when the file is parsed.
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }

    /// Number of elements (product of dims; 1 for a 0-d tensor).
    pub fn n_elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Size of the data in bytes, if the type is known.
    pub fn byte_size(&self) -> Option<u64> {
        tensor_byte_size(&self.dims, self.ty).ok()
    }
}

fn tensor_byte_size(dims: &[u64], ty: GgmlType) -> Result<u64, String> {
    let mut n: u64 = 1;
    for &d in dims {
        n = n
            .checked_mul(d)
            .ok_or_else(|| format!("element count of dims {dims:?} overflows u64"))?;
    }
    let (Some(bs), Some(bb)) = (ty.block_size(), ty.block_bytes()) else {
        return Err(format!("type {ty} has unknown size"));
    };
    let row = dims.first().copied().unwrap_or(1);
    if !row.is_multiple_of(bs) {
        return Err(format!(
            "row length (dims[0]) {row} is not a multiple of {}'s block size {bs}",
            ty.name()
        ));
    }
    (n / bs)
        .checked_mul(bb)
        .ok_or_else(|| format!("byte size of dims {dims:?} as {} overflows u64", ty.name()))
}

/// A parsed GGUF file held in memory.
#[derive(Clone)]
pub struct Gguf {
    bytes: Vec<u8>,
    version: u32,
    metadata: Vec<(String, MetaValue)>,
    meta_index: HashMap<String, usize>,
    tensors: Vec<TensorInfo>,
    tensor_index: HashMap<String, usize>,
    alignment: u64,
    data_offset: u64,
}

impl fmt::Debug for Gguf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gguf")
            .field("version", &self.version)
            .field("file_len", &self.bytes.len())
            .field("metadata", &self.metadata.len())
            .field("tensors", &self.tensors.len())
            .field("alignment", &self.alignment)
            .field("data_offset", &self.data_offset)
            .finish()
    }
}

/// Bounds-checked little-endian cursor over the file bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> u64 {
        (self.buf.len() - self.pos) as u64
    }

    fn take(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<&'a [u8], GgufError> {
        if n > self.remaining() {
            return Err(GgufError::Truncated {
                offset: self.pos as u64,
                what: what(),
                needed: n,
                available: self.remaining(),
                file_len: self.buf.len() as u64,
            });
        }
        let n = n as usize;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &dyn Fn() -> String) -> Result<[u8; N], GgufError> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u8(&mut self, what: &dyn Fn() -> String) -> Result<u8, GgufError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u16(&mut self, what: &dyn Fn() -> String) -> Result<u16, GgufError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &dyn Fn() -> String) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn string(&mut self, what: &dyn Fn() -> String) -> Result<String, GgufError> {
        let len_at = self.pos as u64;
        let len = self.u64(&|| format!("length of {}", what()))?;
        if len > self.remaining() {
            return Err(GgufError::Format {
                offset: len_at,
                msg: format!(
                    "length of {} is {len} bytes but only {} bytes remain in the file — corrupted header or truncated file",
                    what(),
                    self.remaining()
                ),
            });
        }
        let at = self.pos as u64;
        let raw = self.take(len, what)?;
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => Err(GgufError::Format {
                offset: at + e.valid_up_to() as u64,
                msg: format!("{} is not valid UTF-8 ({e})", what()),
            }),
        }
    }

    fn value(
        &mut self,
        vt: u32,
        depth: usize,
        what: &dyn Fn() -> String,
    ) -> Result<MetaValue, GgufError> {
        Ok(match vt {
            VT_U8 => MetaValue::U8(self.u8(what)?),
            VT_I8 => MetaValue::I8(self.u8(what)? as i8),
            VT_U16 => MetaValue::U16(self.u16(what)?),
            VT_I16 => MetaValue::I16(self.u16(what)? as i16),
            VT_U32 => MetaValue::U32(self.u32(what)?),
            VT_I32 => MetaValue::I32(self.u32(what)? as i32),
            VT_F32 => MetaValue::F32(f32::from_bits(self.u32(what)?)),
            VT_U64 => MetaValue::U64(self.u64(what)?),
            VT_I64 => MetaValue::I64(self.u64(what)? as i64),
            VT_F64 => MetaValue::F64(f64::from_bits(self.u64(what)?)),
            VT_BOOL => {
                let at = self.pos as u64;
                match self.u8(what)? {
                    0 => MetaValue::Bool(false),
                    1 => MetaValue::Bool(true),
                    b => {
                        return Err(GgufError::Format {
                            offset: at,
                            msg: format!(
                                "{} is a bool with byte value {b} (must be 0 or 1)",
                                what()
                            ),
                        });
                    }
                }
            }
            VT_STRING => MetaValue::String(self.string(what)?),
            VT_ARRAY => {
                let type_at = self.pos as u64;
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(GgufError::Format {
                        offset: type_at,
                        msg: format!(
                            "{} nests arrays deeper than {MAX_ARRAY_DEPTH} levels",
                            what()
                        ),
                    });
                }
                let et = self.u32(&|| format!("element type of {}", what()))?;
                if et > VT_F64 {
                    return Err(GgufError::Format {
                        offset: type_at,
                        msg: format!(
                            "{} has unknown array element type {et} (known value types are 0..=12)",
                            what()
                        ),
                    });
                }
                let count_at = self.pos as u64;
                let count = self.u64(&|| format!("element count of {}", what()))?;
                let min = min_value_bytes(et);
                if count.checked_mul(min).is_none_or(|b| b > self.remaining()) {
                    return Err(GgufError::Format {
                        offset: count_at,
                        msg: format!(
                            "{} claims {count} elements of type {} (≥ {min} bytes each) but only {} bytes remain — corrupted header",
                            what(),
                            value_type_name(et),
                            self.remaining()
                        ),
                    });
                }
                let mut items = Vec::with_capacity(capped(count));
                for i in 0..count {
                    items
                        .push(self.value(et, depth + 1, &|| format!("element {i} of {}", what()))?);
                }
                MetaValue::Array(items)
            }
            other => {
                return Err(GgufError::Format {
                    offset: self.pos.saturating_sub(4) as u64,
                    msg: format!(
                        "{} has unknown value type {other} (known value types are 0..=12)",
                        what()
                    ),
                });
            }
        })
    }
}

/// Initial capacity for a count read from the file: counts are already bounded by the bytes
/// left, but a corrupted count should not reserve many times the file size up front.
fn capped(count: u64) -> usize {
    count.min(1 << 16) as usize
}

fn magic_hint(bytes: &[u8]) -> String {
    if bytes.starts_with(b"version https://git-lfs") {
        " — this is a git-lfs pointer, not the model; fetch the real file".into()
    } else if bytes.starts_with(b"PK") {
        " — this is a zip archive (a wheel?); extract the .gguf from it".into()
    } else if bytes.starts_with(b"<") {
        " — this looks like an HTML/XML page, not a model".into()
    } else {
        String::new()
    }
}

impl Gguf {
    /// Reads and parses a GGUF file (the whole file is kept in memory).
    pub fn open(path: &Path) -> Result<Gguf, GgufError> {
        let bytes = std::fs::read(path).map_err(|source| GgufError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Gguf::parse(bytes)
    }

    /// Parses GGUF bytes, validating the header and every tensor's data range.
    pub fn parse(bytes: Vec<u8>) -> Result<Gguf, GgufError> {
        let mut r = Reader {
            buf: &bytes,
            pos: 0,
        };
        let magic: [u8; 4] = r.array(&|| "magic".into())?;
        if magic != GGUF_MAGIC {
            return Err(GgufError::BadMagic {
                found: String::from_utf8_lossy(&magic).into_owned(),
                hint: magic_hint(&bytes),
            });
        }
        let version = r.u32(&|| "version".into())?;
        if version != 2 && version != 3 {
            let hint = if version.swap_bytes() == 2 || version.swap_bytes() == 3 {
                " — this is a big-endian GGUF; only little-endian files are supported".to_string()
            } else if version == 1 {
                " — GGUF v1 is obsolete; convert the model again with a current llama.cpp"
                    .to_string()
            } else {
                String::new()
            };
            return Err(GgufError::UnsupportedVersion { version, hint });
        }
        let n_tensors_at = r.pos as u64;
        let n_tensors = r.u64(&|| "tensor count".into())?;
        let n_meta_at = r.pos as u64;
        let n_meta = r.u64(&|| "metadata count".into())?;
        // A key/value needs ≥ 8 (key length) + 4 (type) + 1 bytes; a tensor info ≥ 8 + 4 + 4 + 8.
        if n_meta.checked_mul(13).is_none_or(|b| b > r.remaining()) {
            return Err(GgufError::Format {
                offset: n_meta_at,
                msg: format!(
                    "metadata count {n_meta} is impossible: only {} bytes remain — corrupted header or truncated file",
                    r.remaining()
                ),
            });
        }
        if n_tensors.checked_mul(24).is_none_or(|b| b > r.remaining()) {
            return Err(GgufError::Format {
                offset: n_tensors_at,
                msg: format!(
                    "tensor count {n_tensors} is impossible: only {} bytes remain — corrupted header or truncated file",
                    r.remaining()
                ),
            });
        }

        let mut metadata = Vec::with_capacity(capped(n_meta));
        let mut meta_index = HashMap::with_capacity(capped(n_meta));
        for i in 0..n_meta {
            let key_at = r.pos as u64;
            let key = r.string(&|| format!("key of metadata entry {i}"))?;
            let vt = r.u32(&|| format!("value type of metadata key `{key}`"))?;
            let value = r.value(vt, 0, &|| format!("metadata key `{key}`"))?;
            if meta_index.insert(key.clone(), metadata.len()).is_some() {
                return Err(GgufError::Format {
                    offset: key_at,
                    msg: format!("duplicate metadata key `{key}`"),
                });
            }
            metadata.push((key, value));
        }

        let alignment = match meta_index.get("general.alignment").map(|&i| &metadata[i].1) {
            None => DEFAULT_ALIGNMENT,
            Some(v) => match v.as_int() {
                Some(a) if a > 0 && a <= (1 << 30) && (a as u64).is_power_of_two() => a as u64,
                _ => {
                    return Err(GgufError::Format {
                        offset: 0,
                        msg: format!(
                            "general.alignment is {v:?}; it must be a power-of-two integer (usually 32)"
                        ),
                    });
                }
            },
        };

        let mut tensors = Vec::with_capacity(capped(n_tensors));
        let mut tensor_index = HashMap::with_capacity(capped(n_tensors));
        let mut info_offsets = Vec::with_capacity(capped(n_tensors));
        for i in 0..n_tensors {
            let info_at = r.pos as u64;
            let name = r.string(&|| format!("name of tensor info {i}"))?;
            let nd_at = r.pos as u64;
            let n_dims = r.u32(&|| format!("n_dims of tensor `{name}`"))?;
            if n_dims > MAX_DIMS {
                return Err(GgufError::Format {
                    offset: nd_at,
                    msg: format!(
                        "tensor `{name}` has n_dims = {n_dims} (at most {MAX_DIMS} allowed) — corrupted header"
                    ),
                });
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for d in 0..n_dims {
                let at = r.pos as u64;
                let v = r.u64(&|| format!("dim {d} of tensor `{name}`"))?;
                if v > i64::MAX as u64 {
                    return Err(GgufError::Format {
                        offset: at,
                        msg: format!(
                            "tensor `{name}` dim {d} is {v} (negative as ggml's int64) — corrupted header"
                        ),
                    });
                }
                dims.push(v);
            }
            let ty = GgmlType::from_id(r.u32(&|| format!("type of tensor `{name}`"))?);
            let offset = r.u64(&|| format!("data offset of tensor `{name}`"))?;
            if tensor_index.insert(name.clone(), tensors.len()).is_some() {
                return Err(GgufError::Format {
                    offset: info_at,
                    msg: format!(
                        "duplicate tensor name `{name}` — the file is corrupted or was written incorrectly"
                    ),
                });
            }
            info_offsets.push(info_at);
            tensors.push(TensorInfo {
                name,
                dims,
                ty,
                offset,
            });
        }

        let header_end = r.pos as u64;
        let data_offset = header_end.div_ceil(alignment) * alignment;
        let file_len = bytes.len() as u64;
        if data_offset > file_len && !tensors.is_empty() {
            return Err(GgufError::Truncated {
                offset: header_end,
                what: format!("padding to the data section (alignment {alignment})"),
                needed: data_offset - header_end,
                available: file_len - header_end,
                file_len,
            });
        }
        let data_len = file_len.saturating_sub(data_offset);

        // Validate each tensor's data range; collect ranges to detect overlaps.
        let mut ranges: Vec<(u64, u64, usize)> = Vec::with_capacity(tensors.len());
        for (i, t) in tensors.iter().enumerate() {
            let err = |msg: String| GgufError::Tensor {
                name: t.name.clone(),
                msg,
            };
            let n = t.dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
            match n {
                Some(n) if usize::try_from(n).is_ok() => {}
                _ => {
                    return Err(err(format!(
                        "dims {:?} give an element count that does not fit in memory",
                        t.dims
                    )));
                }
            }
            if !t.offset.is_multiple_of(alignment) {
                return Err(err(format!(
                    "data offset {} (tensor info at byte {}) is not a multiple of the alignment {alignment} — corrupted header",
                    t.offset, info_offsets[i]
                )));
            }
            if t.ty.block_size().is_none() {
                // Unknown type id: size unknown, cannot check its range. tensor_f32 refuses it.
                continue;
            }
            let size = tensor_byte_size(&t.dims, t.ty).map_err(err)?;
            let end = t.offset.checked_add(size);
            match end {
                Some(end) if end <= data_len => ranges.push((t.offset, end, i)),
                _ => {
                    return Err(err(format!(
                        "data [{}, {}+{size}) relative to the data section at byte {data_offset} lies outside the file \
                         ({data_len} data bytes) — the file is truncated or corrupted; fetch it again",
                        t.offset, t.offset
                    )));
                }
            }
        }
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(GgufError::Tensor {
                    name: tensors[w[1].2].name.clone(),
                    msg: format!(
                        "data at offset {} overlaps tensor `{}` ([{}, {})) — corrupted header",
                        w[1].0, tensors[w[0].2].name, w[0].0, w[0].1
                    ),
                });
            }
        }

        Ok(Gguf {
            bytes,
            version,
            metadata,
            meta_index,
            tensors,
            tensor_index,
            alignment,
            data_offset,
        })
    }

    /// GGUF version (2 or 3).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Alignment of the data section and tensors.
    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    /// Byte offset of the data section in the file.
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    /// Length of the file in bytes.
    pub fn file_len(&self) -> usize {
        self.bytes.len()
    }

    /// All metadata in file order.
    pub fn metadata(&self) -> &[(String, MetaValue)] {
        &self.metadata
    }

    /// The value of a metadata key, if present.
    pub fn meta(&self, key: &str) -> Option<&MetaValue> {
        self.meta_index.get(key).map(|&i| &self.metadata[i].1)
    }

    /// The value of a metadata key, or a [`GgufError::MissingKey`] naming it.
    pub fn meta_required(&self, key: &str) -> Result<&MetaValue, GgufError> {
        self.meta(key).ok_or_else(|| GgufError::MissingKey {
            key: key.to_string(),
            hint: match key.split_once('.') {
                Some((prefix, _)) if prefix != "general" && prefix != "tokenizer" => {
                    " (the model's architecture prefix may differ: check `general.architecture`)"
                        .to_string()
                }
                _ => String::new(),
            },
        })
    }

    fn wrong(key: &str, expected: &str, v: &MetaValue) -> GgufError {
        GgufError::WrongType {
            key: key.to_string(),
            expected: expected.to_string(),
            found: match v.as_int() {
                Some(i) => format!("{} {i}", v.type_desc()),
                None => v.type_desc(),
            },
        }
    }

    fn meta_int<T: TryFrom<i128>>(&self, key: &str, expected: &str) -> Result<T, GgufError> {
        let v = self.meta_required(key)?;
        v.as_int()
            .and_then(|i| T::try_from(i).ok())
            .ok_or_else(|| Self::wrong(key, expected, v))
    }

    /// An integer value (any integer type) that fits in `u32`.
    pub fn meta_u32(&self, key: &str) -> Result<u32, GgufError> {
        self.meta_int(key, "an integer that fits in u32")
    }

    /// An integer value (any integer type) that fits in `u64`.
    pub fn meta_u64(&self, key: &str) -> Result<u64, GgufError> {
        self.meta_int(key, "an integer that fits in u64")
    }

    /// An integer value (any integer type) that fits in `i64`.
    pub fn meta_i64(&self, key: &str) -> Result<i64, GgufError> {
        self.meta_int(key, "an integer that fits in i64")
    }

    /// An integer value (any integer type) that fits in `usize`.
    pub fn meta_usize(&self, key: &str) -> Result<usize, GgufError> {
        self.meta_int(key, "an integer that fits in usize")
    }

    /// A float value (F32, or F64 narrowed to f32).
    pub fn meta_f32(&self, key: &str) -> Result<f32, GgufError> {
        let v = self.meta_required(key)?;
        v.as_float()
            .map(|f| f as f32)
            .ok_or_else(|| Self::wrong(key, "f32", v))
    }

    /// A bool value.
    pub fn meta_bool(&self, key: &str) -> Result<bool, GgufError> {
        match self.meta_required(key)? {
            MetaValue::Bool(b) => Ok(*b),
            v => Err(Self::wrong(key, "bool", v)),
        }
    }

    /// A string value.
    pub fn meta_str(&self, key: &str) -> Result<&str, GgufError> {
        let v = self.meta_required(key)?;
        v.as_str().ok_or_else(|| Self::wrong(key, "string", v))
    }

    /// An array value (elements of any type).
    pub fn meta_array(&self, key: &str) -> Result<&[MetaValue], GgufError> {
        let v = self.meta_required(key)?;
        v.as_array().ok_or_else(|| Self::wrong(key, "array", v))
    }

    /// An array of strings.
    pub fn meta_str_array(&self, key: &str) -> Result<Vec<&str>, GgufError> {
        let v = self.meta_required(key)?;
        let items = v
            .as_array()
            .ok_or_else(|| Self::wrong(key, "array of string", v))?;
        items
            .iter()
            .map(|x| {
                x.as_str()
                    .ok_or_else(|| Self::wrong(key, "array of string", v))
            })
            .collect()
    }

    fn meta_int_array<T: TryFrom<i128>>(
        &self,
        key: &str,
        expected: &str,
    ) -> Result<Vec<T>, GgufError> {
        let v = self.meta_required(key)?;
        let items = v.as_array().ok_or_else(|| Self::wrong(key, expected, v))?;
        items
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_int()
                    .and_then(|n| T::try_from(n).ok())
                    .ok_or_else(|| GgufError::WrongType {
                        key: key.to_string(),
                        expected: expected.to_string(),
                        found: format!("{} with element {i} = {x:?}", v.type_desc()),
                    })
            })
            .collect()
    }

    /// An array of integers (any integer element type) that fit in `i32`.
    pub fn meta_i32_array(&self, key: &str) -> Result<Vec<i32>, GgufError> {
        self.meta_int_array(key, "array of integers that fit in i32")
    }

    /// An array of integers (any integer element type) that fit in `u32`.
    pub fn meta_u32_array(&self, key: &str) -> Result<Vec<u32>, GgufError> {
        self.meta_int_array(key, "array of integers that fit in u32")
    }

    /// An array of floats (F32 or F64 elements).
    pub fn meta_f32_array(&self, key: &str) -> Result<Vec<f32>, GgufError> {
        let v = self.meta_required(key)?;
        let items = v
            .as_array()
            .ok_or_else(|| Self::wrong(key, "array of f32", v))?;
        items
            .iter()
            .map(|x| {
                x.as_float()
                    .map(|f| f as f32)
                    .ok_or_else(|| Self::wrong(key, "array of f32", v))
            })
            .collect()
    }

    /// All tensor infos in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The info of a tensor, if present.
    pub fn tensor_info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensor_index.get(name).map(|&i| &self.tensors[i])
    }

    fn tensor_required(&self, name: &str) -> Result<&TensorInfo, GgufError> {
        self.tensor_info(name)
            .ok_or_else(|| GgufError::MissingTensor {
                name: name.to_string(),
                count: self.tensors.len(),
                examples: self
                    .tensors
                    .iter()
                    .take(4)
                    .map(|t| format!("`{}`", t.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The raw (still quantized) bytes of a tensor. Errors for unknown type ids, whose size is unknown.
    pub fn tensor_bytes(&self, name: &str) -> Result<&[u8], GgufError> {
        let t = self.tensor_required(name)?;
        let size = tensor_byte_size(&t.dims, t.ty).map_err(|_| GgufError::UnsupportedType {
            name: t.name.clone(),
            type_name: t.ty.name().to_string(),
            type_id: t.ty.id(),
        })?;
        // Range validated in `parse`.
        let start = (self.data_offset + t.offset) as usize;
        Ok(&self.bytes[start..start + size as usize])
    }

    /// Dequantizes a tensor to `f32`; returns (row-major shape, values).
    pub fn tensor_f32(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>), GgufError> {
        let t = self.tensor_required(name)?;
        if !t.ty.is_supported() {
            return Err(GgufError::UnsupportedType {
                name: t.name.clone(),
                type_name: t.ty.name().to_string(),
                type_id: t.ty.id(),
            });
        }
        let raw = self.tensor_bytes(name)?;
        let n = t.n_elements() as usize;
        let mut out = vec![0f32; n];
        dequantize_into(t.ty, raw, &mut out).map_err(|msg| GgufError::Tensor {
            name: t.name.clone(),
            msg,
        })?;
        Ok((t.shape(), out))
    }
}

/// Dequantizes `raw` bytes of type `ty` into `out` (whose length is the element count).
/// Errors (instead of panicking) when the byte length does not match.
pub fn dequantize_into(ty: GgmlType, raw: &[u8], out: &mut [f32]) -> Result<(), String> {
    let n = out.len();
    let expect = |bytes_per: usize, per: usize| -> Result<(), String> {
        if !n.is_multiple_of(per) || raw.len() != n / per * bytes_per {
            Err(format!(
                "{} data of {} bytes does not hold {n} values ({bytes_per} bytes per {per} values)",
                ty.name(),
                raw.len()
            ))
        } else {
            Ok(())
        }
    };
    match ty {
        GgmlType::F32 => {
            expect(4, 1)?;
            for (o, c) in out.iter_mut().zip(raw.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        GgmlType::F16 => {
            expect(2, 1)?;
            for (o, c) in out.iter_mut().zip(raw.chunks_exact(2)) {
                *o = f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32();
            }
        }
        GgmlType::Q4_1 => {
            expect(Q4_1_BLOCK_BYTES, QK)?;
            for (o, b) in out
                .chunks_exact_mut(QK)
                .zip(raw.chunks_exact(Q4_1_BLOCK_BYTES))
            {
                let b: &[u8; Q4_1_BLOCK_BYTES] = b.try_into().expect("chunk of exact size");
                let o: &mut [f32; QK] = o.try_into().expect("chunk of exact size");
                let d = f16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32();
                let m = f16::from_bits(u16::from_le_bytes([b[2], b[3]])).to_f32();
                let qs = &b[4..];
                let (lo, hi) = o.split_at_mut(QK / 2);
                for j in 0..QK / 2 {
                    lo[j] = (qs[j] & 0x0F) as f32 * d + m;
                    hi[j] = (qs[j] >> 4) as f32 * d + m;
                }
            }
        }
        GgmlType::Q8_0 => {
            expect(Q8_0_BLOCK_BYTES, QK)?;
            for (o, b) in out
                .chunks_exact_mut(QK)
                .zip(raw.chunks_exact(Q8_0_BLOCK_BYTES))
            {
                let b: &[u8; Q8_0_BLOCK_BYTES] = b.try_into().expect("chunk of exact size");
                let o: &mut [f32; QK] = o.try_into().expect("chunk of exact size");
                let d = f16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32();
                for j in 0..QK {
                    o[j] = (b[2 + j] as i8) as f32 * d;
                }
            }
        }
        GgmlType::Other(_) => {
            return Err(format!(
                "type {ty} cannot be dequantized (supported: F32, F16, Q4_1, Q8_0)"
            ));
        }
    }
    Ok(())
}

/// Quantizes to Q8_0 (llama.cpp reference: `d = amax/127`, `q = round(x/d)`), 34 bytes per 32 values.
/// Errors if `x.len()` is not a multiple of 32.
pub fn quantize_q8_0(x: &[f32]) -> Result<Vec<u8>, GgufError> {
    if !x.len().is_multiple_of(QK) {
        return Err(GgufError::Writer(format!(
            "Q8_0 needs a multiple of {QK} values, got {}",
            x.len()
        )));
    }
    let mut out = Vec::with_capacity(x.len() / QK * Q8_0_BLOCK_BYTES);
    for blk in x.chunks_exact(QK) {
        let amax = blk.iter().fold(0f32, |a, v| a.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_bits().to_le_bytes());
        for &v in blk {
            out.push(((v * id).round() as i32).clamp(-128, 127) as i8 as u8);
        }
    }
    Ok(out)
}

/// Quantizes to Q4_1 (llama.cpp reference: `d = (max−min)/15`, `m = min`,
/// `q = round((x−m)/d)` clamped to 0..=15), 20 bytes per 32 values.
/// Errors if `x.len()` is not a multiple of 32.
pub fn quantize_q4_1(x: &[f32]) -> Result<Vec<u8>, GgufError> {
    if !x.len().is_multiple_of(QK) {
        return Err(GgufError::Writer(format!(
            "Q4_1 needs a multiple of {QK} values, got {}",
            x.len()
        )));
    }
    let mut out = Vec::with_capacity(x.len() / QK * Q4_1_BLOCK_BYTES);
    for blk in x.chunks_exact(QK) {
        let min = blk.iter().fold(f32::INFINITY, |a, &v| a.min(v));
        let max = blk.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
        let d = (max - min) / 15.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_bits().to_le_bytes());
        out.extend_from_slice(&f16::from_f32(min).to_bits().to_le_bytes());
        for j in 0..QK / 2 {
            let q0 = (((blk[j] - min) * id).round() as i32).clamp(0, 15) as u8;
            let q1 = (((blk[j + QK / 2] - min) * id).round() as i32).clamp(0, 15) as u8;
            out.push(q0 | (q1 << 4));
        }
    }
    Ok(out)
}

/// Builds GGUF files (for tests and synthetic models).
#[derive(Clone, Debug, Default)]
pub struct GgufWriter {
    version: u32,
    metadata: Vec<(String, MetaValue)>,
    tensors: Vec<(String, Vec<u64>, u32, Vec<u8>)>,
}

impl GgufWriter {
    /// An empty GGUF v3 writer.
    pub fn new() -> GgufWriter {
        GgufWriter {
            version: 3,
            ..Default::default()
        }
    }

    /// Sets the version written in the header (the reader accepts 2 and 3).
    pub fn set_version(&mut self, version: u32) -> &mut Self {
        self.version = version;
        self
    }

    /// Appends a metadata entry. A `general.alignment` entry sets the alignment used by
    /// [`GgufWriter::to_bytes`].
    pub fn add_meta(&mut self, key: &str, value: MetaValue) -> &mut Self {
        self.metadata.push((key.to_string(), value));
        self
    }

    /// Appends an `f32` tensor given in row-major `shape` (outermost first), stored as `ty`
    /// (F32, F16, Q4_1 or Q8_0; quantized types need a row length that is a multiple of 32).
    pub fn add_f32_tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        data: &[f32],
        ty: GgmlType,
    ) -> Result<&mut Self, GgufError> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(GgufError::Writer(format!(
                "tensor `{name}`: shape {shape:?} has {n} elements but {} values were given",
                data.len()
            )));
        }
        if shape.len() > MAX_DIMS as usize {
            return Err(GgufError::Writer(format!(
                "tensor `{name}`: {} dims (at most {MAX_DIMS})",
                shape.len()
            )));
        }
        let row = shape.last().copied().unwrap_or(1);
        let bytes = match ty {
            GgmlType::F32 => data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            GgmlType::F16 => data
                .iter()
                .flat_map(|v| f16::from_f32(*v).to_bits().to_le_bytes())
                .collect(),
            GgmlType::Q4_1 | GgmlType::Q8_0 => {
                if !row.is_multiple_of(QK) {
                    return Err(GgufError::Writer(format!(
                        "tensor `{name}`: row length {row} is not a multiple of {QK}, required by {}",
                        ty.name()
                    )));
                }
                if ty == GgmlType::Q4_1 {
                    quantize_q4_1(data)?
                } else {
                    quantize_q8_0(data)?
                }
            }
            GgmlType::Other(_) => {
                return Err(GgufError::Writer(format!(
                    "tensor `{name}`: cannot quantize to {ty}; use add_raw_tensor"
                )));
            }
        };
        let dims = shape.iter().rev().map(|&d| d as u64).collect();
        self.push_tensor(name, dims, ty.id(), bytes)
    }

    /// Appends a tensor with raw, already encoded data: `dims` in GGUF order (ne0 first),
    /// any type id (unsupported ones included, for tests). The byte length is not checked
    /// here so that malformed files can be produced; the reader checks it.
    pub fn add_raw_tensor(
        &mut self,
        name: &str,
        dims: &[u64],
        type_id: u32,
        bytes: Vec<u8>,
    ) -> Result<&mut Self, GgufError> {
        self.push_tensor(name, dims.to_vec(), type_id, bytes)
    }

    fn push_tensor(
        &mut self,
        name: &str,
        dims: Vec<u64>,
        ty: u32,
        bytes: Vec<u8>,
    ) -> Result<&mut Self, GgufError> {
        if self.tensors.iter().any(|t| t.0 == name) {
            return Err(GgufError::Writer(format!("duplicate tensor name `{name}`")));
        }
        self.tensors.push((name.to_string(), dims, ty, bytes));
        Ok(self)
    }

    fn alignment(&self) -> Result<u64, GgufError> {
        match self.metadata.iter().find(|(k, _)| k == "general.alignment") {
            None => Ok(DEFAULT_ALIGNMENT),
            Some((_, v)) => match v.as_int() {
                Some(a) if a > 0 && (a as u64).is_power_of_two() => Ok(a as u64),
                _ => Err(GgufError::Writer(format!(
                    "general.alignment {v:?} is not a power-of-two integer"
                ))),
            },
        }
    }

    /// Encodes the file.
    pub fn to_bytes(&self) -> Result<Vec<u8>, GgufError> {
        let alignment = self.alignment()?;
        let mut out = Vec::new();
        out.extend_from_slice(&GGUF_MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.metadata.len() as u64).to_le_bytes());
        for (k, v) in &self.metadata {
            write_str(&mut out, k);
            out.extend_from_slice(&v.type_id().to_le_bytes());
            write_value(&mut out, v, k)?;
        }
        let mut offset = 0u64;
        let mut offsets = Vec::with_capacity(self.tensors.len());
        for (name, dims, ty, bytes) in &self.tensors {
            write_str(&mut out, name);
            out.extend_from_slice(&(dims.len() as u32).to_le_bytes());
            for d in dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.extend_from_slice(&ty.to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
            offsets.push(offset);
            offset = (offset + bytes.len() as u64).div_ceil(alignment) * alignment;
        }
        let pad = |out: &mut Vec<u8>| {
            let len = out.len() as u64;
            out.resize((len.div_ceil(alignment) * alignment) as usize, 0);
        };
        pad(&mut out);
        let data_start = out.len();
        for ((_, _, _, bytes), off) in self.tensors.iter().zip(offsets) {
            out.resize(data_start + off as usize, 0);
            out.extend_from_slice(bytes);
        }
        if !self.tensors.is_empty() {
            pad(&mut out);
        }
        Ok(out)
    }

    /// Encodes the file and writes it to `path`.
    pub fn write(&self, path: &Path) -> Result<(), GgufError> {
        let bytes = self.to_bytes()?;
        std::fs::write(path, bytes).map_err(|source| GgufError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn write_value(out: &mut Vec<u8>, v: &MetaValue, key: &str) -> Result<(), GgufError> {
    match v {
        MetaValue::U8(x) => out.push(*x),
        MetaValue::I8(x) => out.push(*x as u8),
        MetaValue::U16(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::I16(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::I32(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::U64(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::I64(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::F32(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::F64(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::Bool(x) => out.push(u8::from(*x)),
        MetaValue::String(s) => write_str(out, s),
        MetaValue::Array(items) => {
            // Empty arrays are written with element type u8 (the type is not representable).
            let et = items.first().map_or(VT_U8, MetaValue::type_id);
            if let Some(bad) = items.iter().position(|x| x.type_id() != et) {
                return Err(GgufError::Writer(format!(
                    "metadata `{key}`: array elements must share one type; element 0 is {} but element {bad} is {}",
                    value_type_name(et),
                    items[bad].type_desc()
                )));
            }
            out.extend_from_slice(&et.to_le_bytes());
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for x in items {
                write_value(out, x, key)?;
            }
        }
    }
    Ok(())
}
