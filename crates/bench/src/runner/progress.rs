//! Progress while a suite runs: indicatif bars (current model, dataset, repetition, ETA and
//! live watts) on stderr, or nothing at all (`--quiet`).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// Receives the runner's progress. All methods are cheap; implementations throttle drawing.
pub trait Progress {
    /// The run starts with `jobs` repetitions to do.
    fn start(&mut self, _jobs: u64) {}
    /// A repetition starts: `inferences` measured inputs follow.
    fn repetition(
        &mut self,
        _model: &str,
        _dataset: &str,
        _index: u32,
        _of: u32,
        _inferences: u64,
    ) {
    }
    /// The current phase of the repetition (load, fit, warmup, inference).
    fn phase(&mut self, _phase: &str) {}
    /// `n` more inferences done; `live_watts` asks the meter for its latest reading (call it
    /// only when drawing: it takes the meter's lock).
    fn inferred(&mut self, _n: u64, _live_watts: &dyn Fn() -> Option<f64>) {}
    /// The repetition is committed.
    fn repetition_done(&mut self) {}
    /// A line for the user (skipped model, notes), shown above the bars.
    fn note(&mut self, _line: &str) {}
    fn finish(&mut self) {}
}

/// Nothing on stderr (`--quiet`): no bars and no notes; errors are the caller's to print.
/// What a note would have said that matters (a skipped model) is also in the summary.
pub struct Quiet;
impl Progress for Quiet {}

/// Two bars: repetitions of the whole run (with ETA) and inferences of the current one.
pub struct Bars {
    multi: MultiProgress,
    run: ProgressBar,
    rep: ProgressBar,
    label: String,
    phase: String,
    last_draw: Instant,
}

impl Bars {
    pub fn new() -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        // Hidden until `start`, so nothing is drawn before there is something to show.
        let run = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        run.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} [{bar:30}] {pos}/{len} repetitions, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        run.set_prefix("suite");
        let rep = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        rep.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        rep.set_prefix("repetition");
        Bars {
            multi,
            run,
            rep,
            label: String::new(),
            phase: String::new(),
            last_draw: Instant::now(),
        }
    }

    fn message(&self, watts: Option<f64>) -> String {
        let w = watts.map(|w| format!(", {w:.1} W")).unwrap_or_default();
        format!("{} ({}{w})", self.label, self.phase)
    }
}

impl Default for Bars {
    fn default() -> Self {
        Bars::new()
    }
}

impl Progress for Bars {
    fn start(&mut self, jobs: u64) {
        self.run = self.multi.add(self.run.clone());
        self.rep = self.multi.add(self.rep.clone());
        self.run.set_length(jobs);
    }

    fn repetition(&mut self, model: &str, dataset: &str, index: u32, of: u32, inferences: u64) {
        self.label = format!("{model} on {dataset}, repetition {}/{of}", index + 1);
        self.phase = "starting".into();
        self.rep.set_length(inferences);
        self.rep.set_position(0);
        self.rep.set_message(self.message(None));
    }

    fn phase(&mut self, phase: &str) {
        self.phase = phase.to_string();
        self.rep.set_message(self.message(None));
    }

    fn inferred(&mut self, n: u64, live_watts: &dyn Fn() -> Option<f64>) {
        self.rep.inc(n);
        // Formatting a message (or asking the meter, which takes its lock) per inference would
        // cost more than a small model's inference: only when the bar is redrawn.
        if self.last_draw.elapsed() >= Duration::from_millis(250) {
            self.last_draw = Instant::now();
            self.rep.set_message(self.message(live_watts()));
        }
    }

    fn repetition_done(&mut self) {
        self.run.inc(1);
    }

    fn note(&mut self, line: &str) {
        // Above the bars on a terminal; plainly when the bars are hidden (not a terminal).
        if self.multi.is_hidden() || self.multi.println(line).is_err() {
            eprintln!("{line}");
        }
    }

    fn finish(&mut self) {
        self.rep.finish_and_clear();
        self.run.finish_and_clear();
    }
}
