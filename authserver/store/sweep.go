package store

import (
	"context"
	"time"
)

// Sweep calls st.DeleteExpired every interval until ctx ends, with now
// giving the time (a clock the caller may fake in tests). Failures are
// passed to report and retried at the next tick.
func Sweep(ctx context.Context, st Store, interval time.Duration, now func() time.Time, report func(removed int, err error)) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			n, err := st.DeleteExpired(ctx, now())
			if report != nil && (err != nil || n > 0) {
				report(n, err)
			}
		}
	}
}
