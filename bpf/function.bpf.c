// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Deep mode: nested function spans from function__entry / function__return.
 * These fire only when the PHP master was started with USE_ZEND_DTRACE=1,
 * and each hit costs a uprobe trap (~0.7 µs), so they are attached on demand,
 * to chosen worker PIDs, for a limited time.
 *
 * A per-thread stack gives each span its parent. Fast calls never leave the
 * kernel: their time is added to the caller, and a caller is only sent when
 * it is slow itself, threw, or has a sent callee.
 *
 * The maps are the request object's (MapReplacements), so both see the same
 * thread state and ring buffer.
 */
#include "tusk.h"
#include "usdt_args.h"
#include "frames.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* An all-zero stack to create a thread's entry from (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct thread_stack);
} empty_stack SEC(".maps");

static __always_inline struct thread_stack *stack_for(__u32 tid, const struct thread_state *ts)
{
	struct thread_stack *st = bpf_map_lookup_elem(&stacks, &tid);
	if (!st) {
		__u32 zero = 0;
		struct thread_stack *empty = bpf_map_lookup_elem(&empty_stack, &zero);
		if (!empty)
			return 0;
		bpf_map_update_elem(&stacks, &tid, empty, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&stacks, &tid);
		if (!st)
			return 0;
	}
	if (st->request != ts->request) { /* left over from an earlier request */
		st->request = ts->request;
		st->depth = 0;
		st->next_seq = 0;
	}
	return st;
}

SEC("uprobe")
int function_entry(struct pt_regs *ctx)
{
	__u32 tid = current_tid();
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (!ts)
		return 0; /* not inside a request (worker start-up, or we attached mid-request) */
	struct usdt_site *site = current_site(ctx);
	if (!site)
		return 0;
	struct thread_stack *st = stack_for(tid, ts);
	if (!st)
		return 0;

	__u32 d = st->depth;
	st->depth = d + 1;
	st->next_seq++;
	if (d >= TUSK_MAX_FRAMES)
		return 0; /* counted so returns stay matched, not stored */

	struct frame *f = &st->frames[d & (TUSK_MAX_FRAMES - 1)];
	__u64 function = 0, file = 0, line = 0, class = 0;
	usdt_arg(ctx, site, 0, &function);
	usdt_arg(ctx, site, 1, &file);
	usdt_arg(ctx, site, 2, &line);
	usdt_arg(ctx, site, 3, &class);
	f->start = bpf_ktime_get_ns();
	f->child_ns = 0;
	f->function = function;
	f->file = file;
	f->class = class;
	f->line = line;
	f->seq = st->next_seq;
	f->flags = 0;
	return 0;
}

SEC("uprobe")
int function_return(struct pt_regs *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 tid = current_tid();
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (!ts)
		return 0;
	struct thread_stack *st = bpf_map_lookup_elem(&stacks, &tid);
	if (!st || st->request != ts->request || st->depth == 0)
		return 0; /* a frame entered before we attached */
	struct usdt_site *site = current_site(ctx);
	struct tusk_config *cfg = current_config();
	if (!site || !cfg)
		return 0;

	__u32 d = st->depth - 1;
	st->depth = d;
	if (d >= TUSK_MAX_FRAMES)
		return 0;

	struct frame *f = &st->frames[d & (TUSK_MAX_FRAMES - 1)];
	__u64 function = 0;
	usdt_arg(ctx, site, 0, &function);
	if (function != f->function) {
		/* Entries and returns disagree (a probe was missed): drop the stack
		 * rather than give spans wrong parents. */
		st->depth = 0;
		ts->lost++;
		return 0;
	}

	__u64 duration = now - f->start;
	struct frame *parent = 0;
	if (d > 0) {
		parent = &st->frames[(d - 1) & (TUSK_MAX_FRAMES - 1)];
		parent->child_ns += duration;
	}
	if (!should_send(cfg, f, d + 1, duration))
		return 0;
	if (parent)
		parent->flags |= FRAME_FORCE;
	send_frame(ts, f, parent ? parent->seq : 0, d + 1, now, 0);
	return 0;
}
