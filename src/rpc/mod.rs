//! Codec layer: Go net/rpc request/response headers over gob, decoded once into a typed Call. No I/O.
