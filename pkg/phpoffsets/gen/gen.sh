#!/bin/sh
# Regenerates data/php<MAJOR.MINOR>-<arch>.json from the installed phpX.Y-dev
# headers: compiles offsets.c against them and runs it.
# Usage: gen.sh [php-config]   (default: php-config; e.g. php-config8.2)
# For other PHP versions run it inside a chroot that has that version's -dev
# package (see tests/chroots).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cfg=${1:-php-config}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2046
cc -o "$out/offsets" "$here/offsets.c" $($cfg --includes)
"$out/offsets" > "$out/offsets.json"
ver=$(sed -n 's/.*"php": "\(.*\)".*/\1/p' "$out/offsets.json")
arch=$(uname -m)
cp "$out/offsets.json" "$here/../data/php$ver-$arch.json"
echo "wrote data/php$ver-$arch.json"
