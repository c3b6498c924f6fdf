//! Runs a solve without the GIL, polling Python's signal handlers so that Ctrl-C raises
//! `KeyboardInterrupt` promptly (the pattern of polars and tokenizers).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use otters::{Observer, Progress};
use pyo3::prelude::*;

use crate::errors;

/// How often a running solve re-acquires the GIL to check for signals.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Calls `solve` with the GIL released and an observer that cancels on a pending signal.
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    solve: impl FnOnce(&Observer<'_>) -> otters::Result<T> + Send,
) -> PyResult<T> {
    let cancel = AtomicBool::new(false);
    let pending: Mutex<Option<PyErr>> = Mutex::new(None);
    let last_poll = Mutex::new(Instant::now());
    let poll = |_: &Progress| {
        let mut last = last_poll.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < SIGNAL_POLL {
            return;
        }
        *last = Instant::now();
        if let Err(err) = Python::attach(|py| py.check_signals()) {
            *pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let result = py.detach(|| solve(&Observer::new().with_progress(&poll).with_cancel(&cancel)));
    match result {
        Ok(value) => Ok(value),
        Err(err) => {
            // A signal handler's own exception (KeyboardInterrupt) wins over our summary of it.
            if let Some(signal) = pending.into_inner().unwrap_or_else(|e| e.into_inner()) {
                return Err(signal);
            }
            Err(errors::to_py(py, &err))
        }
    }
}
