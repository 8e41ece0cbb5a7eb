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
# install nightly`). One fuzzing process per target, in the foreground (libFuzzer's default;
# `-jobs=N` would fork workers that log to files); two targets may run side by side.
#
# The fuzzer works on a scratch copy of fuzz/corpus/<target>/ (libFuzzer deletes inputs it
# finds a smaller equivalent of). Afterwards a libFuzzer merge reads the kept corpus first,
# then the run's inputs, and only the inputs that reach an edge nothing before them reached
# are added to fuzz/corpus/<target>/. Crashes go into fuzz/artifacts/<target>/: fix what
# crashed, add the crashing input to the corpus, and `cargo test --test it fuzz_corpora`
# replays every corpus file on stable.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

targets=(openapi_document payload_validation configuration receiver_request addin_variant)
target=${1:-all}
seconds=${2:-600}

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if [ "$target" != all ]; then
    targets=("$target")
fi
limits=(-timeout=20 -rss_limit_mb=2048)
binaries="target/$(rustc -vV | sed -n 's/^host: //p')/release"
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    scratch=$(mktemp -d)
    mkdir "$scratch/run" "$scratch/kept"
    cp -R "corpus/$t/." "$scratch/run/"
    cp -R "corpus/$t/." "$scratch/kept/"
    echo "fuzzing $t for ${seconds}s"
    cargo +nightly fuzz run "$t" "$scratch/run" -- \
        -max_total_time="$seconds" "${limits[@]}" -print_final_stats=1
    # The control file lists the inputs (the kept ones first), then for each input a
    # `COV <index> <edges...>` line naming the edges it reached first.
    "$binaries/$t" -merge=1 -merge_control_file="$scratch/control" "${limits[@]}" \
        "$scratch/kept" "$scratch/run" >"$scratch/merge.log" 2>&1
    awk 'NR == 1 { inputs = $1 } NR == 2 { kept = $1 }
         NR > 2 && NR <= inputs + 2 { path[NR - 3] = $0 }
         $1 == "COV" && $2 >= kept && NF > 2 { print path[$2] }' "$scratch/control" |
        xargs -r cp -t "corpus/$t/"
    echo "$t: $(ls "corpus/$t" | wc -l) inputs kept"
    rm -rf "$scratch"
done
