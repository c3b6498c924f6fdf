//! Progress bar (indicatif; hidden when stderr is not a terminal) and Ctrl-C: the first
//! Ctrl-C asks the running solve to stop (it returns within one iteration); a second one
//! exits at once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use otters::{Observer, Progress};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler (once per process).
pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
}

/// A solve in progress: its bar and the last progress seen.
pub struct Tracker {
    bar: ProgressBar,
    last: Mutex<Option<Progress>>,
}

impl Tracker {
    /// A bar for a solve of at most `max_iterations` steps, labelled `what`.
    pub fn new(what: &str, max_iterations: usize) -> Tracker {
        let bar = ProgressBar::with_draw_target(
            Some(max_iterations as u64),
            ProgressDrawTarget::stderr_with_hz(10),
        );
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Tracker {
            bar,
            last: Mutex::new(None),
        }
    }

    /// Records one progress report.
    pub fn update(&self, p: &Progress) {
        self.bar.set_position(p.iteration as u64);
        self.bar.set_message(format!("error {:.2e}", p.error));
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(*p);
    }

    /// The last progress report.
    pub fn last(&self) -> Option<Progress> {
        *self.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// An observer that feeds `tracker` and stops on Ctrl-C.
pub fn observer<'a>(callback: &'a (dyn Fn(&Progress) + Sync)) -> Observer<'a> {
    Observer::new()
        .with_progress(callback)
        .with_cancel(&INTERRUPTED)
}
