package authserver

import (
	"strings"
	"sync"
	"time"
)

// maxThrottleEntries bounds the throttle's memory; past it the oldest
// windows are dropped first.
const maxThrottleEntries = 100_000

// Which limit refused a login.
const (
	limitAccount = "account"
	limitAddress = "address"
)

// FailedLogins holds the counts of failed logins by account and by source
// address. Servers over the same store should share one (WithFailedLogins),
// so that a server rebuilt by `caddy reload` keeps counting where the old
// one was instead of giving every locked account a fresh start. Counts
// live in this process: replicas throttle on their own.
type FailedLogins struct {
	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start    time.Time
	failures int
}

// NewFailedLogins returns an empty set of counts.
func NewFailedLogins() *FailedLogins {
	return &FailedLogins{windows: make(map[string]*window)}
}

// throttle counts failed logins per account and per source address in
// fixed windows. A key that reached its limit is refused until its window
// ends, whether or not the next password is right, so a locked account
// answers the same for everyone. The limits are this server's config;
// the counts may be shared with other servers.
type throttle struct {
	cfg    ThrottleConfig
	now    func() time.Time
	counts *FailedLogins
}

func newThrottle(cfg ThrottleConfig, now func() time.Time, counts *FailedLogins) *throttle {
	return &throttle{cfg: cfg, now: now, counts: counts}
}

func accountKey(username string) string { return "u:" + strings.ToLower(username) }
func addressKey(addr string) string     { return "a:" + addr }

// refusal says which limit refuses a login for username from addr now,
// or "" when it may be tried.
func (t *throttle) refusal(username, addr string) string {
	f := t.counts
	f.mu.Lock()
	defer f.mu.Unlock()
	now := t.now()
	switch {
	case t.count(accountKey(username), now) >= t.cfg.PerAccount:
		return limitAccount
	case t.count(addressKey(addr), now) >= t.cfg.PerAddress:
		return limitAddress
	}
	return ""
}

// count is the failures of key in its current window; the caller holds the lock.
func (t *throttle) count(key string, now time.Time) int {
	w := t.counts.windows[key]
	if w == nil || now.Sub(w.start) >= t.cfg.Window {
		return 0
	}
	return w.failures
}

// fail records a failed login and returns the limits that this failure
// reached, so that a lockout is reported once, when it begins.
func (t *throttle) fail(username, addr string) (locked []string) {
	f := t.counts
	f.mu.Lock()
	defer f.mu.Unlock()
	now := t.now()
	for _, l := range []struct {
		key, name string
		limit     int
	}{{accountKey(username), limitAccount, t.cfg.PerAccount}, {addressKey(addr), limitAddress, t.cfg.PerAddress}} {
		w := f.windows[l.key]
		if w == nil || now.Sub(w.start) >= t.cfg.Window {
			if len(f.windows) >= maxThrottleEntries {
				t.pruneLocked(now, true)
			}
			w = &window{start: now}
			f.windows[l.key] = w
		}
		w.failures++
		if w.failures == l.limit {
			locked = append(locked, l.name)
		}
	}
	return locked
}

// prune drops windows that ended.
func (t *throttle) prune() {
	t.counts.mu.Lock()
	defer t.counts.mu.Unlock()
	t.pruneLocked(t.now(), false)
}

func (t *throttle) pruneLocked(now time.Time, full bool) {
	var oldest string
	var oldestStart time.Time
	for k, w := range t.counts.windows {
		if now.Sub(w.start) >= t.cfg.Window {
			delete(t.counts.windows, k)
			continue
		}
		if oldest == "" || w.start.Before(oldestStart) {
			oldest, oldestStart = k, w.start
		}
	}
	if full && len(t.counts.windows) >= maxThrottleEntries && oldest != "" {
		delete(t.counts.windows, oldest)
	}
}

// succeed clears the account's failures after a correct password.
func (t *throttle) succeed(username string) {
	t.counts.mu.Lock()
	defer t.counts.mu.Unlock()
	delete(t.counts.windows, accountKey(username))
}
