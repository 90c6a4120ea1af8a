package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Path is the dotted TOML path of the offending key, such as
	// "registration.shared_secret" or "federation.extra_ca_files[1]".
	Path string
	// Msg says what is wrong, for the person editing the file.
	Msg string
}

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// Problems is every problem found in a configuration, in the order of the
// file (unknown keys) and then of the Config struct. Validate, Parse and
// Load report them as a *Problems error:
//
//	var ps *config.Problems
//	if errors.As(err, &ps) {
//		for _, p := range *ps { ... }
//	}
type Problems []Problem

// Error lists the problems on one line, separated by "; ".
func (ps *Problems) Error() string {
	if ps == nil || len(*ps) == 0 {
		return "no problems"
	}
	var b strings.Builder
	for i, p := range *ps {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Paths returns the paths of the problems, in order.
func (ps *Problems) Paths() []string {
	if ps == nil {
		return nil
	}
	paths := make([]string, len(*ps))
	for i, p := range *ps {
		paths[i] = p.Path
	}
	return paths
}

// add records a problem.
func (ps *Problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns ps as an error, or nil when there are no problems.
func (ps *Problems) err() error {
	if len(*ps) == 0 {
		return nil
	}
	return ps
}

// quote quotes a value from the file for a message, shortened so that a
// pasted blob does not flood the log.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
