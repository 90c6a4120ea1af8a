package transport

import (
	"errors"
	"io"
	"net/http"
)

// ErrBodyTooLarge is returned (wrapped) by RoundTrip when a response
// announces a body longer than the limit, and by a response body's Read
// once the body goes past it.
var ErrBodyTooLarge = errors.New("transport: response body too large")

// limitBody makes resp's body fail with ErrBodyTooLarge past limit bytes.
// A response that announces a longer body is refused at once.
func limitBody(resp *http.Response, limit int64) (*http.Response, error) {
	if resp.ContentLength > limit {
		closeQuietly(resp.Body)
		return nil, ErrBodyTooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: limit}
	return resp, nil
}

// limitedBody passes through up to left bytes, then reports
// ErrBodyTooLarge if the underlying body has any more.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// limitTransport applies the body limit to every response of an
// http.Client.
type limitTransport struct {
	next  http.RoundTripper
	limit int64
}

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	return limitBody(resp, t.limit)
}
