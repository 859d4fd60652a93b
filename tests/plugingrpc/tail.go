package plugingrpc

import "sync"

// tailBuffer keeps the last max bytes written to it: a plugin logs for as
// long as it runs, a failing test only needs the end.
type tailBuffer struct {
	mu        sync.Mutex
	max       int
	buf       []byte
	truncated bool
}

func newTailBuffer(max int) *tailBuffer {
	return &tailBuffer{max: max}
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		// Copy down rather than reslice so the backing array stays bounded.
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.truncated = true
	}
	return len(p), nil
}

// String returns what is kept, marked when older output was dropped.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.truncated {
		return "[… earlier output dropped]\n" + string(t.buf)
	}
	return string(t.buf)
}
