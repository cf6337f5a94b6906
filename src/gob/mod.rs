//! Codec layer: Go encoding/gob (decoder to a dynamic Value, serde Deserializer, encoder). No I/O.
