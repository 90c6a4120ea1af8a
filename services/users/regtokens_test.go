package users_test

import (
	"sync"
	"testing"
	"time"

	"hearth/services/users"
)

func TestRegTokensCreateAndList(t *testing.T) {
	e := newEnv(t)
	exp := e.clock.Now().Add(time.Hour)
	t1, err := e.svc.CreateRegToken("", nil, nil)
	mustOK(t, err)
	if len(t1.Token) != 16 || t1.UsesAllowed != nil || t1.ExpiryTime != nil {
		t.Errorf("random token = %+v", t1)
	}
	t2, err := e.svc.CreateRegToken("fBVFdqVE", ptr(2), &exp)
	mustOK(t, err)
	if *t2.UsesAllowed != 2 || !t2.ExpiryTime.Equal(exp) {
		t.Errorf("token = %+v", t2)
	}
	for _, tt := range []struct {
		tok  string
		uses *int
		exp  *time.Time
	}{
		{"fBVFdqVE", nil, nil}, // exists
		{"has space", nil, nil},
		{"x/y", nil, nil},
		{string(make([]byte, 65)), nil, nil},
		{"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde", nil, nil}, // 65
		{"neg", ptr(-1), nil},
		{"past", nil, ptr(e.clock.Now().Add(-time.Second))},
	} {
		_, err := e.svc.CreateRegToken(tt.tok, tt.uses, tt.exp)
		wantErr(t, err, users.ErrInvalidParam)
	}
	list, err := e.svc.RegTokens()
	mustOK(t, err)
	if len(list) != 2 {
		t.Errorf("tokens = %+v", list)
	}
	got, err := e.svc.RegToken("fBVFdqVE")
	mustOK(t, err)
	if got.Completed != 0 || got.Pending != 0 {
		t.Errorf("RegToken = %+v", got)
	}
	_, err = e.svc.RegToken("missing")
	wantErr(t, err, users.ErrNotFound)
	mustOK(t, e.svc.DeleteRegToken("fBVFdqVE"))
	mustOK(t, e.svc.DeleteRegToken("never existed"))
	if e.svc.RegTokenValid("fBVFdqVE") {
		t.Error("deleted token still valid")
	}
}

func TestRegTokenUsesExhausted(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.CreateRegToken("two", ptr(2), nil)
	mustOK(t, err)
	_, err = e.svc.CreateRegToken("zero", ptr(0), nil)
	mustOK(t, err)
	if e.svc.RegTokenValid("zero") {
		t.Error("token with zero uses is valid")
	}
	for i := range 2 {
		if !e.svc.RegTokenValid("two") {
			t.Fatalf("use %d: not valid", i)
		}
		mustOK(t, e.svc.UseRegToken("two"))
	}
	if e.svc.RegTokenValid("two") {
		t.Error("exhausted token still valid")
	}
	wantErr(t, e.svc.UseRegToken("two"), users.ErrForbidden)
	wantErr(t, e.svc.UseRegToken("missing"), users.ErrForbidden)
	wantErr(t, e.svc.UseRegToken("bad token!"), users.ErrForbidden)
	got, _ := e.svc.RegToken("two")
	if got.Completed != 2 {
		t.Errorf("completed = %d", got.Completed)
	}
}

func TestRegTokenExpiry(t *testing.T) {
	e := newEnv(t)
	exp := e.clock.Now().Add(time.Hour)
	_, err := e.svc.CreateRegToken("soon", nil, &exp)
	mustOK(t, err)
	if !e.svc.RegTokenValid("soon") {
		t.Fatal("not valid before expiry")
	}
	e.clock.Advance(time.Hour)
	if e.svc.RegTokenValid("soon") {
		t.Error("valid after expiry")
	}
	wantErr(t, e.svc.UseRegToken("soon"), users.ErrForbidden)
}

// regFlows is the registration flow of a token-gated server.
var regFlows = [][]string{{users.StageRegistrationToken, users.StageDummy}}

func TestRegistrationWithTokenThroughUIA(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.CreateRegToken("once", ptr(1), nil)
	mustOK(t, err)
	uia := e.svc.UIA()

	sid, err := uia.Begin(regFlows, nil)
	mustOK(t, err)
	wantErr(t, e.svc.AuthDummy(sid), users.ErrForbidden) // out of order
	wantErr(t, e.svc.AuthRegistrationToken(sid, "wrong"), users.ErrForbidden)
	mustOK(t, e.svc.AuthRegistrationToken(sid, "once"))
	mustOK(t, e.svc.AuthRegistrationToken(sid, "once")) // completed stages may be retried harmlessly

	// The use is reserved: nobody else can take it meanwhile.
	tok, _ := e.svc.RegToken("once")
	if tok.Pending != 1 || tok.Completed != 0 {
		t.Errorf("after the stage: %+v", tok)
	}
	if e.svc.RegTokenValid("once") {
		t.Error("reserved single-use token still valid for others")
	}
	other, _ := uia.Begin(regFlows, nil)
	wantErr(t, e.svc.AuthRegistrationToken(other, "once"), users.ErrForbidden)

	// Not done yet: registering is refused.
	_, err = e.svc.Register(ctx, "alice", "correct horse", users.RegisterOpts{UIASession: sid})
	wantErr(t, err, users.ErrForbidden)
	mustOK(t, e.svc.AuthDummy(sid))
	if done, _ := uia.Done(sid); !done {
		t.Fatal("flow not done")
	}
	_, err = e.svc.Register(ctx, "alice", "correct horse", users.RegisterOpts{UIASession: sid})
	mustOK(t, err)
	tok, _ = e.svc.RegToken("once")
	if tok.Pending != 0 || tok.Completed != 1 {
		t.Errorf("after registering: %+v", tok)
	}
	if _, err := uia.Completed(sid); err != users.ErrUnknownSession {
		t.Errorf("session survived registration: %v", err)
	}
}

func TestRegTokenReservationReleasedOnExpiry(t *testing.T) {
	e := newEnv(t, func(o *users.Options) { o.UIASessionLifetime = time.Minute })
	_, err := e.svc.CreateRegToken("once", ptr(1), nil)
	mustOK(t, err)
	uia := e.svc.UIA()
	sid, _ := uia.Begin(regFlows, nil)
	mustOK(t, e.svc.AuthRegistrationToken(sid, "once"))
	if e.svc.RegTokenValid("once") {
		t.Fatal("reserved token valid")
	}
	e.clock.Advance(time.Minute)
	if uia.Len() != 0 {
		t.Error("expired session still counted")
	}
	if !e.svc.RegTokenValid("once") {
		t.Error("expired session did not give its use back")
	}
	// Ending a session explicitly also gives it back.
	sid, _ = uia.Begin(regFlows, nil)
	mustOK(t, e.svc.AuthRegistrationToken(sid, "once"))
	uia.End(sid)
	if !e.svc.RegTokenValid("once") {
		t.Error("ended session did not give its use back")
	}
}

func TestRegTokenRace(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.CreateRegToken("three", ptr(3), nil)
	mustOK(t, err)
	uia := e.svc.UIA()
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range n {
		wg.Go(func() {
			sid, err := uia.Begin(regFlows, nil)
			if err != nil {
				t.Error(err)
				return
			}
			if e.svc.AuthRegistrationToken(sid, "three") != nil {
				return
			}
			if err := e.svc.AuthDummy(sid); err != nil {
				t.Error(err)
				return
			}
			name := "user" + string(rune('a'+i))
			if _, err := e.svc.Register(ctx, name, "correct horse", users.RegisterOpts{UIASession: sid}); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			won++
			mu.Unlock()
		})
	}
	wg.Wait()
	tok, _ := e.svc.RegToken("three")
	if won != 3 || tok.Completed != 3 || tok.Pending != 0 {
		t.Errorf("%d registrations; token %+v", won, tok)
	}
}

func TestRegTokenDeletedDuringRegistration(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.CreateRegToken("tok", nil, nil)
	mustOK(t, err)
	uia := e.svc.UIA()
	sid, _ := uia.Begin(regFlows, nil)
	mustOK(t, e.svc.AuthRegistrationToken(sid, "tok"))
	mustOK(t, e.svc.AuthDummy(sid))
	mustOK(t, e.svc.DeleteRegToken("tok"))
	_, err = e.svc.Register(ctx, "alice", "correct horse", users.RegisterOpts{UIASession: sid})
	wantErr(t, err, users.ErrForbidden)
	if ok, _ := e.svc.Available("alice"); !ok {
		t.Error("account created although the token was gone")
	}
}
