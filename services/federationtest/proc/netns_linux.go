package proc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Switch is a network namespace holding a bridge (br0) that Hosts plug
// into: one Ethernet segment, 10.77.0.0/24 by convention. All names are
// unique per Switch ("hth-PID-RANDOM-..."), and every interface lives in
// one of its namespaces, so several test runs can share a machine.
type Switch struct {
	t      testing.TB
	prefix string
	ns     string
	hosts  []string // host namespaces made so far
}

// Host is a network namespace with one link to a Switch: eth0 carries the
// host's address, the switch end is called pN.
type Host struct {
	// Namespace is the name under /run/netns.
	Namespace string
	// Addr is the host's address on the switch (no prefix length).
	Addr string
	sw   *Switch
	port string
}

// NewSwitch creates the switch namespace and its bridge; a t.Cleanup
// deletes it and every Host namespace. An error wrapping
// ErrNoNamespaces means namespaces cannot be made here at all (not root,
// no CAP_NET_ADMIN, no ip command): tests skip on it.
func NewSwitch(t testing.TB) (*Switch, error) {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoNamespaces, err)
	}
	sweepStale()
	var r [4]byte
	rand.Read(r[:])
	s := &Switch{t: t, prefix: "hth-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(r[:])}
	s.ns = s.prefix + "-sw"
	if err := ip("netns", "add", s.ns); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoNamespaces, err)
	}
	t.Cleanup(s.remove)
	for _, args := range [][]string{
		{"-n", s.ns, "link", "set", "lo", "up"},
		{"-n", s.ns, "link", "add", "br0", "type", "bridge", "forward_delay", "0"},
		{"-n", s.ns, "link", "set", "br0", "up"},
	} {
		if err := ip(args...); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// AddHost creates a host namespace with address addr/24 on eth0, wired to
// the switch and up.
func (s *Switch) AddHost(addr string) (*Host, error) {
	n := strconv.Itoa(len(s.hosts) + 1)
	h := &Host{Namespace: s.prefix + "-h" + n, Addr: addr, sw: s, port: "p" + n}
	if err := ip("netns", "add", h.Namespace); err != nil {
		return nil, err
	}
	s.hosts = append(s.hosts, h.Namespace)
	for _, args := range [][]string{
		{"-n", s.ns, "link", "add", h.port, "type", "veth", "peer", "name", "eth0", "netns", h.Namespace},
		{"-n", s.ns, "link", "set", h.port, "master", "br0"},
		{"-n", s.ns, "link", "set", h.port, "up"},
		{"-n", h.Namespace, "link", "set", "lo", "up"},
		{"-n", h.Namespace, "addr", "add", addr + "/24", "dev", "eth0"},
		{"-n", h.Namespace, "link", "set", "eth0", "up"},
	} {
		if err := ip(args...); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Cut sets the switch end of the host's link down, like pulling its
// cable: the host keeps its address and routes, frames to and from it are
// lost.
func (h *Host) Cut() error { return ip("-n", h.sw.ns, "link", "set", h.port, "down") }

// Connect sets the switch end of the host's link up again.
func (h *Host) Connect() error { return ip("-n", h.sw.ns, "link", "set", h.port, "up") }

// Command is exec.Command for a program run inside the host's namespace
// (ip netns exec, which execs the program: the child's PID is the
// program's).
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.Namespace, name}, args...)...)
}

// DialContext dials addr from inside the host's namespace, so that the
// test process reaches listeners on the namespace's loopback. The socket
// is created on a thread that has entered the namespace (a socket stays
// in the namespace it was made in); the thread goes back before it is
// released, and is left to die with its goroutine if it cannot.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := h.dialInside(ctx, network, addr)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

func (h *Host) dialInside(ctx context.Context, network, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("proc: own namespace: %w", err)
	}
	defer home.Close()
	target, err := os.Open(filepath.Join("/run/netns", h.Namespace))
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("proc: namespace %s: %w", h.Namespace, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("proc: enter %s: %w", h.Namespace, err)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if berr := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); berr != nil {
		// The thread stays locked and ends with this goroutine.
		return c, err
	}
	runtime.UnlockOSThread()
	return c, err
}

// remove deletes the host namespaces (their veth pairs go with them) and
// the switch. Processes still inside keep a namespace alive until they
// exit, so nodes must be killed first (their cleanups run earlier, being
// registered later).
func (s *Switch) remove() {
	for _, ns := range s.hosts {
		if err := ip("netns", "del", ns); err != nil {
			s.t.Errorf("proc: %v", err)
		}
	}
	if err := ip("netns", "del", s.ns); err != nil {
		s.t.Errorf("proc: %v", err)
	}
}

// sweepStale deletes namespaces left by earlier runs of these tests whose
// process is gone (a test binary killed by go test -timeout runs no
// cleanups). Only names of the form hth-PID-... with a dead PID are
// touched.
func sweepStale() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "hth-")
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 {
			continue
		}
		if _, err := os.Stat("/proc/" + pidText); err == nil {
			continue
		}
		ip("netns", "del", e.Name())
	}
}

// ip runs the ip command.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
