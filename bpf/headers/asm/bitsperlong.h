/* See types.h in this directory: both targets we ship are 64-bit. */
#define __BITS_PER_LONG 64
#include <asm-generic/bitsperlong.h>
