package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"hearth/services/matrix/ids"
)

const (
	// wellKnownTimeout bounds one /.well-known/matrix/server request,
	// redirects included.
	wellKnownTimeout = 5 * time.Second
	// maxWellKnownBytes bounds its body.
	maxWellKnownBytes = 64 << 10
)

// fetchWellKnown asks hostname for its delegated server name. It returns
// the parsed m.server and the answer's Cache-Control header.
func (r *Resolver) fetchWellKnown(ctx context.Context, hostname string) (ids.ServerName, string, error) {
	ctx, cancel := context.WithTimeout(ctx, wellKnownTimeout)
	defer cancel()
	u := url.URL{Scheme: "https", Host: hostname, Path: "/.well-known/matrix/server"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return ids.ServerName{}, "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return ids.ServerName{}, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ids.ServerName{}, "", fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWellKnownBytes+1))
	if err != nil {
		return ids.ServerName{}, "", fmt.Errorf("reading body: %w", err)
	}
	if len(body) > maxWellKnownBytes {
		return ids.ServerName{}, "", fmt.Errorf("body larger than %d bytes", maxWellKnownBytes)
	}
	name, err := parseWellKnown(body)
	if err != nil {
		return ids.ServerName{}, "", err
	}
	return name, strings.Join(resp.Header.Values("Cache-Control"), ","), nil
}

// parseWellKnown reads a /.well-known/matrix/server body: a JSON object
// whose "m.server" (matched exactly, unlike encoding/json's field matching)
// is a valid server name. Other keys are ignored.
func parseWellKnown(body []byte) (ids.ServerName, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return ids.ServerName{}, fmt.Errorf("well-known body: %w", err)
	}
	raw, ok := obj["m.server"]
	if !ok {
		return ids.ServerName{}, errors.New("well-known body has no m.server")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ids.ServerName{}, errors.New("well-known m.server is not a string")
	}
	name, err := ids.ParseServerName(s)
	if err != nil {
		return ids.ServerName{}, fmt.Errorf("well-known m.server: %w", err)
	}
	return name, nil
}
