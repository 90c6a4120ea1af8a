package ids

import (
	"errors"
	"strings"
	"testing"
)

// long returns a string of exactly n bytes: prefix, then 'a' padding, then
// suffix.
func long(prefix string, n int, suffix string) string {
	return prefix + strings.Repeat("a", n-len(prefix)-len(suffix)) + suffix
}

// checkErr asserts that a rejection is reported as an *Error wrapping
// ErrInvalid.
func checkErr(t *testing.T, input string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%q: accepted, want rejection", input)
		return
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("%q: error %v does not wrap ErrInvalid", input, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Reason == "" || e.Kind == "" {
		t.Errorf("%q: error %v is not a descriptive *Error", input, err)
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := ParseUserID("@Alice:example.org")
	checkErr(t, "@Alice:example.org", err)
	if got, want := err.Error(), "ids: invalid user ID: localpart contains disallowed character 'A'"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if ErrInvalid.Error() != "ids: invalid identifier" {
		t.Errorf("ErrInvalid = %q", ErrInvalid.Error())
	}
}
