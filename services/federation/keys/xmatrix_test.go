package keys_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"hearth/services/federation/keys"
	"hearth/services/federation/xmatrix"
)

// TestRequestAuthentication wires the ring into xmatrix.Verify on a real
// loopback server: a request signed by them.test verifies with the key the
// ring fetches, and stops verifying once the server's keys have rotated.
func TestRequestAuthentication(t *testing.T) {
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	f := e.fetcher()
	r := e.ring(us, f)
	results := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		_, err := xmatrix.Verify(req, body, "us.test", r.RequestKey)
		results <- err
	}))
	defer srv.Close()
	send := func(s keys.Signer) error {
		const uri = "/_matrix/federation/v1/send/1"
		body := []byte(`{"pdus":[]}`)
		h, err := xmatrix.SignWith(s, "PUT", uri, "them.test", "us.test", body)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("PUT", srv.URL+uri, bytes.NewReader(body))
		req.Header.Set("Authorization", h)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return <-results
	}
	first := them.signer
	if err := send(first); err != nil {
		t.Fatal(err)
	}
	// Rotation: k2 is now old and may not sign requests; k3 may.
	e.clock.Advance(2 * time.Minute)
	them.old = []keys.OldKey{{ID: first.KeyID(), Public: first.Public(), ExpiredTS: e.clock.MS()}}
	them.signer = keys.FromSigningKey(testKey(t, "ed25519:k3", 3))
	if err := send(them.signer); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if err := send(first); !errors.Is(err, xmatrix.ErrUnknownKey) {
		t.Fatalf("request signed with the retired key: %v, want ErrUnknownKey", err)
	}
}
