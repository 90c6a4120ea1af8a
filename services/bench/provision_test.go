package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The vectors were computed outside Go, with Python's hmac module:
// hmac.new(secret, b"abcdef0123\x00alice\x00correct horse\x00notadmin", sha1).
func TestSharedSecretMACVector(t *testing.T) {
	const secret = "shared-secret-for-the-vector-0123456789"
	for _, tc := range []struct {
		admin bool
		want  string
	}{
		{false, "16bfce5fc3e0163f7db146fd80758f8a82fe783c"},
		{true, "6066ad15c34060b5029a13006d258eac726b448b"},
	} {
		if got := SharedSecretMAC(secret, "abcdef0123", "alice", "correct horse", tc.admin); got != tc.want {
			t.Errorf("admin=%v: MAC %s, want %s", tc.admin, got, tc.want)
		}
	}
	if SharedSecretMAC(secret, "abcdef0123", "alice", "correct horsf", false) == "16bfce5fc3e0163f7db146fd80758f8a82fe783c" {
		t.Error("MAC does not depend on the password")
	}
}

// A fake shared-secret endpoint that checks the MAC against the vector
// and answers like a homeserver.
func TestSharedSecretRegisterFlow(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_synapse/admin/v1/register", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"nonce":"abcdef0123"}`))
	})
	mux.HandleFunc("POST /_synapse/admin/v1/register", func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		if b["mac"] != "16bfce5fc3e0163f7db146fd80758f8a82fe783c" || b["nonce"] != "abcdef0123" {
			w.WriteHeader(403)
			w.Write([]byte(`{"errcode":"M_FORBIDDEN"}`))
			return
		}
		w.Write([]byte(`{"user_id":"@alice:x","access_token":"tok"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := NewClient(srv.URL)
	u, err := SharedSecret{"shared-secret-for-the-vector-0123456789"}.Register(context.Background(), c, "alice", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "@alice:x" || u.Token != "tok" || u.Name != "alice" {
		t.Errorf("user %+v", u)
	}
	if _, err := (SharedSecret{"wrong"}).Register(context.Background(), c, "alice", "correct horse"); err == nil {
		t.Error("a wrong secret registered")
	}
}

// The token flow: a 401 with a session, then the token stage.
func TestRegistrationTokenFlow(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_matrix/client/v3/register", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Auth *struct{ Type, Token, Session string }
		}
		json.NewDecoder(r.Body).Decode(&b)
		if b.Auth == nil {
			w.WriteHeader(401)
			w.Write([]byte(`{"session":"s1","flows":[{"stages":["m.login.registration_token"]}]}`))
			return
		}
		if b.Auth.Type != "m.login.registration_token" || b.Auth.Token != "T" || b.Auth.Session != "s1" {
			w.WriteHeader(401)
			w.Write([]byte(`{"session":"s1","errcode":"M_FORBIDDEN"}`))
			return
		}
		w.Write([]byte(`{"user_id":"@bob:x","access_token":"tok2"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := NewClient(srv.URL)
	u, err := RegistrationToken{"T"}.Register(context.Background(), c, "bob", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "@bob:x" || u.Token != "tok2" {
		t.Errorf("user %+v", u)
	}
	if _, err := (RegistrationToken{"bad"}).Register(context.Background(), c, "bob", "pw"); err == nil {
		t.Error("a bad token registered")
	}
}
