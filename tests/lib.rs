//! End-to-end tests live in `e2e/`; run them with `scripts/test.sh` (which builds vx and vxd
//! first, since tests of this crate find the binaries in the target directory).
