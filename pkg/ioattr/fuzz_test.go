package ioattr

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; run a fuzzer with, for example,
//
//	go test -run '^$' -fuzz FuzzNormalizeSQL -fuzztime 60s ./pkg/ioattr

var dialectSystems = []string{"mysql", "postgresql", "sqlite"}

func FuzzNormalizeSQL(f *testing.F) {
	f.Add("SELECT * FROM t WHERE id IN (1, 2, -3) AND s = 'it''s' -- c")
	f.Fuzz(func(t *testing.T, stmt string) {
		for _, system := range dialectSystems {
			once := NormalizeSQLFor(system, stmt)
			if twice := NormalizeSQLFor(system, once); twice != once {
				t.Fatalf("%s: not idempotent:\n  in    %q\n  once  %q\n  twice %q", system, stmt, once, twice)
			}
			if strings.HasPrefix(once, " ") || (strings.HasSuffix(once, " ") && !strings.ContainsAny(once, "\"`")) {
				t.Fatalf("%s: %q has leading or trailing spaces", system, once)
			}
			if utf8.ValidString(stmt) && !utf8.ValidString(once) {
				t.Fatalf("%s: %q gave invalid UTF-8 %q", system, stmt, once)
			}
		}
		// A string literal's content never survives, whatever it is.
		if !strings.ContainsAny(stmt, `'\`) {
			q := "SELECT a FROM t WHERE b = '" + stmt + "'"
			if got := NormalizeSQL(q); got != "SELECT a FROM t WHERE b = ?" {
				t.Fatalf("literal survived: %q gave %q", q, got)
			}
		}
	})
}

func FuzzTruncateSQL(f *testing.F) {
	f.Add("SELECT 'é' FROM t", 7)
	f.Fuzz(func(t *testing.T, stmt string, max int) {
		got, cut := TruncateSQL(stmt, max)
		if !cut {
			if got != stmt {
				t.Fatalf("not cut but changed: %q -> %q", stmt, got)
			}
			return
		}
		if max <= 0 || len(got) > max {
			t.Fatalf("TruncateSQL(%q, %d) = %q: over the limit", stmt, max, got)
		}
		if !strings.HasPrefix(stmt, strings.TrimSuffix(got, ellipsis)) {
			t.Fatalf("TruncateSQL(%q, %d) = %q: not a prefix", stmt, max, got)
		}
		if utf8.ValidString(stmt) && !utf8.ValidString(got) {
			t.Fatalf("TruncateSQL(%q, %d) = %q: split a character", stmt, max, got)
		}
	})
}

func FuzzSQLOperationTable(f *testing.F) {
	f.Add("INSERT INTO `db`.`t` (a) SELECT b FROM u")
	f.Fuzz(func(t *testing.T, stmt string) {
		if op := SQLOperation(stmt); op != "" && (!strings.Contains(stmt, op) || !sqlOperations[strings.ToUpper(op)]) {
			t.Fatalf("SQLOperation(%q) = %q", stmt, op)
		}
		if table := SQLTable(stmt); len(table) > len(stmt) || (strings.ContainsAny(table, " \t\n") && !strings.ContainsAny(stmt, "\"`")) {
			t.Fatalf("SQLTable(%q) = %q", stmt, table)
		}
		_ = SQLSpanName(stmt)
		if got, want := DescribeSQL(stmt), (SQLFacts{SQLOperation(stmt), SQLTable(stmt), NormalizeSQL(stmt)}); got != want {
			t.Fatalf("DescribeSQL(%q) = %+v, its parts say %+v", stmt, got, want)
		}
	})
}

func FuzzRedactURL(f *testing.F) {
	f.Add("http://user:pass@127.0.0.1:8080/upstream/ok?token=abc&page=2")
	f.Fuzz(func(t *testing.T, raw string) {
		got := RedactURL(raw)
		if again := RedactURL(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", raw, got, again)
		}
		// Whatever Go's URL parser sees as credentials or secret parameters is gone.
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		r, err := url.Parse(got)
		if err != nil {
			t.Fatalf("RedactURL(%q) = %q does not parse any more: %v", raw, got, err)
		}
		if u.User != nil && (r.User == nil || r.User.String() != "REDACTED:REDACTED") {
			t.Fatalf("RedactURL(%q) = %q: credentials %v", raw, got, r.User)
		}
		q, err := url.ParseQuery(r.RawQuery)
		if err != nil {
			return
		}
		for name, values := range q {
			if !SecretParam(url.QueryEscape(name)) {
				continue
			}
			for _, v := range values {
				if v != "" && v != "REDACTED" {
					t.Fatalf("RedactURL(%q) = %q: %s=%q", raw, got, name, v)
				}
			}
		}
	})
}

func FuzzParseDSN(f *testing.F) {
	f.Add("mysql:host=127.0.0.1;port=3306;dbname=wp")
	f.Fuzz(func(t *testing.T, dsn string) {
		system, _, _, port := ParseDSN(dsn)
		if port < 0 || port > 65535 {
			t.Fatalf("ParseDSN(%q): port %d", dsn, port)
		}
		if strings.ContainsAny(system, " ;:") {
			t.Fatalf("ParseDSN(%q): system %q", dsn, system)
		}
	})
}

func FuzzRedisCommandName(f *testing.F) {
	f.Add("hGetAll")
	f.Fuzz(func(t *testing.T, method string) {
		if cmd := RedisCommandName(method); cmd != strings.ToUpper(cmd) {
			t.Fatalf("RedisCommandName(%q) = %q", method, cmd)
		}
	})
}
