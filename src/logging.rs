//! Transport layer: tracing → hclog JSON lines on stderr.
