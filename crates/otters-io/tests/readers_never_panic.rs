//! The file readers on hostile bytes (RELIABILITY.md §4, layer 3): random bytes and
//! mutations (truncation, byte flips, insertions) of the fuzzing seeds in `fuzz/seeds/`.
//! Every input gives `Ok` with a consistent array or an `Err`, never a panic. The same
//! readers are fuzzed with cargo-fuzz (`fuzz/`); this is the stable-toolchain version.

use std::path::PathBuf;

use otters_io::{csv_matrix, npy, npz};
use proptest::prelude::*;

fn seeds(kind: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(kind);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("seed directory")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        match m {
            Mutation::Truncate(k) if !bytes.is_empty() => bytes.truncate(k % bytes.len()),
            Mutation::Flip(k, x) if !bytes.is_empty() => {
                let i = k % bytes.len();
                bytes[i] ^= x;
            }
            Mutation::Insert(k, extra) => {
                let i = k % (bytes.len() + 1);
                bytes.splice(i..i, extra.iter().copied());
            }
            _ => {}
        }
    }
    bytes
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(
        prop_oneof![
            any::<usize>().prop_map(Mutation::Truncate),
            (any::<usize>(), 1u8..).prop_map(|(k, x)| Mutation::Flip(k, x)),
            (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
                .prop_map(|(k, v)| Mutation::Insert(k, v)),
        ],
        1..6,
    )
}

fn check_npy(bytes: &[u8]) {
    if let Ok(a) = npy::parse(bytes) {
        assert_eq!(a.shape.iter().product::<usize>(), a.data.len());
    }
}

fn check_csv(bytes: &[u8]) {
    if let Ok(m) = csv_matrix::parse(bytes) {
        assert_eq!(m.shape.0 * m.shape.1, m.data.len());
        assert!(m.data.iter().all(|v| v.is_finite()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_npy(&bytes);
        check_csv(&bytes);
        let _ = npz::read(&bytes, None, 1 << 16);
    }

    #[test]
    fn mutated_npy_seeds(k in any::<usize>(), m in mutations()) {
        let all = seeds("npy_file");
        check_npy(&mutate(all[k % all.len()].clone(), &m));
    }

    #[test]
    fn mutated_npz_seeds(k in any::<usize>(), m in mutations()) {
        let all = seeds("npz_file");
        let bytes = mutate(all[k % all.len()].clone(), &m);
        let _ = npz::names(&bytes);
        if let Ok(a) = npz::read(&bytes, Some("x"), 1 << 16) {
            prop_assert_eq!(a.shape.iter().product::<usize>(), a.data.len());
        }
    }

    #[test]
    fn mutated_csv_seeds(k in any::<usize>(), m in mutations()) {
        let all = seeds("csv_matrix");
        check_csv(&mutate(all[k % all.len()].clone(), &m));
    }
}

#[test]
fn the_seeds_themselves_are_valid() {
    for bytes in seeds("npy_file") {
        npy::parse(&bytes).unwrap();
    }
    for bytes in seeds("npz_file") {
        assert!(!npz::names(&bytes).unwrap().is_empty());
    }
    for bytes in seeds("csv_matrix") {
        csv_matrix::parse(&bytes).unwrap();
    }
}
