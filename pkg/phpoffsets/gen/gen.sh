#!/bin/sh
# Regenerates data/php<MAJOR.MINOR>-<arch>.json from a PHP version's phpX.Y-dev
# headers: compiles offsets.c against them and runs it.
# Usage:
#   gen.sh [php-config]               the host's headers (default: php-config;
#                                     e.g. php-config8.2)
#   gen.sh --chroot DIR [php-config]  another PHP version's headers, from a
#                                     chroot built by tests/chroots/build.sh:
#                                     offsets.c is compiled and run INSIDE DIR
#                                     with its own gcc, libc and php-config
#                                     (default: the one php-configX.Y there)
# Compiling inside the chroot keeps headers, php_config.h, libc and compiler
# those of the Debian release that built that PHP; nothing is mounted.
# e.g. gen.sh --chroot "$(tests/chroots/build.sh bullseye)"   -> php7.4-x86_64.json
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=$here/../data
root=
if [ "${1:-}" = --chroot ]; then
  root=${2:?usage: gen.sh --chroot DIR [php-config]}
  shift 2
  [ -d "$root" ] || { echo "gen.sh: no chroot at $root (build it: tests/chroots/build.sh <suite>)" >&2; exit 1; }
  root=$(cd "$root" && pwd)
fi

if [ -z "$root" ]; then
  cfg=${1:-php-config}
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  # shellcheck disable=SC2046
  cc -o "$out/offsets" "$here/offsets.c" $($cfg --includes)
  "$out/offsets" > "$out/offsets.json"
else
  cfg=${1:-}
  if [ -z "$cfg" ]; then
    # shellcheck disable=SC2012
    n=$(ls "$root"/usr/bin/ | grep -cE '^php-config[0-9]+\.[0-9]+$' || true)
    [ "$n" = 1 ] || { echo "gen.sh: want exactly one php-configX.Y in $root/usr/bin, found $n: name it" >&2; exit 1; }
    cfg=$(ls "$root"/usr/bin/ | grep -E '^php-config[0-9]+\.[0-9]+$')
  fi
  [ "$(id -u)" = 0 ] || { echo "gen.sh --chroot: must run as root (chroot)" >&2; exit 1; }
  mkdir -p "$root/tmp"
  work=$(mktemp -d "$root/tmp/tusk-offsets.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  inside=${work#"$root"}
  cp "$here/offsets.c" "$work/offsets.c"
  # shellcheck disable=SC2016
  chroot "$root" /bin/sh -c 'cd "$1" && cc -o offsets offsets.c $("$2" --includes) && ./offsets > offsets.json' \
    gen "$inside" "$cfg"
  out=$work
fi
ver=$(sed -n 's/.*"php": "\(.*\)".*/\1/p' "$out/offsets.json")
arch=$(uname -m)
cp "$out/offsets.json" "$data/php$ver-$arch.json"
echo "wrote data/php$ver-$arch.json"
