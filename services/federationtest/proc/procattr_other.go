//go:build !linux

package proc

import "syscall"

// procAttr puts a server in its own process group (a signal reaches
// nothing else).
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
