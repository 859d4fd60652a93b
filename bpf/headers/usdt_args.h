/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading USDT arguments. cilium/ebpf has no USDT support, so Go parses each
 * probe's argument specs (pkg/usdt) into a `struct usdt_site` and attaches the
 * uprobe with the site's index as its cookie; here we only interpret them.
 */
#ifndef TUSK_USDT_ARGS_H
#define TUSK_USDT_ARGS_H

#include "tusk.h"

static __always_inline struct usdt_site *current_site(void *ctx)
{
	__u32 idx = (__u32)bpf_get_attach_cookie(ctx);
	return bpf_map_lookup_elem(&sites, &idx);
}

/* usdt_arg reads argument n of the probe that fired into *out, extended to
 * 64 bits as its spec says. Returns 0, or a negative error. */
static __always_inline int usdt_arg(void *ctx, const struct usdt_site *site, __u32 n, __u64 *out)
{
	if (n >= TUSK_MAX_USDT_ARGS || n >= site->nargs)
		return -1;
	const struct usdt_arg *a = &site->args[n];
	__u64 v = 0;

	switch (a->kind) {
	case USDT_ARG_CONST:
		v = a->value;
		break;
	case USDT_ARG_REG:
		/* The verifier only allows constant offsets into ctx, and the
		 * register is data here: copy it out instead. */
		if (bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + a->reg_off))
			return -2;
		break;
	case USDT_ARG_REG_DEREF: {
		__u64 base = 0;
		if (bpf_probe_read_kernel(&base, sizeof(base), (void *)ctx + a->reg_off))
			return -2;
		if (bpf_probe_read_user(&v, sizeof(v), (void *)(base + a->value)))
			return -3;
		break;
	}
	default:
		return -4;
	}

	/* Keep the low `size` bytes (little-endian), sign-extend if asked. */
	switch (a->size) {
	case 1:
		v = a->is_signed ? (__u64)(__s64)(__s8)v : (__u8)v;
		break;
	case 2:
		v = a->is_signed ? (__u64)(__s64)(__s16)v : (__u16)v;
		break;
	case 4:
		v = a->is_signed ? (__u64)(__s64)(__s32)v : (__u32)v;
		break;
	}
	*out = v;
	return 0;
}

/* load_bias is where the probing binary was mapped: runtime = link-time + bias.
 * At a uprobe the kernel sets ip to the probed address, for PIE and non-PIE
 * executables alike; where ip sits in pt_regs depends on the arch, so Go says. */
static __always_inline __u64 load_bias(void *ctx, const struct usdt_site *site)
{
	__u64 ip = 0;
	bpf_probe_read_kernel(&ip, sizeof(ip), (void *)ctx + site->ip_off);
	return ip - site->vaddr;
}

#endif /* TUSK_USDT_ARGS_H */
