package ioattr

// SQLFacts is what a SQL span is named and grouped by, from one statement.
type SQLFacts struct {
	Operation string // SQLOperation
	Table     string // SQLTable
	Shape     string // NormalizeSQL
}

// DescribeSQL is SQLOperation, SQLTable and NormalizeSQL of stmt (MySQL
// rules) from one lexing pass: the agent does this for every SQL call, and
// lexing was most of the cost of each.
func DescribeSQL(stmt string) SQLFacts {
	toks := lexSQL(stmt, mysqlDialect)
	return SQLFacts{Operation: sqlOperation(toks), Table: sqlTable(toks), Shape: normalizeTokens(toks, len(stmt))}
}

// longestKeyword bounds the words isKeyword upper-cases; longer words are
// in none of the keyword sets.
const longestKeyword = 16

// isKeyword reports whether word, upper-cased, is in set (whose keys are
// upper case), without allocating: most words are lower-case identifiers
// (wp_posts), which strings.ToUpper would copy.
func isKeyword(set map[string]bool, word string) bool {
	if len(word) > longestKeyword {
		return false
	}
	var buf [longestKeyword]byte
	for i := 0; i < len(word); i++ {
		c := word[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return set[string(buf[:len(word)])] // no allocation: the compiler reads the map with the bytes
}
