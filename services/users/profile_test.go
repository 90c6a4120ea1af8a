package users_test

import (
	"encoding/json"
	"strings"
	"testing"

	"hearth/services/users"
)

func TestProfile(t *testing.T) {
	e := newEnv(t)
	a, err := e.svc.Register(ctx, "alice", "correct horse", users.RegisterOpts{DisplayName: "Alice A."})
	mustOK(t, err)
	alice := a.UserID
	p, err := e.svc.Profile(alice)
	mustOK(t, err)
	if p.DisplayName != "Alice A." || p.AvatarURL != "" || p.Extra != nil {
		t.Errorf("profile = %+v", p)
	}
	mustOK(t, e.svc.SetDisplayName(alice, "Alice"))
	mustOK(t, e.svc.SetAvatarURL(alice, "mxc://example.org/abcDEF123"))
	mustOK(t, e.svc.SetProfileField(alice, "m.tz", json.RawMessage(`"Europe/Oslo"`)))
	mustOK(t, e.svc.SetProfileField(alice, "org.example.pronouns", json.RawMessage(` { "en" : "she/her" } `)))
	mustOK(t, e.svc.SetProfileField(alice, "displayname", json.RawMessage(`"Alice W."`)))
	p, err = e.svc.Profile(alice)
	mustOK(t, err)
	if p.DisplayName != "Alice W." || p.AvatarURL != "mxc://example.org/abcDEF123" ||
		string(p.Extra["m.tz"]) != `"Europe/Oslo"` || string(p.Extra["org.example.pronouns"]) != `{"en":"she/her"}` {
		t.Errorf("profile = %+v", p)
	}
	fields, err := e.svc.ProfileFields(alice)
	mustOK(t, err)
	b, _ := json.Marshal(fields)
	if want := `{"avatar_url":"mxc://example.org/abcDEF123","displayname":"Alice W.","m.tz":"Europe/Oslo","org.example.pronouns":{"en":"she/her"}}`; string(b) != want {
		t.Errorf("fields\n got %s\nwant %s", b, want)
	}

	mustOK(t, e.svc.SetDisplayName(alice, ""))
	mustOK(t, e.svc.DeleteProfileField(alice, "org.example.pronouns"))
	mustOK(t, e.svc.DeleteProfileField(alice, "org.example.never_set"))
	p, _ = e.svc.Profile(alice)
	if p.DisplayName != "" || len(p.Extra) != 1 {
		t.Errorf("after removals: %+v", p)
	}

	for _, tt := range []struct {
		name string
		err  error
		fn   func() error
	}{
		{"long name", users.ErrTooLarge, func() error { return e.svc.SetDisplayName(alice, strings.Repeat("n", 257)) }},
		{"bad utf8 name", users.ErrInvalidParam, func() error { return e.svc.SetDisplayName(alice, "\xff") }},
		{"http avatar", users.ErrInvalidParam, func() error { return e.svc.SetAvatarURL(alice, "https://example.org/a.png") }},
		{"mxc without id", users.ErrInvalidParam, func() error { return e.svc.SetAvatarURL(alice, "mxc://example.org/") }},
		{"mxc bad server", users.ErrInvalidParam, func() error { return e.svc.SetAvatarURL(alice, "mxc://ex ample/abc") }},
		{"bad key", users.ErrInvalidParam, func() error { return e.svc.SetProfileField(alice, "nodots", json.RawMessage(`1`)) }},
		{"upper key", users.ErrInvalidParam, func() error { return e.svc.SetProfileField(alice, "Org.x", json.RawMessage(`1`)) }},
		{"empty segment", users.ErrInvalidParam, func() error { return e.svc.SetProfileField(alice, "org..x", json.RawMessage(`1`)) }},
		{"long key", users.ErrKeyTooLarge, func() error {
			return e.svc.SetProfileField(alice, "org."+strings.Repeat("k", 260), json.RawMessage(`1`))
		}},
		{"not json", users.ErrInvalidParam, func() error { return e.svc.SetProfileField(alice, "org.x", json.RawMessage(`{`)) }},
		{"tz not string", users.ErrInvalidParam, func() error { return e.svc.SetProfileField(alice, "m.tz", json.RawMessage(`1`)) }},
		{"name not string", users.ErrInvalidParam, func() error { return e.svc.SetProfileField(alice, "displayname", json.RawMessage(`{}`)) }},
		{"huge value", users.ErrTooLarge, func() error {
			return e.svc.SetProfileField(alice, "org.big", json.RawMessage(`"`+strings.Repeat("x", 70<<10)+`"`))
		}},
		{"unknown user", users.ErrNotFound, func() error { return e.svc.SetDisplayName("@bob:example.org", "Bob") }},
		{"delete bad key", users.ErrInvalidParam, func() error { return e.svc.DeleteProfileField(alice, "x") }},
	} {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.fn(), tt.err) })
	}

	// The 64 KiB cap is on the whole profile.
	chunk := json.RawMessage(`"` + strings.Repeat("x", 30<<10) + `"`)
	mustOK(t, e.svc.SetProfileField(alice, "org.a", chunk))
	mustOK(t, e.svc.SetProfileField(alice, "org.b", chunk))
	wantErr(t, e.svc.SetProfileField(alice, "org.c", chunk), users.ErrTooLarge)

	_, err = e.svc.Profile("@bob:example.org")
	wantErr(t, err, users.ErrNotFound)
	_, err = e.svc.Profile("@alice:elsewhere.org")
	wantErr(t, err, users.ErrNotFound)
}
