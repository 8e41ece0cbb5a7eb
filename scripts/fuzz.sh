#!/usr/bin/env bash
# The fuzz targets (fuzz/, cargo fuzz with libFuzzer), each run for a bounded time.
#
#   scripts/fuzz.sh [TARGET] [SECONDS]
#
#   TARGET    openapi_document, payload_validation, configuration, receiver_request,
#             addin_variant, or `all` (the default: each in turn)
#   SECONDS   how long each target runs (default 600)
#
# Installs cargo-fuzz if it is missing; needs the nightly toolchain (`rustup toolchain
# install nightly`). One fuzzing process at a time, in the foreground (libFuzzer's default;
# `-jobs=N` would fork workers that log to files). New inputs go into fuzz/corpus/<target>/
# and crashes into fuzz/artifacts/<target>/; after a run, shrink the corpus with
# `cargo +nightly fuzz cmin <target>` (from fuzz/), fix what crashed, keep the crashing input
# in the corpus, and `cargo test -p integra --test it fuzz_corpora` replays every corpus
# file on stable.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

targets=(openapi_document payload_validation configuration receiver_request addin_variant)
target=${1:-all}
seconds=${2:-600}

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if [ "$target" != all ]; then
    targets=("$target")
fi
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "fuzzing $t for ${seconds}s"
    cargo +nightly fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1
done
