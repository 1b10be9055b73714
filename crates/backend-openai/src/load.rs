//! Load shapes over the batch the runner hands to `predict`: sequential (one request at a
//! time, the studies' and AI Energy Score's protocol), a fixed number in flight, or a request
//! rate with Poisson arrivals (capped by the number in flight). The runner
//! measures each batch's window as a whole, so `concurrency` requests can only be in flight
//! when the suite's `protocol.batch_size` is at least that large.

use crate::arrivals::poisson_schedule;
use crate::client::{Answer, Client};
use anyhow::{bail, Result};
use powerhungry_tasks::prompts::Prompt;
use tokio::task::JoinSet;

/// Send every prompt, at most `concurrency` at once: each as soon as a slot frees, or, with a
/// request rate, at its arrival time of a seeded Poisson schedule (and a free slot). The
/// answers come back in the prompts' order.
pub async fn run(
    client: &Client,
    prompts: Vec<Prompt>,
    max_tokens: u32,
    concurrency: usize,
    rate: Option<(f64, u64)>,
) -> Result<Vec<Answer>> {
    let n = prompts.len();
    let schedule = rate.map(|(per_second, seed)| poisson_schedule(per_second, n, seed));
    let start = tokio::time::Instant::now();
    let due = |i: usize| schedule.as_ref().map(|s| start + s[i]);
    let mut answers: Vec<Option<Answer>> = vec![None; n];
    let mut pending = prompts.into_iter().enumerate().peekable();
    let mut in_flight = JoinSet::new();
    loop {
        // Launch what is due while slots are free.
        while in_flight.len() < concurrency.max(1) {
            let Some((i, _)) = pending.peek() else { break };
            if due(*i).is_some_and(|t| tokio::time::Instant::now() < t) {
                break;
            }
            let Some((i, prompt)) = pending.next() else {
                break;
            };
            let c = client.clone();
            in_flight.spawn(async move { (i, c.complete(&prompt, max_tokens).await) });
        }
        let next_due = pending.peek().and_then(|(i, _)| due(*i));
        let slot_free = in_flight.len() < concurrency.max(1);
        if in_flight.is_empty() && pending.peek().is_none() {
            break;
        }
        tokio::select! {
            joined = in_flight.join_next(), if !in_flight.is_empty() => match joined {
                Some(Ok((i, a))) => answers[i] = Some(a),
                // `complete` returns its failures; a panic here is a bug, not a server fault.
                Some(Err(e)) => bail!("a request task failed: {e}"),
                None => {}
            },
            _ = tokio::time::sleep_until(next_due.unwrap_or(start)), if next_due.is_some() && slot_free => {}
            else => bail!("internal: the load loop has nothing to wait for"),
        }
    }
    answers
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.ok_or_else(|| anyhow::anyhow!("internal: request {i} got no answer")))
        .collect()
}
