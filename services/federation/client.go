package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"hearth/services/federation/xmatrix"
	"hearth/services/transport"
)

// Router resolves a server name to the routes that reach it (discovery).
type Router interface {
	Resolve(ctx context.Context, serverName string) ([]transport.Route, error)
}

// Client makes signed requests to other servers.
type Client struct {
	origin string
	signer xmatrix.Signer
	router Router
	rt     transport.RoundTripper
	log    *slog.Logger
	// timeout bounds one request when the context has no deadline.
	timeout time.Duration
	// maxBody bounds a response body.
	maxBody int64
}

// ClientOptions configures a Client; all but Timeout and MaxBody are
// required.
type ClientOptions struct {
	Origin    string
	Signer    xmatrix.Signer
	Router    Router
	Transport transport.RoundTripper
	Logger    *slog.Logger
	Timeout   time.Duration // 0 means 30 s
	MaxBody   int64         // 0 means 32 MiB
}

// NewClient builds a Client.
func NewClient(o ClientOptions) *Client {
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxBody == 0 {
		o.MaxBody = 32 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Client{origin: o.Origin, signer: o.Signer, router: o.Router, rt: o.Transport, log: o.Logger, timeout: o.Timeout, maxBody: o.MaxBody}
}

// RemoteError is a non-2xx answer from another server.
type RemoteError struct {
	Server     string
	StatusCode int
	ErrCode    string
	Message    string
	RetryAfter time.Duration
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("federation: %s answered %d %s: %s", e.Server, e.StatusCode, e.ErrCode, e.Message)
}

// ErrSelf: a request to our own server name.
var ErrSelf = errors.New("federation: request to ourselves")

// Do sends a signed request to dest and decodes a JSON answer into out
// (which may be nil). body, when not nil, is marshalled as JSON unless it is
// already []byte or json.RawMessage. path includes the query string.
func (c *Client) Do(ctx context.Context, dest, method, path string, body any, out any) error {
	raw, err := c.DoRaw(ctx, dest, method, path, body)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("federation: %s %s on %s: bad answer: %w", method, path, dest, err)
	}
	return nil
}

// DoRaw is Do returning the answer's bytes.
func (c *Client) DoRaw(ctx context.Context, dest, method, path string, body any) ([]byte, error) {
	if dest == c.origin {
		return nil, ErrSelf
	}
	var content []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		content = b
	case json.RawMessage:
		content = b
	default:
		var err error
		if content, err = json.Marshal(b); err != nil {
			return nil, err
		}
	}
	auth, err := xmatrix.SignWith(c.signer, method, path, c.origin, dest, content)
	if err != nil {
		return nil, fmt.Errorf("federation: signing request: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	routes, err := c.router.Resolve(ctx, dest)
	if err != nil {
		return nil, fmt.Errorf("federation: resolving %s: %w", dest, err)
	}
	var lastErr error = fmt.Errorf("federation: no route to %s", dest)
	for _, route := range routes {
		out, err := c.try(ctx, route, dest, method, path, content, auth)
		if err == nil {
			return out, nil
		}
		var re *RemoteError
		if errors.As(err, &re) {
			return nil, err // the server answered: do not ask it again elsewhere
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func (c *Client) try(ctx context.Context, route transport.Route, dest, method, path string, content []byte, auth string) ([]byte, error) {
	var rd io.Reader
	if content != nil {
		rd = bytes.NewReader(content)
	}
	req, err := http.NewRequestWithContext(ctx, method, "https://"+route.Addr+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	if content != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.rt.RoundTrip(route, req)
	if err != nil {
		return nil, fmt.Errorf("federation: %s %s on %s: %w", method, path, dest, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("federation: %s %s on %s: reading answer: %w", method, path, dest, err)
	}
	if int64(len(data)) > c.maxBody {
		return nil, fmt.Errorf("federation: %s %s on %s: answer larger than %d bytes", method, path, dest, c.maxBody)
	}
	if resp.StatusCode/100 != 2 {
		re := &RemoteError{Server: dest, StatusCode: resp.StatusCode}
		var e struct {
			ErrCode    string `json:"errcode"`
			Error      string `json:"error"`
			RetryAfter int64  `json:"retry_after_ms"`
		}
		if json.Unmarshal(data, &e) == nil {
			re.ErrCode, re.Message, re.RetryAfter = e.ErrCode, e.Error, time.Duration(e.RetryAfter)*time.Millisecond
		}
		return nil, re
	}
	return data, nil
}
