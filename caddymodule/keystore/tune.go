package keystore

import (
	"time"

	"go.uber.org/zap"
)

// tune applies the cache size and flush interval a later Acquire asks for
// (zero: no opinion), so that the settings of a reloaded config, or of the
// second module to name a store in one config, take effect even though the
// store stays open. It logs each change.
func (cs *CachedStore) tune(path string, maxEntries int, flushEvery time.Duration) {
	if n := int64(maxEntries); n > 0 {
		if old := cs.maxEntries.Swap(n); old != n {
			cs.cache.UpdateMaxCost(n)
			cs.logger.Info("key store cache size changed", zap.String("store", path),
				zap.Int64("from", old), zap.Int64("to", n))
		}
	}
	if flushEvery > 0 {
		if old := time.Duration(cs.flushEvery.Swap(int64(flushEvery))); old != flushEvery {
			cs.flush.Reset(flushEvery)
			cs.logger.Info("key store last-used flush interval changed", zap.String("store", path),
				zap.Duration("from", old), zap.Duration("to", flushEvery))
		}
	}
}
