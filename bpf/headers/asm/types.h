/* Arch-neutral stand-in for <asm/types.h>: BPF objects are built once for
 * little-endian targets (amd64 and arm64 alike), so the host's multiarch
 * include directory must not leak into them. */
#include <asm-generic/types.h>
