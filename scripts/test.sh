#!/usr/bin/env bash
# The whole test suite, from a fresh clone: Rust formatting, lints and tests (library, CLI,
# doc examples), then the Python package built into ./.venv with maturin and tested with
# pytest against POT and SciPy. Installs what it needs; needs cargo and python3 (>= 3.10).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Rust: formatting"
cargo fmt --all -- --check

step "Rust: clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust: tests (unit, integration, CLI, doc examples)"
cargo test --workspace --locked

step "Python: virtual environment in .venv"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r crates/otters-py/requirements-test.txt

step "Python: build the extension (maturin, release)"
.venv/bin/maturin develop --release --locked -m crates/otters-py/Cargo.toml

step "Python: tests"
.venv/bin/python -m pytest -q crates/otters-py/tests
.venv/bin/python -m pytest -q --doctest-modules crates/otters-py/python/otters

step "all tests passed"
