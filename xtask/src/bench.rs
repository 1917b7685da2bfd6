//! `cargo xtask bench` (to be written).
use anyhow::Result;

pub fn main(_args: &[String]) -> Result<()> {
    anyhow::bail!("not yet")
}
