package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// maxResponseBytes bounds every response body the client reads; an initial
// sync of a big account is the largest.
const maxResponseBytes = 256 << 20

// Client sends JSON requests to one homeserver's client API.
type Client struct {
	Base string // e.g. http://127.0.0.1:8008
	HTTP *http.Client

	// Transaction IDs must never repeat for a device, and data sets keep
	// their access tokens (devices) across runs: each client draws a
	// random prefix.
	txnPrefix string
	txns      atomic.Uint64
}

// NewClient returns a client of base sharing one connection pool sized for
// many concurrent long polls.
func NewClient(base string) *Client {
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second}
	var b [6]byte
	rand.Read(b[:])
	return &Client{
		Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Transport: tr, Timeout: 5 * time.Minute},
		txnPrefix: hex.EncodeToString(b[:]),
	}
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// Do sends body (JSON unless nil) with the bearer token (unless empty) and
// decodes a 2xx JSON answer into out (unless nil). It returns the size of
// the answer in bytes.
func (c *Client) Do(ctx context.Context, method, path, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return len(raw), fmt.Errorf("reading %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		s := string(raw)
		if len(s) > 2000 {
			s = s[:2000]
		}
		return len(raw), &StatusError{Method: method, Path: shortPath(path), Status: resp.StatusCode, Body: s}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return len(raw), fmt.Errorf("decoding %s %s: %w", method, shortPath(path), err)
		}
	}
	return len(raw), nil
}

func shortPath(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}
