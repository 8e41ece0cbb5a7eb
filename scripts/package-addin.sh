#!/usr/bin/env bash
# Builds the libraries Integra ships, for Linux x86_64 with glibc 2.17 or newer, and packs them:
#
#   Integra.zip                      the 1C add-in as 1C loads it: the library and a MANIFEST.XML
#                                    naming the library for each OS and architecture. Put it in a
#                                    common template of the configuration (binary data) and attach
#                                    it with ПодключитьВнешнююКомпоненту("ОбщийМакет.Интегра",
#                                    "Integra", ТипВнешнейКомпоненты.Native)
#   integra-c-linux-x86_64.tar.gz    the C library (every transport and the receiver) and its
#                                    headers
#
#   scripts/package-addin.sh [--profile NAME] [--library PATH] [--windows-dll PATH] [--out DIR]
#
#   --profile NAME      the cargo profile to build with: `dist` (default: the release build,
#                       optimised across crates, without debug information) or `dev` (a quick
#                       build, for checking the glibc floor, which the link target sets whatever
#                       the profile)
#   --library PATH      pack this add-in library instead of building one (no C library then)
#   --windows-dll PATH  also pack the Windows x86_64 DLL, built on Windows with
#                       `cargo build --profile dist -p integra-addin` (target
#                       x86_64-pc-windows-msvc)
#   --out DIR           where the packages go (default target/package)
#
# The glibc floor: the libraries are linked by zig against glibc 2.17's symbols
# (cargo-zigbuild, target x86_64-unknown-linux-gnu.2.17), so they load on every distribution
# from RHEL 7 and Astra Linux 1.7 on, whatever glibc the build machine has. cargo-zigbuild and
# zig come from PyPI into .tools/ the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="dist"
library=""
dll=""
out="target/package"
while [ $# -gt 0 ]; do
    case "$1" in
        --profile) profile="$2"; shift 2 ;;
        --library) library="$2"; shift 2 ;;
        --windows-dll) dll="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

glibc=2.17
target=x86_64-unknown-linux-gnu
tools=.tools

# cargo-zigbuild (and zig with it) in a virtual environment of the project's, once.
zigbuild() {
    if [ ! -x "$tools/venv/bin/cargo-zigbuild" ]; then
        echo "installing cargo-zigbuild and zig into $tools/" >&2
        python3 -m venv "$tools/venv"
        "$tools/venv/bin/pip" install -q "cargo-zigbuild==0.24.1" "ziglang==0.17.1"
    fi
    PATH="$PWD/$tools/venv/bin:$PATH" cargo zigbuild "$@"
}

c_library=""
if [ -z "$library" ]; then
    zigbuild --profile "$profile" --target "$target.$glibc" \
        -p integra-addin -p integra-c --features integra-c/full
    dir="${CARGO_TARGET_DIR:-target}/$target/$([ "$profile" = dev ] && echo debug || echo "$profile")"
    library="$dir/libintegra_addin.so"
    c_library="$dir/libintegra.so"
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/addin"
cp "$library" "$stage/addin/libIntegra_Linux_x86_64.so"
strip --strip-debug "$stage/addin/libIntegra_Linux_x86_64.so"
{
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<bundle xmlns="http://v8.1c.ru/8.2/addin/bundle">'
    echo '  <component os="Linux" path="libIntegra_Linux_x86_64.so" type="native" arch="x86_64"/>'
    if [ -n "$dll" ]; then
        cp "$dll" "$stage/addin/Integra_Windows_x86_64.dll"
        echo '  <component os="Windows" path="Integra_Windows_x86_64.dll" type="native" arch="x86_64"/>'
    fi
    echo '</bundle>'
} > "$stage/addin/MANIFEST.XML"

mkdir -p "$out"
rm -f "$out/Integra.zip"
(cd "$stage/addin" && zip -q -X "Integra.zip" ./*)
mv "$stage/addin/Integra.zip" "$out/Integra.zip"
size() { du -h "$1" | cut -f1; }
echo "$out/Integra.zip ($(size "$out/Integra.zip"); the library $(size "$stage/addin/libIntegra_Linux_x86_64.so"))"

if [ -n "$c_library" ]; then
    mkdir -p "$stage/c/lib" "$stage/c/include"
    cp "$c_library" "$stage/c/lib/libintegra.so"
    strip --strip-debug "$stage/c/lib/libintegra.so"
    cp include/integra.h "$stage/c/include/"
    tar -C "$stage/c" -czf "$out/integra-c-linux-x86_64.tar.gz" lib include
    echo "$out/integra-c-linux-x86_64.tar.gz ($(size "$out/integra-c-linux-x86_64.tar.gz"); the library $(size "$stage/c/lib/libintegra.so"))"
fi
