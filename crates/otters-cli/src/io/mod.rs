//! Reading arrays from `.npy`, `.npz` and `.csv` files. The format is sniffed from the
//! content (magic bytes), never trusted from the extension; every error names the file.

pub mod output;

pub use otters_io::{csv_matrix, npy, npz};

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ndarray::{Array1, Array2};

/// Largest input file accepted (and largest array inflated from an archive).
pub const INPUT_LIMIT: usize = 2 << 30;

/// A file format, as found in the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// NumPy `.npy`.
    Npy,
    /// NumPy `.npz` (zip of `.npy`).
    Npz,
    /// Comma-separated text.
    Csv,
}

impl Format {
    fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"\x93NUMPY") {
            Format::Npy
        } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
            Format::Npz
        } else {
            Format::Csv
        }
    }

    fn from_extension(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "npy" => Some(Format::Npy),
            "npz" => Some(Format::Npz),
            "csv" | "txt" => Some(Format::Csv),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Npy => ".npy",
            Format::Npz => ".npz",
            Format::Csv => "CSV",
        }
    }
}

/// A file argument, `PATH` or `PATH.npz:NAME` for one array of an archive.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    /// The file.
    pub path: PathBuf,
    /// The array inside an `.npz`, if named.
    pub key: Option<String>,
}

impl InputSpec {
    /// Splits `PATH:NAME` when `PATH` names a file and the whole string does not.
    pub fn parse(text: &str) -> InputSpec {
        if !Path::new(text).exists()
            && let Some((path, key)) = text.rsplit_once(':')
            && !key.is_empty()
            && !key.contains(['/', '\\'])
        {
            return InputSpec {
                path: PathBuf::from(path),
                key: Some(key.to_string()),
            };
        }
        InputSpec {
            path: PathBuf::from(text),
            key: None,
        }
    }

    /// `PATH` or `PATH:NAME`, as errors and reports name the input.
    pub(crate) fn label(&self) -> String {
        match &self.key {
            Some(k) => format!("{}:{k}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

/// An array as read, before it is checked for a role.
#[derive(Debug, Clone)]
pub struct RawArray {
    /// Shape (1 or more dimensions).
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f64>,
    /// A note for the user, e.g. a dtype conversion.
    pub note: Option<String>,
}

/// Reads a file's bytes after checking it is a regular file within the size limit.
fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        bail!("reading from standard input is not supported; give a file");
    }
    let meta = fs::metadata(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    if meta.is_dir() {
        bail!("`{}` is a directory, not a file", path.display());
    }
    if !meta.is_file() {
        bail!(
            "`{}` is not a regular file (a FIFO or a device?)",
            path.display()
        );
    }
    if meta.len() > INPUT_LIMIT as u64 {
        bail!(
            "`{}` has {} bytes, above the input limit of {INPUT_LIMIT} bytes",
            path.display(),
            meta.len()
        );
    }
    fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))
}

/// Reads an array from `spec`, whatever its format.
///
/// # Errors
/// One line naming the file and what is wrong with it.
pub fn read_array(spec: &InputSpec) -> Result<RawArray> {
    let bytes = read_bytes(&spec.path)?;
    if bytes.is_empty() {
        bail!("`{}` is empty", spec.path.display());
    }
    let sniffed = Format::sniff(&bytes);
    // Binary magic bytes are conclusive; text is only "not binary", so a .npy or .npz name
    // on text goes to that format's parser, which says what is wrong with it.
    let format = match Format::from_extension(&spec.path) {
        Some(claimed) if claimed != sniffed && sniffed != Format::Csv => bail!(
            "`{}`: the name says {} but the content is {} (by its first bytes)",
            spec.path.display(),
            claimed.name(),
            sniffed.name()
        ),
        Some(claimed) => claimed,
        None => sniffed,
    };
    if spec.key.is_some() && format != Format::Npz {
        bail!(
            "`{}`: a :NAME suffix only applies to .npz archives",
            spec.label()
        );
    }
    let label = spec.label();
    match format {
        Format::Npy | Format::Npz => {
            let array = match format {
                Format::Npy => npy::parse(&bytes),
                _ => npz::read(&bytes, spec.key.as_deref(), INPUT_LIMIT),
            }
            .map_err(|e| anyhow::anyhow!("`{label}`: {e}"))?;
            let note = array
                .converted_from
                .map(|t| format!("`{label}`: converted {t} to float64"));
            Ok(RawArray {
                shape: array.shape,
                data: array.data,
                note,
            })
        }
        Format::Csv => {
            let m = csv_matrix::parse(&bytes).map_err(|e| anyhow::anyhow!("`{label}`: {e}"))?;
            Ok(RawArray {
                shape: vec![m.shape.0, m.shape.1],
                data: m.data,
                note: None,
            })
        }
    }
}

fn check_finite(label: &str, shape: &[usize], data: &[f64]) -> Result<()> {
    if let Some(k) = data.iter().position(|v| !v.is_finite()) {
        let cols = if shape.len() == 2 { shape[1].max(1) } else { 1 };
        let at = if shape.len() == 2 {
            format!("row {}, column {}", k / cols, k % cols)
        } else {
            format!("index {k}")
        };
        bail!("`{label}`: non-finite value {} at {at}", data[k]);
    }
    Ok(())
}

/// A 2-D array (`rows × cols`). With `allow_1d`, a 1-D array of length n is read as n × 1
/// (one-dimensional points).
///
/// # Errors
/// A shape other than 2-D (or 1-D when allowed), an empty dimension, or a non-finite value.
pub fn read_matrix(
    spec: &InputSpec,
    allow_1d: bool,
    allow_inf: bool,
) -> Result<(Array2<f64>, Option<String>)> {
    let raw = read_array(spec)?;
    let label = spec.label();
    let (rows, cols) = match raw.shape.as_slice() {
        [r, c] => (*r, *c),
        [n] if allow_1d => (*n, 1),
        other => bail!("`{label}`: expected a 2-D array, got shape {other:?}"),
    };
    if rows == 0 || cols == 0 {
        bail!("`{label}`: the array is empty (shape {rows} x {cols})");
    }
    if allow_inf {
        if let Some(k) = raw
            .data
            .iter()
            .position(|v| v.is_nan() || *v == f64::NEG_INFINITY)
        {
            bail!(
                "`{label}`: value {} at row {}, column {} (NaN and -inf are refused; +inf marks a forbidden pair)",
                raw.data[k],
                k / cols,
                k % cols
            );
        }
    } else {
        check_finite(&label, &[rows, cols], &raw.data)?;
    }
    let m = Array2::from_shape_vec((rows, cols), raw.data).expect("shape checked");
    Ok((m, raw.note))
}

/// A 1-D array (an `n × 1` or `1 × n` matrix is accepted too).
///
/// # Errors
/// Another shape, or a non-finite value.
pub fn read_vector(spec: &InputSpec) -> Result<(Array1<f64>, Option<String>)> {
    let raw = read_array(spec)?;
    let label = spec.label();
    match raw.shape.as_slice() {
        [_] => {}
        [1, _] | [_, 1] => {}
        other => bail!("`{label}`: expected a vector, got shape {other:?}"),
    }
    check_finite(&label, &raw.shape, &raw.data)?;
    Ok((Array1::from(raw.data), raw.note))
}
