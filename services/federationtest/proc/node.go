package proc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Node is one homeserver of a Network: a data directory, a server name
// and, while it runs, a hearth process.
type Node struct {
	// Label names the node in test messages ("hs1").
	Label string
	// Name is the server name, an IP literal with a port. It never
	// changes once the node has started.
	Name string

	n                 *Network
	host              *Host // nil: the root namespace
	dir, dataDir      string
	logPath           string
	certFile, keyFile string
	fedListen         string
	transport         *http.Transport
	client, probe     *http.Client

	mu     sync.Mutex
	proc   *process
	base   string // client API URL of the running process
	starts int
}

// mode is how a node is started.
type mode int

const (
	linked mode = iota // federation listener on the node's address, peers dialable
	cutOff             // listener on a port nobody knows, every peer refused
)

// readyLimit bounds a start: the store opens and /versions answers.
const readyLimit = 30 * time.Second

// Start starts the node (again) on its own address, able to reach its
// peers. It fails the test if the node does not come up.
func (nd *Node) Start() {
	nd.n.t.Helper()
	nd.launch(linked, false)
}

// StartCutOff starts the node unable to federate while its client API
// works: its federation listener is on a port no other node knows, so
// they are refused, and allow_private_networks is off, so its guarded
// dialer refuses their (loopback or private) addresses.
func (nd *Node) StartCutOff() {
	nd.n.t.Helper()
	nd.launch(cutOff, false)
}

// launch starts the node, trying again with fresh ports when one was
// taken in the meantime; newName allows a fresh federation port too, which
// is only right before the node's first start.
func (nd *Node) launch(m mode, newName bool) {
	t := nd.n.t
	t.Helper()
	if nd.Running() {
		t.Fatalf("%s: start while running", nd.Label)
	}
	var errs []error
	for attempt := 0; attempt < 3; attempt++ {
		if newName {
			port, err := stablePort()
			if err != nil {
				t.Fatal(err)
			}
			nd.Name = "127.0.0.1:" + port
			nd.fedListen = nd.Name
		}
		err := nd.tryStart(m)
		if err == nil {
			return
		}
		errs = append(errs, err)
	}
	t.Fatalf("%s: %v", nd.Label, errors.Join(errs...))
}

func (nd *Node) tryStart(m mode) error {
	clientListen, fedListen, allowPrivate := "127.0.0.1:8008", nd.fedListen, true
	if nd.host == nil {
		port, err := freePort("127.0.0.1")
		if err != nil {
			return err
		}
		clientListen = "127.0.0.1:" + port
	}
	if m == cutOff {
		allowPrivate = false
		if nd.host != nil {
			fedListen = net.JoinHostPort(nd.host.Addr, "8449")
		} else {
			port, err := stablePort()
			if err != nil {
				return err
			}
			fedListen = "127.0.0.1:" + port
		}
	}
	cfgPath, err := nd.writeConfig(m, clientListen, fedListen, allowPrivate)
	if err != nil {
		return err
	}
	args := []string{"run", "-config", cfgPath}
	var cmd *exec.Cmd
	if nd.host != nil {
		cmd = nd.host.Command(nd.n.bin, args...)
	} else {
		cmd = exec.Command(nd.n.bin, args...)
	}
	nd.mu.Lock()
	nd.starts++
	n := nd.starts
	nd.mu.Unlock()
	nd.logLine(fmt.Sprintf("=== proc: start %d (%s), client %s, federation %s\n", n, m, clientListen, fedListen))
	p, err := spawn(cmd, nd.logPath)
	if err != nil {
		return err
	}
	base := "http://" + clientListen
	if err := nd.waitReady(p, base); err != nil {
		p.kill()
		return fmt.Errorf("%w\n%s", err, nd.LogTail(2000))
	}
	nd.transport.CloseIdleConnections()
	nd.mu.Lock()
	nd.proc, nd.base = p, base
	nd.mu.Unlock()
	return nil
}

func (m mode) String() string {
	if m == cutOff {
		return "cut off"
	}
	return "linked"
}

// waitReady polls /versions until it answers 200.
func (nd *Node) waitReady(p *process, base string) error {
	deadline := time.Now().Add(readyLimit)
	for time.Now().Before(deadline) {
		if done, err := p.exited(); done {
			return fmt.Errorf("hearth exited before serving: %v", err)
		}
		resp, err := nd.probe.Get(base + "/_matrix/client/versions")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("hearth not serving after %v", readyLimit)
}

// Stop stops the node with SIGTERM and fails the test unless it exits
// cleanly within 30 s. Its data directory stays for Start.
func (nd *Node) Stop() {
	t := nd.n.t
	t.Helper()
	p := nd.take()
	if p == nil {
		t.Fatalf("%s: stop while not running", nd.Label)
	}
	if err := p.terminate(30 * time.Second); err != nil {
		t.Fatalf("%s: stop: %v\n%s", nd.Label, err, nd.LogTail(3000))
	}
}

// Kill kills the node with SIGKILL and waits until the process is gone.
func (nd *Node) Kill() {
	nd.n.t.Helper()
	p := nd.take()
	if p == nil {
		nd.n.t.Fatalf("%s: kill while not running", nd.Label)
	}
	p.kill()
	nd.logLine("=== proc: SIGKILL\n")
}

// take detaches the running process from the node.
func (nd *Node) take() *process {
	nd.mu.Lock()
	p := nd.proc
	nd.proc, nd.base = nil, ""
	nd.mu.Unlock()
	nd.transport.CloseIdleConnections()
	return p
}

// Running reports whether the node has a process.
func (nd *Node) Running() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.proc != nil
}

// baseURL is the client API URL, or "" while the node is down.
func (nd *Node) baseURL() string {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.base
}

// LogTail is the last n bytes hearth wrote, over all runs of the node.
func (nd *Node) LogTail(n int) string {
	b, _ := os.ReadFile(nd.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// logLine appends a harness line to the node's log, between runs.
func (nd *Node) logLine(s string) {
	f, err := os.OpenFile(nd.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	f.WriteString(s)
	f.Close()
}

// cleanup kills the process and, when the test failed, shows the log.
func (nd *Node) cleanup() {
	if p := nd.take(); p != nil {
		p.kill()
	}
	if nd.n.t.Failed() {
		nd.n.t.Logf("log of %s (%s), last 6000 bytes:\n%s", nd.Label, nd.Name, nd.LogTail(6000))
	}
}
