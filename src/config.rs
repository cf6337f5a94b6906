//! Domain layer: plugin configuration JSON → validated Config; every error names the field and value.
