//! Power models for machines without sensors (docs/power-model.md): the CPU from utilisation
//! and an embedded TDP table, RAM from total memory. Figures from here are labelled
//! `estimated:cpu-load` / `estimated:ram` by the meter.

pub mod cpu;
pub mod ram;
pub mod tdp_table;

pub use cpu::{CpuPowerModel, CpuTopology};
pub use ram::RamPowerModel;
