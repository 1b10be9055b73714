//! The task kinds a suite names (`task = "text-classification"`).

use serde::{Deserialize, Serialize};

/// Tasks the harness knows; each brings its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskName {
    TextClassification,
}

impl TaskName {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskName::TextClassification => "text-classification",
        }
    }
}
