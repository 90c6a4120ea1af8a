package transport

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// maxRedirects bounds the redirects a URL client follows; it also ends
// redirect loops.
const maxRedirects = 10

// Client returns an *http.Client for fetching https URLs (such as
// /.well-known/matrix/server) through the guarded dialer, verifying
// certificates against the roots for the URL's host. It follows at most ten
// redirects, https only; every redirect target is dialled through the guard
// like the first URL. Bodies are limited to MaxResponseBytes. All clients of
// one HTTPS share a connection pool; timeout bounds a whole request,
// redirects and body included (0 means none).
func (h *HTTPS) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport:     limitTransport{next: h.urls, limit: h.maxBody},
		CheckRedirect: checkRedirect,
		Timeout:       timeout,
	}
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("transport: stopped after %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "https" {
		return errors.New("transport: refusing redirect to a non-https URL")
	}
	return nil
}
