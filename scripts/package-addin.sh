#!/usr/bin/env bash
# Packs the 1C add-in as 1C loads it: a ZIP holding the libraries and a MANIFEST.XML that
# names the library for each OS and architecture. Put the ZIP in a common template of the
# configuration (binary data) and attach it with
#   ПодключитьВнешнююКомпоненту("ОбщийМакет.Интегра", "Integra", ТипВнешнейКомпоненты.Native)
#
#   scripts/package-addin.sh [--library PATH] [--windows-dll PATH] [--out DIR]
#
#   --library PATH      the Linux x86_64 library to pack; without it the script builds
#                       `cargo build --release -p integra-addin` and packs that
#   --windows-dll PATH  also pack the Windows x86_64 DLL, built on Windows with
#                       `cargo build --release -p integra-addin` (target x86_64-pc-windows-msvc)
#   --out DIR           where Integra.zip goes (default target/addin)
set -euo pipefail
cd "$(dirname "$0")/.."

library=""
dll=""
out="target/addin"
while [ $# -gt 0 ]; do
    case "$1" in
        --library) library="$2"; shift 2 ;;
        --windows-dll) dll="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

if [ -z "$library" ]; then
    cargo build --release -p integra-addin
    library="${CARGO_TARGET_DIR:-target}/release/libintegra_addin.so"
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp "$library" "$stage/libIntegra_Linux_x86_64.so"
strip --strip-debug "$stage/libIntegra_Linux_x86_64.so"
{
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<bundle xmlns="http://v8.1c.ru/8.2/addin/bundle">'
    echo '  <component os="Linux" path="libIntegra_Linux_x86_64.so" type="native" arch="x86_64"/>'
    if [ -n "$dll" ]; then
        cp "$dll" "$stage/Integra_Windows_x86_64.dll"
        echo '  <component os="Windows" path="Integra_Windows_x86_64.dll" type="native" arch="x86_64"/>'
    fi
    echo '</bundle>'
} > "$stage/MANIFEST.XML"

mkdir -p "$out"
rm -f "$out/Integra.zip"
(cd "$stage" && zip -q -X "Integra.zip" ./*)
mv "$stage/Integra.zip" "$out/Integra.zip"
echo "$out/Integra.zip"
