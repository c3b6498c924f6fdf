//! Output directory: checked writable before any solve, existing results never
//! overwritten without `--force`, inputs never overwritten at all, and every file written
//! atomically (temporary file in the same directory, then rename), so an interrupted or
//! killed run leaves either the old file or the new one, never half of one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The directory results go to, and what has been written there.
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    written: Vec<String>,
}

impl OutputDir {
    /// Prepares `dir` for the files `names`: creates it if its parent exists, checks that
    /// it is writable, and refuses to replace existing files (unless `force`) or any input.
    ///
    /// # Errors
    /// One line saying which check failed.
    pub fn prepare(dir: &Path, names: &[&str], inputs: &[&Path], force: bool) -> Result<OutputDir> {
        if !dir.exists() {
            fs::create_dir(dir).with_context(|| {
                format!("cannot create the output directory `{}`", dir.display())
            })?;
        }
        if !dir.is_dir() {
            bail!("`{}` is not a directory", dir.display());
        }
        // Writability, checked before the (possibly long) solve.
        tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("the output directory `{}` is not writable", dir.display()))?;
        let canonical_inputs: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|p| fs::canonicalize(p).ok())
            .collect();
        for name in names {
            let target = dir.join(name);
            if let Ok(canonical) = fs::canonicalize(&target) {
                if canonical_inputs.contains(&canonical) {
                    bail!(
                        "`{}` is an input file; refusing to overwrite it",
                        target.display()
                    );
                }
                if !force {
                    bail!(
                        "`{}` already exists; pass --force to replace it",
                        target.display()
                    );
                }
            }
        }
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            written: Vec::new(),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `name` atomically with what `write` puts in the (temporary) file.
    ///
    /// # Errors
    /// An I/O error naming the file.
    pub fn write(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut fs::File) -> Result<()>,
    ) -> Result<()> {
        let target = self.dir.join(name);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)
            .with_context(|| format!("cannot write into `{}`", self.dir.display()))?;
        write(tmp.as_file_mut()).with_context(|| format!("cannot write `{}`", target.display()))?;
        tmp.as_file_mut()
            .flush()
            .with_context(|| format!("cannot write `{}`", target.display()))?;
        tmp.as_file()
            .sync_all()
            .with_context(|| format!("cannot write `{}`", target.display()))?;
        readable(tmp.as_file())?;
        tmp.persist(&target)
            .with_context(|| format!("cannot move the result into `{}`", target.display()))?;
        self.written.push(name.to_string());
        Ok(())
    }

    /// Names of the files written so far.
    pub fn written(&self) -> &[String] {
        &self.written
    }
}

/// Temporary files are created private (0600); results are ordinary files (0644).
fn readable(file: &fs::File) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o644))
            .context("cannot set the permissions of a result file")?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Writes `path` atomically (temporary file beside it, then rename): for outputs outside
/// an [`OutputDir`], such as a plot.
///
/// # Errors
/// An I/O error naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write into `{}`", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    readable(tmp.as_file())?;
    tmp.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}
