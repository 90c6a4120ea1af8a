package ids

// sentinel is a string-backed error type so that ErrInvalid can be a
// constant: nothing outside this package can reassign it.
type sentinel string

func (s sentinel) Error() string { return string(s) }

// ErrInvalid is wrapped by every error this package returns. Test for it with
// errors.Is(err, ids.ErrInvalid).
const ErrInvalid = sentinel("ids: invalid identifier")

// Error describes why an identifier was rejected. Kind names the identifier
// ("user ID", "server name", ...) and Reason says what was wrong with it. The
// offending input is deliberately not included: it may be long or contain
// control characters, and error messages end up in logs and HTTP responses.
type Error struct {
	Kind   string
	Reason string
}

func (e *Error) Error() string { return "ids: invalid " + e.Kind + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func invalid(kind, reason string) error { return &Error{Kind: kind, Reason: reason} }
