//! Any bytes given to the .npy reader: Ok or Err, never a panic, abort or huge allocation.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(array) = otters_io::npy::parse(data) {
        let count: usize = array.shape.iter().product();
        assert_eq!(count, array.data.len());
    }
});
