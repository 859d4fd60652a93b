// Package ioattr derives what Tusk's I/O spans show from what PHP passed to the database, HTTP and cache
// client, following the OpenTelemetry semantic conventions: db.query.text, db.operation.name,
// db.collection.name, db.system.name / db.namespace / server.address from a PDO DSN, url.full without
// credentials, and the normalised statement shape that groups repeated queries (N+1).
//
// Everything here is pure string processing: no regular expressions, one linear pass over the input
// (plus linear post-processing), no panics on any input (fuzzed), and invalid UTF-8 is passed through
// byte for byte rather than rejected.
//
// # SQL lexing
//
// One small lexer serves NormalizeSQL, SQLOperation and SQLTable. By default it reads MySQL/MariaDB
// (what PHP apps mostly talk to): '…' and "…" are strings with backslash escapes and doubled quotes,
// `…` is an identifier, comments are -- …, # … and /* … */ (including /*! … */ and /*+ … */, which
// MySQL executes: they are dropped too). NormalizeSQLFor selects standard SQL rules for other systems:
// "…" is an identifier, backslash is no escape, # is no comment, and for PostgreSQL E'…', $1 and
// $tag$…$tag$. "--" always starts a comment, as in standard SQL (MySQL wants a space after it; the
// difference only shows in expressions such as a--1).
package ioattr
