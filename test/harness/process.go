package harness

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a running Gatehouse binary.
type Process struct {
	t       testing.TB
	cmd     *exec.Cmd
	logs    *syncBuffer
	env     []string
	dir     string
	admin   string
	done    chan struct{}
	waitErr error
}

// Options say how to start the binary.
type Options struct {
	// Config is the Caddyfile to run.
	Config string
	// Dir is the working directory; default: the repository root.
	Dir string
	// Env is added to the test process's environment.
	Env []string
	// Admin is the admin endpoint's address, used for readiness and
	// reloads; default: localhost:2019.
	Admin string
	// Command, when set, is run (in Dir) instead of the binary with
	// Config: for instance README's run command, which builds first.
	Command []string
	// StartTimeout bounds the wait for the admin endpoint; default 60s.
	StartTimeout time.Duration
}

// Start runs `caddy run --config <Config>` and waits until the admin
// endpoint answers. The process is stopped when the test ends.
func Start(t testing.TB, opts Options) *Process {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = RepoRoot()
	}
	if opts.Admin == "" {
		opts.Admin = "localhost:2019"
	}
	p := &Process{t: t, logs: &syncBuffer{}, dir: opts.Dir, admin: opts.Admin, done: make(chan struct{})}
	p.env = append(os.Environ(), opts.Env...)
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	if len(opts.Command) > 0 {
		p.cmd = exec.Command(opts.Command[0], opts.Command[1:]...)
	} else {
		p.cmd = exec.Command(Binary(t), "run", "--config", opts.Config, "--adapter", "caddyfile")
	}
	p.cmd.Dir = opts.Dir
	p.cmd.Env = p.env
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting caddy: %v", err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	if err := WaitHTTP("http://"+opts.Admin+"/config/", opts.StartTimeout, p.done); err != nil {
		t.Fatalf("caddy did not start: %v\nlogs:\n%s", err, p.Logs())
	}
	return p
}

// Logs returns everything the process wrote so far.
func (p *Process) Logs() string { return p.logs.String() }

// Stop interrupts the process, as Ctrl-C would, and waits for it to exit.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Errorf("caddy did not exit within 30s of SIGINT")
	}
}

// ExitErr is how the process ended, as exec.Cmd.Wait reports it: nil
// for exit status 0. Call it after Stop or Kill.
func (p *Process) ExitErr() error {
	<-p.done
	return p.waitErr
}

// Kill ends the process with SIGKILL, as a crash would.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Reload runs `caddy reload` with config, as an operator would.
func (p *Process) Reload(config string) error {
	cmd := exec.Command(Binary(p.t), "reload", "--config", config, "--adapter", "caddyfile", "--address", p.admin)
	cmd.Dir = p.dir
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("caddy reload: %v\n%s", err, out)
	}
	return nil
}

// WaitHTTP polls url until it answers at all, the deadline passes, or
// exited is closed.
func WaitHTTP(url string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not answering after %s: %v", url, timeout, err)
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited while waiting for %s", url)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WaitPortFree waits until nothing listens on addr, so a test can check
// that a stopped process left nothing behind.
func WaitPortFree(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return nil
		}
		c.Close()
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s still accepting connections", addr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// syncBuffer collects a process's output; it is written by exec's copier
// goroutines and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Contains reports whether the logs contain s.
func (p *Process) Contains(s string) bool { return strings.Contains(p.Logs(), s) }
