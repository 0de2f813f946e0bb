package authserver

import (
	"strings"
	"sync"
	"time"
)

// maxThrottleEntries bounds the throttle's memory; past it the oldest
// windows are dropped first.
const maxThrottleEntries = 100_000

// throttle counts failed logins per account and per source address in
// fixed windows. A key that reached its limit is refused until its window
// ends, whether or not the next password is right, so a locked account
// answers the same for everyone. Counts live in this process: each
// replica throttles on its own.
type throttle struct {
	cfg ThrottleConfig
	now func() time.Time

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start    time.Time
	failures int
}

func newThrottle(cfg ThrottleConfig, now func() time.Time) *throttle {
	return &throttle{cfg: cfg, now: now, windows: make(map[string]*window)}
}

func accountKey(username string) string { return "u:" + strings.ToLower(username) }
func addressKey(addr string) string     { return "a:" + addr }

// allowed reports whether a login for username from addr may be tried.
func (t *throttle) allowed(username, addr string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	return t.count(accountKey(username), now) < t.cfg.PerAccount && t.count(addressKey(addr), now) < t.cfg.PerAddress
}

func (t *throttle) count(key string, now time.Time) int {
	w := t.windows[key]
	if w == nil || now.Sub(w.start) >= t.cfg.Window {
		return 0
	}
	return w.failures
}

// fail records a failed login.
func (t *throttle) fail(username, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, key := range []string{accountKey(username), addressKey(addr)} {
		w := t.windows[key]
		if w == nil || now.Sub(w.start) >= t.cfg.Window {
			if len(t.windows) >= maxThrottleEntries {
				t.pruneLocked(now, true)
			}
			w = &window{start: now}
			t.windows[key] = w
		}
		w.failures++
	}
}

// prune drops windows that ended.
func (t *throttle) prune() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(t.now(), false)
}

func (t *throttle) pruneLocked(now time.Time, full bool) {
	var oldest string
	var oldestStart time.Time
	for k, w := range t.windows {
		if now.Sub(w.start) >= t.cfg.Window {
			delete(t.windows, k)
			continue
		}
		if oldest == "" || w.start.Before(oldestStart) {
			oldest, oldestStart = k, w.start
		}
	}
	if full && len(t.windows) >= maxThrottleEntries && oldest != "" {
		delete(t.windows, oldest)
	}
}

// succeed clears the account's failures after a correct password.
func (t *throttle) succeed(username string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.windows, accountKey(username))
}
