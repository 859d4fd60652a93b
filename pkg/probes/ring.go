package probes

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// eventRing reads the BPF ring buffer (BPF_MAP_TYPE_RINGBUF) in place.
//
// It replaces cilium/ebpf's ringbuf.Reader for two reasons, both measured on
// a WordPress stack (bench/README.md, "The ring buffer's reader"):
//
//   - The Reader waits in epoll_wait, a blocking system call during which the
//     event loop's goroutine keeps its P. The Go runtime's monitor (sysmon)
//     polls every 20 µs while a P is in a system call, and only takes the P
//     back after 10 ms: ~58 wakeups each time the loop waited, 15% of the
//     agent's CPU. Here the loop waits in the Go network poller (the ring's
//     file descriptor is pollable), which parks the goroutine and frees its P.
//   - The Reader copies each record out of the ring, and an I/O event is a
//     fixed 2.7 KB record of which a few hundred bytes are used. Here the
//     record is decoded where it lies, then released.
//
// The layout is the kernel's (kernel/bpf/ringbuf.c): a page holding the
// consumer position (ours to write), a page holding the producer position,
// then the data pages, mapped twice in a row so that a record that wraps
// around the end reads as one slice. Each record starts with an 8-byte header:
// its length, with a bit for "still being written" and one for "discarded".
type eventRing struct {
	// mu keeps Close from unmapping the ring under a read.
	mu      sync.Mutex
	closing atomic.Bool // set before the file is closed, for Read to tell why its wait ended

	file *os.File        // a duplicate of the map's fd, in the network poller
	conn syscall.RawConn // file's, for waiting
	cons []byte          // the consumer page
	prod []byte          // the producer page and the data, twice
	data []byte          // prod's data: 2 × size bytes
	mask uint64          // size - 1
	pos  *atomic.Uint64  // consumer position (in cons)
	head *atomic.Uint64  // producer position (in prod)
}

const (
	ringBusyBit    = 1 << 31 // BPF_RINGBUF_BUSY_BIT: the producer is still writing
	ringDiscardBit = 1 << 30 // BPF_RINGBUF_DISCARD_BIT: skip the record
	ringHeaderSize = 8       // BPF_RINGBUF_HDR_SZ
)

// errRingEmpty is what next returns when no committed record is waiting.
var errRingEmpty = errors.New("ring buffer empty")

// openRing maps m, a ring buffer of size bytes, and puts a duplicate of its
// descriptor in Go's network poller.
func openRing(m *ebpf.Map, size int) (*eventRing, error) {
	page := os.Getpagesize()
	fd, err := unix.FcntlInt(uintptr(m.FD()), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("duplicate the ring buffer's fd: %w", err)
	}
	// O_NONBLOCK is what makes os.NewFile register the descriptor with the
	// poller; a ring buffer map's other operations ignore it.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ring buffer fd: %w", err)
	}
	r := &eventRing{file: os.NewFile(uintptr(fd), "ringbuf"), mask: uint64(size - 1)}
	conn, err := r.file.SyscallConn()
	if err != nil {
		r.file.Close()
		return nil, fmt.Errorf("ring buffer fd: %w", err)
	}
	r.conn = conn
	if r.cons, err = unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		r.file.Close()
		return nil, fmt.Errorf("map the ring buffer's consumer page: %w", err)
	}
	if r.prod, err = unix.Mmap(fd, int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED); err != nil {
		unix.Munmap(r.cons)
		r.file.Close()
		return nil, fmt.Errorf("map the ring buffer's data: %w", err)
	}
	r.data = r.prod[page:]
	r.pos = (*atomic.Uint64)(unsafe.Pointer(&r.cons[0]))
	r.head = (*atomic.Uint64)(unsafe.Pointer(&r.prod[0]))
	// A deadline needs the poller: a descriptor it refused would block.
	if err := r.file.SetReadDeadline(time.Time{}); err != nil {
		r.Close()
		return nil, fmt.Errorf("ring buffer fd cannot be polled: %w", err)
	}
	return r, nil
}

// next returns the oldest committed record and the position after it, or
// errRingEmpty. Discarded records are released on the way. The record stays
// valid until release(after).
func (r *eventRing) next() (rec []byte, after uint64, err error) {
	pos := r.pos.Load()
	for {
		if pos >= r.head.Load() {
			return nil, 0, errRingEmpty
		}
		off := pos & r.mask
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))
		if hdr&ringBusyBit != 0 {
			// Reserved and not yet submitted: records are read in order,
			// so the ones after it wait too.
			return nil, 0, errRingEmpty
		}
		n := uint64(hdr &^ (ringBusyBit | ringDiscardBit))
		after := pos + (ringHeaderSize+n+7)&^7
		if n > r.mask+1-ringHeaderSize {
			// The kernel never writes this. What is queued is given up (the
			// consumer must not pass the producer), so that one bad header
			// cannot stop the reader or slice past the mapping.
			r.pos.Store(r.head.Load())
			return nil, 0, fmt.Errorf("ring buffer record of %d bytes in a ring of %d", n, r.mask+1)
		}
		if hdr&ringDiscardBit == 0 {
			start := off + ringHeaderSize
			return r.data[start : start+n : start+n], after, nil
		}
		r.pos.Store(after)
		pos = after
	}
}

// release gives the space up to after back to the producers.
func (r *eventRing) release(after uint64) { r.pos.Store(after) }

// SetDeadline makes a waiting Read, and later ones, return
// os.ErrDeadlineExceeded at t (zero: never). Safe from any goroutine.
func (r *eventRing) SetDeadline(t time.Time) error { return r.file.SetReadDeadline(t) }

// Read passes the oldest record to decode, then releases it. With none, it
// waits in the network poller until one comes or the deadline passes: BPF
// programs signal the descriptor only when wakeup_bytes are queued
// (bpf/headers/tusk.h, submit), so records are usually found at the
// deadline. Returns os.ErrDeadlineExceeded, or os.ErrClosed once Close was
// called.
func (r *eventRing) Read(decode func(rec []byte)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing.Load() {
		return os.ErrClosed
	}
	rec, after, err := r.next()
	if err == errRingEmpty {
		// The poller's readiness is cleared before the first call of the
		// function, so a wakeup after that call's look is not missed.
		werr := r.conn.Read(func(uintptr) bool {
			rec, after, err = r.next()
			return err != errRingEmpty
		})
		if werr != nil {
			if r.closing.Load() {
				return os.ErrClosed
			}
			return werr
		}
	}
	if err != nil {
		return err
	}
	decode(rec)
	r.release(after)
	return nil
}

// Close ends a Read waiting on another goroutine, then unmaps the ring.
func (r *eventRing) Close() error {
	r.closing.Store(true)
	ferr := r.file.Close() // wakes a waiting Read, which then returns
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.prod == nil {
		return nil // closed before
	}
	err := errors.Join(ferr, unix.Munmap(r.prod), unix.Munmap(r.cons))
	r.prod, r.cons, r.data = nil, nil, nil
	return err
}
