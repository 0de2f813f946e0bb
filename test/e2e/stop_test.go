package e2e

import (
	"net"
	"testing"
	"time"
)

// stopWithin is how long Ctrl-C may take to end everything.
const stopWithin = 5 * time.Second

// TestStopLeavesNothingRunning: Ctrl-C (SIGINT) ends the whole system
// within a few seconds, cleanly, and leaves no listener behind.
func TestStopLeavesNothingRunning(t *testing.T) {
	s := startSystem(t, t.TempDir())
	start := time.Now()
	s.stop(t)
	if took := time.Since(start); took > stopWithin {
		t.Errorf("caddy took %s to exit after SIGINT, want under %s", took, stopWithin)
	}
	for _, addr := range defaultListeners {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the stop", addr)
		}
	}
}
