package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is one run of a hearth binary.
type process struct {
	cmd    *exec.Cmd
	waited chan struct{} // closed once the process is gone
	err    error         // Wait's answer, set before waited closes
}

// spawn starts cmd with stdout and stderr appended to logPath.
func spawn(cmd *exec.Cmd, logPath string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("proc: log file: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("proc: start %s: %w", cmd.Path, err)
	}
	p := &process{cmd: cmd, waited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.waited)
	}()
	return p, nil
}

// exited reports whether the process is gone, and how it ended.
func (p *process) exited() (bool, error) {
	select {
	case <-p.waited:
		return true, p.err
	default:
		return false, nil
	}
}

// kill sends SIGKILL and waits until the process is gone. Safe to call
// on a process that has already exited.
func (p *process) kill() {
	if done, _ := p.exited(); done {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.waited
}

// terminate sends SIGTERM and waits up to limit for the process to exit;
// it returns the exit error (nil for status 0). After limit the process is
// killed and terminate reports that it hung.
func (p *process) terminate(limit time.Duration) error {
	if done, err := p.exited(); done {
		return fmt.Errorf("proc: already exited: %v", err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-p.waited:
		return p.err
	case <-timer.C:
		p.kill()
		return errors.New("proc: no exit within " + limit.String() + " of SIGTERM; killed")
	}
}
