//! Load shapes over the batch the runner hands to `predict`: sequential (one request at a
//! time, the studies' and AI Energy Score's protocol) or a fixed number in flight. The runner
//! measures each batch's window as a whole, so `concurrency` requests can only be in flight
//! when the suite's `protocol.batch_size` is at least that large.

use crate::client::{Answer, Client};
use anyhow::{bail, Result};
use powerhungry_tasks::prompts::Prompt;
use tokio::task::JoinSet;

/// Send every prompt, at most `concurrency` at once, each as soon as a slot frees; the
/// answers come back in the prompts' order.
pub async fn run(
    client: &Client,
    prompts: Vec<Prompt>,
    max_tokens: u32,
    concurrency: usize,
) -> Result<Vec<Answer>> {
    let n = prompts.len();
    let mut answers: Vec<Option<Answer>> = vec![None; n];
    let mut pending = prompts.into_iter().enumerate();
    let mut in_flight = JoinSet::new();
    loop {
        while in_flight.len() < concurrency.max(1) {
            let Some((i, prompt)) = pending.next() else {
                break;
            };
            let c = client.clone();
            in_flight.spawn(async move { (i, c.complete(&prompt, max_tokens).await) });
        }
        match in_flight.join_next().await {
            Some(Ok((i, a))) => answers[i] = Some(a),
            // `complete` returns its failures; a panic here is a bug, not a server fault.
            Some(Err(e)) => bail!("a request task failed: {e}"),
            None => break,
        }
    }
    answers
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.ok_or_else(|| anyhow::anyhow!("internal: request {i} got no answer")))
        .collect()
}
