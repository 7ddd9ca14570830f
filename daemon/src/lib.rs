//! What of vxd other crates use: its configuration and the worker protocol (the fuzz targets
//! parse both). The daemon itself is the `vxd` binary (main.rs).

pub mod config;
pub mod worker_protocol;
