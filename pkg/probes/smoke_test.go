//go:build integration

package probes

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/cilium/ebpf/ringbuf"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/phpbin"
)

func TestCLIRequestEvents(t *testing.T) {
	tr, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	info, err := phpbin.Inspect("/usr/bin/php8.2")
	if err != nil {
		t.Fatal(err)
	}
	a, err := tr.Attach(info, "/usr/bin/php8.2")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	t.Logf("probes: %+v", a.Probes())
	cmd := exec.Command("/usr/bin/php8.2", "-r", "function f(){ usleep(3000); throw new DomainException('x'); } try { f(); } catch (Exception $e) {} usleep(10000);")
	cmd.Env = append(os.Environ(), "USE_ZEND_DTRACE=1")
	d, err := a.AttachDeep(0)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var rec ringbuf.Record
	tr.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		ev, err := tr.ReadEvent(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s %+v", ev.Kind(), ev)
		if ev.Kind() == events.KindRequestEnd {
			break
		}
	}
	lost, _ := tr.LostPerCPU()
	t.Logf("lost %v", lost)
}
