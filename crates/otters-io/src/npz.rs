//! `.npz` reader: a zip archive of `.npy` members. The archive's entry count, each
//! member's declared size and the bytes actually inflated are all bounded, so a zip bomb
//! or an archive of a million entries is refused instead of exhausting memory.

use std::io::{Cursor, Read};

use super::npy::{self, NpyArray};

/// Most entries an archive may have.
pub const MAX_ENTRIES: usize = 1000;

/// The names of the arrays in an archive (member names without `.npy`).
///
/// # Errors
/// A message for a damaged archive or one with too many entries.
pub fn names(bytes: &[u8]) -> Result<Vec<String>, String> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a readable .npz (zip) archive: {e}"))?;
    if archive.len() > MAX_ENTRIES {
        return Err(format!(
            "archive has {} entries, more than the {MAX_ENTRIES} accepted",
            archive.len()
        ));
    }
    Ok(archive
        .file_names()
        .map(|n| n.strip_suffix(".npy").unwrap_or(n).to_string())
        .collect())
}

/// Reads the array `key` (or the only array, when `key` is `None`) with at most `limit`
/// inflated bytes.
///
/// # Errors
/// A message naming the missing key (and listing the available ones), or the problem with
/// the member.
pub fn read(bytes: &[u8], key: Option<&str>, limit: usize) -> Result<NpyArray, String> {
    let mut names = names(bytes)?;
    names.sort();
    let available = names.join(", ");
    let member = match key {
        Some(k) => {
            if !names.iter().any(|n| n == k) {
                return Err(format!(
                    "no array '{k}' in the archive (it has: {available})"
                ));
            }
            k.to_string()
        }
        None if names.len() == 1 => names[0].clone(),
        None if names.is_empty() => return Err("the archive is empty".into()),
        None => {
            return Err(format!(
                "the archive holds several arrays ({available}); choose one with FILE.npz:NAME"
            ));
        }
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a readable .npz archive: {e}"))?;
    let entry_name = if archive.index_for_name(&format!("{member}.npy")).is_some() {
        format!("{member}.npy")
    } else {
        member.clone()
    };
    let entry = archive
        .by_name(&entry_name)
        .map_err(|e| format!("cannot open '{member}': {e}"))?;
    if entry.size() as u128 > limit as u128 {
        return Err(format!(
            "'{member}' inflates to {} bytes, above the limit of {limit} bytes",
            entry.size()
        ));
    }
    // The declared size may lie: never inflate more than the limit.
    let mut data = Vec::new();
    entry
        .take(limit as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot inflate '{member}': {e}"))?;
    if data.len() > limit {
        return Err(format!(
            "'{member}' inflates beyond the limit of {limit} bytes"
        ));
    }
    npy::parse(&data).map_err(|e| format!("'{member}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn archive(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, data) in members {
                w.start_file(*name, options).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn d11_keys_limits_and_errors() {
        let x = npy::encode(&[2], &[1.0, 2.0]);
        let y = npy::encode(&[1], &[3.0]);
        let both = archive(&[("x.npy", x.clone()), ("y.npy", y)]);
        assert_eq!(read(&both, Some("y"), 1 << 20).unwrap().data, vec![3.0]);
        assert!(
            read(&both, Some("z"), 1 << 20)
                .unwrap_err()
                .contains("x, y")
        );
        assert!(read(&both, None, 1 << 20).unwrap_err().contains("several"));
        assert_eq!(
            read(&archive(&[("only.npy", x.clone())]), None, 1 << 20)
                .unwrap()
                .shape,
            vec![2]
        );
        // A small archive that inflates to a lot: refused at the limit.
        let bomb = archive(&[("big.npy", vec![0u8; 1 << 20])]);
        assert!(bomb.len() < 10_000);
        assert!(read(&bomb, None, 1 << 16).unwrap_err().contains("limit"));
        assert!(read(b"PK\x03\x04garbage", None, 1 << 20).is_err());
        let many: Vec<(String, Vec<u8>)> = (0..MAX_ENTRIES + 1)
            .map(|k| (format!("a{k}.npy"), Vec::new()))
            .collect();
        let refs: Vec<(&str, Vec<u8>)> =
            many.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
        assert!(names(&archive(&refs)).unwrap_err().contains("entries"));
    }
}
