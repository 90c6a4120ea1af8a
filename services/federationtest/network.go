package federationtest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"hearth/config"
	"hearth/services/homeserver"
	"hearth/services/transport/transporttest"
	"hearth/services/users"
)

// Network is a set of servers that can reach each other.
type Network struct {
	t   testing.TB
	CA  *transporttest.CA
	DNS *transporttest.FakeResolver
	dir string

	mu    sync.Mutex
	nodes map[string]*Node
	links map[[2]string]*link // (from, to) → the link from's traffic to to takes
}

// NewNetwork makes an empty network with its own CA and DNS.
func NewNetwork(t testing.TB) *Network {
	return &Network{t: t, CA: transporttest.NewCA(t), DNS: &transporttest.FakeResolver{}, dir: t.TempDir(),
		nodes: map[string]*Node{}, links: map[[2]string]*link{}}
}

// Node is one homeserver of the network.
type Node struct {
	Name              string
	net               *Network
	dns               *transporttest.FakeResolver // the links towards the other nodes
	dataDir           string
	fedPort           int
	certFile, keyFile string

	mu     sync.Mutex
	hs     *homeserver.Server
	base   string // client API URL
	cancel context.CancelFunc
	done   chan struct{}
	client *http.Client
}

// Add creates a server named name (e.g. "hs1.test"), registered in the
// DNS with an SRV record, and starts it.
func (n *Network) Add(name string) *Node {
	t := n.t
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	n.DNS.AddHost(name, "127.0.0.1")
	n.DNS.AddSRV("matrix-fed", "tcp", name, name, uint16(port), 10, 10)
	dir := filepath.Join(n.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cert := n.CA.Issue(t, name)
	certFile, keyFile := transporttest.WriteCert(t, dir, "fed", cert)
	nd := &Node{Name: name, net: n, dns: &transporttest.FakeResolver{}, dataDir: filepath.Join(dir, "data"), fedPort: port, certFile: certFile, keyFile: keyFile,
		client: &http.Client{Timeout: 60 * time.Second}}
	n.mu.Lock()
	n.nodes[name] = nd
	n.connect(nd)
	n.mu.Unlock()
	nd.Start()
	t.Cleanup(nd.Stop)
	return nd
}

// Config is the node's configuration.
func (nd *Node) Config() config.Config {
	cfg := config.Default()
	cfg.Server.Name = nd.Name
	cfg.Server.DataDir = nd.dataDir
	cfg.Client.Listen = "127.0.0.1:0"
	cfg.Registration.Mode = config.RegistrationOpen
	cfg.Registration.AllowLegacySingleRequest = true
	cfg.Limits.PerUser.Disabled = true
	cfg.Limits.PerIP.Disabled = true
	cfg.Federation.Listen = "127.0.0.1:" + strconv.Itoa(nd.fedPort)
	cfg.Federation.TLSCert, cfg.Federation.TLSKey = nd.certFile, nd.keyFile
	cfg.Federation.AllowPrivateNetworks = true
	return cfg
}

// Start starts the node (again, after Stop) on its federation port.
func (nd *Node) Start() {
	t := nd.net.t
	t.Helper()
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.hs != nil {
		return
	}
	cheap := users.TestingArgon2()
	level := slog.LevelError
	if os.Getenv("HEARTH_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	var out io.Writer = os.Stderr
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})).With("server", nd.Name)
	hs, err := homeserver.Open(context.Background(), nd.Config(), homeserver.Options{
		Logger: log, Argon2: &cheap, Version: "test",
		Federation: homeserver.FederationOptions{DNS: layered{nd.dns, nd.net.DNS}, Resolver: layered{nd.dns, nd.net.DNS}, Roots: nd.net.CA.Pool()},
	})
	if err != nil {
		t.Fatalf("%s: %v", nd.Name, err)
	}
	cln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var fln net.Listener
	for i := 0; ; i++ { // the port may linger for a moment after a stop
		fln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(nd.fedPort))
		if err == nil || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); hs.Serve(ctx, cln) }()
	go func() { defer wg.Done(); hs.ServeFederation(ctx, fln) }()
	go func() { wg.Wait(); close(done) }()
	nd.hs, nd.base, nd.cancel, nd.done = hs, "http://"+cln.Addr().String(), cancel, done
}

// Stop stops the node gracefully; its store stays for Start.
func (nd *Node) Stop() {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.hs == nil {
		return
	}
	nd.cancel()
	<-nd.done
	nd.hs.Close()
	nd.hs = nil
}

// Running reports whether the node is up.
func (nd *Node) Running() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.hs != nil
}
