package users_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"hearth/services/users"
)

func TestUIAFlows(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	uia := e.svc.UIA()
	flows := [][]string{
		{users.StagePassword},
		{"example.type.foo", users.StageDummy},
	}
	sid, err := uia.Begin(flows, map[string]any{"example.type.foo": map[string]any{"k": "v"}})
	mustOK(t, err)

	c, err := uia.Challenge(sid)
	mustOK(t, err)
	b, _ := json.Marshal(c)
	want := `{"flows":[{"stages":["m.login.password"]},{"stages":["example.type.foo","m.login.dummy"]}],"params":{"example.type.foo":{"k":"v"}},"session":"` + sid + `"}`
	if string(b) != want {
		t.Errorf("challenge\n got %s\nwant %s", b, want)
	}

	wantErr(t, e.svc.AuthDummy(sid), users.ErrForbidden) // dummy is not first in any flow
	wantErr(t, e.svc.AuthPassword(ctx, sid, alice, "wrong horse"), users.ErrForbidden)
	if done, _ := uia.Done(sid); done {
		t.Fatal("done after failures")
	}
	mustOK(t, uia.Complete(sid, "example.type.foo"))
	// Having chosen the second flow, the password stage is no longer next.
	wantErr(t, e.svc.AuthPassword(ctx, sid, alice, "correct horse"), users.ErrForbidden)
	mustOK(t, e.svc.AuthDummy(sid))
	done, err := uia.Done(sid)
	mustOK(t, err)
	if !done {
		t.Error("not done after completing a flow")
	}
	got, _ := uia.Completed(sid)
	if !slices.Equal(got, []string{"example.type.foo", users.StageDummy}) {
		t.Errorf("completed = %v", got)
	}
	c, _ = uia.Challenge(sid)
	b, _ = json.Marshal(c)
	if !strings.Contains(string(b), `"completed":["example.type.foo","m.login.dummy"]`) {
		t.Errorf("challenge without completed: %s", b)
	}
	uia.End(sid)
	wantErr(t, e.svc.AuthDummy(sid), users.ErrUnknownSession)
	_, err = uia.Challenge(sid)
	wantErr(t, err, users.ErrUnknownSession)

	// The password flow.
	sid, _ = uia.Begin(flows, nil)
	mustOK(t, e.svc.AuthPassword(ctx, sid, alice, "correct horse"))
	mustOK(t, e.svc.AuthPassword(ctx, sid, alice, "anything")) // completed: not checked again
	if done, _ := uia.Done(sid); !done {
		t.Error("password flow not done")
	}
	c, _ = uia.Challenge(sid)
	b, _ = json.Marshal(c)
	if !strings.Contains(string(b), `"params":{}`) {
		t.Errorf("nil params must marshal as {}: %s", b)
	}
}

func TestUIABeginLimits(t *testing.T) {
	e := newEnv(t)
	uia := e.svc.UIA()
	many := make([][]string, 17)
	for i := range many {
		many[i] = []string{"a"}
	}
	for _, flows := range [][][]string{nil, {}, {{}}, {{""}}, many, {{strings.Repeat("s", 200)}}, {make([]string, 17)}} {
		_, err := uia.Begin(flows, nil)
		wantErr(t, err, users.ErrInvalidParam)
	}
	// Begin copies the flows.
	flows := [][]string{{users.StageDummy}}
	sid, _ := uia.Begin(flows, nil)
	flows[0][0] = "changed"
	mustOK(t, e.svc.AuthDummy(sid))
}

func TestUIAExpiryAndBound(t *testing.T) {
	e := newEnv(t, func(o *users.Options) {
		o.UIASessionLifetime = time.Minute
		o.MaxUIASessions = 3
	})
	uia := e.svc.UIA()
	flows := [][]string{{users.StageDummy}}
	old, _ := uia.Begin(flows, nil)
	e.clock.Advance(59 * time.Second)
	mustOK(t, e.svc.AuthDummy(old))
	e.clock.Advance(time.Second)
	_, err := uia.Done(old)
	wantErr(t, err, users.ErrUnknownSession)

	var ids []string
	for range 5 {
		id, err := uia.Begin(flows, nil)
		mustOK(t, err)
		ids = append(ids, id)
	}
	if n := uia.Len(); n != 3 {
		t.Errorf("%d sessions, limit 3", n)
	}
	for i, id := range ids {
		_, err := uia.Completed(id)
		if (i < 2) != (err != nil) {
			t.Errorf("session %d: %v (the two oldest should be gone)", i, err)
		}
	}
}

func TestUIABind(t *testing.T) {
	e := newEnv(t)
	uia := e.svc.UIA()
	sid, _ := uia.Begin([][]string{{users.StageDummy}}, nil)
	mustOK(t, uia.Bind(sid, "POST /account/deactivate @alice:example.org"))
	mustOK(t, uia.Bind(sid, "POST /account/deactivate @alice:example.org"))
	wantErr(t, uia.Bind(sid, "POST /account/password @alice:example.org"), users.ErrForbidden)
	wantErr(t, uia.Bind(sid, strings.Repeat("x", 5000)), users.ErrTooLarge)
	wantErr(t, uia.Bind("nope", "x"), users.ErrUnknownSession)
}

func TestUIAPasswordGuessingEndsSession(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	uia := e.svc.UIA()
	sid, _ := uia.Begin([][]string{{users.StagePassword}}, nil)
	var err error
	for range 20 {
		if err = e.svc.AuthPassword(ctx, sid, alice, "guess"); err == users.ErrUnknownSession {
			break
		}
	}
	wantErr(t, err, users.ErrUnknownSession)
	wantErr(t, e.svc.AuthPassword(ctx, sid, alice, "correct horse"), users.ErrUnknownSession)
}
