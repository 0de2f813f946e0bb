// Package authserver is Gatehouse's OAuth 2.0 / OpenID Connect server,
// the companion to the gateway behind /connect/*. It replaces
// IdentityServer for the client-credentials and authorization-code+PKCE
// tracks and keeps IdentityServer's URLs and response shapes where the
// standards allow.
//
// The protocol plumbing (routing, request parsing, error shapes, redirect
// URI checks) is zitadel/oidc's op package; this package implements its
// op.Server interface over a store.Store and renders the login and
// consent pages. Access tokens are RFC 9068 JWTs (typ at+jwt) signed by
// the keys in package keys.
//
// New builds the http.Handler; cmd/authserver runs it standalone and
// package caddyhost hosts it inside the gateway build.
package authserver

import (
	"context"
	"crypto/rand"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/keys"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// Endpoint paths, IdentityServer's.
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathJWKS       = "/.well-known/openid-configuration/jwks"
	PathAuthorize  = "/connect/authorize"
	PathToken      = "/connect/token"
	PathUserinfo   = "/connect/userinfo"
	PathIntrospect = "/connect/introspect"
	PathRevocation = "/connect/revocation"
	PathEndSession = "/connect/endsession"
	PathLogin      = "/account/login"
	PathConsent    = "/account/consent"
	PathLoggedOut  = "/account/logged-out"
	maxRequestBody = 64 << 10
	csrfSecretName = "csrf-hmac"
	secretEntropy  = 32
)

// Server is the authserver's HTTP handler. It does not own the store:
// Close stops its background work and leaves the store open.
type Server struct {
	cfg      Config
	st       store.Store
	keys     *keys.Manager
	now      func() time.Time
	log      *slog.Logger
	handler  http.Handler
	csrfKey  []byte
	logKey   []byte
	throttle *throttle
	pages    *template.Template
	// clientAddress is the address the login throttle counts and the logs name.
	clientAddress func(*http.Request) string
	// dummyPasswordHash is verified against when a username is unknown,
	// so that the answer takes as long as for a wrong password.
	dummyPasswordHash string
	secureCookies     bool

	signerMu  sync.Mutex
	signerKID string // the signing key last seen by maintenance

	stop     context.CancelFunc
	stopOnce sync.Once
	done     chan struct{}
}

// New builds a server over st. It loads (or on first start creates) the
// signing keys, so the store must be writable.
func New(cfg Config, st store.Store, opts ...Option) (*Server, error) {
	o := options{now: time.Now, logger: slog.Default(), background: true, clientAddress: peerAddress}
	for _, opt := range opts {
		opt(&o)
	}
	if o.failedLogins == nil {
		o.failedLogins = NewFailedLogins()
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("authserver config: %w", err)
	}
	ctx := context.Background()
	csrfKey, err := storedSecret(ctx, st, csrfSecretName)
	if err != nil {
		return nil, err
	}
	logKey, err := storedSecret(ctx, st, logKeyName)
	if err != nil {
		return nil, err
	}
	dummy, err := HashPassword(randomToken())
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:               cfg,
		st:                st,
		now:               o.now,
		log:               o.logger,
		csrfKey:           csrfKey,
		logKey:            logKey,
		throttle:          newThrottle(cfg.LoginThrottle, o.now, o.failedLogins),
		pages:             pages,
		clientAddress:     o.clientAddress,
		dummyPasswordHash: dummy,
		secureCookies:     strings.HasPrefix(cfg.Issuer, "https://"),
		done:              make(chan struct{}),
	}
	s.keys, err = keys.NewManager(st, keys.Config{
		RotationInterval: cfg.KeyRotationInterval,
		PublishLead:      cfg.KeyPublishLead,
		Retention:        cfg.keyRetention(),
		Secret:           cfg.KeyEncryptionSecret,
		OnPublish:        s.keyPublished,
	}, o.now)
	if err != nil {
		return nil, err
	}
	if err := s.keys.Maintain(ctx); err != nil {
		return nil, fmt.Errorf("loading signing keys: %w", err)
	}
	s.noteSigner()
	s.handler = s.routes()
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	if o.background {
		go s.maintainLoop(bg)
	} else {
		close(s.done)
	}
	return s, nil
}

// storedSecret returns the store's secret of that name, created random
// the first time, so that every server over the store uses the same one.
func storedSecret(ctx context.Context, st store.Store, name string) ([]byte, error) {
	fresh := make([]byte, secretEntropy)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	return st.Secret(ctx, name, fresh)
}

func (s *Server) routes() http.Handler {
	endpoints := op.Endpoints{
		Authorization: op.NewEndpoint(PathAuthorize),
		Token:         op.NewEndpoint(PathToken),
		Introspection: op.NewEndpoint(PathIntrospect),
		Userinfo:      op.NewEndpoint(PathUserinfo),
		Revocation:    op.NewEndpoint(PathRevocation),
		EndSession:    op.NewEndpoint(PathEndSession),
		JwksURI:       op.NewEndpoint(PathJWKS),
	}
	// No CORS: the token endpoint is for servers and the authorize
	// endpoint for top-level navigation; op's default would reflect any
	// origin with credentials.
	protocol := op.RegisterServer(&provider{s: s}, endpoints, op.WithServerCORSOptions(nil))

	mux := http.NewServeMux()
	mux.Handle("/", protocol)
	mux.Handle(PathAuthorize, s.authorizeGate(protocol))
	mux.Handle(PathToken, countTokenErrors(clientChallenge(noStore(protocol))))
	mux.Handle(PathIntrospect, clientChallenge(noStore(requireClientSecret(protocol))))
	mux.Handle(PathRevocation, clientChallenge(protocol))
	mux.Handle(PathUserinfo, bearerChallenge(noStore(protocol)))
	mux.HandleFunc(PathLogin, formPage(s.showLogin, s.submitLogin))
	mux.HandleFunc(PathConsent, formPage(s.showConsent, s.submitConsent))
	mux.HandleFunc("GET "+PathLoggedOut, s.handleLoggedOut)
	return limitBody(mux)
}

// ServeHTTP serves every endpoint of the server.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Keys is the signing-key manager, for status and manual rotation.
func (s *Server) Keys() *keys.Manager { return s.keys }

// Maintain runs one round of background work now: the key schedule and
// the sweep of expired records.
func (s *Server) Maintain(ctx context.Context) error {
	if err := s.keys.Maintain(ctx); err != nil {
		return fmt.Errorf("maintaining signing keys: %w", err)
	}
	s.noteSigner()
	if _, err := s.st.DeleteExpired(ctx, s.now()); err != nil {
		return err
	}
	s.throttle.prune()
	return nil
}

func (s *Server) maintainLoop(ctx context.Context) {
	defer close(s.done)
	ticker := time.NewTicker(s.cfg.MaintenanceInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := s.Maintain(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("authserver maintenance failed", "error", err)
			}
		}
	}
}

// Close stops the background work. The store stays open.
func (s *Server) Close() error {
	s.stopOnce.Do(s.stop)
	<-s.done
	return nil
}

// limitBody caps request bodies: OAuth requests are small forms.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		next.ServeHTTP(w, r)
	})
}

// noStore keeps token responses out of caches (RFC 6749 section 5.1).
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// challengeWriter adds a WWW-Authenticate header to a 401 answer.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (c *challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized && c.challenge != "" {
		c.Header().Set("WWW-Authenticate", c.challenge)
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// clientChallenge answers a client that authenticated with HTTP Basic
// and failed with the Basic challenge RFC 6749 section 5.2 requires.
func clientChallenge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, basic := r.BasicAuth(); basic {
			w = &challengeWriter{ResponseWriter: w, challenge: `Basic realm="gatehouse", charset="UTF-8"`}
		}
		next.ServeHTTP(w, r)
	})
}

// requireClientSecret refuses a request without client credentials with
// 401 invalid_client before op, which would answer 400.
func requireClientSecret(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, basic := r.BasicAuth(); !basic && r.PostFormValue("client_secret") == "" {
			op.WriteError(w, r, errInvalidClient(), nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerChallenge answers a refused userinfo request with RFC 6750's challenge.
func bearerChallenge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&challengeWriter{ResponseWriter: w, challenge: `Bearer realm="gatehouse", error="invalid_token"`}, r)
	})
}
