// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Request spans from PHP's request__startup / request__shutdown USDT probes,
 * plus exception__thrown and error, which are cheap because they are rare.
 * These probes fire without USE_ZEND_DTRACE=1, so this is always on.
 *
 * Under php-fpm PHP's own "uri" argument is SCRIPT_NAME (/index.php for every
 * front-controller page), so the real REQUEST_URI, Host and trace headers are
 * read from the FastCGI params that nginx sent, which php-fpm has already
 * parsed into the fcgi_request hash when request__startup fires.
 */
#include "tusk.h"
#include "usdt_args.h"
#include "frames.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* FastCGI params to copy, filled from Go (pkg/probes). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TUSK_FCGI_PARAMS);
	__type(key, __u32);
	__type(value, struct fcgi_param);
} fcgi_params SEC(".maps");

/* Processes the agent has named (pool, service). The first request of any
 * other process wakes the agent at once instead of waiting for its next read:
 * a worker that lives for a few requests (pm.max_requests) must be read from
 * /proc before it exits, or its traces lose their pool. The agent deletes
 * exited processes; LRU eviction covers those it misses. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TUSK_MAX_THREADS);
	__type(key, __u32);
	__type(value, __u8);
} known_procs SEC(".maps");

/* Referenced so their BTF is emitted and bpf2go generates the Go types the
 * ring buffer reader decodes. */
const struct request_start_event *unused_request_start_event __attribute__((unused));
const struct request_end_event *unused_request_end_event __attribute__((unused));
const struct function_event *unused_function_event __attribute__((unused));
const struct exception_event *unused_exception_event __attribute__((unused));
const struct php_error_event *unused_php_error_event __attribute__((unused));


/* read_user_str_at copies a C string: at most size bytes, NUL included,
 * whatever the process's memory holds (the callers pass sizeof(dst)). */
static __always_inline void read_user_str_at(char *dst, __u32 size, __u64 ptr)
{
	dst[0] = 0;
	if (ptr)
		bpf_probe_read_user_str(dst, size, (void *)ptr);
}

static __always_inline __u64 read_user_ptr(__u64 addr)
{
	__u64 v = 0;
	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

static __always_inline int name_equals(const char *a, const char *b, __u32 len)
{
	for (__u32 i = 0; i < TUSK_FCGI_NAME_LEN; i++) {
		if (i >= len)
			return a[i] == 0;
		if (a[i] != b[i])
			return 0;
	}
	return 0;
}

/* fcgi_lookup follows one bucket chain of the fcgi_request's env hash
 * (FCGI_HASH_FUNC collisions are rare: a handful of links at most). A forged
 * or cyclic chain ends after TUSK_FCGI_CHAIN links. */
static __always_inline void fcgi_lookup(__u64 env, const struct php_binary *bin, const struct fcgi_param *want,
					char *dst)
{
	char name[TUSK_FCGI_NAME_LEN];
	__u64 bucket = 0;

	dst[0] = 0;
	if (bpf_probe_read_user(&bucket, sizeof(bucket), (void *)(env + (__u64)(want->bucket & bin->fcgi_hash_mask) * 8)))
		return;
	for (int i = 0; i < TUSK_FCGI_CHAIN && bucket; i++) {
		__u32 var_len = 0;
		__u64 var = 0, val = 0;
		bpf_probe_read_user(&var_len, sizeof(var_len), (void *)(bucket + bin->fcgi_bucket_var_len));
		if (var_len == want->len) {
			bpf_probe_read_user(&var, sizeof(var), (void *)(bucket + bin->fcgi_bucket_var));
			if (var && bpf_probe_read_user_str(name, sizeof(name), (void *)var) > 0 &&
			    name_equals(name, want->name, want->len)) {
				bpf_probe_read_user(&val, sizeof(val), (void *)(bucket + bin->fcgi_bucket_val));
				read_user_str_at(dst, TUSK_PARAM_LEN, val); /* NULL val: deleted */
				return;
			}
		}
		if (bpf_probe_read_user(&bucket, sizeof(bucket), (void *)(bucket + bin->fcgi_bucket_next)))
			return;
	}
}

static __always_inline void read_fcgi_params(struct request_start_event *e, __u64 sg, const struct php_binary *bin)
{
	__u64 req = 0;

	if ((bin->flags & (BINARY_FPM | BINARY_SAPI)) == (BINARY_FPM | BINARY_SAPI))
		bpf_probe_read_user(&req, sizeof(req), (void *)(sg + bin->sg_server_context));
	for (__u32 i = 0; i < TUSK_FCGI_PARAMS; i++) {
		__u32 k = i;
		struct fcgi_param *want = bpf_map_lookup_elem(&fcgi_params, &k);
		e->params[i][0] = 0;
		if (req && want && want->len)
			fcgi_lookup(req + bin->fcgi_env, bin, want, e->params[i]);
	}
}

/* begin_request opens the thread's request. file, uri and method are user
 * pointers to C strings: the USDT probe's arguments, or sapi_globals' fields
 * when PHP has no USDT probes. */
static __always_inline void begin_request(struct pt_regs *ctx, struct usdt_site *site, __u64 file, __u64 uri,
					  __u64 method)
{
	__u32 bin_idx = site->binary;
	struct php_binary *bin = bpf_map_lookup_elem(&binaries, &bin_idx);
	if (!bin)
		return;

	__u64 now = bpf_ktime_get_ns();
	__u32 tid = current_tid();
	__u64 bias = load_bias(ctx, site);
	struct thread_state fresh = { .request = now, .binary = bin_idx };
	if (bin->flags & BINARY_EXECUTOR)
		fresh.eg = bias + bin->executor_globals;
	bpf_map_update_elem(&threads, &tid, &fresh, BPF_ANY);
	bpf_map_delete_elem(&io_pending, &tid);
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);

	struct request_start_event *e = reserve(ts, sizeof(*e));
	if (!e)
		return;
	fill_header(&e->h, EVENT_REQUEST_START, now, now);
	e->binary = bin_idx;
	read_user_str_at(e->script, sizeof(e->script), file);
	read_user_str_at(e->uri, sizeof(e->uri), uri);
	read_user_str_at(e->method, sizeof(e->method), method);

	__u64 query = 0;
	__u64 sg = bias + bin->sapi_globals;
	if (bin->flags & BINARY_SAPI)
		bpf_probe_read_user(&query, sizeof(query), (void *)(sg + bin->sg_query_string));
	read_user_str_at(e->query, sizeof(e->query), query);
	read_fcgi_params(e, sg, bin);

	__u32 pid = e->h.pid;
	if (bpf_map_lookup_elem(&known_procs, &pid))
		submit(e);
	else
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

/* php:request__startup(file, uri, method), PHP built with DTrace. */
SEC("uprobe")
int request_startup(struct pt_regs *ctx)
{
	struct usdt_site *site = current_site(ctx);
	if (!site)
		return 0;
	__u64 file = 0, uri = 0, method = 0;
	usdt_arg(ctx, site, 0, &file);
	usdt_arg(ctx, site, 1, &uri);
	usdt_arg(ctx, site, 2, &method);
	begin_request(ctx, site, file, uri, method);
	return 0;
}

/* Entry of php_request_startup(), for PHP built without DTrace: the SAPI has
 * filled sapi_globals.request_info by then (php-fpm's init_request_info). */
SEC("uprobe")
int request_startup_fn(struct pt_regs *ctx)
{
	struct usdt_site *site = current_site(ctx);
	if (!site)
		return 0;
	__u32 bin_idx = site->binary;
	struct php_binary *bin = bpf_map_lookup_elem(&binaries, &bin_idx);
	if (!bin || !(bin->flags & BINARY_SAPI))
		return 0;
	__u64 sg = load_bias(ctx, site) + bin->sapi_globals;
	__u64 file = read_user_ptr(sg + bin->sg_path_translated);
	__u64 uri = read_user_ptr(sg + bin->sg_request_uri);
	__u64 method = read_user_ptr(sg + bin->sg_request_method);
	begin_request(ctx, site, file, uri, method);
	return 0;
}

struct flush_ctx {
	struct thread_stack *st;
	struct thread_state *ts;
	struct tusk_config *cfg;
	__u64 now;
	__u32 top; /* number of stored frames */
	__u32 sent;
};

/* flush_frame closes the index-th open frame from the top of the stack. */
static long flush_frame(__u32 index, void *data)
{
	struct flush_ctx *c = data;
	if (index >= c->top)
		return 1;
	__u32 d = c->top - 1 - index;
	if (d >= TUSK_MAX_FRAMES)
		return 1;
	struct frame *f = &c->st->frames[d];
	__u64 duration = c->now - f->start;
	if (!should_send(c->cfg, f, d + 1, duration))
		return 0;
	__u32 parent = 0;
	if (d > 0) {
		struct frame *p = &c->st->frames[(d - 1) & (TUSK_MAX_FRAMES - 1)];
		parent = p->seq;
		p->flags |= FRAME_FORCE;
	}
	/* The callees' time was only added on return; for open frames it is
	 * the whole duration of the frame above. */
	send_frame(c->ts, f, parent, d + 1, c->now, FRAME_UNFINISHED);
	c->sent++;
	return 0;
}

SEC("uprobe")
int request_shutdown(struct pt_regs *ctx)
{
	struct usdt_site *site = current_site(ctx);
	if (!site)
		return 0;
	__u32 tid = current_tid();
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (!ts)
		return 0; /* the request began before we attached */
	__u32 bin_idx = ts->binary;
	struct php_binary *bin = bpf_map_lookup_elem(&binaries, &bin_idx);
	if (!bin)
		return 0;
	__u64 now = bpf_ktime_get_ns();

	/* Frames still open here never returned (fatal error, exit()). */
	__u32 open = 0;
	struct thread_stack *st = bpf_map_lookup_elem(&stacks, &tid);
	struct tusk_config *cfg = current_config();
	if (st && cfg && st->request == ts->request && st->depth > 0) {
		struct flush_ctx c = { .st = st, .ts = ts, .cfg = cfg, .now = now };
		c.top = st->depth < TUSK_MAX_FRAMES ? st->depth : TUSK_MAX_FRAMES;
		bpf_loop(TUSK_MAX_FRAMES, flush_frame, &c, 0);
		open = c.sent;
	}
	if (st)
		bpf_map_delete_elem(&stacks, &tid);
	bpf_map_delete_elem(&io_pending, &tid);

	struct request_end_event *e = reserve(ts, sizeof(*e));
	if (!e) {
		bpf_map_delete_elem(&threads, &tid);
		return 0;
	}
	fill_header(&e->h, EVENT_REQUEST_END, ts->request, now);
	__u64 sg = load_bias(ctx, site) + bin->sapi_globals;
	__s32 status = 0;
	if (bin->flags & BINARY_SAPI)
		bpf_probe_read_user(&status, sizeof(status), (void *)(sg + bin->sg_response_code));
	e->status = status;
	e->lost = ts->lost;
	e->exceptions = ts->exceptions;
	e->open_frames = open;
	submit(e);
	bpf_map_delete_elem(&threads, &tid);
	return 0;
}

/* top_frame returns the innermost stored deep-mode frame of the request, if any. */
static __always_inline struct frame *top_frame(__u32 tid, const struct thread_state *ts)
{
	struct thread_stack *st = bpf_map_lookup_elem(&stacks, &tid);
	if (!st || st->request != ts->request || st->depth == 0 || st->depth > TUSK_MAX_FRAMES)
		return 0;
	return &st->frames[(st->depth - 1) & (TUSK_MAX_FRAMES - 1)];
}

SEC("uprobe")
int exception_thrown(struct pt_regs *ctx)
{
	struct usdt_site *site = current_site(ctx);
	if (!site)
		return 0;
	__u32 tid = current_tid();
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (!ts)
		return 0;
	ts->exceptions++;
	__u32 frame_seq = 0;
	struct frame *f = top_frame(tid, ts);
	if (f) {
		f->flags |= FRAME_THREW;
		frame_seq = f->seq;
	}

	struct exception_event *e = reserve(ts, sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, EVENT_EXCEPTION, ts->request, bpf_ktime_get_ns());
	e->frame = frame_seq;
	__u64 class = 0;
	usdt_arg(ctx, site, 0, &class);
	read_user_str_at(e->class, sizeof(e->class), class);
	submit(e);
	return 0;
}

SEC("uprobe")
int php_error(struct pt_regs *ctx)
{
	struct usdt_site *site = current_site(ctx);
	if (!site)
		return 0;
	__u32 tid = current_tid();
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (!ts || ts->errors >= TUSK_MAX_ERRORS)
		return 0;
	ts->errors++;
	__u32 frame_seq = 0;
	struct frame *f = top_frame(tid, ts);
	if (f)
		frame_seq = f->seq;

	struct php_error_event *e = reserve(ts, sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, EVENT_PHP_ERROR, ts->request, bpf_ktime_get_ns());
	e->frame = frame_seq;
	__u64 msg = 0, file = 0, line = 0;
	usdt_arg(ctx, site, 0, &msg);
	usdt_arg(ctx, site, 1, &file);
	usdt_arg(ctx, site, 2, &line);
	e->line = line;
	read_user_str_at(e->message, sizeof(e->message), msg);
	read_user_str_at(e->file, sizeof(e->file), file);
	submit(e);
	return 0;
}
