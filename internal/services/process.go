// Package services starts real PostgreSQL, Meilisearch and Dovecot servers
// as child processes listening on 127.0.0.1, with their data under a
// directory the caller chooses. The integration tests (through
// internal/testenv) and the `make run` demo both use it, so every Start
// function works on an empty directory and on one left by an earlier run.
//
// The binaries come from scripts/install-deps.sh. Children get
// Pdeathsig=SIGKILL, so a killed test binary does not leave servers behind.
package services

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is wrapped by the Start functions when a server binary is
// missing from this machine.
var ErrNotInstalled = errors.New("not installed (run scripts/install-deps.sh)")

// startTimeout bounds how long a server may take to become ready when the
// caller's context has no earlier deadline.
const startTimeout = 60 * time.Second

// proc is a running child server with its log file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFrom int64         // size of the log before this run: errors show this run's lines only
	done    chan struct{} // closed when the process has exited
	err     error         // exit status, valid after done
	stop    sync.Once
}

// startProc starts cmd with its output appended to logPath. cred, when not
// nil, runs the child as that user (servers that refuse root).
func startProc(name string, cmd *exec.Cmd, logPath string, cred *syscall.Credential) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	defer logf.Close() // the child keeps its own copy of the descriptor
	from, _ := logf.Seek(0, io.SeekEnd)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Pdeathsig:  syscall.SIGKILL,
		Setpgid:    true, // a terminal's ^C goes to the test binary only; we stop children in order
		Credential: cred,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, logFrom: from, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitReady polls ready every 25 ms until it returns nil, the process
// exits, or ctx (capped at startTimeout) ends. Errors carry the log tail.
func (p *proc) waitReady(ctx context.Context, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start-up (%v)%s", p.name, p.err, p.logTail())
		case <-ctx.Done():
			p.kill()
			return fmt.Errorf("%s not ready: %v (last probe: %v)%s", p.name, ctx.Err(), err, p.logTail())
		case <-tick.C:
		}
	}
}

// terminate sends sig, then SIGKILL if the process outlives grace, and
// waits for it to exit. With group set, sig goes to the whole process
// group (the child leads its own, see startProc). Safe to call more than
// once.
func (p *proc) terminate(sig syscall.Signal, grace time.Duration, group bool) error {
	var err error
	p.stop.Do(func() {
		pid := p.cmd.Process.Pid
		if group {
			pid = -pid
		}
		_ = syscall.Kill(pid, sig)
		select {
		case <-p.done:
		case <-time.After(grace):
			err = fmt.Errorf("%s ignored %v for %v, killed", p.name, sig, grace)
			p.kill()
		}
	})
	return err
}

// kill ends the server and everything it started, at once.
func (p *proc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// logTail returns the last lines this run wrote to the server's log,
// formatted to end an error message.
func (p *proc) logTail() string {
	const limit = 3000
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	from := max(p.logFrom, st.Size()-limit)
	b := make([]byte, st.Size()-from)
	n, _ := f.ReadAt(b, from)
	b = b[:n]
	if from > p.logFrom { // started mid-line
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return fmt.Sprintf(" (%s is empty)", p.logPath)
	}
	return fmt.Sprintf("\n--- %s (end) ---\n%s", p.logPath, bytes.TrimRight(b, "\n"))
}

// freePort asks the kernel for an unused loopback port. Another process may
// take it before the server binds; the Start functions retry on that.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portInUse reports whether a failed start looks like a lost port race.
func portInUse(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "address already in use")
}

// findBinary returns the first executable file among candidates.
func findBinary(what string, candidates ...string) (string, error) {
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s: %w (looked for %s)", what, ErrNotInstalled, strings.Join(candidates, ", "))
}

func discardIfNil(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
