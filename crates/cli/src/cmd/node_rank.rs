//! Starting the meter in a multi-process job: local rank 0 of a node meters the node, the other
//! ranks keep time only (powerhungry_meter::ranks), so `srun` with four tasks per node counts
//! the node once, not four times.

use anyhow::{anyhow, Result};
use powerhungry_meter::ranks::local_rank;
use powerhungry_meter::{Meter, MeterConfig};

/// The meter this process should run: the full one, or (a local rank other than 0) one that
/// keeps time only, with the reason to show and store.
pub fn start_meter(config: MeterConfig) -> Result<(Meter, Option<String>)> {
    let rank = local_rank(&|k| std::env::var(k).ok()).map_err(|e| anyhow!(e))?;
    match rank {
        Some(r) if !r.meters_the_node() => {
            let reason = r.timing_only_reason();
            Ok((Meter::timing_only(config, reason.clone())?, Some(reason)))
        }
        _ => Ok((Meter::start(config)?, None)),
    }
}
