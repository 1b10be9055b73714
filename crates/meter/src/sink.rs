//! Streaming samples out of the meter as they are taken, so that a long run's power samples
//! need not sit in memory (`MeterConfig::sample_sink`).

use crate::report::Sample;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Receives every sample when it is taken (from the sampler thread, or from the thread that
/// opens or closes a window), under the meter's lock: keep it quick (a buffered write).
pub trait SampleWriter: Send {
    fn write(&mut self, sample: &Sample) -> Result<(), String>;
    /// Called by `Meter::finish`.
    fn flush(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Writes each sample as one line of JSON (`Sample`'s serde form).
pub struct JsonLines<W: Write + Send>(pub W);

impl<W: Write + Send> SampleWriter for JsonLines<W> {
    fn write(&mut self, sample: &Sample) -> Result<(), String> {
        serde_json::to_writer(&mut self.0, sample).map_err(|e| e.to_string())?;
        self.0.write_all(b"\n").map_err(|e| e.to_string())
    }
    fn flush(&mut self) -> Result<(), String> {
        self.0.flush().map_err(|e| e.to_string())
    }
}

struct FnWriter<F>(F);

impl<F: FnMut(&Sample) -> Result<(), String> + Send> SampleWriter for FnWriter<F> {
    fn write(&mut self, sample: &Sample) -> Result<(), String> {
        (self.0)(sample)
    }
}

/// A shared handle on a `SampleWriter`, cheap to clone (it lives in `MeterConfig`). The first
/// error it returns becomes a warning of the run ("sample sink: ...") and no later sample is
/// sent to it; window energies are unaffected.
#[derive(Clone)]
pub struct SampleSink(Arc<Mutex<Box<dyn SampleWriter>>>);

impl SampleSink {
    pub fn new(writer: impl SampleWriter + 'static) -> Self {
        Self(Arc::new(Mutex::new(Box::new(writer))))
    }

    /// Every sample to `f`.
    pub fn from_fn(f: impl FnMut(&Sample) -> Result<(), String> + Send + 'static) -> Self {
        Self::new(FnWriter(f))
    }

    /// Every sample as a JSON line to `w` (wrap a file in a `BufWriter`).
    pub fn json_lines(w: impl Write + Send + 'static) -> Self {
        Self::new(JsonLines(w))
    }

    pub(crate) fn write(&self, sample: &Sample) -> Result<(), String> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write(sample)
    }

    pub(crate) fn flush(&self) -> Result<(), String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

impl std::fmt::Debug for SampleSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SampleSink(..)")
    }
}

/// Two handles are equal when they share one writer.
impl PartialEq for SampleSink {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
