//! Any bytes given to the CSV reader: Ok with a consistent shape and finite values, or Err.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(m) = otters_io::csv_matrix::parse(data) {
        assert_eq!(m.shape.0 * m.shape.1, m.data.len());
        assert!(m.data.iter().all(|v| v.is_finite()));
    }
});
