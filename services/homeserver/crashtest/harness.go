package crashtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SharedSecret is the shared_secret of the configs Start writes (at least
// 32 characters, as config validation requires).
const SharedSecret = "crashtest-shared-secret-0123456789abcdef"

// Build compiles the hearth binary into a temporary directory and returns
// its path. It runs go build from the current directory, which for a test
// is inside the hearth module.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hearth")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, "hearth/appliance/hearth")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build hearth: %v\n%s", err, out)
	}
	t.Logf("built hearth in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// Proc is a running hearth child process.
type Proc struct {
	t       testing.TB
	Bin     string
	DataDir string
	Config  string // path of the config file
	Base    string // http://127.0.0.1:PORT
	LogPath string
	cmd     *exec.Cmd
	waited  chan struct{}
	waitErr error
}

// Start writes a config (open registration, legacy single-request
// registration, rate limits off, the given data directory, a free port)
// and starts bin run -config on it, waiting until /versions answers. A
// t.Cleanup kills the process if the test has not stopped it.
func Start(t testing.TB, bin, dataDir string) *Proc {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p, err := start(t, bin, dataDir, attempt)
		if err == nil {
			return p
		}
		lastErr = err
	}
	t.Fatalf("starting hearth: %v", lastErr)
	return nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func start(t testing.TB, bin, dataDir string, attempt int) (*Proc, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(dataDir)
	cfgPath := filepath.Join(dir, "hearth.toml")
	cfg := fmt.Sprintf(`[server]
name = "hearth.test"
data_dir = %q

[client]
listen = %q

[registration]
mode = "open"
allow_legacy_single_request = true
shared_secret = %q

[limits]
per_user = { per_second = 20.0, burst = 100, disabled = true }
per_ip = { per_second = 50.0, burst = 200, disabled = true }

[log]
level = "info"
`, dataDir, addr, SharedSecret)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("hearth-%d.log", time.Now().UnixNano()))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &Proc{t: t, Bin: bin, DataDir: dataDir, Config: cfgPath, Base: "http://" + addr, LogPath: logPath, cmd: cmd, waited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.waited)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("log of hearth pid %d (%s):\n%s", cmd.Process.Pid, logPath, p.tail(4000))
		}
	})
	if err := p.waitReady(20 * time.Second); err != nil {
		p.Kill()
		return nil, fmt.Errorf("attempt %d: %w\n%s", attempt, err, p.tail(2000))
	}
	return p, nil
}

func (p *Proc) waitReady(limit time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.waited:
			return fmt.Errorf("hearth exited before serving: %v", p.waitErr)
		default:
		}
		resp, err := c.Get(p.Base + "/_matrix/client/versions")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("hearth not serving after %v", limit)
}

func (p *Proc) tail(n int) string {
	b, _ := os.ReadFile(p.LogPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Pid is the process ID of the server.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Kill sends SIGKILL and waits for the process to be gone. Safe to call
// more than once.
func (p *Proc) Kill() {
	select {
	case <-p.waited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.waited
}

// Stop sends SIGTERM, waits up to limit for a clean exit and returns the
// exit error (nil for status 0). After limit it kills the process and
// fails the test.
func (p *Proc) Stop(limit time.Duration) error {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.waited:
		return p.waitErr
	case <-time.After(limit):
		p.Kill()
		p.t.Fatalf("hearth did not stop within %v of SIGTERM", limit)
		return nil
	}
}

// Log is what the server wrote to stdout and stderr so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// Client makes JSON requests to a server base URL.
type Client struct {
	mu   sync.Mutex
	base string
	HTTP *http.Client
}

// NewClient returns a client of base with a per-request timeout.
func NewClient(base string, timeout time.Duration) *Client {
	return &Client{base: base, HTTP: &http.Client{Timeout: timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
}

// SetBase points the client at another server address (after a restart).
func (c *Client) SetBase(base string) {
	c.mu.Lock()
	c.base = base
	c.mu.Unlock()
	c.HTTP.CloseIdleConnections()
}

// Do sends body (JSON-encoded unless nil) and decodes the JSON answer. An
// error means no HTTP answer (connection refused or reset, timeout).
func (c *Client) Do(method, path, token string, body any) (int, map[string]any, error) {
	c.mu.Lock()
	base := c.base
	c.mu.Unlock()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("decoding %s %s answer %q: %w", method, path, truncate(raw), err)
		}
	}
	return resp.StatusCode, out, nil
}

// Must is Do for requests that must get the given status; it fails the
// test otherwise.
func (c *Client) Must(t testing.TB, want int, method, path, token string, body any) map[string]any {
	t.Helper()
	s, b, err := c.Do(method, path, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if s != want {
		t.Fatalf("%s %s: status %d, want %d: %v", method, path, s, want, b)
	}
	return b
}

// Register creates user (legacy single-request dummy registration) and
// returns the user ID and access token.
func (c *Client) Register(t testing.TB, user, password string) (string, string) {
	t.Helper()
	b := c.Must(t, 200, "POST", "/_matrix/client/v3/register", "", map[string]any{
		"username": user, "password": password, "auth": map[string]any{"type": "m.login.dummy"},
	})
	id, _ := b["user_id"].(string)
	tok, _ := b["access_token"].(string)
	if id == "" || tok == "" {
		t.Fatalf("register %s: %v", user, b)
	}
	return id, tok
}

func truncate(b []byte) string {
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.TrimSpace(s)
}
