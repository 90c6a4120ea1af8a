package proc

import "syscall"

// procAttr puts a server in its own process group (a signal reaches
// nothing else) and has the kernel kill it if the test binary dies
// without running its cleanups (a go test -timeout panic, a SIGKILL).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
