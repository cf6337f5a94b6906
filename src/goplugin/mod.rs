//! Transport layer: the hashicorp go-plugin process contract and net/rpc mode (handshake, yamux, control, broker).
