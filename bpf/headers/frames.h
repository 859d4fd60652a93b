/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Deep mode: turning a frame of a thread's call stack into a function span.
 * Used where a frame returns (function.bpf.c) and where a request ends with
 * frames still open (request.bpf.c: fatal error, exit()).
 */
#ifndef TUSK_FRAMES_H
#define TUSK_FRAMES_H

#include "tusk.h"

static __always_inline struct tusk_config *current_config(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&config, &zero);
}

/* should_send decides in the kernel whether a finished frame becomes a span:
 * fast calls stay here (their time still counts in the parent's duration),
 * frames that threw or that have a sent descendant always go, so every sent
 * span has its parent. */
static __always_inline int should_send(const struct tusk_config *cfg, const struct frame *f,
				       __u32 depth, __u64 duration)
{
	if (depth > cfg->deep_max_depth)
		return 0;
	if (f->flags & (FRAME_THREW | FRAME_FORCE))
		return 1;
	return duration >= cfg->deep_threshold_ns;
}

/* send_frame copies the frame's names (only now, for the few frames that are
 * sent) and emits it. depth is 1-based. */
static __always_inline void send_frame(struct thread_state *ts, const struct frame *f, __u32 parent,
				       __u32 depth, __u64 now, __u32 extra_flags)
{
	struct function_event *e = reserve(ts, sizeof(*e));
	if (!e)
		return;
	fill_header(&e->h, EVENT_FUNCTION, ts->request, now);
	e->start = f->start;
	e->child_ns = f->child_ns;
	e->seq = f->seq;
	e->parent = parent;
	e->depth = depth;
	e->line = f->line;
	e->flags = f->flags | extra_flags;
	bpf_probe_read_user_str(e->function, sizeof(e->function), (void *)f->function);
	bpf_probe_read_user_str(e->class, sizeof(e->class), (void *)f->class);
	bpf_probe_read_user_str(e->file, sizeof(e->file), (void *)f->file);
	submit(e);
}

#endif /* TUSK_FRAMES_H */
