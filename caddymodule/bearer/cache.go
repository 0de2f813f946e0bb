package bearer

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/dgraph-io/ristretto/v2"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// decisionCaches holds the verified-token caches of every loaded config.
// Providers with the same settings (the same bearer block on many routes,
// or the same config after a reload) share one cache.
var decisionCaches = caddy.NewUsagePool()

// decisionCacheKey is every setting a cached decision depends on, so that
// a cache is only ever shared by providers that would decide alike. The
// trusted issuers and the settings of their key sets are part of it: a
// provider never finds in its cache a token of an issuer it does not
// trust, and the key sets the entries point to are the ones every
// provider sharing the cache holds.
type decisionCacheKey struct {
	issuers            string // see issuersKey
	refreshInterval    time.Duration
	unknownKIDInterval time.Duration
	httpTimeout        time.Duration
	audiences          string
	algorithms         string
	leeway             time.Duration
	requireATJWT       bool
	maxTokenBytes      int
	maxEntries         int
}

// issuersKey is the set of trusted issuers and their JWKS URLs in one
// comparable value, independent of the order they were configured in.
func issuersKey(issuers []*trustedIssuer) string {
	lines := make([]string, 0, len(issuers))
	for _, ti := range issuers {
		lines = append(lines, strconv.Quote(ti.keysKey.issuer)+" "+strconv.Quote(ti.keysKey.jwksURL))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// cachedDecision is a token that passed every check. It records the
// issuer's key set and the key in it that verified the signature, and the
// token's exp, which bound how long the decision may be reused.
type cachedDecision struct {
	digest   [sha256.Size]byte
	identity authn.Identity
	issuer   *issuerKeys
	key      *heldKey
	expires  int64 // exp, in Unix nanoseconds
}

// decisionCache maps the SHA-256 digest of a token to its decision.
// Ristretto hashes keys with a non-cryptographic hash, so it is given the
// first 8 bytes of the digest as its key and each entry keeps the whole
// digest, compared on every hit: a crafted token can at worst evict
// another's entry, never be mistaken for it.
type decisionCache struct {
	entries *ristretto.Cache[uint64, *cachedDecision]
}

func acquireDecisionCache(key decisionCacheKey) (*decisionCache, error) {
	val, _, err := decisionCaches.LoadOrNew(key, func() (caddy.Destructor, error) {
		entries, err := ristretto.NewCache(&ristretto.Config[uint64, *cachedDecision]{
			NumCounters:        int64(key.maxEntries) * 10,
			MaxCost:            int64(key.maxEntries),
			BufferItems:        64,
			IgnoreInternalCost: true,
		})
		if err != nil {
			return nil, err
		}
		return &decisionCache{entries: entries}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("creating decision cache: %w", err)
	}
	return val.(*decisionCache), nil
}

func releaseDecisionCache(key decisionCacheKey) error {
	_, err := decisionCaches.Delete(key)
	return err
}

// Destruct stops the cache's goroutines; the usage pool calls it when the
// last config using the cache is unloaded.
func (c *decisionCache) Destruct() error {
	c.entries.Close()
	return nil
}

func slot(digest *[sha256.Size]byte) uint64 {
	return binary.LittleEndian.Uint64(digest[:8])
}

// lookup returns the identity decided for the token with this digest, if
// the decision still holds: the token has not expired, and the key that
// verified it is still in its issuer's current set.
func (c *decisionCache) lookup(digest *[sha256.Size]byte, now time.Time) (authn.Identity, bool) {
	d, ok := c.entries.Get(slot(digest))
	if !ok || d.digest != *digest {
		cacheMisses.Inc()
		return authn.Identity{}, false
	}
	if now.UnixNano() >= d.expires || d.issuer.snapshot.Load().find(d.identity.KeyID) != d.key {
		c.entries.Del(slot(digest))
		cacheMisses.Inc()
		return authn.Identity{}, false
	}
	cacheHits.Inc()
	return d.identity, true
}

// store records a decision until the token's exp. A token accepted only
// thanks to the leeway after its exp is not cached.
func (c *decisionCache) store(digest *[sha256.Size]byte, id authn.Identity, issuer *issuerKeys, key *heldKey, now time.Time) {
	ttl := id.ExpiresAt.Sub(now)
	if ttl <= 0 {
		return
	}
	c.entries.SetWithTTL(slot(digest), &cachedDecision{
		digest:   *digest,
		identity: id,
		issuer:   issuer,
		key:      key,
		expires:  id.ExpiresAt.UnixNano(),
	}, 1, ttl)
}

// Interface guards
var _ caddy.Destructor = (*decisionCache)(nil)
