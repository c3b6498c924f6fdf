#!/usr/bin/env bash
# The whole test suite, from a fresh clone: Rust formatting, lints and tests (library, CLI,
# doc examples), a short fuzzing run of the file readers (cargo-fuzz, installed if missing),
# then the Python package built into ./.venv with maturin and tested with pytest against POT
# and SciPy. Installs what it needs; needs cargo and python3 (>= 3.10).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Rust: formatting"
cargo fmt --all -- --check

step "Rust: clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust: tests (unit, integration, CLI, doc examples)"
cargo test --workspace --locked

step "Rust: the sweep tests again on the portable kernels (no AVX-512 path)"
OTTERS_PORTABLE_KERNELS=1 cargo test -p otters --locked --lib --test guided_sweeps \
    --test geometry_equivalence --test pot_fixtures --test sinkhorn_properties

if [ "${OTTERS_SKIP_FUZZ:-0}" != 1 ]; then
    step "Fuzzing the file readers (${FUZZ_SECONDS:-20} s per target; OTTERS_SKIP_FUZZ=1 skips)"
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
    log=$(mktemp)
    for target in npy_file npz_file csv_matrix; do
        mkdir -p "crates/otters-io/fuzz/corpus/$target"
        if ! (cd crates/otters-io && cargo fuzz run --sanitizer none "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
            -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 -timeout=10) >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            echo "fuzzing $target failed; failing inputs go to crates/otters-io/fuzz/artifacts/$target" >&2
            exit 1
        fi
        printf '%s: %s\n' "$target" "$(grep -E '^Done' "$log")"
    done
    rm -f "$log"
fi

step "Python: virtual environment in .venv"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r crates/otters-py/requirements-test.txt

step "Python: build the extension (maturin, release)"
.venv/bin/maturin develop --release --locked -m crates/otters-py/Cargo.toml

step "Python: tests, docstring examples, stubs"
.venv/bin/python -m pytest -q crates/otters-py/tests
# otters.torch / otters.jax import their framework, which the default install leaves out.
.venv/bin/python -m pytest -q --doctest-modules crates/otters-py/python/otters \
    --ignore=crates/otters-py/python/otters/torch.py --ignore=crates/otters-py/python/otters/jax.py
.venv/bin/python -m mypy.stubtest otters._core

step "all tests passed"
