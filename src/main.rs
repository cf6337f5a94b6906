//! Entry point: thin. Parses the command line, runs, maps the outcome to an exit code.

fn main() -> anyhow::Result<()> {
    Ok(())
}
