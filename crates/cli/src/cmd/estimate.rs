//! `powerhungry estimate` (being built; see the open issue).

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("`powerhungry estimate` is not built yet")
}
