/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Walking a PHP thread's call stack from executor_globals.current_execute_data,
 * for the stack sampler and for the call site of I/O calls.
 *
 * The walk copies no strings: each frame is (zend_function *, its name's
 * zend_string *, line). A function's names are sent once per process in a
 * symbol_event, the first time the walk meets it; the agent keeps them. With
 * opcache the functions live in shared memory for the life of the pool, so
 * this costs a few hundred events per worker and then nothing.
 */
#ifndef TUSK_PHPSTACK_H
#define TUSK_PHPSTACK_H

#include "tusk.h"

#define ZEND_USER_FUNCTION 2

/* An I/O hook's call frame is read in one go from its zend_execute_data
 * through its first TUSK_IO_ARGS argument zvals (io.bpf.c): call_args +
 * TUSK_IO_ARGS * 16 bytes, at most CALL_BLOCK. Go checks that the offsets
 * fit (pkg/probes, walkableLayout). */
#define CALL_BLOCK 256

/* Keys of symbols_sent met lately on this CPU, direct-mapped (a power of 2). */
#define SENT_CACHE 1024

/* Scratch space for a walk: one per CPU (programs do not nest on a CPU:
 * uprobes and perf_event programs never preempt each other). call is too
 * big for the 512-byte BPF stack next to the rest. pre and got live here
 * rather than on the stack: the verifier would check the walk once for
 * every value they can take. */
struct walk_scratch {
	struct sample_event sample;
	__u64 pre;    /* a frame whose first EX_BLOCK bytes are in call, or 0 */
	__u32 got;    /* bytes of call read (io.bpf.c, read_call) */
	__u32 _pad;
	__u8 call[CALL_BLOCK];
	struct symbol_key sent[SENT_CACHE]; /* send_symbol */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_scratch);
} walk_scratch SEC(".maps");

static __always_inline struct walk_scratch *scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&walk_scratch, &zero);
}

static __always_inline __u64 read_ptr(__u64 addr)
{
	__u64 v = 0;
	if (addr)
		bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

/* read_zstr copies a zend_string's characters: at most size bytes, NUL
 * included. The string's len is not read, so a forged one (2^62) costs
 * nothing. */
static __always_inline void read_zstr(char *dst, __u32 size, __u64 zs, const struct php_executor *ex)
{
	dst[0] = 0;
	if (zs)
		bpf_probe_read_user_str(dst, size, (void *)(zs + ex->str_val));
}

/* TOPLEVEL_FUNC stands for the function of a frame running a file's
 * top-level code in a frame_ref and symbol_key: no zend_function lives at 1. */
#define TOPLEVEL_FUNC 1

#define SYMBOL_TOKEN_NS (1000000000ULL / TUSK_SYMBOL_RATE)

/* symbol_allowed takes one of the process's symbol tokens. Without a
 * budget, a process that makes functions without end, or forges frame
 * chains, could have every walk send a symbol per frame (128 per sample,
 * thousands per second) and churn symbols_sent. The burst covers a pool's
 * warm-up, when a worker meets its application's functions for the first
 * time; after that a PHP process meets few new ones. Concurrent threads of
 * one process may race on the bucket: it is a bound, not an account.
 * A global function, verified once on its own: inlined, its branches
 * multiply the states of every frame of the walk past the verifier's
 * limit. */
__noinline int symbol_allowed(__u32 pid)
{
	__u64 now = bpf_ktime_get_ns();
	struct symbol_budget *b = bpf_map_lookup_elem(&symbol_budgets, &pid);
	if (!b) {
		struct symbol_budget fresh = { .refilled = now, .tokens = TUSK_SYMBOL_BURST - 1 };
		bpf_map_update_elem(&symbol_budgets, &pid, &fresh, BPF_NOEXIST);
		return 1;
	}
	__u64 tokens = b->tokens;
	if (now > b->refilled + SYMBOL_TOKEN_NS) {
		__u64 add = (now - b->refilled) / SYMBOL_TOKEN_NS;
		if (tokens + add >= TUSK_SYMBOL_BURST) {
			tokens = TUSK_SYMBOL_BURST;
			b->refilled = now;
		} else {
			tokens += add;
			b->refilled += add * SYMBOL_TOKEN_NS;
		}
	}
	if (!tokens) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&symbols_limited, &zero);
		if (n)
			(*n)++;
		return 0;
	}
	b->tokens = tokens - 1;
	return 1;
}

/* send_symbol emits the names of func, known as (key_func, key_name), unless
 * this process already got them. The pair is remembered only once the event
 * is in the ring buffer, so a dropped symbol, or one over the process's
 * budget, is sent again next time.
 *
 * Nearly every frame of a walk is a function already sent, and a
 * symbols_sent lookup (hashing the key, an LRU) costs as much as a read of
 * PHP's memory: the CPU's cache of keys found there answers first. It only
 * holds keys symbols_sent had, and nothing leaves symbols_sent but through
 * its LRU, after 65536 newer keys: a key the cache keeps a while longer was
 * sent, and the agent has its names. */
static __always_inline void send_symbol(struct walk_scratch *s, struct thread_state *ts,
					const struct php_executor *ex, __u64 func, __u64 key_func, __u64 key_name,
					__u64 name, __u8 type)
{
	struct symbol_key key = { .func = key_func, .name = key_name, .pid = bpf_get_current_pid_tgid() >> 32 };
	__u64 h = (key_func ^ (key_name * 0x9e3779b97f4a7c15ULL) ^ key.pid) * 0x9e3779b97f4a7c15ULL;
	struct symbol_key *seen = &s->sent[(h >> 32) & (SENT_CACHE - 1)];
	if (seen->func == key.func && seen->name == key.name && seen->pid == key.pid)
		return;
	if (bpf_map_lookup_elem(&symbols_sent, &key)) {
		*seen = key;
		return;
	}
	if (!symbol_allowed(key.pid))
		return;
	struct symbol_event *e = reserve(ts, sizeof(*e));
	if (!e)
		return;
	fill_header(&e->h, EVENT_SYMBOL, ts->request, bpf_ktime_get_ns());
	e->func = key_func;
	e->name = key_name;
	e->type = type;
	e->line_start = 0;
	read_zstr(e->function, sizeof(e->function), name, ex);
	__u64 scope = read_ptr(func + ex->func_scope);
	e->class[0] = 0;
	if (scope)
		read_zstr(e->class, sizeof(e->class), read_ptr(scope + ex->ce_name), ex);
	e->file[0] = 0;
	if (type == ZEND_USER_FUNCTION) {
		read_zstr(e->file, sizeof(e->file), read_ptr(func + ex->op_filename), ex);
		bpf_probe_read_user(&e->line_start, sizeof(e->line_start), (void *)(func + ex->op_line_start));
	}
	submit(e);
	__u8 one = 1;
	if (!bpf_map_update_elem(&symbols_sent, &key, &one, BPF_ANY))
		*seen = key;
}

struct walk_ctx {
	struct thread_state *ts;
	const struct php_executor *ex;
	__u64 ed;     /* next zend_execute_data to read */
	__u32 n;      /* frames stored */
	__u32 max;
};

/* Reads per frame are what a walk costs (each bpf_probe_read_user is a page
 * table walk): a frame's zend_execute_data fields come in one read of its
 * first EX_BLOCK bytes, the function's type and name in one read of
 * FUNC_BLOCK bytes. Go checks that the offsets fit (pkg/probes). */
#define EX_BLOCK 64
#define FUNC_BLOCK 16

static long walk_frame(__u32 i, void *data)
{
	struct walk_ctx *c = data;
	if (!c->ed || c->n >= c->max || c->n >= TUSK_SAMPLE_FRAMES)
		return 1;
	struct walk_scratch *s = scratch();
	if (!s)
		return 1;
	const struct php_executor *ex = c->ex;
	__u8 exb[EX_BLOCK];
	if (c->ed == s->pre) {
		__builtin_memcpy(exb, s->call, sizeof(exb));
		s->pre = 0;
	} else if (bpf_probe_read_user(exb, sizeof(exb), (void *)c->ed)) {
		return 1;
	}
	__u64 func = *(__u64 *)(exb + (ex->ex_func & (EX_BLOCK - 8)));
	__u64 opline = *(__u64 *)(exb + (ex->ex_opline & (EX_BLOCK - 8)));
	c->ed = *(__u64 *)(exb + (ex->ex_prev & (EX_BLOCK - 8)));
	if (!func)
		return 0; /* a frame without a function (the top-level stub) */
	__u8 fb[FUNC_BLOCK];
	if (bpf_probe_read_user(fb, sizeof(fb), (void *)func))
		return 0;
	__u8 type = fb[ex->func_type & (FUNC_BLOCK - 1)];
	__u64 name = *(__u64 *)(fb + (ex->func_name & (FUNC_BLOCK - 8)));
	__u32 line = 0;
	if (type == ZEND_USER_FUNCTION && opline)
		bpf_probe_read_user(&line, sizeof(line), (void *)(opline + ex->op_lineno));
	__u64 key_func = func, key_name = name;
	if (type == ZEND_USER_FUNCTION && !name) {
		/* Top-level code of a file. Opcache copies a script's main
		 * op_array into request memory at every include, so the next
		 * request may have another file's there: such a frame is known
		 * by its file name, which opcache keeps in shared memory. */
		key_func = TOPLEVEL_FUNC;
		key_name = read_ptr(func + ex->op_filename);
	}
	send_symbol(s, c->ts, ex, func, key_func, key_name, name, type);
	struct frame_ref *f = &s->sample.frames[c->n & (TUSK_SAMPLE_FRAMES - 1)];
	f->func = key_func;
	f->name = key_name;
	f->line = line;
	f->_pad = 0;
	c->n++;
	return 0;
}

/* walk_stack fills the CPU's scratch sample with up to max frames of the
 * current thread, innermost first, and returns how many it stored. A forged
 * or cyclic frame chain ends at max: the walk is bounded, and every read
 * goes through bpf_probe_read_user. pre (0 for none) is a frame already in
 * the scratch call block: an I/O hook's own frame, which is the innermost
 * one, is not read twice. */
static __always_inline __u32 walk_stack(struct thread_state *ts, const struct php_binary *bin, __u32 max,
					__u64 pre)
{
	struct walk_scratch *s = scratch();
	if (!s)
		return 0;
	s->pre = pre;
	if (!ts->eg || !(bin->flags & BINARY_EXECUTOR))
		return 0;
	struct walk_ctx c = { .ts = ts, .ex = &bin->ex, .max = max };
	c.ed = read_ptr(ts->eg + bin->ex.current_execute_data);
	bpf_loop(TUSK_SAMPLE_FRAMES, walk_frame, &c, 0);
	return c.n;
}

#endif /* TUSK_PHPSTACK_H */
