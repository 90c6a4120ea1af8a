package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// BuildHearth compiles hearth/appliance/hearth into dir. It must run
// inside the hearth module (make bench runs from the repository root).
func BuildHearth(dir string) (string, error) {
	bin := filepath.Join(dir, "hearth")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "hearth/appliance/hearth")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build hearth: %w\n%s", err, out)
	}
	return bin, nil
}

// hearthInstance is what stays fixed across runs of one Hearth data
// directory: its ports (the server name holds the federation port) and
// its shared secret.
type hearthInstance struct {
	ServerName   string `json:"server_name"`
	ClientListen string `json:"client_listen"`
	FedListen    string `json:"fed_listen"`
	SharedSecret string `json:"shared_secret"`
}

// startHearth starts hearth with its data and config in dir, reusing the
// instance of an earlier run there. The process trusts ca for federation.
func startHearth(ctx context.Context, bin, dir string, ca *certAuthority) (*Server, hearthInstance, error) {
	var inst hearthInstance
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, inst, err
	}
	instPath := filepath.Join(dir, "instance.json")
	if b, err := os.ReadFile(instPath); err == nil {
		if err := json.Unmarshal(b, &inst); err != nil {
			return nil, inst, fmt.Errorf("%s: %w", instPath, err)
		}
	} else {
		fed, err1 := freePort()
		cl, err2 := freePort()
		if err := errors.Join(err1, err2); err != nil {
			return nil, inst, err
		}
		var sec [24]byte
		rand.Read(sec[:])
		inst = hearthInstance{ServerName: fed, FedListen: fed, ClientListen: cl, SharedSecret: hex.EncodeToString(sec[:])}
		b, _ := json.MarshalIndent(inst, "", "  ")
		if err := os.WriteFile(instPath, b, 0o600); err != nil {
			return nil, inst, err
		}
	}
	caFile := filepath.Join(dir, "ca.pem")
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := ca.writeCA(caFile); err != nil {
		return nil, inst, err
	}
	if err := ca.issue("127.0.0.1", certFile, keyFile); err != nil {
		return nil, inst, err
	}
	cfg := fmt.Sprintf(`# written by hearthbench
[server]
name = %q
data_dir = %q

[client]
listen = %q

[registration]
mode = "closed"
shared_secret = %q

[limits]
per_user = { disabled = true }
per_ip = { disabled = true }

[presence]
disabled = true

[federation]
listen = %q
tls_cert = %q
tls_key = %q
extra_ca_files = [%q]
allow_private_networks = true

[log]
level = "warn"
`, inst.ServerName, filepath.Join(dir, "data"), inst.ClientListen, inst.SharedSecret,
		inst.FedListen, certFile, keyFile, caFile)
	cfgPath := filepath.Join(dir, "hearth.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, inst, err
	}
	argv := []string{bin, "run", "-config", cfgPath}
	p, err := StartProcess(argv, nil, filepath.Join(dir, "hearth.log"))
	if err != nil {
		return nil, inst, err
	}
	base := "http://" + inst.ClientListen
	if err := WaitReady(ctx, p, base, 60*time.Second); err != nil {
		p.Stop(5 * time.Second)
		return nil, inst, fmt.Errorf("hearth in %s: %w (remove the directory to start afresh)", dir, err)
	}
	return &Server{URL: base, Proc: p, Label: "hearth", Command: argv}, inst, nil
}

// freePort returns a loopback address whose port was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// hearthVersion is what `hearth version` prints, with the commit of the
// working tree when the runner built the binary from a git checkout.
func hearthVersion(bin string, built bool) string {
	v := "unknown"
	if out, err := exec.Command(bin, "version").Output(); err == nil {
		v = strings.TrimSpace(string(out))
	}
	if !built {
		return v
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		v += " @" + strings.TrimSpace(string(out))
	}
	return v
}
