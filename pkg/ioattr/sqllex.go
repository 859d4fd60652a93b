package ioattr

import "strings"

// tokKind classifies a lexed SQL token.
type tokKind uint8

const (
	tokWord        tokKind = iota // keyword, identifier, @var; also a number glued to letters (1st)
	tokQuotedIdent                // `x`, or "x" outside MySQL
	tokString                     // '…', N'…', X'…', $$…$$ …: a literal
	tokDQString                   // "…" in MySQL: a literal, though it may be an identifier (ANSI_QUOTES)
	tokNumber                     // 42, -1.5e3, 0x1F, 0b101: a literal
	tokPlaceholder                // ?, :name, $1
	tokPunct                      // any other byte
)

// literal reports whether the token is a value that normalisation replaces by ?.
func (k tokKind) literal() bool { return k == tokString || k == tokDQString || k == tokNumber }

type token struct {
	kind tokKind
	text string // as in the input
	// space: whitespace or a comment came before this token.
	space bool
}

// dialect holds the lexing rules that differ between database systems.
type dialect struct {
	backslashEscapes bool // 'it\'s' (MySQL), not standard SQL
	doubleQuoteIsStr bool // "x" is a string (MySQL), not an identifier
	hashComment      bool // # comment (MySQL)
	postgres         bool // E'…', $1, $tag$…$tag$
}

var (
	mysqlDialect    = dialect{backslashEscapes: true, doubleQuoteIsStr: true, hashComment: true}
	standardDialect = dialect{}
	postgresDialect = dialect{postgres: true}
)

// dialectFor picks lexing rules by OpenTelemetry db.system.name.
func dialectFor(system string) dialect {
	switch strings.ToLower(system) {
	case "postgresql", "cockroachdb":
		return postgresDialect
	case "sqlite", "microsoft.sql_server", "oracle.db", "ibm.db2", "h2database", "hsqldb", "derby",
		"firebird", "trino", "sap.maxdb", "actian.ingres":
		return standardDialect
	default: // mysql, mariadb, other_sql, unknown
		return mysqlDialect
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
func isLetter(c byte) bool {
	return (c|0x20 >= 'a' && c|0x20 <= 'z') || c == '_' || c >= 0x80
}

// isIdentChar: letters, digits, _, $ and any non-ASCII byte continue a word.
func isIdentChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '$' }

// unaryContext lists keywords after which + or - starts a signed number ("LIMIT -1", "THEN -2").
var unaryContext = map[string]bool{
	"SELECT": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "ON": true, "SET": true,
	"VALUES": true, "VALUE": true, "BY": true, "THEN": true, "ELSE": true, "WHEN": true, "CASE": true,
	"IN": true, "IS": true, "LIKE": true, "BETWEEN": true, "LIMIT": true, "OFFSET": true, "RETURN": true,
	"HAVING": true, "INTERVAL": true, "DEFAULT": true, "DIV": true, "MOD": true, "XOR": true,
	"REGEXP": true, "RLIKE": true, "ANY": true, "ALL": true, "SOME": true, "EXISTS": true,
}

// lexSQL splits stmt into tokens, dropping whitespace and comments. It never fails: anything it does
// not recognise is a one-byte tokPunct, and an unterminated string or comment runs to the end.
func lexSQL(stmt string, d dialect) []token {
	toks := make([]token, 0, len(stmt)/4+1)
	space := false
	n := len(stmt)
	for i := 0; i < n; {
		c := stmt[i]
		start := i
		switch {
		case isSpace(c):
			space = true
			i++
			continue
		case c == '-' && i+1 < n && stmt[i+1] == '-', c == '#' && d.hashComment:
			for i < n && stmt[i] != '\n' {
				i++
			}
			space = true
			continue
		case c == '/' && i+1 < n && stmt[i+1] == '*':
			if end := strings.Index(stmt[i+2:], "*/"); end >= 0 {
				i += 2 + end + 2
			} else {
				i = n
			}
			space = true
			continue
		case c == '\'':
			i = skipQuoted(stmt, i, '\'', d.backslashEscapes)
			toks = append(toks, token{tokString, stmt[start:i], space})
		case c == '"':
			if d.doubleQuoteIsStr {
				i = skipQuoted(stmt, i, '"', true)
				toks = append(toks, token{tokDQString, stmt[start:i], space})
			} else {
				i = skipQuoted(stmt, i, '"', false)
				toks = append(toks, token{tokQuotedIdent, stmt[start:i], space})
			}
		case c == '`':
			i = skipQuoted(stmt, i, '`', false)
			toks = append(toks, token{tokQuotedIdent, stmt[start:i], space})
		case c == '?':
			i++
			toks = append(toks, token{tokPlaceholder, "?", space})
		case c == ':' && i+1 < n && isLetter(stmt[i+1]) && (i == 0 || stmt[i-1] != ':'):
			i++
			for i < n && isIdentChar(stmt[i]) {
				i++
			}
			toks = append(toks, token{tokPlaceholder, stmt[start:i], space})
		case c == '$' && d.postgres:
			if i+1 < n && isDigit(stmt[i+1]) {
				i++
				for i < n && isDigit(stmt[i]) {
					i++
				}
				toks = append(toks, token{tokPlaceholder, stmt[start:i], space})
			} else if end, ok := skipDollarQuoted(stmt, i); ok {
				i = end
				toks = append(toks, token{tokString, stmt[start:i], space})
			} else {
				i++
				toks = append(toks, token{tokPunct, "$", space})
			}
		case isDigit(c) || (c == '.' && i+1 < n && isDigit(stmt[i+1]) && !afterOperand(toks)):
			i = skipNumber(stmt, i)
			if i < n && isIdentChar(stmt[i]) { // 1st, 0xZZ, 1e: an identifier starting with digits
				for i < n && isIdentChar(stmt[i]) {
					i++
				}
				toks = append(toks, token{tokWord, stmt[start:i], space})
				break
			}
			if sign := signBefore(toks, space); sign >= 0 {
				// Fold a unary sign into the number: "= -1" is "= ?", like "= 1".
				toks[sign] = token{tokNumber, toks[sign].text + stmt[start:i], toks[sign].space}
				break
			}
			toks = append(toks, token{tokNumber, stmt[start:i], space})
		case isLetter(c) || c == '@' || c == '$':
			i++
			for i < n && (isIdentChar(stmt[i]) || (stmt[i] == '@' && c == '@')) {
				i++
			}
			word := stmt[start:i]
			if i < n && stmt[i] == '\'' && stringPrefix(word, d) {
				// N'…', X'…', B'…', E'…', _utf8mb4'…': one literal.
				i = skipQuoted(stmt, i, '\'', d.backslashEscapes || (d.postgres && (word == "E" || word == "e")))
				toks = append(toks, token{tokString, stmt[start:i], space})
				break
			}
			toks = append(toks, token{tokWord, word, space})
		default:
			i++
			toks = append(toks, token{tokPunct, stmt[start:i], space})
		}
		space = false
	}
	return toks
}

// skipQuoted returns the index after the quoted token starting at i (stmt[i] == q). A doubled quote is
// part of the token; so is an escaped one when backslash escapes apply. Unterminated: len(stmt).
func skipQuoted(stmt string, i int, q byte, backslash bool) int {
	n := len(stmt)
	for i++; i < n; i++ {
		switch stmt[i] {
		case '\\':
			if backslash {
				i++
			}
		case q:
			if i+1 < n && stmt[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return n
}

// skipDollarQuoted reads PostgreSQL's $tag$…$tag$ at i; ok is false if no opening tag is there.
// Unterminated, it runs to the end.
func skipDollarQuoted(stmt string, i int) (int, bool) {
	j := i + 1
	for j < len(stmt) && (isLetter(stmt[j]) || (j > i+1 && isDigit(stmt[j]))) {
		j++
	}
	if j >= len(stmt) || stmt[j] != '$' {
		return 0, false
	}
	tag := stmt[i : j+1]
	if end := strings.Index(stmt[j+1:], tag); end >= 0 {
		return j + 1 + end + len(tag), true
	}
	return len(stmt), true
}

// skipNumber reads 0x1F, 0b101, 12, 1.5, .5, 1e-3 from i.
func skipNumber(stmt string, i int) int {
	n := len(stmt)
	if stmt[i] == '0' && i+2 < n && (stmt[i+1]|0x20 == 'x') && isHex(stmt[i+2]) {
		i += 2
		for i < n && isHex(stmt[i]) {
			i++
		}
		return i
	}
	if stmt[i] == '0' && i+2 < n && (stmt[i+1]|0x20 == 'b') && (stmt[i+2] == '0' || stmt[i+2] == '1') {
		i += 2
		for i < n && (stmt[i] == '0' || stmt[i] == '1') {
			i++
		}
		return i
	}
	for i < n && isDigit(stmt[i]) {
		i++
	}
	if i < n && stmt[i] == '.' {
		i++
		for i < n && isDigit(stmt[i]) {
			i++
		}
	}
	if i < n && stmt[i]|0x20 == 'e' {
		j := i + 1
		if j < n && (stmt[j] == '+' || stmt[j] == '-') {
			j++
		}
		if j < n && isDigit(stmt[j]) {
			for j < n && isDigit(stmt[j]) {
				j++
			}
			i = j
		}
	}
	return i
}

// stringPrefix reports whether word directly before a quote makes one literal with it.
func stringPrefix(word string, d dialect) bool {
	switch strings.ToUpper(word) {
	case "N", "X", "B":
		return true
	case "E":
		return d.postgres
	}
	return word[0] == '_' && len(word) > 1 // MySQL charset introducer: _utf8mb4'…', _binary'…'
}

// afterOperand reports whether the previous token ends an operand (a column, a value, a closing
// parenthesis), so that a following "." or sign is an operator and not part of a number.
func afterOperand(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	switch p := toks[len(toks)-1]; p.kind {
	case tokWord:
		return !isKeyword(unaryContext, p.text)
	case tokPunct:
		return p.text == ")" || p.text == "]"
	default:
		return true
	}
}

// signBefore returns the index of a unary + or - token glued to the number being lexed, or -1.
func signBefore(toks []token, space bool) int {
	k := len(toks) - 1
	if space || k < 0 || toks[k].kind != tokPunct || (toks[k].text != "-" && toks[k].text != "+") {
		return -1
	}
	if afterOperand(toks[:k]) {
		return -1
	}
	return k
}
