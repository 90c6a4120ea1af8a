package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Server is the homeserver under test as the scenarios see it.
type Server struct {
	// URL is the client API base URL.
	URL string
	// Proc is the server process when the runner started it; nil when it
	// attached to a URL (then memory and CPU figures are skipped).
	Proc *Process
	// Label names the server in the results ("hearth", a URL).
	Label string
	// Command is the command line that started it, if any.
	Command []string
}

// Process is a server process the runner started.
type Process struct {
	cmd     *exec.Cmd
	started time.Time
	waited  chan struct{}
	waitErr error
	logPath string
}

// StartProcess runs argv with its output appended to logPath, in its own
// process group, killed by the kernel if the runner dies.
func StartProcess(argv []string, env []string, logPath string) (*Process, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("empty server command")
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	p := &Process{cmd: cmd, started: time.Now(), waited: make(chan struct{}), logPath: logPath}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.waited)
	}()
	return p, nil
}

// Pid is the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Started is when the process was started.
func (p *Process) Started() time.Time { return p.started }

// Sample reads the process's memory and CPU.
func (p *Process) Sample() (ProcSample, error) { return ReadProc(p.Pid()) }

// Stop sends SIGTERM, then SIGKILL after limit, and waits for the exit.
func (p *Process) Stop(limit time.Duration) {
	select {
	case <-p.waited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.waited:
	case <-time.After(limit):
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.waited
	}
}

// LogTail is the last n bytes the process wrote.
func (p *Process) LogTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// WaitReady polls base's /versions until it answers 200, the process
// exits, or limit passes.
func WaitReady(ctx context.Context, p *Process, base string, limit time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if p != nil {
			select {
			case <-p.waited:
				return fmt.Errorf("server exited before serving: %v\n%s", p.waitErr, p.LogTail(2000))
			default:
			}
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/_matrix/client/versions", nil)
		if resp, err := c.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server at %s not serving after %v", base, limit)
}
