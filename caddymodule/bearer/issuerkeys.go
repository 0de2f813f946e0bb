package bearer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/caddyserver/caddy/v2"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// issuerKeySets holds the issuer key sets of every loaded config. A reload
// that keeps an issuer's settings gets the running set back: no refetch, no
// second refresh goroutine, and the unknown-kid limiter keeps its state.
var issuerKeySets = caddy.NewUsagePool()

// keySetKey is what identifies a shared key set: everything that decides
// where its keys come from and how they are kept fresh.
type keySetKey struct {
	issuer             string
	jwksURL            string
	refreshInterval    time.Duration
	unknownKIDInterval time.Duration
	httpTimeout        time.Duration
}

const (
	// firstRetryDelay and maxRetryDelay bound the backoff between attempts
	// to fetch an issuer's keys for the first time.
	firstRetryDelay = time.Second
	maxRetryDelay   = time.Minute
	// provisionWait bounds how long Provision waits for the first fetch:
	// long enough that a reachable issuer's keys are held before the config
	// serves, short enough that an unreachable issuer barely delays startup.
	provisionWait = 2 * time.Second
)

// issuerKeys holds one issuer's signing keys. Until the first fetch
// succeeds, a loop retries discovery and the JWKS fetch with backoff; from
// then on jwkset refreshes the set in the background and on demand for an
// unknown kid, and a failed refresh keeps the last good set.
type issuerKeys struct {
	key       keySetKey
	client    *http.Client
	transport *http.Transport
	ctx       context.Context
	stop      context.CancelFunc
	// firstAttempt is closed once the first fetch attempt has ended;
	// fetchDone once the fetch loop has returned.
	firstAttempt chan struct{}
	fetchDone    chan struct{}

	// lookup is the keyfunc that finds keys by kid; nil until keys are held.
	lookup atomic.Pointer[keyLookup]
	// snapshot is the current set of signing keys by kid, replaced whole
	// after each successful fetch.
	snapshot atomic.Pointer[keySnapshot]
	// unknownKID allows one refresh per unknown_kid_refresh_interval for a
	// token naming a kid that is not held.
	unknownKID *rate.Limiter

	logger        atomic.Pointer[zap.Logger]
	refreshOK     prometheus.Counter
	refreshFailed prometheus.Counter
}

type keyLookup struct{ keyfunc.Keyfunc }

// acquireIssuerKeys returns the shared key set for key, starting it if no
// loaded config uses it yet. Release it with releaseIssuerKeys.
func acquireIssuerKeys(key keySetKey, logger *zap.Logger) (*issuerKeys, error) {
	val, _, err := issuerKeySets.LoadOrNew(key, func() (caddy.Destructor, error) {
		return startIssuerKeys(key, logger), nil
	})
	if err != nil {
		return nil, fmt.Errorf("starting key set for issuer %s: %w", key.issuer, err)
	}
	keys := val.(*issuerKeys)
	// The newest config's logger: an older config's may be closed soon.
	keys.logger.Store(logger)
	return keys, nil
}

// awaitFirstAttempts waits until the first fetch attempt of every set has
// ended, or provisionWait has passed. The sets fetch in parallel and share
// the one deadline, so a bearer block with several unreachable issuers
// delays startup no more than one with a single issuer.
func awaitFirstAttempts(sets []*issuerKeys) {
	timer := time.NewTimer(provisionWait)
	defer timer.Stop()
	for _, keys := range sets {
		select {
		case <-keys.firstAttempt:
		case <-timer.C:
			return
		}
	}
}

func releaseIssuerKeys(key keySetKey) error {
	_, err := issuerKeySets.Delete(key)
	return err
}

func startIssuerKeys(key keySetKey, logger *zap.Logger) *issuerKeys {
	client, transport := newIssuerClient(key.httpTimeout)
	ctx, stop := context.WithCancel(context.Background())
	k := &issuerKeys{
		key:           key,
		client:        client,
		transport:     transport,
		ctx:           ctx,
		stop:          stop,
		firstAttempt:  make(chan struct{}),
		fetchDone:     make(chan struct{}),
		unknownKID:    rate.NewLimiter(rate.Every(key.unknownKIDInterval), 1),
		refreshOK:     jwksRefreshes.WithLabelValues(key.issuer, "success"),
		refreshFailed: jwksRefreshes.WithLabelValues(key.issuer, "failure"),
	}
	k.logger.Store(logger)
	go k.fetchUntilHeld()
	return k
}

// Destruct stops the fetch loop and the background refresh; the usage pool
// calls it when the last config using the key set is unloaded.
func (k *issuerKeys) Destruct() error {
	k.stop()
	<-k.fetchDone
	k.transport.CloseIdleConnections()
	return nil
}

func (k *issuerKeys) log() *zap.Logger { return k.logger.Load() }

// held reports whether the first fetch has succeeded.
func (k *issuerKeys) held() (*keyLookup, bool) {
	l := k.lookup.Load()
	return l, l != nil
}

// fetchUntilHeld retries discovery and the first JWKS fetch with
// exponential backoff and jitter until it succeeds or the set is destroyed.
func (k *issuerKeys) fetchUntilHeld() {
	defer close(k.fetchDone)
	delay := firstRetryDelay
	for attempt := 1; ; attempt++ {
		err := k.fetch()
		if attempt == 1 {
			close(k.firstAttempt)
		}
		if err == nil {
			k.log().Info("issuer signing keys fetched",
				zap.String("issuer", k.key.issuer), zap.Int("attempt", attempt),
				zap.Strings("kids", k.snapshot.Load().kids()))
			return
		}
		if k.ctx.Err() != nil {
			return
		}
		k.refreshFailed.Inc()
		wait := delay/2 + rand.N(delay/2+1)
		k.log().Warn("issuer signing keys unavailable; tokens of this issuer are answered 503 until they are fetched",
			zap.String("issuer", k.key.issuer), zap.Int("attempt", attempt),
			zap.Duration("retry_in", wait), zap.String("error", errText(err)))
		timer := time.NewTimer(wait)
		select {
		case <-k.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		delay = min(delay*2, maxRetryDelay)
	}
}

// fetch finds the JWKS (by discovery unless jwks_url is set), fetches it
// once, and on success leaves jwkset refreshing it in the background.
func (k *issuerKeys) fetch() error {
	jwksURL := k.key.jwksURL
	if jwksURL == "" {
		var err error
		if jwksURL, err = k.discover(); err != nil {
			return err
		}
	}
	// The refresh goroutine jwkset starts lives as long as refreshCtx: until
	// Destruct cancels k.ctx if this attempt succeeds, until the end of this
	// attempt if not.
	refreshCtx, cancelRefresh := context.WithCancel(k.ctx)
	ok := false
	defer func() {
		if !ok {
			cancelRefresh()
		}
	}()
	store, err := jwkset.NewStorageFromHTTP(jwksURL, jwkset.HTTPClientStorageOptions{
		Client:              k.client,
		Ctx:                 refreshCtx,
		HTTPTimeout:         k.key.httpTimeout,
		RefreshInterval:     k.key.refreshInterval,
		RefreshErrorHandler: k.refreshError,
		Storage:             &snapshotStorage{MemoryJWKSet: jwkset.NewMemoryStorage(), publish: k.publish},
	})
	if err != nil {
		return fmt.Errorf("fetching JWKS %s: %w", jwksURL, err)
	}
	// jwkset refreshes on an unknown kid whenever asked; the provider asks
	// only when k.unknownKID allows, so this limiter is unlimited on purpose.
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{jwksURL: store},
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 0),
	})
	if err != nil {
		return fmt.Errorf("setting up key lookup for %s: %w", jwksURL, err)
	}
	lookup, err := keyfunc.New(keyfunc.Options{
		Ctx:     refreshCtx,
		Storage: client,
		// Keys marked for encryption never verify a signature.
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	if err != nil {
		return fmt.Errorf("setting up key lookup for %s: %w", jwksURL, err)
	}
	k.lookup.Store(&keyLookup{lookup})
	ok = true
	return nil
}

// discover reads the issuer's OpenID configuration; go-oidc checks that the
// document names the configured issuer exactly.
func (k *issuerKeys) discover() (string, error) {
	ctx, cancel := context.WithTimeout(k.ctx, k.key.httpTimeout)
	defer cancel()
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, k.client), k.key.issuer)
	if err != nil {
		return "", fmt.Errorf("discovering issuer %s: %w", k.key.issuer, err)
	}
	var metadata struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := provider.Claims(&metadata); err != nil {
		return "", fmt.Errorf("reading discovery document of %s: %w", k.key.issuer, err)
	}
	if metadata.JWKSURI == "" {
		return "", fmt.Errorf("discovery document of %s has no jwks_uri", k.key.issuer)
	}
	return metadata.JWKSURI, nil
}

// refreshError is called by jwkset when a background or unknown-kid refresh
// fails; the keys already held stay in use.
func (k *issuerKeys) refreshError(_ context.Context, err error) {
	if errors.Is(err, context.Canceled) && k.ctx.Err() != nil {
		return // shutting down
	}
	k.refreshFailed.Inc()
	k.log().Warn("refreshing issuer signing keys failed; keeping the keys already held",
		zap.String("issuer", k.key.issuer), zap.String("error", errText(err)))
}

// refreshUnknownKID asks for a refresh because a token names kid, which is
// not held. At most one such refresh runs per unknown_kid_refresh_interval,
// so a flood of made-up kids costs the issuer one request per interval; a
// request refused by the limiter is answered at once, without waiting.
func (k *issuerKeys) refreshUnknownKID(ctx context.Context, lookup *keyLookup, kid string) {
	if !k.unknownKID.Allow() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, k.key.httpTimeout)
	defer cancel()
	// Reading an unknown kid through jwkset's client refreshes the set; the
	// outcome shows in the snapshot (or in refreshError).
	_, _ = lookup.Storage().KeyRead(ctx, kid)
}

// errText keeps logged errors short: some issuers answer errors with whole
// HTML pages, which go-oidc quotes.
func errText(err error) string {
	const max = 512
	s := err.Error()
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// Interface guards
var _ caddy.Destructor = (*issuerKeys)(nil)
