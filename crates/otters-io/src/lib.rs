//! Readers for the array files users hand to otters — `.npy`, `.npz` and CSV — written to
//! survive hostile input: sizes claimed by headers are checked against the file before any
//! allocation, archives are bounded, text is parsed strictly, and every error says where.
//! Kept apart from the CLI so that fuzzing them builds in seconds (see `fuzz/`).

pub mod csv_matrix;
pub mod npy;
pub mod npz;
