package proc

import "errors"

// ErrNoNamespaces says that network namespaces cannot be created here:
// not Linux, not root (no CAP_NET_ADMIN), or no ip command.
var ErrNoNamespaces = errors.New("proc: network namespaces unavailable")
