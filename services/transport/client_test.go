package transport

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"hearth/services/transport/transporttest"
)

func TestClientRedirects(t *testing.T) {
	ca := transporttest.NewCA(t)
	private := listen(t, "127.0.0.2") // reachable, but not "public" here
	privatePort := port(t, private.Addr())
	var self string
	mux := http.NewServeMux()
	redirect := func(path, to string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, strings.ReplaceAll(to, "SELF", self), http.StatusFound)
		})
	}
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2048)) })
	redirect("/to-ok", "/ok")
	redirect("/to-private-name", "https://lan.test:"+privatePort+"/ok")
	redirect("/to-private-ip", "https://127.0.0.2:"+privatePort+"/ok")
	redirect("/to-metadata", "https://169.254.169.254/latest/meta-data/")
	redirect("/to-mapped", "https://[::ffff:127.0.0.2]:"+privatePort+"/ok")
	redirect("/to-http", "http://SELF/ok")
	redirect("/loop", "/loop")
	srv := tlsServer(t, ca, mux, "hs1.test")
	self = "hs1.test:" + port(t, srv.Listener.Addr())

	res := &transporttest.FakeResolver{}
	res.AddHost("hs1.test", "127.0.0.1")
	res.AddHost("lan.test", "127.0.0.2")
	h := NewHTTPS(HTTPSOptions{Dialer: testDialer(res, "127.0.0.1"), Roots: ca.Pool(), MaxResponseBytes: 1024})
	c := h.Client(30 * time.Second)

	fetch := func(path string) (string, error) {
		req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, "https://"+self+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	for _, path := range []string{"/ok", "/to-ok"} {
		if body, err := fetch(path); err != nil || body != "ok" {
			t.Errorf("%s: %q, %v; want ok", path, body, err)
		}
	}
	for _, path := range []string{"/to-private-name", "/to-private-ip", "/to-metadata", "/to-mapped"} {
		_, err := fetch(path)
		var re *RefusedError
		if !errors.As(err, &re) {
			t.Errorf("%s: err = %v, want a *RefusedError", path, err)
		}
	}
	for _, path := range []string{"/to-http", "/loop"} {
		if _, err := fetch(path); err == nil || !strings.Contains(err.Error(), "transport:") {
			t.Errorf("%s: err = %v, want the redirect refused", path, err)
		}
	}
	if _, err := fetch("/big"); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("/big: err = %v, want ErrBodyTooLarge", err)
	}
}
