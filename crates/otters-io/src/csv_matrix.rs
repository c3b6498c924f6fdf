//! Strict CSV matrix reader: every row has the same number of numeric cells, numbers are
//! finite decimal floats (no `nan`, `inf`, hex, decimal commas, or values that overflow to
//! infinity), and every error names the line and column. A UTF-8 BOM, CRLF line ends,
//! spaces around cells and blank lines are accepted; a first row with no numeric cell is a
//! header and is skipped.

/// A matrix read from CSV, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvMatrix {
    /// Rows and columns.
    pub shape: (usize, usize),
    /// The values, row-major.
    pub data: Vec<f64>,
    /// The header row, if one was detected.
    pub header: Option<Vec<String>>,
}

fn number(cell: &str, line: u64, column: usize) -> Result<f64, String> {
    let at = || format!("line {line}, column {column}");
    if cell.is_empty() {
        return Err(format!("{}: empty cell", at()));
    }
    let lower = cell.to_ascii_lowercase();
    if lower.contains("nan") || lower.contains("inf") {
        return Err(format!(
            "{}: '{cell}' is not a finite number (nan/inf are refused)",
            at()
        ));
    }
    if lower.starts_with("0x") || lower.starts_with("-0x") {
        return Err(format!(
            "{}: '{cell}' is hexadecimal, not a decimal number",
            at()
        ));
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("{}: '{cell}' overflows a 64-bit float", at())),
        Err(_) if cell.contains(',') => Err(format!(
            "{}: '{cell}' is not a number (a decimal comma? use '.')",
            at()
        )),
        Err(_) => Err(format!("{}: '{cell}' is not a number", at())),
    }
}

/// Parses CSV text.
///
/// # Errors
/// A message with the line and column of the first problem.
pub fn parse(bytes: &[u8]) -> Result<CsvMatrix, String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Err(format!(
                "not UTF-8 text (invalid byte at offset {}); is this a binary file?",
                e.valid_up_to()
            ));
        }
    };
    if text.contains('\0') {
        return Err("not a text file (contains NUL bytes)".into());
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let (mut data, mut cols, mut rows, mut header) = (Vec::new(), None, 0usize, None);
    for record in reader.records() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => format!(
                "line {}: expected {expected_len} fields, found {len} (ragged rows)",
                pos.as_ref().map_or(0, |p| p.line())
            ),
            _ => format!("malformed CSV: {e}"),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if rows == 0
            && header.is_none()
            && record
                .iter()
                .all(|c| !c.is_empty() && c.parse::<f64>().is_err())
        {
            header = Some(record.iter().map(str::to_string).collect());
            continue;
        }
        let width = *cols.get_or_insert(record.len());
        if record.len() != width {
            return Err(format!(
                "line {line}: expected {width} fields, found {}",
                record.len()
            ));
        }
        for (c, cell) in record.iter().enumerate() {
            data.push(number(cell, line, c + 1)?);
        }
        rows += 1;
    }
    let cols = cols.ok_or("no numeric rows")?;
    Ok(CsvMatrix {
        shape: (rows, cols),
        data,
        header,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d15_tolerated_formatting() {
        let m = parse("\u{feff}x, y\r\n1, 2\r\n3,4\r\n\r\n".as_bytes()).unwrap();
        assert_eq!((m.shape, m.data), ((2, 2), vec![1.0, 2.0, 3.0, 4.0]));
        assert_eq!(m.header, Some(vec!["x".to_string(), "y".to_string()]));
        assert_eq!(parse(b"1e-3,-2.5E2\n").unwrap().data, vec![1e-3, -250.0]);
    }

    #[test]
    fn d12_to_d14_and_d16_refusals_name_line_and_column() {
        let cases: [(&[u8], &str); 9] = [
            (b"1,2\n3\n", "line 2"),
            (b"1,2\n3,abc\n", "line 2, column 2"),
            (b"1,2\n3,\n", "empty cell"),
            (b"1,\"2,5\"\n", "decimal comma"),
            (b"0x1F,2\n", "hexadecimal"),
            (b"1,nan\n", "not a finite number"),
            (b"1,-inf\n", "not a finite number"),
            (b"1,1e400\n", "overflows"),
            (b"\xff\xfe1\x002\x00", "not UTF-8"),
        ];
        for (input, fragment) in cases {
            let err = parse(input).unwrap_err();
            assert!(
                err.contains(fragment),
                "{:?}: {err}",
                String::from_utf8_lossy(input)
            );
        }
        assert!(parse(b"").unwrap_err().contains("no numeric rows"));
    }
}
