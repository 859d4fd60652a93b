package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestStatsDescribeTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.db")
	s, err := Open(path, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	addAll(t, s, newTraceMaker(1).makeN(500, time.Now()))
	st := s.Stats()
	if st.Path != path || st.Traces != 500 || st.Written != 500 {
		t.Errorf("%+v", st)
	}
	// page_count counts pages still in the WAL and the WAL counts them
	// again, so the estimate is at least what is on disk.
	if disk := filesOnDisk(path); st.SizeBytes < disk || st.SizeBytes > 2*disk {
		t.Errorf("SizeBytes %d for %d bytes on disk", st.SizeBytes, disk)
	}
	s.Close()

	// A reopened store knows its contents before writing anything.
	s, err = Open(path, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st = s.Stats()
	if st.Traces != 500 || st.Written != 0 || st.SizeBytes != filesOnDisk(path) {
		t.Errorf("after reopening: %+v, %d bytes on disk", st, filesOnDisk(path))
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}
