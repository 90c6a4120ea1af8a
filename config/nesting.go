package config

import "fmt"

// Bounds on the shape of a file, checked before it reaches the TOML decoder,
// whose time and memory grow with the square of a key's depth: a 16 KiB
// line of "a.a.a..." or of nested inline tables costs it seconds and
// gigabytes. Real files need a depth of three.
const (
	maxNesting  = 8  // open '[' or '{' at any point
	maxLineDots = 32 // '.' outside strings and comments on one line
)

// checkNesting scans data as TOML, skipping strings and comments, and
// rejects deep nesting of arrays and inline tables and long dotted keys.
// Syntax errors are left to the decoder.
func checkNesting(data []byte) error {
	line, depth, dots := 1, 0, 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line++
			dots = 0
		case '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			var newlines int
			i, newlines = skipString(data, i)
			if newlines > 0 {
				line += newlines
				dots = 0
			}
		case '[', '{':
			if depth++; depth > maxNesting {
				return fmt.Errorf("line %d: arrays or tables nested deeper than %d levels", line, maxNesting)
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case '.':
			if dots++; dots > maxLineDots {
				return fmt.Errorf("line %d: more than %d dots in keys and values", line, maxLineDots)
			}
		}
	}
	return nil
}

// skipString skips the string whose opening quote is at data[i] and returns
// the index of its last byte and the newlines inside it. Basic strings
// (double quotes) have backslash escapes, literal strings (single quotes)
// do not; tripled quotes start a multi-line string. An unterminated string
// runs to the end of its line (single-line) or of the data (multi-line).
func skipString(data []byte, i int) (int, int) {
	q := data[i]
	multi := i+2 < len(data) && data[i+1] == q && data[i+2] == q
	newlines := 0
	if multi {
		i += 2
	}
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c == '\\' && q == '"':
			if i+1 < len(data) && data[i+1] == '\n' {
				newlines++
			}
			i++
		case c == '\n':
			if !multi {
				return i - 1, newlines
			}
			newlines++
		case c == q:
			if !multi {
				return i, newlines
			}
			if i+2 < len(data) && data[i+1] == q && data[i+2] == q {
				// A multi-line string may end in up to two more quotes
				// ("""a""""" is a"").
				i += 2
				for k := 0; k < 2 && i+1 < len(data) && data[i+1] == q; k++ {
					i++
				}
				return i, newlines
			}
		}
	}
	return len(data) - 1, newlines
}
