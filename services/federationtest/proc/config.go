package proc

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeConfig writes the node's config for one start and returns its
// path. Registration is open with the legacy single-request m.login.dummy
// flow, rate limits are off (tests send hundreds of requests per second
// from one address) and presence is off (it is the chattiest federation
// traffic and no test here looks at it).
func (nd *Node) writeConfig(m mode, clientListen, fedListen string, allowPrivate bool) (string, error) {
	text := fmt.Sprintf(`[server]
name = %q
data_dir = %q

[client]
listen = %q

[registration]
mode = "open"
allow_legacy_single_request = true

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
allow_private_networks = %t

[log]
level = "info"
`, nd.Name, nd.dataDir, clientListen, fedListen, nd.certFile, nd.keyFile, nd.n.caFile, allowPrivate)
	name := "hearth.toml"
	if m == cutOff {
		name = "hearth-cutoff.toml"
	}
	path := filepath.Join(nd.dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return "", fmt.Errorf("proc: config of %s: %w", nd.Label, err)
	}
	return path, nil
}
