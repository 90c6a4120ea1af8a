package users_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"hearth/services/users"
)

const room = "!abc:example.org"

func TestAccountData(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	if pos, _ := e.svc.AccountDataPosition(); pos != 0 {
		t.Errorf("initial position = %d", pos)
	}
	p1, err := e.svc.SetAccountData(alice, "", "m.direct", []byte(`{ "@bob:example.org": ["!r:example.org"] }`))
	mustOK(t, err)
	p2, err := e.svc.SetAccountData(alice, room, "m.tag", []byte(`{"tags":{}}`))
	mustOK(t, err)
	if p1 != 1 || p2 != 2 {
		t.Errorf("positions %d, %d", p1, p2)
	}
	got, err := e.svc.AccountData(alice, "", "m.direct")
	mustOK(t, err)
	if string(got) != `{"@bob:example.org":["!r:example.org"]}` {
		t.Errorf("content = %s", got)
	}
	got, err = e.svc.AccountData(alice, room, "m.tag")
	mustOK(t, err)
	if string(got) != `{"tags":{}}` {
		t.Errorf("room content = %s", got)
	}
	_, err = e.svc.AccountData(alice, room, "m.direct")
	wantErr(t, err, users.ErrNotFound)
	_, err = e.svc.AccountData(alice, "", "m.tag")
	wantErr(t, err, users.ErrNotFound)
	_, err = e.svc.AccountData(alice, "bad room", "m.tag")
	wantErr(t, err, users.ErrNotFound)

	for _, tt := range []struct {
		name, room, typ, content string
		err                      error
	}{
		{"array", "", "m.x", `[1]`, users.ErrInvalidParam},
		{"string", "", "m.x", `"s"`, users.ErrInvalidParam},
		{"broken", "", "m.x", `{"a":`, users.ErrInvalidParam},
		{"empty", "", "m.x", ``, users.ErrInvalidParam},
		{"trailing", "", "m.x", `{} {}`, users.ErrInvalidParam},
		{"no type", "", "", `{}`, users.ErrInvalidParam},
		{"nul type", "", "m.\x00", `{}`, users.ErrInvalidParam},
		{"long type", "", strings.Repeat("t", 256), `{}`, users.ErrTooLarge},
		{"bad room", "#alias:example.org", "m.x", `{}`, users.ErrInvalidParam},
		{"huge", "", "m.x", `{"a":"` + strings.Repeat("x", 64<<10) + `"}`, users.ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.SetAccountData(alice, tt.room, tt.typ, []byte(tt.content))
			wantErr(t, err, tt.err)
		})
	}
	_, err = e.svc.SetAccountData("@nobody:example.org", "", "m.x", []byte(`{}`))
	wantErr(t, err, users.ErrNotFound)
	if pos, _ := e.svc.AccountDataPosition(); pos != 2 {
		t.Errorf("failed writes moved the stream to %d", pos)
	}
}

func TestAccountDataSince(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.register("alice"), e.register("bob")
	set := func(user, room, typ, content string) uint64 {
		t.Helper()
		p, err := e.svc.SetAccountData(user, room, typ, []byte(content))
		mustOK(t, err)
		return p
	}
	a1 := set(alice, "", "m.a", `{"v":1}`)
	b1 := set(bob, "", "m.a", `{"v":"bob"}`)
	a2 := set(alice, room, "m.b", `{"v":2}`)
	a3 := set(alice, "", "m.a", `{"v":3}`) // overwrites a1
	if !(a1 < b1 && b1 < a2 && a2 < a3) {
		t.Fatalf("positions not increasing: %d %d %d %d", a1, b1, a2, a3)
	}

	describe := func(items []users.AccountDataItem) string {
		var parts []string
		for _, it := range items {
			parts = append(parts, fmt.Sprintf("%d:%s/%s=%s", it.Pos, it.RoomID, it.Type, it.Content))
		}
		return strings.Join(parts, " ")
	}
	for _, tt := range []struct {
		user  string
		since uint64
		limit int
		want  string
		next  uint64
	}{
		{alice, 0, 0, `3:!abc:example.org/m.b={"v":2} 4:/m.a={"v":3}`, 4},
		{alice, a1, 0, `3:!abc:example.org/m.b={"v":2} 4:/m.a={"v":3}`, 4},
		{alice, b1, 0, `3:!abc:example.org/m.b={"v":2} 4:/m.a={"v":3}`, 4},
		{alice, a2, 0, `4:/m.a={"v":3}`, 4},
		{alice, a3, 0, ``, 4},
		{alice, 99, 0, ``, 4},
		{alice, 0, 1, `3:!abc:example.org/m.b={"v":2}`, 3},
		{bob, 0, 0, `2:/m.a={"v":"bob"}`, 4},
		{bob, b1, 0, ``, 4},
	} {
		items, next, err := e.svc.AccountDataSince(tt.user, tt.since, tt.limit)
		mustOK(t, err)
		if got := describe(items); got != tt.want || next != tt.next {
			t.Errorf("AccountDataSince(%s, %d, %d) = %q, %d; want %q, %d", tt.user, tt.since, tt.limit, got, next, tt.want, tt.next)
		}
	}
	_, _, err := e.svc.AccountDataSince("nobody", 0, 0)
	wantErr(t, err, users.ErrNotFound)
}

func TestAccountDataStreamConcurrent(t *testing.T) {
	var mu sync.Mutex
	var notified []uint64
	e := newEnv(t, func(o *users.Options) {
		o.OnAccountData = func(_ string, pos uint64) {
			mu.Lock()
			notified = append(notified, pos)
			mu.Unlock()
		}
	})
	const writers, each = 8, 10
	var ids []string
	for i := range writers {
		ids = append(ids, e.register(fmt.Sprintf("user%d", i)))
	}
	var wg sync.WaitGroup
	positions := make([][]uint64, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				p, err := e.svc.SetAccountData(ids[w], "", fmt.Sprintf("m.t%d", i%3), []byte(`{}`))
				if err != nil {
					t.Error(err)
					return
				}
				positions[w] = append(positions[w], p)
			}
		})
	}
	wg.Wait()
	all := map[uint64]bool{}
	for w, ps := range positions {
		for i, p := range ps {
			if all[p] {
				t.Errorf("position %d handed out twice", p)
			}
			all[p] = true
			if i > 0 && p <= ps[i-1] {
				t.Errorf("writer %d: position %d after %d", w, p, ps[i-1])
			}
		}
	}
	head, _ := e.svc.AccountDataPosition()
	if head != writers*each || len(all) != writers*each || len(notified) != writers*each {
		t.Errorf("head %d, %d distinct positions, %d notifications; want %d", head, len(all), len(notified), writers*each)
	}
	// Each user sees three types, at their latest positions.
	items, _, err := e.svc.AccountDataSince(ids[0], 0, 0)
	mustOK(t, err)
	if len(items) != 3 || items[2].Pos != positions[0][each-1] {
		t.Errorf("user0 items = %+v, last position %d", items, positions[0][each-1])
	}
}

func TestAccountDataItemLimit(t *testing.T) {
	e := newEnv(t, func(o *users.Options) { o.MaxAccountDataItems = 3 })
	alice := e.register("alice")
	for i := range 3 {
		_, err := e.svc.SetAccountData(alice, "", fmt.Sprintf("m.t%d", i), []byte(`{}`))
		mustOK(t, err)
	}
	_, err := e.svc.SetAccountData(alice, "", "m.t3", []byte(`{}`))
	wantErr(t, err, users.ErrTooMany)
	_, err = e.svc.SetAccountData(alice, "", "m.t0", []byte(`{"updated":true}`)) // overwriting is fine
	mustOK(t, err)
}
