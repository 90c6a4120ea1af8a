package federationtest

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"hearth/services/transport/transporttest"
)

// Every pair of nodes talks through a link: a TCP forwarder the test can
// cut (closing live connections and refusing new ones) and heal, to make
// partitions. Each node resolves the other nodes to the links towards
// them, from a resolver of its own; names it does not know (a test's
// malicious peer) come from the network's shared DNS.

type link struct {
	ln   net.Listener
	to   string // host:port of the destination's federation listener
	mu   sync.Mutex
	cut  bool
	open map[net.Conn]bool
}

func newLink(t testing.TB, to string) *link {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &link{ln: ln, to: to, open: map[net.Conn]bool{}}
	go l.serve()
	t.Cleanup(func() { ln.Close(); l.setCut(true) })
	return l
}

func (l *link) port() int { return l.ln.Addr().(*net.TCPAddr).Port }

func (l *link) serve() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.cut {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open[c] = true
		l.mu.Unlock()
		go l.forward(c)
	}
}

func (l *link) forward(c net.Conn) {
	up, err := net.Dial("tcp", l.to)
	if err != nil {
		c.Close()
		l.drop(c)
		return
	}
	l.mu.Lock()
	if l.cut {
		l.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	l.open[up] = true
	l.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	l.drop(c)
	l.drop(up)
}

func (l *link) drop(c net.Conn) {
	l.mu.Lock()
	delete(l.open, c)
	l.mu.Unlock()
}

func (l *link) setCut(cut bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = cut
	if cut {
		for c := range l.open {
			c.Close()
		}
		l.open = map[net.Conn]bool{}
	}
}

// layered answers from a node's own resolver first, then the network's.
type layered struct {
	own, shared *transporttest.FakeResolver
}

func (r layered) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	if a, err := r.own.LookupIPAddr(ctx, host); err == nil {
		return a, nil
	}
	return r.shared.LookupIPAddr(ctx, host)
}

func (r layered) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if c, a, err := r.own.LookupSRV(ctx, service, proto, name); err == nil {
		return c, a, nil
	}
	return r.shared.LookupSRV(ctx, service, proto, name)
}

// connect makes the links between a new node and the existing ones.
func (n *Network) connect(nd *Node) {
	for _, m := range n.nodes {
		if m == nd {
			continue
		}
		toNew := newLink(n.t, "127.0.0.1:"+strconv.Itoa(nd.fedPort))
		m.dns.AddSRV("matrix-fed", "tcp", nd.Name, nd.Name, uint16(toNew.port()), 10, 10)
		toOld := newLink(n.t, "127.0.0.1:"+strconv.Itoa(m.fedPort))
		nd.dns.AddSRV("matrix-fed", "tcp", m.Name, m.Name, uint16(toOld.port()), 10, 10)
		n.links[[2]string{m.Name, nd.Name}] = toNew
		n.links[[2]string{nd.Name, m.Name}] = toOld
	}
}

// Partition cuts every link between nodes of different groups; nodes
// not named keep all their links.
func (n *Network) Partition(groups ...[]*Node) {
	n.mu.Lock()
	defer n.mu.Unlock()
	group := map[string]int{}
	for i, g := range groups {
		for _, nd := range g {
			group[nd.Name] = i + 1
		}
	}
	for pair, l := range n.links {
		a, b := group[pair[0]], group[pair[1]]
		if a != 0 && b != 0 && a != b {
			l.setCut(true)
		}
	}
}

// Heal restores every link.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.links {
		l.setCut(false)
	}
}
