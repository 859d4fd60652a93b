package probes

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sampler is the PHP stack sampler: one CPU-clock perf event per CPU, each
// running sample_php_stack at the chosen frequency. A sample costs only when
// the interrupted thread serves a PHP request.
type Sampler struct {
	fds []int
	Hz  int
}

// MaxSampleHz bounds the frequency: past a few hundred Hz the walk's cost
// shows in PHP's throughput (measured: 999 Hz ≈ −7%).
const MaxSampleHz = 1000

// StartSampler opens and enables the perf events.
func (t *Tracer) StartSampler(hz int) (*Sampler, error) {
	if hz < 1 || hz > MaxSampleHz {
		return nil, fmt.Errorf("sampling frequency %d Hz is out of range 1..%d", hz, MaxSampleHz)
	}
	cpus, err := onlineCPUs()
	if err != nil {
		return nil, err
	}
	s := &Sampler{Hz: hz}
	prog := t.sampler.SamplePhpStack.FD()
	for _, cpu := range cpus {
		attr := unix.PerfEventAttr{
			Type:   unix.PERF_TYPE_SOFTWARE,
			Config: unix.PERF_COUNT_SW_CPU_CLOCK,
			Sample: uint64(hz),
			Bits:   unix.PerfBitFreq | unix.PerfBitDisabled,
		}
		attr.Size = uint32(unsafe.Sizeof(attr))
		fd, err := unix.PerfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			s.Close()
			if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
				return nil, fmt.Errorf("%w: perf_event_open: %v", ErrPermission, err)
			}
			return nil, fmt.Errorf("perf_event_open on CPU %d: %w", cpu, err)
		}
		s.fds = append(s.fds, fd)
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog); err != nil {
			s.Close()
			return nil, fmt.Errorf("attach the sampler on CPU %d: %w", cpu, err)
		}
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
			s.Close()
			return nil, fmt.Errorf("enable the sampler on CPU %d: %w", cpu, err)
		}
	}
	return s, nil
}

// Close stops sampling.
func (s *Sampler) Close() error {
	var errs []error
	for _, fd := range s.fds {
		_ = unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_DISABLE, 0)
		errs = append(errs, unix.Close(fd))
	}
	s.fds = nil
	return errors.Join(errs...)
}

// CPUs is how many perf events sample.
func (s *Sampler) CPUs() int { return len(s.fds) }

// onlineCPUs reads /sys/devices/system/cpu/online ("0-3,5").
func onlineCPUs() ([]int, error) {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		// No sysfs: assume every CPU Go sees.
		var all []int
		for i := range runtime.NumCPU() {
			all = append(all, i)
		}
		return all, nil
	}
	return parseCPUList(string(b))
}

func parseCPUList(list string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("CPU list %q: %w", list, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("CPU list %q: bad range %q", list, part)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) == 0 {
		return nil, fmt.Errorf("CPU list %q is empty", list)
	}
	return cpus, nil
}
