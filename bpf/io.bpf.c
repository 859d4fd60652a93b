// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * I/O calls with their PHP call site: SQL (mysqli, PDO), HTTP (libcurl, PHP
 * http:// streams), Redis and Memcached. Go attaches a uprobe (and, for
 * timed calls, a uretprobe) to each hooked function:
 *
 *  - the C handler of a PHP internal function (mysqli_query, PDO::query,
 *    Redis::get…), found in the engine's function and class tables; its
 *    arguments are the call frame's zvals, read here;
 *  - an exported C function of a library (libcurl's curl_easy_perform),
 *    whose arguments are registers.
 *
 * Only threads serving a request are followed. Each hooked call costs two
 * uprobe hits (about 1.5 µs), which is why only I/O functions are hooked:
 * their own latency is hundreds of microseconds or more.
 */
#include "tusk.h"
#include "usdt_args.h"
#include "phpstack.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const struct io_event *unused_io_event __attribute__((unused));
const struct io_hook *unused_io_hook __attribute__((unused));
const struct symbol_event *unused_symbol_event __attribute__((unused));

#define IS_STRING 6
#define IS_OBJECT 8

/* How each site (attach cookie) is read, filled from Go. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TUSK_MAX_SITES);
	__type(key, __u32);
	__type(value, struct io_hook);
} io_hooks SEC(".maps");

struct zval_head {
	__u64 value;
	__u8 type;
};

/* read_zval reads a zval's value and type in one read of its 16 bytes. */
static __always_inline void read_zval(__u64 addr, const struct php_executor *ex, struct zval_head *z)
{
	__u8 b[16];
	z->value = 0;
	z->type = 0;
	if (bpf_probe_read_user(b, sizeof(b), (void *)addr))
		return;
	z->value = *(__u64 *)b;
	z->type = b[ex->zval_type & 15];
}

/* call_zval takes the zval at off in the call block. The masks only keep
 * the verifier sure of the bounds: Go checks that the offsets fit. */
static __always_inline void call_zval(const __u8 *call, __u32 off, const struct php_executor *ex,
				      struct zval_head *z)
{
	z->value = *(__u64 *)(call + (off & (CALL_BLOCK - 8)));
	z->type = call[(off + ex->zval_type) & (CALL_BLOCK - 1)];
}

/* read_call copies a PHP internal function's call frame, from its
 * zend_execute_data through its first TUSK_IO_ARGS arguments, into call:
 * one read instead of one per field and two per argument. A call with fewer
 * arguments ends sooner, so the read can run past the end of the VM stack's
 * mapping: then the header and the arguments the frame has are read apart.
 * Returns how many bytes of call hold the frame (0: none). */
static __always_inline __u32 read_call(__u8 *call, __u64 ed, const struct php_executor *ex)
{
	__u32 off = ex->call_args;
	if (!ed || off > CALL_BLOCK - TUSK_IO_ARGS * 16)
		return 0;
	__u32 size = off + TUSK_IO_ARGS * 16;
	if (!bpf_probe_read_user(call, size, (void *)ed))
		return size;
	if (!off || bpf_probe_read_user(call, off, (void *)ed))
		return 0;
	__u32 n = *(__u32 *)(call + (ex->ex_num_args & (CALL_BLOCK - 4)));
	if (n > TUSK_IO_ARGS)
		n = TUSK_IO_ARGS;
	if (n && bpf_probe_read_user(call + off, n * 16, (void *)(ed + off)))
		return off;
	return off + n * 16;
}

/* copy_zstr copies a zend_string into dst and returns its full length. The
 * copy stops at size bytes whatever len says; len is only reported (Go
 * compares it with what arrived to flag truncated text). */
static __always_inline __u32 copy_zstr(char *dst, __u32 size, __u64 zs, const struct php_executor *ex)
{
	__u64 len = 0;
	dst[0] = 0;
	if (!zs)
		return 0;
	bpf_probe_read_user(&len, sizeof(len), (void *)(zs + ex->str_len));
	bpf_probe_read_user_str(dst, size, (void *)(zs + ex->str_val));
	return len > 0xffffffff ? 0xffffffff : (__u32)len;
}

/* read_php_call fills what a PHP internal function's call frame says:
 * $this, the arguments' types, the chosen string arguments, the result.
 * call holds the frame's first got bytes (read_call). */
static __always_inline void read_php_call(struct io_event *e, const struct io_hook *hook,
					  const struct php_executor *ex, const __u8 *call, __u32 got,
					  __u64 retval, int returned)
{
	struct zval_head z;
	__u64 text_zs = 0, key_zs = 0;
	__u32 strings = 0;

	if (got) {
		e->num_args = *(__u32 *)(call + (ex->ex_num_args & (CALL_BLOCK - 4)));
		call_zval(call, ex->ex_this, ex, &z);
		if (z.type == IS_OBJECT)
			e->this_obj = z.value;
	}
	/* num_args is the frame's, any value: TUSK_IO_ARGS bounds the loop,
	 * got the arguments that were read. */
#pragma unroll
	for (int i = 0; i < TUSK_IO_ARGS; i++) {
		__u32 off = ex->call_args + i * 16;
		if (i >= e->num_args || off + 16 > got)
			break;
		call_zval(call, off, ex, &z);
		e->arg_types[i] = z.type;
		e->arg_vals[i] = z.value;
		if (z.type == IS_STRING) {
			strings++;
			if (strings == hook->text_arg)
				text_zs = z.value;
			if (strings == hook->key_arg)
				key_zs = z.value;
		}
	}
	if ((hook->flags & IO_THIS_PROP0) && e->this_obj) {
		read_zval(e->this_obj + ex->obj_props, ex, &z);
		if (z.type == IS_STRING)
			text_zs = z.value;
	}
	e->text_len = copy_zstr(e->text, sizeof(e->text), text_zs, ex);
	copy_zstr(e->key, sizeof(e->key), key_zs, ex);
	if (returned && retval) {
		read_zval(retval, ex, &z);
		e->ret_type = z.type;
		if (z.type == IS_OBJECT)
			e->ret_obj = z.value;
	}
}

static __always_inline void read_c_string(char *dst, __u32 size, __u8 arg, const __u64 *args, __u32 *len)
{
	dst[0] = 0;
	if (arg == 0 || arg > 4)
		return;
	__u64 p = args[(arg - 1) & 3];
	if (!p)
		return;
	long n = bpf_probe_read_user_str(dst, size, (void *)p);
	if (len && n > 0)
		*len = n - 1;
}

/* send_io emits one I/O call. The stack is walked before the event is
 * reserved so that the symbol events the walk sends come first in the ring. */
static __always_inline void send_io(void *ctx, struct usdt_site *site, __u32 site_idx, struct io_hook *hook,
				    struct thread_state *ts, __u64 start, const __u64 *args, int returned)
{
	__u32 bin_idx = ts->binary;
	struct php_binary *bin = bpf_map_lookup_elem(&binaries, &bin_idx);
	if (!bin)
		return;
	struct walk_scratch *s = scratch();
	if (!s)
		return;
	/* The hooked call's frame is read first: it is also the innermost
	 * frame of the walk, which then need not read it again. */
	s->got = 0;
	if (hook->flags & IO_PHP_HANDLER)
		s->got = read_call(s->call, args[0], &bin->ex);
	__u32 n = walk_stack(ts, bin, TUSK_IO_FRAMES, s->got >= EX_BLOCK ? args[0] : 0);

	struct io_event *e = reserve(ts, sizeof(*e));
	if (!e)
		return;
	__u64 now = bpf_ktime_get_ns();
	fill_header(&e->h, EVENT_IO, ts->request, now);
	e->start = start;
	e->site = site_idx;
	e->nframes = n;
	__builtin_memcpy(e->frames, s->sample.frames, sizeof(e->frames));
#pragma unroll
	for (int i = 0; i < 4; i++)
		e->args[i] = args[i];
	e->ret = 0;
	if (returned)
		bpf_probe_read_kernel(&e->ret, sizeof(e->ret), (void *)ctx + site->ret_off);
	e->deref = 0;
	if (returned && (hook->flags & IO_DEREF_ARG2) && args[2])
		bpf_probe_read_user(&e->deref, sizeof(e->deref), (void *)args[2]);
	e->this_obj = 0;
	e->ret_obj = 0;
	e->num_args = 0;
	e->ret_type = 0;
	e->text_len = 0;
#pragma unroll
	for (int i = 0; i < TUSK_IO_ARGS; i++) {
		e->arg_types[i] = 0;
		e->arg_vals[i] = 0;
	}
	if (hook->flags & IO_PHP_HANDLER) {
		read_php_call(e, hook, &bin->ex, s->call, s->got, args[1], returned);
	} else {
		read_c_string(e->text, sizeof(e->text), hook->text_arg, args, &e->text_len);
		read_c_string(e->key, sizeof(e->key), hook->key_arg, args, 0);
	}
	submit(e);
}

static __always_inline int passes_filter(const struct io_hook *hook, const __u64 *args)
{
	if (!(hook->flags & IO_FILTER_ARG))
		return 1;
	__u64 v = args[hook->filter_arg & 3];
	return v == hook->filter_values[0] || v == hook->filter_values[1] || v == hook->filter_values[2] ||
	       v == hook->filter_values[3];
}

/* io_enter_body runs at a hooked function's entry; the cookie is the site. */
static __always_inline int io_enter_body(struct pt_regs *ctx)
{
	__u32 site_idx = (__u32)bpf_get_attach_cookie(ctx);
	struct usdt_site *site = bpf_map_lookup_elem(&sites, &site_idx);
	struct io_hook *hook = bpf_map_lookup_elem(&io_hooks, &site_idx);
	if (!site || !hook)
		return 0;
	__u32 tid = current_tid();
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (!ts)
		return 0; /* not serving a request */
	__u64 args[4] = {};
#pragma unroll
	for (int i = 0; i < 4; i++)
		usdt_arg(ctx, site, i, &args[i]);
	if (!passes_filter(hook, args))
		return 0;
	__u64 now = bpf_ktime_get_ns();
	if (!(hook->flags & IO_RETURN)) {
		send_io(ctx, site, site_idx, hook, ts, now, args, 0);
		return 0;
	}

	struct io_calls *calls = bpf_map_lookup_elem(&io_pending, &tid);
	if (!calls) {
		struct io_calls empty = {};
		bpf_map_update_elem(&io_pending, &tid, &empty, BPF_NOEXIST);
		calls = bpf_map_lookup_elem(&io_pending, &tid);
		if (!calls)
			return 0;
	}
	__u32 d = calls->depth;
	if (d >= TUSK_IO_NESTING) {
		calls->depth = d + 1; /* counted so returns stay paired; not timed */
		return 0;
	}
	struct io_call *c = &calls->calls[d & (TUSK_IO_NESTING - 1)];
	c->start = now;
	c->site = site_idx;
#pragma unroll
	for (int i = 0; i < 4; i++)
		c->args[i] = args[i];
	calls->depth = d + 1;
	return 0;
}

/* io_return_body runs at its return, for timed hooks. */
static __always_inline int io_return_body(struct pt_regs *ctx)
{
	__u32 site_idx = (__u32)bpf_get_attach_cookie(ctx);
	struct usdt_site *site = bpf_map_lookup_elem(&sites, &site_idx);
	struct io_hook *hook = bpf_map_lookup_elem(&io_hooks, &site_idx);
	if (!site || !hook)
		return 0;
	__u32 tid = current_tid();
	struct io_calls *calls = bpf_map_lookup_elem(&io_pending, &tid);
	if (!calls || calls->depth == 0)
		return 0; /* entered before we attached */
	__u32 d = --calls->depth;
	if (d >= TUSK_IO_NESTING)
		return 0;
	struct io_call *c = &calls->calls[d & (TUSK_IO_NESTING - 1)];
	if (c->site != site_idx)
		return 0; /* a call whose return we missed (bailout): drop it */
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (!ts || c->start < ts->request)
		return 0;
	__u64 args[4];
#pragma unroll
	for (int i = 0; i < 4; i++)
		args[i] = c->args[i];
	send_io(ctx, site, site_idx, hook, ts, c->start, args, 1);
	return 0;
}

/*
 * Go attaches the .multi variants where the kernel has uprobe_multi links
 * (6.6+): one link per hooked file carries all its sites, each with its
 * cookie, and detaching it waits for one RCU grace period instead of one per
 * site. The per-site programs remain for older kernels.
 */
SEC("uprobe.multi")
int io_enter_multi(struct pt_regs *ctx)
{
	return io_enter_body(ctx);
}

SEC("uretprobe.multi")
int io_return_multi(struct pt_regs *ctx)
{
	return io_return_body(ctx);
}

SEC("uprobe")
int io_enter(struct pt_regs *ctx)
{
	return io_enter_body(ctx);
}

SEC("uretprobe")
int io_return(struct pt_regs *ctx)
{
	return io_return_body(ctx);
}
