package ioattr

import (
	"strings"
	"unicode/utf8"
)

// NormalizeSQL returns the shape of a statement, the key that groups repeated queries (N+1) and a safe
// db.query.text for statements with inline values, as OpenTelemetry asks for non-parameterised SQL:
//
//   - literals become ?: numbers (with a unary sign: "= -1"), '…' and "…" strings with their escapes,
//     N'…', _utf8mb4'…', X'…', B'…', 0x1F, 0b101. TRUE, FALSE and NULL are kept: "IS NULL" is not "= ?".
//   - placeholders stay as written (?, :name; $1 for PostgreSQL).
//   - an IN list of only values or placeholders becomes "IN (?)", whatever its length and spacing.
//   - a multi-row VALUES list whose rows are all alike becomes its first row: "VALUES (?, ?)".
//   - comments are dropped; whitespace runs, and comments, become one space; leading and trailing
//     whitespace is trimmed. Other spacing is kept as written ("a=?" stays "a=?").
//   - case is kept: keywords and identifiers are left as written (identifiers may be case-sensitive,
//     and one call site always sends the same case). Keywords are recognised case-insensitively.
//
// The lexer follows MySQL (see the package documentation); NormalizeSQLFor takes the database system.
// NormalizeSQL(NormalizeSQL(s)) == NormalizeSQL(s) for every input, and it runs in linear time.
func NormalizeSQL(stmt string) string { return normalize(stmt, mysqlDialect) }

// NormalizeSQLFor is NormalizeSQL with the lexing rules of an OpenTelemetry db.system.name:
// "postgresql" (E'…', $1, $tag$…$tag$, "…" identifiers), "sqlite", "microsoft.sql_server" and other
// standard-SQL systems ("…" identifiers, no backslash escapes, no # comments); MySQL rules otherwise.
func NormalizeSQLFor(system, stmt string) string { return normalize(stmt, dialectFor(system)) }

func normalize(stmt string, d dialect) string {
	return normalizeTokens(lexSQL(stmt, d), len(stmt))
}

// normalizeTokens renders the tokens of a statement of size bytes.
func normalizeTokens(toks []token, size int) string {
	r := renderer{toks: toks, match: matchParens(toks)}
	r.b.Grow(size)
	r.write(0, len(toks))
	return r.b.String()
}

// renderer writes tokens with literals as ?, collapsing IN lists and repeated VALUES rows.
type renderer struct {
	toks  []token
	match []int // index of the matching parenthesis, -1 if unbalanced or not one
	b     strings.Builder
}

func (r *renderer) write(from, to int) {
	toks := r.toks
	for i := from; i < to; i++ {
		t := toks[i]
		if t.space && r.b.Len() > 0 {
			r.b.WriteByte(' ')
		}
		if t.kind.literal() {
			r.b.WriteByte('?')
		} else {
			r.b.WriteString(t.text)
		}
		if t.kind != tokWord || i+1 >= to || !isPunct(toks[i+1], "(") {
			continue
		}
		switch strings.ToUpper(t.text) {
		case "IN":
			if end := r.valueList(i + 1); end > 0 && end < to {
				r.b.WriteString(" (?)")
				i = end
			}
		case "VALUES", "VALUE":
			if end := r.sameRows(i + 1); end > 0 && end < to {
				// The first row only.
				if toks[i+1].space {
					r.b.WriteByte(' ')
				}
				r.b.WriteByte('(')
				r.write(i+2, r.match[i+1]+1)
				i = end
			}
		}
	}
}

func isPunct(t token, s string) bool { return t.kind == tokPunct && t.text == s }

// matchParens pairs parentheses in one pass.
func matchParens(toks []token) []int {
	match := make([]int, len(toks))
	var open []int
	for i, t := range toks {
		match[i] = -1
		if t.kind != tokPunct {
			continue
		}
		switch t.text {
		case "(":
			open = append(open, i)
		case ")":
			if len(open) > 0 {
				o := open[len(open)-1]
				open = open[:len(open)-1]
				match[o], match[i] = i, o
			}
		}
	}
	return match
}

// valueList returns the index of the ")" closing "( v, v, … )" at open when every v is one literal or
// placeholder, else 0.
func (r *renderer) valueList(open int) int {
	toks := r.toks
	for j := open + 1; j+1 < len(toks); j += 2 {
		if v := toks[j].kind; !v.literal() && v != tokPlaceholder {
			return 0
		}
		switch {
		case isPunct(toks[j+1], ")"):
			return j + 1
		case isPunct(toks[j+1], ","):
		default:
			return 0
		}
	}
	return 0
}

// sameRows looks at "(row), (row), …" starting at open. If there are at least two rows and all have the
// same tokens (literals compare equal, spacing is ignored), it returns the index of the last row's ")";
// else 0.
func (r *renderer) sameRows(open int) int {
	toks := r.toks
	first := r.match[open]
	if first < 0 {
		return 0
	}
	last := 0
	for j := first + 1; j+1 < len(toks) && isPunct(toks[j], ",") && isPunct(toks[j+1], "("); {
		end := r.match[j+1]
		if end < 0 || !sameTokens(toks[open:first+1], toks[j+1:end+1]) {
			return 0
		}
		last, j = end, end+1
	}
	return last
}

func sameTokens(a, b []token) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].kind.literal() && b[i].kind.literal() {
			continue
		}
		if a[i].kind != b[i].kind || a[i].text != b[i].text {
			return false
		}
	}
	return true
}

// ellipsis marks cut text.
const ellipsis = "…"

// TruncateSQL cuts stmt to at most max bytes, "…" included, at a UTF-8 character boundary, and reports
// whether it cut. max <= 0 means no limit. A max below len("…") (3) leaves no room for the mark: the
// result is then the longest prefix of at most max bytes, unmarked.
func TruncateSQL(stmt string, max int) (string, bool) {
	if max <= 0 || len(stmt) <= max {
		return stmt, false
	}
	mark := ellipsis
	keep := max - len(mark)
	if keep < 0 {
		keep, mark = max, ""
	}
	// Back up to the start of a character (at most UTFMax-1 bytes: invalid UTF-8 is cut anyway).
	for back := 0; keep > 0 && back < utf8.UTFMax-1 && !utf8.RuneStart(stmt[keep]); back++ {
		keep--
	}
	return stmt[:keep] + mark, true
}

// sqlOperations are the statements SQLOperation reports, upper-case.
var sqlOperations = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true, "MERGE": true,
	"UPSERT": true, "CALL": true, "EXEC": true, "EXECUTE": true, "DO": true, "HANDLER": true,
	"LOAD": true, "VALUES": true, "TABLE": true, "WITH": true,
	"CREATE": true, "ALTER": true, "DROP": true, "TRUNCATE": true, "RENAME": true, "COMMENT": true,
	"GRANT": true, "REVOKE": true, "ANALYZE": true, "OPTIMIZE": true, "REPAIR": true, "CHECK": true,
	"CHECKSUM": true, "VACUUM": true, "REINDEX": true, "CLUSTER": true, "COPY": true,
	"BEGIN": true, "START": true, "COMMIT": true, "ROLLBACK": true, "SAVEPOINT": true, "RELEASE": true,
	"SET": true, "SHOW": true, "DESCRIBE": true, "DESC": true, "EXPLAIN": true, "USE": true,
	"LOCK": true, "UNLOCK": true, "PREPARE": true, "DEALLOCATE": true, "FLUSH": true, "KILL": true,
	"RESET": true, "PURGE": true, "INSTALL": true, "UNINSTALL": true, "XA": true, "PRAGMA": true,
	"ATTACH": true, "DETACH": true, "LISTEN": true, "NOTIFY": true, "DECLARE": true, "FETCH": true,
	"CLOSE": true, "MOVE": true, "DISCARD": true, "REFRESH": true, "SECURITY": true, "ABORT": true, "END": true,
}

// dmlVerbs can be the main statement after WITH's common table expressions.
var dmlVerbs = map[string]bool{"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true, "MERGE": true}

// SQLOperation returns db.operation.name: the statement's first keyword — SELECT, INSERT, UPDATE,
// DELETE, REPLACE, CALL, CREATE, BEGIN, SET, SHOW… — after whitespace, comments and opening parentheses,
// or "" if the statement does not start with one. For "WITH … AS (…) SELECT" it is the main
// statement's verb (SELECT), not WITH. The keyword is returned as written, as OpenTelemetry recommends
// ("select" stays "select"); it is recognised case-insensitively.
func SQLOperation(stmt string) string { return sqlOperation(lexSQL(stmt, mysqlDialect)) }

func sqlOperation(toks []token) string {
	i := 0
	for i < len(toks) && toks[i].kind == tokPunct && toks[i].text == "(" {
		i++
	}
	if i >= len(toks) || toks[i].kind != tokWord {
		return ""
	}
	word := toks[i].text
	if !isKeyword(sqlOperations, word) {
		return ""
	}
	if strings.EqualFold(word, "WITH") {
		// The main statement is the first DML verb outside the CTEs' parentheses.
		depth := 0
		for _, t := range toks[i+1:] {
			switch {
			case t.kind == tokPunct && t.text == "(":
				depth++
			case t.kind == tokPunct && t.text == ")":
				depth--
			case depth == 0 && t.kind == tokWord && isKeyword(dmlVerbs, t.text):
				return t.text
			}
		}
	}
	return word
}

// tableKeywords precede a table name: SELECT … FROM t, INSERT INTO t, UPDATE t, DELETE FROM t,
// TRUNCATE [TABLE] t, CREATE TABLE t, JOIN t.
var tableKeywords = map[string]bool{"FROM": true, "INTO": true, "UPDATE": true, "TABLE": true, "JOIN": true, "TRUNCATE": true}

// tableSkip are words between such a keyword and the table name.
var tableSkip = map[string]bool{
	"LOW_PRIORITY": true, "DELAYED": true, "HIGH_PRIORITY": true, "IGNORE": true, "QUICK": true,
	"IF": true, "NOT": true, "EXISTS": true, "ONLY": true, "TEMPORARY": true, "LATERAL": true, "TABLE": true,
}

// notTables are words that follow FROM, UPDATE and the like without naming a table.
var notTables = map[string]bool{
	"SELECT": true, "DUAL": true, "SET": true, "NOWAIT": true, "SKIP": true, "OF": true, "WHERE": true,
	"VALUES": true, "VALUE": true, "UNNEST": true,
}

// SQLTable returns db.collection.name, best effort: the first table the statement names after FROM,
// INTO, UPDATE, TABLE or JOIN — the shallowest one, so "SELECT EXTRACT(YEAR FROM d) FROM posts" gives
// posts and "SELECT * FROM (SELECT * FROM t) x" gives t. INSERT and REPLACE without INTO work too.
// A qualified name keeps its qualifier (wp.wp_posts); quotes are removed (`wp`.`wp_posts` gives
// wp.wp_posts). "" when no table is found (SELECT 1, SELECT … FROM DUAL, CALL p()).
func SQLTable(stmt string) string { return sqlTable(lexSQL(stmt, mysqlDialect)) }

func sqlTable(toks []token) string {
	best, bestDepth := "", -1
	depth := 0
	for i, t := range toks {
		if t.kind == tokPunct {
			switch t.text {
			case "(":
				depth++
			case ")":
				depth--
			}
			continue
		}
		if t.kind != tokWord || (bestDepth >= 0 && depth >= bestDepth) {
			continue
		}
		after := i + 1
		switch {
		case isKeyword(tableKeywords, t.text):
		case strings.EqualFold(t.text, "INSERT") || strings.EqualFold(t.text, "REPLACE"):
			// INSERT [LOW_PRIORITY|DELAYED|HIGH_PRIORITY] [IGNORE] t (MySQL lets INTO out).
			j := after
			for j < len(toks) && toks[j].kind == tokWord && isKeyword(tableSkip, toks[j].text) {
				j++
			}
			if j < len(toks) && toks[j].kind == tokWord && strings.EqualFold(toks[j].text, "INTO") {
				continue // INTO comes next and is a table keyword itself
			}
		default:
			continue
		}
		if name := tableName(toks, after); name != "" {
			best, bestDepth = name, depth
		}
	}
	return best
}

// tableName reads a possibly qualified, possibly quoted table name at toks[i], after skipping modifiers.
func tableName(toks []token, i int) string {
	for i < len(toks) && toks[i].kind == tokWord && isKeyword(tableSkip, toks[i].text) {
		i++
	}
	var parts []string
	for i < len(toks) {
		t := toks[i]
		var part string
		switch t.kind {
		case tokWord:
			if isKeyword(notTables, t.text) || t.text[0] == '@' || t.text[0] == '$' {
				return ""
			}
			part = t.text
		case tokQuotedIdent, tokDQString: // "t" after FROM is an identifier (ANSI_QUOTES, PostgreSQL)
			if len(t.text) < 2 || t.text[len(t.text)-1] != t.text[0] {
				return "" // unterminated
			}
			part = unquote(t.text)
		default:
			return ""
		}
		parts = append(parts, part)
		if i+2 < len(toks) && toks[i+1].kind == tokPunct && toks[i+1].text == "." && !toks[i+1].space && !toks[i+2].space {
			i += 2
			continue
		}
		break
	}
	return strings.Join(parts, ".")
}

// unquote removes the quotes of `x` or "x" (terminated) and undoes doubled quotes inside.
func unquote(s string) string {
	q := s[:1]
	return strings.ReplaceAll(s[1:len(s)-1], q+q, q)
}

// SQLSpanName is the span name OpenTelemetry suggests for a SQL call: "{operation} {table}"
// ("SELECT wp_posts"), the operation alone, or "SQL" when neither is known.
func SQLSpanName(stmt string) string {
	op, table := SQLOperation(stmt), SQLTable(stmt)
	switch {
	case op != "" && table != "":
		return op + " " + table
	case op != "":
		return op
	}
	return "SQL"
}
