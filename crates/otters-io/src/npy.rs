//! `.npy` reader (NumPy format versions 1–3) that trusts nothing in the file: the header
//! is parsed strictly, the element count and byte size it claims are computed with checked
//! arithmetic and compared with the file's length *before* anything is allocated, and the
//! data must end exactly where the file does. Every error names the byte offset.
//!
//! (ndarray-npy aborts the process on a tiny file whose header claims 2⁴⁰ elements, and
//! npyz ignores trailing bytes; see RELIABILITY.md §D.)

/// A decoded array: its shape and its values in row-major (C) order, as `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape from the header.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f64>,
    /// The stored dtype when it was not `f64` (e.g. `"int64"`), for a note to the user.
    pub converted_from: Option<&'static str>,
}

const MAGIC: &[u8] = b"\x93NUMPY";
/// Integers beyond 2⁵³ do not round-trip through f64.
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Float,
    Int,
    Uint,
    Bool,
}

#[derive(Debug, Clone, Copy)]
struct Dtype {
    kind: Kind,
    size: usize,
    big_endian: bool,
}

impl Dtype {
    fn parse(descr: &str) -> Result<Self, String> {
        let bytes = descr.as_bytes();
        if bytes.len() < 3 {
            return Err(format!("unsupported dtype '{descr}'"));
        }
        let big_endian = match bytes[0] {
            b'<' | b'|' | b'=' => false,
            b'>' => true,
            _ => return Err(format!("unsupported dtype '{descr}' (unknown byte order)")),
        };
        let size: usize = descr[2..]
            .parse()
            .map_err(|_| format!("unsupported dtype '{descr}'"))?;
        let kind = match (bytes[1], size) {
            (b'f', 4 | 8) => Kind::Float,
            (b'f', 2) => {
                return Err(
                    "float16 ('<f2') is not supported; convert to float32 or float64".into(),
                );
            }
            (b'i', 1 | 2 | 4 | 8) => Kind::Int,
            (b'u', 1 | 2 | 4 | 8) => Kind::Uint,
            (b'b', 1) => Kind::Bool,
            (b'c', _) => return Err(format!("complex dtype '{descr}' is not supported")),
            (b'O', _) => {
                return Err("object arrays ('|O') are refused (they would need unpickling)".into());
            }
            _ => return Err(format!("unsupported dtype '{descr}'")),
        };
        Ok(Dtype {
            kind,
            size,
            big_endian,
        })
    }

    fn name(&self) -> &'static str {
        match (self.kind, self.size) {
            (Kind::Float, 4) => "float32",
            (Kind::Float, _) => "float64",
            (Kind::Int, 1) => "int8",
            (Kind::Int, 2) => "int16",
            (Kind::Int, 4) => "int32",
            (Kind::Int, _) => "int64",
            (Kind::Uint, 1) => "uint8",
            (Kind::Uint, 2) => "uint16",
            (Kind::Uint, 4) => "uint32",
            (Kind::Uint, _) => "uint64",
            (Kind::Bool, _) => "bool",
        }
    }

    fn decode(&self, raw: &[u8]) -> f64 {
        let mut buf = [0u8; 8];
        let chunk = &mut buf[..self.size];
        chunk.copy_from_slice(raw);
        if self.big_endian {
            chunk.reverse();
        }
        match (self.kind, self.size) {
            (Kind::Float, 4) => f32::from_le_bytes(buf[..4].try_into().expect("4 bytes")) as f64,
            (Kind::Float, _) => f64::from_le_bytes(buf),
            (Kind::Int, 1) => buf[0] as i8 as f64,
            (Kind::Int, 2) => i16::from_le_bytes([buf[0], buf[1]]) as f64,
            (Kind::Int, 4) => i32::from_le_bytes(buf[..4].try_into().expect("4 bytes")) as f64,
            (Kind::Int, _) => i64::from_le_bytes(buf) as f64,
            (Kind::Uint, 1) | (Kind::Bool, _) => buf[0] as f64,
            (Kind::Uint, 2) => u16::from_le_bytes([buf[0], buf[1]]) as f64,
            (Kind::Uint, 4) => u32::from_le_bytes(buf[..4].try_into().expect("4 bytes")) as f64,
            (Kind::Uint, _) => u64::from_le_bytes(buf) as f64,
        }
    }
}

/// The `{'descr': ..., 'fortran_order': ..., 'shape': (...)}` dictionary.
struct Header {
    dtype: Dtype,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// A tiny parser for the Python literal of the header: strings, booleans, integer tuples.
struct Literal<'a> {
    text: &'a str,
    pos: usize,
    /// Byte offset of the header text in the file, for error messages.
    base: usize,
}

enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

impl<'a> Literal<'a> {
    fn error(&self, what: &str) -> String {
        format!("invalid header at byte {}: {what}", self.base + self.pos)
    }

    fn skip_space(&mut self) {
        while self.text[self.pos..].starts_with([' ', '\t', '\n', '\r']) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.text[self.pos..].starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{c}'")))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.skip_space();
        let quote = match self.text[self.pos..].chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => return Err(self.error("expected a quoted string")),
        };
        self.pos += 1;
        let end = self.text[self.pos..]
            .find(quote)
            .ok_or_else(|| self.error("unterminated string"))?;
        let s = self.text[self.pos..self.pos + end].to_string();
        self.pos += end + 1;
        Ok(s)
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_space();
        let rest = &self.text[self.pos..];
        if rest.starts_with(['\'', '"']) {
            return self.string().map(Value::Str);
        }
        if rest.starts_with("True") {
            self.pos += 4;
            return Ok(Value::Bool(true));
        }
        if rest.starts_with("False") {
            self.pos += 5;
            return Ok(Value::Bool(false));
        }
        if self.eat('(') {
            let mut dims = Vec::new();
            loop {
                if self.eat(')') {
                    return Ok(Value::Tuple(dims));
                }
                self.skip_space();
                let digits = self.text[self.pos..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                if digits == 0 {
                    return Err(self.error("expected a non-negative integer dimension"));
                }
                let dim = self.text[self.pos..self.pos + digits]
                    .parse::<usize>()
                    .map_err(|_| self.error("dimension too large"))?;
                self.pos += digits;
                // Python may write `3L` for longs in old files.
                let _ = self.eat('L');
                dims.push(dim);
                if !self.eat(',') {
                    self.expect(')')?;
                    return Ok(Value::Tuple(dims));
                }
            }
        }
        Err(self.error("expected a string, True/False or a tuple"))
    }

    fn header(&mut self) -> Result<Header, String> {
        self.expect('{')?;
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        loop {
            if self.eat('}') {
                break;
            }
            let key = self.string()?;
            self.expect(':')?;
            let value = self.value()?;
            match (key.as_str(), value) {
                ("descr", Value::Str(s)) => descr = Some(s),
                ("fortran_order", Value::Bool(b)) => fortran = Some(b),
                ("shape", Value::Tuple(t)) => shape = Some(t),
                (k @ ("descr" | "fortran_order" | "shape"), _) => {
                    return Err(self.error(&format!("wrong type for '{k}'")));
                }
                (k, _) => return Err(self.error(&format!("unknown key '{k}'"))),
            }
            if !self.eat(',') {
                self.expect('}')?;
                break;
            }
        }
        let descr = descr.ok_or_else(|| self.error("missing 'descr'"))?;
        Ok(Header {
            dtype: Dtype::parse(&descr)?,
            fortran_order: fortran.ok_or_else(|| self.error("missing 'fortran_order'"))?,
            shape: shape.ok_or_else(|| self.error("missing 'shape'"))?,
        })
    }
}

/// Decodes a whole `.npy` file held in memory.
///
/// # Errors
/// A message with the byte offset for any malformed, truncated, oversized or unsupported
/// content.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (bad magic bytes at byte 0)".into());
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len_bytes, start) = match major {
        1 => (2, 10),
        2 | 3 => (4, 12),
        _ => {
            return Err(format!(
                "unsupported .npy version {major}.{minor} at byte 6"
            ));
        }
    };
    if bytes.len() < start {
        return Err(format!(
            "file ends at byte {} inside the header length",
            bytes.len()
        ));
    }
    let header_len = if len_bytes == 2 {
        u16::from_le_bytes([bytes[8], bytes[9]]) as usize
    } else {
        u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
    };
    let data_start = start
        .checked_add(header_len)
        .ok_or("header length overflows")?;
    if data_start > bytes.len() {
        return Err(format!(
            "header claims {header_len} bytes but the file ends at byte {}",
            bytes.len()
        ));
    }
    let raw_header = &bytes[start..data_start];
    let text = if major == 3 {
        std::str::from_utf8(raw_header)
            .map_err(|e| format!("header is not UTF-8 at byte {}", start + e.valid_up_to()))?
    } else {
        if let Some(p) = raw_header.iter().position(|b| !b.is_ascii()) {
            return Err(format!(
                "non-ASCII byte in the header at byte {}",
                start + p
            ));
        }
        std::str::from_utf8(raw_header).expect("ASCII is UTF-8")
    };
    let header = Literal {
        text,
        pos: 0,
        base: start,
    }
    .header()?;

    let count = header
        .shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or("the shape's element count overflows")?;
    let needed = count
        .checked_mul(header.dtype.size)
        .ok_or("the data size overflows")?;
    let available = bytes.len() - data_start;
    if needed > available {
        return Err(format!(
            "truncated: the header claims {count} elements ({needed} bytes) but only {available} bytes follow it (data starts at byte {data_start})"
        ));
    }
    if needed < available {
        return Err(format!(
            "{} trailing bytes after the data, from byte {}",
            available - needed,
            data_start + needed
        ));
    }

    let raw = &bytes[data_start..];
    let dtype = header.dtype;
    let mut data = Vec::with_capacity(count);
    for (k, chunk) in raw.chunks_exact(dtype.size).enumerate() {
        let v = dtype.decode(chunk);
        if matches!(dtype.kind, Kind::Int | Kind::Uint) && v.abs() > EXACT_INTEGER {
            return Err(format!(
                "{} value at element {k} is not exactly representable as float64",
                dtype.name()
            ));
        }
        data.push(v);
    }
    if header.fortran_order && header.shape.len() > 1 {
        data = fortran_to_c(&data, &header.shape);
    }
    let converted_from = (!(dtype.kind == Kind::Float && dtype.size == 8)).then(|| dtype.name());
    Ok(NpyArray {
        shape: header.shape,
        data,
        converted_from,
    })
}

/// Reorders column-major data into row-major order.
fn fortran_to_c(data: &[f64], shape: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; data.len()];
    let mut index = vec![0usize; shape.len()];
    for value in out.iter_mut() {
        // `index` walks the array in C order; its F-order offset has the first axis fastest.
        let mut offset = 0;
        for axis in (0..shape.len()).rev() {
            offset = offset * shape[axis] + index[axis];
        }
        *value = data[offset];
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    out
}

/// Encodes a row-major f64 array as `.npy` (version 1.0), for tests and small writers.
pub fn encode(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_text}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 8 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    data.iter()
        .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn round_trips_and_reads_what_numpy_writes() {
        let bytes = encode(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let a = parse(&bytes).unwrap();
        assert_eq!(
            (a.shape, a.data, a.converted_from),
            (vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], None)
        );
        let one_d = parse(&encode(&[3], &[1.0, 2.0, 3.0])).unwrap();
        assert_eq!(one_d.shape, vec![3]);
    }

    #[test]
    fn d6_d7_d8_dtypes_byte_orders_and_fortran_order() {
        let be: Vec<u8> = [1.5f64, -2.25]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let a = parse(&with_header(
            "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }\n",
            &be,
        ))
        .unwrap();
        assert_eq!(a.data, vec![1.5, -2.25]);
        let ints: Vec<u8> = [7i64, -3].iter().flat_map(|v| v.to_le_bytes()).collect();
        let a = parse(&with_header(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n",
            &ints,
        ))
        .unwrap();
        assert_eq!((a.data, a.converted_from), (vec![7.0, -3.0], Some("int64")));
        let big: Vec<u8> = [1i64 << 60].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert!(
            parse(&with_header(
                "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }\n",
                &big
            ))
            .unwrap_err()
            .contains("not exactly")
        );
        let f32s: Vec<u8> = [0.5f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            parse(&with_header(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n",
                &f32s
            ))
            .unwrap()
            .data,
            vec![0.5, 2.0]
        );
        let bools = parse(&with_header(
            "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }\n",
            &[1, 0],
        ))
        .unwrap();
        assert_eq!(bools.data, vec![1.0, 0.0]);
        for descr in ["<f2", "<c16", "|O", "<U4", "<m8"] {
            let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (0,), }}\n");
            assert!(parse(&with_header(&dict, &[])).is_err(), "{descr}");
        }
        // A non-symmetric 2×3 in Fortran order is the same logical array.
        let f: Vec<u8> = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse(&with_header(
            "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }\n",
            &f,
        ))
        .unwrap();
        assert_eq!(a.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn d1_to_d5_malformed_files_are_errors_with_offsets() {
        let good = encode(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        assert!(parse(&[]).unwrap_err().contains("magic"));
        assert!(
            parse(&good[..good.len() - 3])
                .unwrap_err()
                .contains("truncated")
        );
        let mut trailing = good.clone();
        trailing.extend_from_slice(&[0, 0]);
        assert!(parse(&trailing).unwrap_err().contains("trailing"));
        assert!(parse(&good[..20]).unwrap_err().contains("header claims"));
        // A 2⁴⁰-element claim in a tiny file: refused before any allocation.
        let huge = with_header(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }\n",
            &[0; 8],
        );
        assert!(parse(&huge).unwrap_err().contains("truncated"));
        let overflow = with_header(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (8589934592, 8589934592), }\n",
            &[],
        );
        assert!(parse(&overflow).unwrap_err().contains("overflows"));
        for (dict, fragment) in [
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }\n",
                "non-negative",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2.5,), }\n",
                "expected",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), \n",
                "expected",
            ),
            (
                "{'descr': '<f8', 'shape': (2,), }\n",
                "missing 'fortran_order'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 'x'}\n",
                "unknown key",
            ),
        ] {
            let err = parse(&with_header(dict, &[0; 16])).unwrap_err();
            assert!(
                err.contains(fragment) && err.contains("byte"),
                "{dict}: {err}"
            );
        }
        let mut version = good.clone();
        version[6] = 4;
        assert!(parse(&version).unwrap_err().contains("version 4"));
        let mut non_ascii = good.clone();
        non_ascii[15] = 0xC3;
        assert!(parse(&non_ascii).unwrap_err().contains("non-ASCII"));
    }
}
