//! Progress reporting and cancellation, one type shared by every iterative solver.
//!
//! The library never prints: a solver calls the [`Observer`]'s callback once per iteration
//! and stops with [`Error::Interrupted`](crate::Error::Interrupted) as soon as its
//! cancellation flag is set (the CLI sets it from Ctrl-C, Python from `KeyboardInterrupt`).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// What a solver reports after each iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Iterations done so far.
    pub iteration: usize,
    /// The iteration budget.
    pub max_iterations: usize,
    /// The current error (for Sinkhorn, the marginal L1 error).
    pub error: f64,
    /// The regularization in force (it changes under ε-scaling).
    pub epsilon: f64,
}

/// A progress callback and a cancellation flag, both optional.
///
/// # Examples
/// ```
/// use std::sync::atomic::AtomicBool;
/// use otters::{Observer, Progress};
///
/// let stop = AtomicBool::new(false);
/// let log = |p: &Progress| eprintln!("iteration {} error {:e}", p.iteration, p.error);
/// let observer = Observer::new().with_progress(&log).with_cancel(&stop);
/// # let _ = observer;
/// ```
#[derive(Clone, Copy, Default)]
pub struct Observer<'a> {
    progress: Option<&'a (dyn Fn(&Progress) + Sync)>,
    cancel: Option<&'a AtomicBool>,
}

impl<'a> Observer<'a> {
    /// An observer that reports nothing and never cancels.
    pub fn new() -> Self {
        Observer::default()
    }

    /// Calls `callback` after every iteration.
    pub fn with_progress(mut self, callback: &'a (dyn Fn(&Progress) + Sync)) -> Self {
        self.progress = Some(callback);
        self
    }

    /// Stops the solve with [`Error::Interrupted`] once `flag` is true.
    pub fn with_cancel(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// The same cancellation flag without the progress callback: for the inner solves of
    /// an outer loop, whose own iterations are the ones reported.
    pub(crate) fn cancel_only(&self) -> Observer<'a> {
        Observer {
            progress: None,
            cancel: self.cancel,
        }
    }

    /// Reports `progress`, then fails if cancellation was requested.
    pub(crate) fn step(&self, progress: &Progress) -> Result<()> {
        if let Some(callback) = self.progress {
            callback(progress);
        }
        if self.cancel.is_some_and(|flag| flag.load(Ordering::Relaxed)) {
            return Err(Error::Interrupted {
                iteration: progress.iteration,
            });
        }
        Ok(())
    }
}

impl fmt::Debug for Observer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observer")
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel.is_some())
            .finish()
    }
}
