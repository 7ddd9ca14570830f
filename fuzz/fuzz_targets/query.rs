#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| vx_fuzz_targets::query(data));
