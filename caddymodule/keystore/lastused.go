package keystore

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// usageTracker collects last-used times in memory, so that the gateway
// records key use without a disk write per request.
type usageTracker struct {
	mu    sync.Mutex
	times map[string]time.Time
}

// note keeps the latest time seen for id.
func (u *usageTracker) note(id string, at time.Time) {
	u.mu.Lock()
	if prev, ok := u.times[id]; !ok || at.After(prev) {
		u.times[id] = at
	}
	u.mu.Unlock()
}

// take returns what was noted and starts afresh.
func (u *usageTracker) take() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.times) == 0 {
		return nil
	}
	taken := u.times
	u.times = make(map[string]time.Time, len(taken))
	return taken
}

// putBack returns times that could not be written, for the next flush.
func (u *usageTracker) putBack(times map[string]time.Time) {
	for id, at := range times {
		u.note(id, at)
	}
}

// NoteUse records that client id's key was accepted at time at. It is
// cheap (a map write under a mutex) and meant for every accepted request;
// the times reach the store at the next flush.
func (cs *CachedStore) NoteUse(id string, at time.Time) { cs.usage.note(id, at) }

// Flush writes the noted uses to the backend in one RecordUse. If that
// fails, they are kept for the next flush.
func (cs *CachedStore) Flush(ctx context.Context) error {
	used := cs.usage.take()
	if used == nil {
		return nil
	}
	if err := cs.backend.RecordUse(ctx, used); err != nil {
		cs.usage.putBack(used)
		return err
	}
	return nil
}

// maintain flushes noted uses and sweeps the backend until Close. A
// flush or sweep in progress when Close is called completes first: each
// is one short transaction.
func (cs *CachedStore) maintain(sweepEvery time.Duration) {
	defer close(cs.done)
	ctx := context.Background()
	defer cs.flush.Stop()
	var sweepTick <-chan time.Time
	s, canSweep := cs.backend.(sweeper)
	if canSweep {
		sweep := time.NewTicker(sweepEvery)
		defer sweep.Stop()
		sweepTick = sweep.C
	}
	for {
		select {
		case <-cs.stop:
			return
		case <-cs.flush.C:
			if err := cs.Flush(ctx); err != nil {
				cs.logger.Warn("recording key use failed; will retry", zap.Error(err))
			}
		case <-sweepTick:
			if removed, err := s.Sweep(ctx); err != nil {
				cs.logger.Warn("sweeping expired keys failed", zap.Error(err))
			} else if removed > 0 {
				cs.logger.Debug("swept expired keys", zap.Int("removed", removed))
			}
		}
	}
}
