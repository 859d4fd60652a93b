package probes

// The BPF programs live in bpf/ at the repository root; bpf2go compiles them
// with the Debian toolchain (clang 14, libbpf 1.1 headers) into objects that
// are committed with their Go bindings, so building the agent needs no clang.
// One little-endian object serves amd64 and arm64: the C reads no kernel
// structs and takes every arch-specific offset from Go.
//
// Regenerate with `go generate ./pkg/probes` (CI checks nothing changes).

//go:generate go tool bpf2go -tags linux -target bpfel -no-strip -type request_start_event -type request_end_event -type function_event -type exception_event -type php_error_event -type event_header -type usdt_site -type usdt_arg -type php_binary -type php_executor -type fcgi_param -type tusk_config request ../../bpf/request.bpf.c -- -I../../bpf/headers -Wall -Werror
//go:generate go tool bpf2go -tags linux -target bpfel -no-strip function ../../bpf/function.bpf.c -- -I../../bpf/headers -Wall -Werror
//go:generate go tool bpf2go -tags linux -target bpfel -no-strip -type io_event -type io_hook -type sample_event -type symbol_event -type frame_ref io ../../bpf/io.bpf.c -- -I../../bpf/headers -Wall -Werror
//go:generate go tool bpf2go -tags linux -target bpfel -no-strip sampler ../../bpf/sampler.bpf.c -- -I../../bpf/headers -Wall -Werror
