/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Types and maps shared by Tusk's BPF programs and, through bpf2go's -type
 * flags, by the Go agent. The BPF side knows no PHP versions: every address
 * and struct offset it needs arrives from Go in the `binaries` and `sites`
 * maps (see pkg/phpoffsets), so one object serves every PHP build.
 */
#ifndef TUSK_H
#define TUSK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* ---- sizes ------------------------------------------------------------- */

#define TUSK_MAX_SITES 512       /* attached USDT locations, all binaries */
#define TUSK_MAX_BINARIES 64     /* PHP executables being traced */
#define TUSK_MAX_THREADS 16384   /* PHP threads inside a request at once */
#define TUSK_MAX_USDT_ARGS 6
#define TUSK_FCGI_PARAMS 4       /* FastCGI params read at request start */
#define TUSK_FCGI_NAME_LEN 32
#define TUSK_FCGI_CHAIN 8        /* bucket chain links followed per lookup */
#define TUSK_PARAM_LEN 256
#define TUSK_PATH_LEN 256
#define TUSK_NAME_LEN 128
#define TUSK_MSG_LEN 256
#define TUSK_METHOD_LEN 16
#define TUSK_MAX_FRAMES 128      /* deep-mode stack kept per thread (power of 2) */
#define TUSK_MAX_ERRORS 32       /* php.error events sent per request */
#define TUSK_SAMPLE_FRAMES 128   /* PHP frames walked per stack sample */
#define TUSK_IO_FRAMES 8         /* PHP frames kept as an I/O call's call site */
#define TUSK_IO_TEXT 2048        /* SQL text / URL bytes copied per I/O call */
#define TUSK_IO_KEY 256          /* second string: key, database, method */
#define TUSK_IO_ARGS 6           /* PHP call arguments described per I/O call */
#define TUSK_IO_NESTING 4        /* hooked calls open at once on a thread */
#define TUSK_SYMBOLS 65536       /* (process, function) pairs whose names were sent */
#define TUSK_SYMBOL_PROCS 4096   /* processes with a symbol budget at once */
#define TUSK_SYMBOL_BURST 8192   /* symbol events a process may send at once… */
#define TUSK_SYMBOL_RATE 2048    /* …and per second after that */

/* ---- USDT argument specs, parsed in Go (pkg/usdt) ---------------------- */

enum usdt_arg_kind {
	USDT_ARG_CONST = 0,     /* value is the argument */
	USDT_ARG_REG = 1,       /* the register is the argument */
	USDT_ARG_REG_DEREF = 2, /* the argument is in memory at register + value */
};

struct usdt_arg {
	__s64 value;   /* constant, or displacement for REG_DEREF */
	__u16 reg_off; /* offset of the register in the uprobe's pt_regs */
	__u8 kind;     /* enum usdt_arg_kind */
	__u8 size;     /* 1, 2, 4 or 8 bytes */
	__u8 is_signed;
	__u8 _pad[3];
};

/* One attached probe location; its index in `sites` is the attach cookie. */
struct usdt_site {
	struct usdt_arg args[TUSK_MAX_USDT_ARGS];
	__u64 vaddr;  /* link-time address of the probe: ip - vaddr = load bias */
	__u32 nargs;
	__u32 binary; /* index in `binaries` */
	__u16 ip_off; /* offset of the instruction pointer in pt_regs */
	__u16 ret_off; /* offset of the return value register in pt_regs */
	__u8 _pad[4];
};

/* ---- per-binary addresses and struct offsets --------------------------- */

enum binary_flags {
	BINARY_FPM = 1 << 0,  /* sapi_globals.server_context is an fcgi_request */
	BINARY_SAPI = 1 << 1, /* sapi_globals and its offsets are known */
	BINARY_EXECUTOR = 1 << 2, /* executor_globals and the stack offsets are known */
};

/* Offsets for walking PHP frames from executor_globals (Zend/zend_globals.h,
 * zend_compile.h, zend_types.h), as pkg/phpoffsets generates them. */
struct php_executor {
	__u16 current_execute_data;
	__u16 ex_opline;
	__u16 ex_func;
	__u16 ex_this;
	__u16 ex_prev;
	__u16 ex_num_args;
	__u16 call_args;   /* first argument zval, from the call frame */
	__u16 func_type;
	__u16 func_name;
	__u16 func_scope;
	__u16 op_filename;
	__u16 op_line_start;
	__u16 ce_name;
	__u16 str_len;
	__u16 str_val;
	__u16 op_lineno;
	__u16 zval_type;
	__u16 obj_props;   /* zend_object.properties_table */
};

struct php_binary {
	__u64 sapi_globals; /* link-time address of the sapi_globals symbol */
	__u32 flags;        /* enum binary_flags */
	/* sapi_globals_struct (main/SAPI.h) */
	__u16 sg_server_context;
	__u16 sg_request_method;
	__u16 sg_query_string;
	__u16 sg_request_uri;
	__u16 sg_path_translated;
	__u16 sg_response_code; /* sapi_headers.http_response_code */
	/* struct _fcgi_request and fcgi_hash_bucket (main/fastcgi.c, private) */
	__u16 fcgi_env;
	__u16 fcgi_bucket_var_len;
	__u16 fcgi_bucket_var;
	__u16 fcgi_bucket_val;
	__u16 fcgi_bucket_next;
	__u16 fcgi_hash_mask;
	__u16 _pad;
	__u64 executor_globals; /* link-time address of the executor_globals symbol */
	struct php_executor ex;
};

/* A FastCGI param to copy at request start (REQUEST_URI, HTTP_HOST…).
 * bucket = FCGI_HASH_FUNC(name) & mask, computed in Go. */
struct fcgi_param {
	__u32 bucket;
	__u32 len;
	char name[TUSK_FCGI_NAME_LEN];
};

/* ---- live settings ----------------------------------------------------- */

struct tusk_config {
	__u64 deep_threshold_ns; /* function spans shorter than this stay in the kernel */
	__u64 wakeup_bytes;      /* wake the agent only once this much is queued */
	__u32 deep_max_depth;    /* deeper frames are timed into their parent only */
	__u32 _pad;
};

/* ---- ring buffer events ------------------------------------------------ */

enum event_kind {
	EVENT_REQUEST_START = 1,
	EVENT_REQUEST_END = 2,
	EVENT_FUNCTION = 3,
	EVENT_EXCEPTION = 4,
	EVENT_PHP_ERROR = 5,
	EVENT_SYMBOL = 6,
	EVENT_SAMPLE = 7,
	EVENT_IO = 8,
};

struct event_header {
	__u64 ts;      /* bpf_ktime_get_ns() */
	__u64 request; /* start ts of the request on this thread: with tid, its key */
	__u32 pid;
	__u32 tid;
	__u8 kind;     /* enum event_kind */
	__u8 _pad[7];
};

struct request_start_event {
	struct event_header h;
	__u32 binary;
	__u32 _pad;
	char method[TUSK_METHOD_LEN];
	char script[TUSK_PATH_LEN];   /* path_translated */
	char uri[TUSK_PATH_LEN];      /* PHP's request_uri: SCRIPT_NAME under php-fpm */
	char query[TUSK_PARAM_LEN];   /* sapi_globals.request_info.query_string */
	char params[TUSK_FCGI_PARAMS][TUSK_PARAM_LEN];
};

struct request_end_event {
	struct event_header h;
	__u32 status;      /* sapi_headers.http_response_code */
	__u32 lost;        /* events of this request the ring buffer refused */
	__u32 exceptions;  /* exception__thrown count */
	__u32 open_frames; /* deep-mode frames flushed unfinished (bailout, exit) */
};

enum frame_flags {
	FRAME_THREW = 1 << 0,      /* an exception was thrown in this frame */
	FRAME_FORCE = 1 << 1,      /* a descendant was sent: send this one too */
	FRAME_UNFINISHED = 1 << 2, /* never returned; closed at request shutdown */
};

struct function_event {
	struct event_header h;
	__u64 start;
	__u64 child_ns; /* time spent in callees, sent or not */
	__u32 seq;      /* frame id within the request (1-based) */
	__u32 parent;   /* seq of the caller, 0 = the request span */
	__u32 depth;    /* 1 = called from the top-level script */
	__u32 line;
	__u32 flags;    /* enum frame_flags */
	__u32 _pad;
	char function[TUSK_NAME_LEN];
	char class[TUSK_NAME_LEN];
	char file[TUSK_PATH_LEN];
};

struct exception_event {
	struct event_header h;
	__u32 frame; /* seq of the frame it was thrown in, 0 if none is known */
	__u32 _pad;
	char class[TUSK_NAME_LEN];
};

struct php_error_event {
	struct event_header h;
	__u32 frame;
	__u32 line;
	char message[TUSK_MSG_LEN];
	char file[TUSK_PATH_LEN];
};

/* A PHP frame as the stack walker reports it: the zend_function pointer and
 * its name's zend_string pointer identify the function in its process (their
 * names travel once, in a symbol_event); the line is where the frame is. */
struct frame_ref {
	__u64 func;
	__u64 name;
	__u32 line;
	__u32 _pad;
};

/* The names of a function first seen in a process's stack. */
struct symbol_event {
	struct event_header h;
	__u64 func;
	__u64 name;
	__u32 type;       /* ZEND_INTERNAL_FUNCTION 1, ZEND_USER_FUNCTION 2 */
	__u32 line_start;
	char function[TUSK_NAME_LEN];
	char class[TUSK_NAME_LEN];
	char file[TUSK_PATH_LEN];
};

/* One perf_event sample of a thread serving a request: its PHP stack,
 * innermost frame first. Sent with only `nframes` frames. */
struct sample_event {
	struct event_header h;
	__u32 nframes;
	__u32 cpu;
	struct frame_ref frames[TUSK_SAMPLE_FRAMES];
};

/* How an I/O hook reads its call (filled from Go per site, pkg/probes). */
enum io_hook_flags {
	IO_PHP_HANDLER = 1 << 0, /* a PHP internal function's handler(execute_data, return_value) */
	IO_RETURN = 1 << 1,      /* a uretprobe closes the call; otherwise it is sent at entry */
	IO_THIS_PROP0 = 1 << 3,  /* text = $this's first declared property (PDOStatement::queryString) */
	IO_FILTER_ARG = 1 << 4,  /* send only when C argument filter_arg is one of filter_values */
	IO_DEREF_ARG2 = 1 << 5,  /* at return, report the long that C argument 2 points to */
};

struct io_hook {
	__u32 flags;    /* enum io_hook_flags */
	__u8 text_arg;  /* PHP: n-th string argument (1-based, 0 none); C: argument index + 1 */
	__u8 key_arg;   /* same, for the second string */
	__u8 filter_arg;
	__u8 _pad;
	__u64 filter_values[4];
};

/* An I/O call (SQL, HTTP, cache) with its PHP call site. */
struct io_event {
	struct event_header h;   /* ts: when it returned (or entered, without IO_RETURN) */
	__u64 start;
	__u64 args[4];           /* raw C arguments */
	__u64 ret;               /* raw return register */
	__u64 deref;             /* IO_DEREF_ARG2 */
	__u64 this_obj;          /* PHP: $this (zend_object *), 0 for a function */
	__u64 ret_obj;           /* PHP: the returned object, if one */
	__u64 arg_vals[TUSK_IO_ARGS]; /* PHP: object pointer or long value */
	__u32 site;
	__u32 text_len;          /* full length of the text before truncation */
	__u32 num_args;
	__u8 arg_types[TUSK_IO_ARGS];
	__u8 ret_type;           /* PHP: IS_FALSE 2, IS_TRUE 3, IS_LONG 4, IS_OBJECT 8 … */
	__u8 nframes;
	struct frame_ref frames[TUSK_IO_FRAMES];
	char key[TUSK_IO_KEY];
	char text[TUSK_IO_TEXT];
};

/* ---- per-thread state -------------------------------------------------- */

struct thread_state {
	__u64 request; /* start ts of the current request, 0 outside one */
	__u64 eg;      /* runtime address of executor_globals, 0 if unknown */
	__u32 binary;
	__u32 lost;
	__u32 exceptions;
	__u32 errors;
};

struct frame {
	__u64 start;
	__u64 child_ns;
	__u64 function; /* user pointers from function__entry, read only if sent */
	__u64 class;
	__u64 file;
	__u32 seq;
	__u32 line;
	__u32 flags;
	__u32 _pad;
};

/* Deep-mode call stack of one thread, only for threads whose function
 * probes are attached. */
struct thread_stack {
	__u64 request;
	__u32 depth;    /* may exceed TUSK_MAX_FRAMES: deeper frames are counted only */
	__u32 next_seq;
	struct frame frames[TUSK_MAX_FRAMES];
};

/* ---- maps shared by every object (the function object reuses the
 * request object's instances through MapReplacements) -------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* resized from Go at load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TUSK_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread_state);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TUSK_MAX_THREADS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct thread_stack);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TUSK_MAX_SITES);
	__type(key, __u32);
	__type(value, struct usdt_site);
} sites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TUSK_MAX_BINARIES);
	__type(key, __u32);
	__type(value, struct php_binary);
} binaries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tusk_config);
} config SEC(".maps");

struct io_call {
	__u64 start;
	__u64 args[4];
	__u32 site;
	__u32 _pad;
};

/* Hooked I/O calls in progress per thread (io.bpf.c): entry pushes, return
 * pops; reset when a request starts or ends (a bailout skips returns). */
struct io_calls {
	__u32 depth;
	__u32 _pad;
	struct io_call calls[TUSK_IO_NESTING];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TUSK_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct io_calls);
} io_pending SEC(".maps");

/* (process, function, name) triples whose symbol_event was sent. */
struct symbol_key {
	__u64 func;
	__u64 name;
	__u32 pid;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TUSK_SYMBOLS);
	__type(key, struct symbol_key);
	__type(value, __u8);
} symbols_sent SEC(".maps");

/* Symbol events a process may still send (phpstack.h, symbol_allowed): a
 * token bucket per process, shared by the sampler and the I/O hooks. */
struct symbol_budget {
	__u64 refilled; /* when tokens were last topped up */
	__u64 tokens;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TUSK_SYMBOL_PROCS);
	__type(key, __u32);
	__type(value, struct symbol_budget);
} symbol_budgets SEC(".maps");

/* Symbol events held back by a process's budget (sent on a later walk). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} symbols_limited SEC(".maps");

/* ---- helpers ----------------------------------------------------------- */

/* submit hands an event to the agent. Waking the agent for every event costs
 * it more than reading them: it is woken only once wakeup_bytes are queued,
 * and otherwise reads on its own every few tens of milliseconds. */
static __always_inline void submit(void *e)
{
	__u32 zero = 0;
	__u64 flags = BPF_RB_FORCE_WAKEUP;
	struct tusk_config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < cfg->wakeup_bytes)
		flags = BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline void count_lost(struct thread_state *ts)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost_events, &zero);
	if (n)
		(*n)++;
	if (ts)
		ts->lost++;
}

/* reserve takes room for an event in the ring buffer; when there is none the
 * event is counted as lost, globally and for the thread's request. */
static __always_inline void *reserve(struct thread_state *ts, __u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);
	if (!e)
		count_lost(ts);
	return e;
}

static __always_inline void fill_header(struct event_header *h, __u8 kind, __u64 request, __u64 now)
{
	__u64 id = bpf_get_current_pid_tgid();
	h->ts = now;
	h->request = request;
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->kind = kind;
}

static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

#endif /* TUSK_H */
