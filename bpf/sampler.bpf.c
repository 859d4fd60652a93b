// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * The PHP stack sampler: a perf_event program on every CPU (99 Hz by
 * default). When the interrupted thread is a PHP worker serving a request,
 * it walks the PHP stack and sends it, tagged with the request, for flame
 * graphs. Other threads cost a hash lookup. The cost is per sample, not per
 * request: it stays flat with load.
 */
#include "tusk.h"
#include "phpstack.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const struct sample_event *unused_sample_event __attribute__((unused));
const struct symbol_event *unused_symbol_event __attribute__((unused));

SEC("perf_event")
int sample_php_stack(void *ctx)
{
	__u32 tid = current_tid();
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (!ts || !ts->eg)
		return 0;
	__u32 bin_idx = ts->binary;
	struct php_binary *bin = bpf_map_lookup_elem(&binaries, &bin_idx);
	if (!bin)
		return 0;
	__u32 n = walk_stack(ts, bin, TUSK_SAMPLE_FRAMES, 0);
	struct walk_scratch *s = scratch();
	if (!s)
		return 0;
	fill_header(&s->sample.h, EVENT_SAMPLE, ts->request, bpf_ktime_get_ns());
	s->sample.nframes = n;
	s->sample.cpu = bpf_get_smp_processor_id();
	__u64 size = sizeof(s->sample) - sizeof(s->sample.frames) + (__u64)n * sizeof(struct frame_ref);
	if (size > sizeof(s->sample))
		size = sizeof(s->sample);
	if (bpf_ringbuf_output(&events, &s->sample, size, BPF_RB_NO_WAKEUP))
		count_lost(ts);
	return 0;
}
