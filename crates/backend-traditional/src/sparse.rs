//! A compressed-sparse-row matrix: the feature matrices of the traditional models.

/// Rows of (column, value) pairs; `indptr[i]..indptr[i+1]` indexes row `i`'s entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Csr {
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f64>,
    pub cols: usize,
}

impl Csr {
    pub fn new(cols: usize) -> Self {
        Csr {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
            cols,
        }
    }

    /// Append a row given as (column, value) pairs.
    pub fn push_row(&mut self, entries: impl IntoIterator<Item = (u32, f64)>) {
        for (j, v) in entries {
            self.indices.push(j);
            self.values.push(v);
        }
        self.indptr.push(self.indices.len());
    }

    /// Append a dense row, every column stored.
    pub fn push_dense(&mut self, row: &[f32]) {
        self.push_row(
            row.iter()
                .enumerate()
                .map(|(j, &v)| (j as u32, f64::from(v))),
        );
    }

    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }
}
