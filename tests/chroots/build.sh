#!/bin/sh
# Builds (once) a Debian chroot with another PHP version's php-fpm, for the
# integration tests and for the offsets generator (pkg/phpoffsets/gen).
#   bullseye -> PHP 7.4     trixie -> PHP 8.4
# Usage: tests/chroots/build.sh <bullseye|trixie>
# Result: ${TUSK_CHROOT_CACHE:-/var/cache/tusk/chroots}/<suite>, printed on the
# last line. Cached: a stamp file records the package list, and a second run
# with a complete chroot returns at once. Needs root and debootstrap.
set -eu

suite=${1:-}
case $suite in
  bullseye) php=7.4 ;;
  trixie) php=8.4 ;;
  *) echo "usage: $0 <bullseye|trixie>" >&2; exit 2 ;;
esac
cache=${TUSK_CHROOT_CACHE:-/var/cache/tusk/chroots}
root=$cache/$suite
stamp=.tusk-chroot-stamp
# gcc/libc6-dev: pkg/phpoffsets/gen/gen.sh --chroot compiles offsets.c inside.
pkgs="php$php-fpm php$php-cli php$php-mysql php$php-opcache php$php-dev php$php-curl gcc libc6-dev"
want="suite=$suite packages=$pkgs"

complete() { # complete DIR: the stamp matches and the binaries are there
  [ -f "$1/$stamp" ] && [ "$(cat "$1/$stamp")" = "$want" ] &&
    [ -x "$1/usr/sbin/php-fpm$php" ] && [ -x "$1/usr/bin/php-config$php" ]
}
if complete "$root"; then echo "$root"; exit 0; fi

[ "$(id -u)" = 0 ] || { echo "$0: must run as root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "$0: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

# The host's Debian mirror (deb822 "URIs:" or one-line "deb URI suite"), else deb.debian.org.
mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null |
  awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}
       /^deb / {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i ~ /\/debian\/?$/) {print $i; exit} else break }}')
mirror=${mirror:-http://deb.debian.org/debian}

unmount_all() { # everything mounted under DIR, deepest first
  awk -v d="$1/" 'index($2 "/", d) == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
work=$root.partial
cleanup() { unmount_all "$work"; unmount_all "$root"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir -p "$cache"
# One build per suite at a time; a concurrent run waits, then finds it done.
if command -v flock >/dev/null; then
  exec 9> "$cache/$suite.lock"
  flock 9
  if complete "$root"; then echo "$root"; exit 0; fi
fi
no_daemons() { # no service starts from maintainer scripts inside the chroot
  mkdir -p "$1/usr/sbin"
  printf '#!/bin/sh\nexit 101\n' > "$1/usr/sbin/policy-rc.d"
  chmod 755 "$1/usr/sbin/policy-rc.d"
}

build() {
  if [ -x "$root/usr/bin/apt-get" ] && [ -f "$root/$stamp" ]; then
    # A finished chroot whose package list changed: install what is missing.
    echo "==> $root: updating packages"
    no_daemons "$root"
    mount -t proc proc "$root/proc"
    chroot "$root" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs && apt-get clean && rm -rf /var/lib/apt/lists/*"
    umount "$root/proc"
  else
    # Fresh build in two stages: download+unpack, forbid service starts, configure.
    unmount_all "$root"
    unmount_all "$work"
    rm -rf --one-file-system "$root" "$work"
    echo "==> debootstrap $suite ($mirror) into $work"
    debootstrap --variant=minbase --foreign --include="$(echo "$pkgs" | tr ' ' ,)" \
      "$suite" "$work" "$mirror"
    no_daemons "$work"
    chroot "$work" /debootstrap/debootstrap --second-stage
    unmount_all "$work"
    chroot "$work" apt-get clean
    rm -rf "$work"/var/lib/apt/lists/* # debootstrap's package lists; an update fetches fresh ones
    mv "$work" "$root"
  fi
}

# Everything the build prints goes to a log; on failure its tail is shown.
log=$cache/$suite.log
echo "==> building $root (PHP $php, mirror $mirror); log: $log" >&2
start=$(date +%s)
set +e
(set -e; build) > "$log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  tail -n 40 "$log" >&2
  echo "$0: building the $suite chroot failed (exit $rc); full log: $log" >&2
  exit $rc
fi
echo "==> built $root in $(( $(date +%s) - start )) s" >&2
printf '%s\n' "$want" > "$root/$stamp"
complete "$root" || { echo "$0: $root is incomplete after the build" >&2; exit 1; }
echo "$root"
