package store

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestOpenMovesDamagedFilesAside(t *testing.T) {
	for name, damage := range map[string]func(t *testing.T, path string){
		"not a database": func(t *testing.T, path string) {
			os.WriteFile(path, bytes.Repeat([]byte("this is a log file, not a database\n"), 500), 0o644)
			os.WriteFile(path+"-wal", []byte("stale wal"), 0o644)
		},
		"corrupt pages": func(t *testing.T, path string) {
			s, err := Open(path, Options{Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			addAll(t, s, newTraceMaker(1).makeN(300, time.Now()))
			s.Close()
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			// Keep page 1 (header and schema), scribble over pages 3-40.
			f.WriteAt(bytes.Repeat([]byte{0xa5}, 38*4096), 2*4096)
			f.Close()
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "traces.db")
			damage(t, path)
			original, _ := os.ReadFile(path)
			logs := &logRecorder{}

			s, err := Open(path, Options{Logger: slog.New(logs)})
			if err != nil {
				t.Fatalf("Open must recover, got: %v", err)
			}
			defer s.Close()
			if n := logs.count(slog.LevelError, "damaged"); n != 1 {
				t.Errorf("want one clear log line, got:\n%s", logs.text())
			}
			moved, _ := filepath.Glob(path + ".corrupt-*")
			var movedDB string
			for _, m := range moved {
				if !strings.HasSuffix(m, "-wal") {
					movedDB = m
				}
			}
			if movedDB == "" {
				t.Fatalf("nothing moved aside; directory has %v", moved)
			}
			if kept, _ := os.ReadFile(movedDB); !bytes.Equal(kept, original) {
				t.Error("the moved file is not the original")
			}
			if !strings.Contains(logs.text(), movedDB) {
				t.Errorf("the log does not say where the file went:\n%s", logs.text())
			}
			if st := s.Stats(); st.Traces != 0 {
				t.Errorf("fresh store has %d traces", st.Traces)
			}
			tr := newTraceMaker(2).make(time.Now())
			addAll(t, s, []*trace.Trace{tr})
			if _, err := s.Get(context.Background(), tr.TraceID); err != nil {
				t.Errorf("fresh store does not work: %v", err)
			}
		})
	}
}

func TestOpenAcceptsAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.db")
	os.WriteFile(path, nil, 0o644) // e.g. touched by a provisioning script
	s, err := Open(path, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if moved, _ := filepath.Glob(path + ".corrupt-*"); len(moved) != 0 {
		t.Errorf("an empty file was moved aside: %v", moved)
	}
}
