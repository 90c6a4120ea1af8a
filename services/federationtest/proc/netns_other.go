//go:build !linux

package proc

import (
	"context"
	"net"
	"os/exec"
	"testing"
)

// Switch is a bridge in a network namespace; Linux only.
type Switch struct{}

// Host is a network namespace wired to a Switch; Linux only.
type Host struct {
	Namespace string
	Addr      string
}

// NewSwitch reports ErrNoNamespaces outside Linux.
func NewSwitch(t testing.TB) (*Switch, error) { return nil, ErrNoNamespaces }

// AddHost reports ErrNoNamespaces outside Linux.
func (s *Switch) AddHost(addr string) (*Host, error) { return nil, ErrNoNamespaces }

// Cut reports ErrNoNamespaces outside Linux.
func (h *Host) Cut() error { return ErrNoNamespaces }

// Connect reports ErrNoNamespaces outside Linux.
func (h *Host) Connect() error { return ErrNoNamespaces }

// Command runs the program outside any namespace; never reached, as no
// Host exists outside Linux.
func (h *Host) Command(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

// DialContext reports ErrNoNamespaces outside Linux.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, ErrNoNamespaces
}
