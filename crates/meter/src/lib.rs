//! powerhungry-meter: sensors (RAPL powercap, NVML GPU, estimators), the sampler, energy
//! windows and the idle baseline. Knows nothing of tasks, models or storage.

pub mod estimate;
