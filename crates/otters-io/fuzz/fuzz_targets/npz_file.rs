//! Any bytes given to the .npz reader, with a small inflation limit.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = otters_io::npz::names(data);
    let _ = otters_io::npz::read(data, None, 1 << 20);
});
