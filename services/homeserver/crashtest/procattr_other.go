//go:build !linux

package crashtest

import "syscall"

// procAttr puts the server in its own process group (a kill reaches
// nothing else).
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
