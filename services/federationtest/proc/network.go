package proc

import (
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearth/services/transport/transporttest"
)

// Network is a set of hearth processes that trust one test CA.
type Network struct {
	t      testing.TB
	bin    string
	ca     *transporttest.CA
	caFile string
	dir    string
}

// NewNetwork makes an empty network whose nodes run the hearth binary bin
// (see Build). Every node is killed when the test ends.
func NewNetwork(t testing.TB, bin string) *Network {
	t.Helper()
	dir := t.TempDir()
	ca := transporttest.NewCA(t)
	return &Network{t: t, bin: bin, ca: ca, caFile: ca.WriteFiles(t, dir), dir: dir}
}

// Add starts a node on loopback. Its server name is "127.0.0.1:PORT" with
// a free port that stays the node's federation port across restarts.
func (n *Network) Add(label string) *Node {
	n.t.Helper()
	nd := n.newNode(label, nil, "127.0.0.1")
	nd.launch(linked, true)
	return nd
}

// AddOn starts a node in host's network namespace. Its server name is
// "ADDR:8448" with the host's bridge address; its client API listens on
// the namespace's loopback, which the node's client reaches through the
// host (Host.DialContext).
func (n *Network) AddOn(label string, h *Host) *Node {
	n.t.Helper()
	nd := n.newNode(label, h, h.Addr)
	nd.Name = net.JoinHostPort(h.Addr, "8448")
	nd.fedListen = nd.Name
	nd.launch(linked, false)
	return nd
}

func (n *Network) newNode(label string, h *Host, ip string) *Node {
	t := n.t
	t.Helper()
	dir := filepath.Join(n.dir, label)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := transporttest.WriteCert(t, dir, "federation", n.ca.Issue(t, ip))
	tr := &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second}
	if h != nil {
		tr.DialContext = h.DialContext
	}
	nd := &Node{
		Label: label, n: n, host: h, dir: dir, dataDir: filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "hearth.log"), certFile: certFile, keyFile: keyFile,
		transport: tr,
		client:    &http.Client{Timeout: 60 * time.Second, Transport: tr},
		probe:     &http.Client{Timeout: time.Second, Transport: tr},
	}
	t.Cleanup(nd.cleanup)
	return nd
}

// stablePort returns a free loopback port below the kernel's ephemeral
// range, for a node's federation port: while the node is down, no
// outbound connection of another program can be given that port.
func stablePort() (string, error) {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	for i := 0; i < 50 && low > 11000; i++ {
		port := strconv.Itoa(10000 + rand.IntN(low-10000))
		if ln, err := net.Listen("tcp", "127.0.0.1:"+port); err == nil {
			ln.Close()
			return port, nil
		}
	}
	return freePort("127.0.0.1")
}

// freePort returns a TCP port on ip that was free a moment ago.
func freePort(ip string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}
