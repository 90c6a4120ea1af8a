package sync

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadToken marks a since, from or to token this server did not make. The
// HTTP layer answers it with 400 M_INVALID_PARAM.
var ErrBadToken = errors.New("sync: invalid token")

// MaxTokenLen bounds the length of a token before it is parsed: six
// 20-digit numbers, five separators and the prefix fit.
const MaxTokenLen = 128

// Token is a /sync position: one stream position per stream. Events is the
// room server's event position (timeline, state, membership); the others are
// the positions of the streams served by the sources (account data, to-device
// messages, receipts, typing). A zero part means "from the start of that
// stream".
type Token struct {
	Events, AccountData, ToDevice, Receipts, Typing, Presence uint64
}

// tokenParts is the number of positions in a token.
const tokenParts = 6

// String encodes the token as
// s<events>_<accountdata>_<todevice>_<receipts>_<typing>_<presence>.
func (t Token) String() string {
	b := make([]byte, 0, 48)
	b = append(b, 's')
	for i, n := range [tokenParts]uint64{t.Events, t.AccountData, t.ToDevice, t.Receipts, t.Typing, t.Presence} {
		if i > 0 {
			b = append(b, '_')
		}
		b = strconv.AppendUint(b, n, 10)
	}
	return string(b)
}

// ParseToken reads a token made by Token.String. It is strict: the prefix
// 's', one to six parts of plain decimal digits without leading zeros or
// signs, each fitting in 64 bits. Missing trailing parts are zero, so the
// tokens of an older build stay valid when a stream is added at the end.
func ParseToken(s string) (Token, error) {
	if len(s) < 2 || len(s) > MaxTokenLen || s[0] != 's' {
		return Token{}, fmt.Errorf("%w: %q", ErrBadToken, clip(s))
	}
	var parts [tokenParts]uint64
	rest := s[1:]
	for i := 0; ; i++ {
		if i == tokenParts {
			return Token{}, fmt.Errorf("%w: too many parts", ErrBadToken)
		}
		field := rest
		j := strings.IndexByte(rest, '_')
		if j >= 0 {
			field, rest = rest[:j], rest[j+1:]
		}
		n, ok := parseDecimal(field)
		if !ok {
			return Token{}, fmt.Errorf("%w: %q", ErrBadToken, clip(s))
		}
		parts[i] = n
		if j < 0 {
			break
		}
	}
	return Token{Events: parts[0], AccountData: parts[1], ToDevice: parts[2], Receipts: parts[3], Typing: parts[4], Presence: parts[5]}, nil
}

// PaginationToken is the /messages token for event position pos: t<pos>. A
// position names a point just after the event at pos: going backward from it
// returns the event at pos and older ones, going forward returns newer ones.
// Sync tokens follow the same rule with their Events part.
func PaginationToken(pos uint64) string {
	return "t" + strconv.FormatUint(pos, 10)
}

// ParsePaginationToken reads a /messages from or to token: t<pos>, or a sync
// token (its Events position), as the spec allows clients to pass since or
// next_batch tokens to /messages.
func ParsePaginationToken(s string) (uint64, error) {
	if len(s) >= 2 && len(s) <= MaxTokenLen && s[0] == 't' {
		if n, ok := parseDecimal(s[1:]); ok {
			return n, nil
		}
		return 0, fmt.Errorf("%w: %q", ErrBadToken, clip(s))
	}
	t, err := ParseToken(s)
	if err != nil {
		return 0, err
	}
	return t.Events, nil
}

// parseDecimal reads a canonical unsigned decimal: digits only, no leading
// zero unless the number is 0, at most 64 bits.
func parseDecimal(s string) (uint64, bool) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// clip shortens untrusted input for error messages.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
