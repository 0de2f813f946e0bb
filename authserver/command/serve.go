package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/authserver"
)

// Limits of the standalone HTTP server.
const (
	maxHeaderBytes    = 16 << 10
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
)

func serveCommand(g *globals) *cobra.Command {
	var listen, issuer, seedFile, demoFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the authserver (the default command)",
		Long: `Runs the OAuth 2.0 / OpenID Connect server. Signing keys are created on
first start. With --demo-credentials, a first start on an empty store
also creates a demo admin client, portal client and user, prints them
and writes them to that file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			secret, err := g.keySecret()
			if err != nil {
				return err
			}
			st, err := g.open()
			if err != nil {
				return err
			}
			defer st.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if seedFile != "" {
				seed, err := authserver.LoadSeed(seedFile)
				if err != nil {
					return err
				}
				report, err := authserver.ApplySeed(ctx, st, seed, time.Now())
				if err != nil {
					return err
				}
				slog.Info("seed applied", "created", report.Created, "existing", report.Existing, "skipped", len(report.Skipped))
			}
			if demoFile != "" {
				creds, err := authserver.EnsureDemoCredentials(ctx, st, authserver.DemoOptions{Issuer: issuer, Path: demoFile, Now: time.Now()})
				if err != nil {
					return err
				}
				if creds != nil {
					creds.Print(cmd.OutOrStdout())
				}
			}
			srv, err := authserver.New(authserver.Config{Issuer: issuer, KeyEncryptionSecret: secret}, st)
			if err != nil {
				return err
			}
			defer srv.Close()
			return serveHTTP(ctx, listen, srv)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", envOr(EnvListen, DefaultListen), "address to listen on (env "+EnvListen+")")
	f.StringVar(&issuer, "issuer", envOr(EnvIssuer, DefaultIssuer), "public URL of the server, exactly as in tokens (env "+EnvIssuer+")")
	f.StringVar(&seedFile, "seed", "", "seed file of clients and users; each entry is applied once (see seed --help)")
	f.StringVar(&demoFile, "demo-credentials", "", "on a first start, create demo credentials and write them here, e.g. "+filepath.Join("$"+EnvDataDir, DefaultDemoFileName))
	return cmd
}

// serveHTTP serves h on addr until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	hs := &http.Server{
		Addr:              addr,
		Handler:           h,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}
	errs := make(chan error, 1)
	go func() { errs <- hs.ListenAndServe() }()
	slog.Info("authserver listening", "addr", addr)
	select {
	case err := <-errs:
		return fmt.Errorf("serving %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
