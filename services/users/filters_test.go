package users_test

import (
	"fmt"
	"strings"
	"testing"

	"hearth/services/users"
)

func TestFilters(t *testing.T) {
	e := newEnv(t, func(o *users.Options) { o.MaxFiltersPerUser = 3 })
	alice, bob := e.register("alice"), e.register("bob")
	id, err := e.svc.PutFilter(alice, []byte(`{ "room": { "timeline": { "limit": 10 } } }`))
	mustOK(t, err)
	if len(id) != 16 || strings.HasPrefix(id, "{") {
		t.Errorf("filter ID %q", id)
	}
	again, err := e.svc.PutFilter(alice, []byte(`{"room":{"timeline":{"limit":10}}}`))
	mustOK(t, err)
	if again != id {
		t.Errorf("same filter got IDs %q and %q", id, again)
	}
	f, err := e.svc.Filter(alice, id)
	mustOK(t, err)
	if string(f) != `{"room":{"timeline":{"limit":10}}}` {
		t.Errorf("filter = %s", f)
	}
	_, err = e.svc.Filter(bob, id)
	wantErr(t, err, users.ErrNotFound)
	for _, bad := range []string{"", "[]", "{", `"x"`} {
		_, err := e.svc.PutFilter(alice, []byte(bad))
		wantErr(t, err, users.ErrInvalidParam)
	}
	_, err = e.svc.PutFilter(alice, []byte(`{"a":"`+strings.Repeat("x", 64<<10)+`"}`))
	wantErr(t, err, users.ErrTooLarge)
	_, err = e.svc.Filter(alice, strings.Repeat("x", 100))
	wantErr(t, err, users.ErrNotFound)
	_, err = e.svc.PutFilter("@nobody:example.org", []byte(`{}`))
	wantErr(t, err, users.ErrNotFound)

	// Beyond the limit the oldest goes.
	var ids []string
	for i := range 3 {
		e.clock.Advance(1e9)
		id, err := e.svc.PutFilter(alice, []byte(fmt.Sprintf(`{"n":%d}`, i)))
		mustOK(t, err)
		ids = append(ids, id)
	}
	_, err = e.svc.Filter(alice, id)
	wantErr(t, err, users.ErrNotFound)
	for _, id := range ids {
		if _, err := e.svc.Filter(alice, id); err != nil {
			t.Errorf("newer filter %s evicted: %v", id, err)
		}
	}
}
