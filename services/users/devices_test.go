package users_test

import (
	"strings"
	"testing"
	"time"

	"hearth/services/users"
)

func TestDevices(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.register("alice"), e.register("bob")
	a := e.login(alice, "AAA", false)
	b := e.login(alice, "BBB", true)
	e.login(bob, "AAA", false)

	devs, err := e.svc.Devices(alice)
	mustOK(t, err)
	if len(devs) != 2 || devs[0].DeviceID != "AAA" || devs[1].DeviceID != "BBB" || devs[0].UserID != alice {
		t.Fatalf("devices = %+v", devs)
	}
	if !devs[0].Created.Equal(e.clock.Now().Truncate(time.Millisecond)) {
		t.Errorf("created = %v", devs[0].Created)
	}

	mustOK(t, e.svc.RenameDevice(alice, "AAA", "Laptop"))
	d, err := e.svc.Device(alice, "AAA")
	mustOK(t, err)
	if d.DisplayName != "Laptop" {
		t.Errorf("renamed device = %+v", d)
	}
	wantErr(t, e.svc.RenameDevice(alice, "NOPE", "x"), users.ErrNotFound)
	wantErr(t, e.svc.RenameDevice(alice, "AAA", strings.Repeat("x", 257)), users.ErrTooLarge)
	wantErr(t, e.svc.RenameDevice(alice, "AAA", "\xff\xfe"), users.ErrInvalidParam)
	wantErr(t, e.svc.RenameDevice(alice, "", "x"), users.ErrNotFound)
	_, err = e.svc.Device(alice, "bad id\n")
	wantErr(t, err, users.ErrNotFound)
	_, err = e.svc.Devices("not a user")
	wantErr(t, err, users.ErrNotFound)

	mustOK(t, e.svc.DeleteDevices(alice, []string{"BBB", "MISSING", "bad\x00id"}))
	_, err = e.svc.Authenticate(b.AccessToken)
	wantErr(t, err, users.ErrUnknownToken)
	_, err = e.svc.Refresh(b.RefreshToken)
	wantErr(t, err, users.ErrUnknownToken)
	if _, err := e.svc.Authenticate(a.AccessToken); err != nil {
		t.Errorf("other device lost its token: %v", err)
	}
	if devs, _ := e.svc.Devices(bob); len(devs) != 1 {
		t.Errorf("bob's devices touched: %+v", devs)
	}
	big := make([]string, 10000)
	wantErr(t, e.svc.DeleteDevices(alice, big), users.ErrTooLarge)
}

func TestDeviceSeen(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	e.login(alice, "DEV", false)
	mustOK(t, e.svc.DeviceSeen(alice, "DEV", "10.0.0.1"))
	first := e.clock.Now()
	e.clock.Advance(time.Minute)
	mustOK(t, e.svc.DeviceSeen(alice, "DEV", "10.0.0.1")) // throttled
	d, _ := e.svc.Device(alice, "DEV")
	if d.LastSeenIP != "10.0.0.1" || !d.LastSeen.Equal(first) {
		t.Errorf("device = %+v, want seen at %v", d, first)
	}
	mustOK(t, e.svc.DeviceSeen(alice, "DEV", "10.0.0.2")) // new IP: written
	d, _ = e.svc.Device(alice, "DEV")
	if d.LastSeenIP != "10.0.0.2" || !d.LastSeen.Equal(e.clock.Now()) {
		t.Errorf("device = %+v", d)
	}
	e.clock.Advance(10 * time.Minute)
	mustOK(t, e.svc.DeviceSeen(alice, "DEV", "10.0.0.2"))
	d, _ = e.svc.Device(alice, "DEV")
	if !d.LastSeen.Equal(e.clock.Now()) {
		t.Errorf("last seen not refreshed after the interval: %+v", d)
	}
	wantErr(t, e.svc.DeviceSeen(alice, "GONE", "1.2.3.4"), users.ErrNotFound)
	// A deleted device is not brought back.
	mustOK(t, e.svc.DeleteDevices(alice, []string{"DEV"}))
	e.clock.Advance(time.Hour)
	wantErr(t, e.svc.DeviceSeen(alice, "DEV", "1.2.3.4"), users.ErrNotFound)
}
