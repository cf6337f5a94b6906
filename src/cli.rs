//! Entry layer: command-line interface (serve, check, lint, install, version).
