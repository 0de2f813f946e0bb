// Package command is the authserver's command line: `serve` (standalone
// command only) and the management subcommands `clients`, `users`,
// `keys` and `seed`, which work on the store file directly. The same tree
// runs as the standalone cmd/authserver and, without serve, as
// `caddy gatehouse authserver` in the gateway build.
//
// Management commands open the bbolt file, which one process at a time
// may hold: stop the server (or the gateway) that uses it first.
package command

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/authserver/keys"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// Environment variables read for flag defaults.
const (
	EnvDataDir          = "GATEHOUSE_DATA_DIR"
	EnvStore            = "GATEHOUSE_AUTHSERVER_STORE"
	EnvKeySecret        = keys.EnvSecret
	EnvKeySecretFile    = keys.EnvSecretFile
	EnvIssuer           = "GATEHOUSE_ISSUER"
	EnvListen           = "GATEHOUSE_AUTHSERVER_LISTEN"
	DefaultDataDir      = "./data"
	DefaultStoreFile    = "authserver.db"
	DefaultIssuer       = "http://localhost:5000"
	DefaultListen       = ":5000"
	DefaultDemoFileName = "demo-credentials.json"
)

// Options chooses the tree's shape.
type Options struct {
	// Serve adds the serve subcommand and makes it the default action.
	Serve bool
}

// globals are the flags every subcommand shares.
type globals struct {
	storePath  string
	secretFile string
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// DataDir is $GATEHOUSE_DATA_DIR, or ./data.
func DataDir() string { return envOr(EnvDataDir, DefaultDataDir) }

// New returns the `authserver` command tree.
func New(opts Options) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "authserver",
		Short:         "Gatehouse's OAuth 2.0 / OpenID Connect server and its management commands",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.PersistentFlags().StringVar(&g.storePath, "store", envOr(EnvStore, filepath.Join(DataDir(), DefaultStoreFile)),
		"authserver store file (env "+EnvStore+", default $"+EnvDataDir+"/"+DefaultStoreFile+")")
	root.PersistentFlags().StringVar(&g.secretFile, "key-encryption-key-file", "",
		"file holding the secret that encrypts signing keys at rest (default $"+EnvKeySecretFile+"; or put the secret itself in $"+EnvKeySecret+")")
	root.AddCommand(clientsCommand(g), usersCommand(g), keysCommand(g), seedCommand(g))
	if opts.Serve {
		serve := serveCommand(g)
		root.AddCommand(serve)
		root.RunE = serve.RunE
		root.Flags().AddFlagSet(serve.Flags())
	}
	return root
}

// keySecret reads the key-encryption secret: the file named by the flag,
// else the environment (see keys.LoadSecret). Nil means keys are stored
// unencrypted.
func (g *globals) keySecret() ([]byte, error) { return keys.LoadSecret(g.secretFile) }

// open opens the store, explaining a held file.
func (g *globals) open() (store.Store, error) {
	if err := os.MkdirAll(filepath.Dir(g.storePath), 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	st, err := store.OpenBolt(g.storePath)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w: the management commands open %s directly; stop the Gatehouse process (caddy run, or the standalone authserver) that holds it, then run the command again (to copy the store while Gatehouse runs, use caddy gatehouse backup)", err, g.storePath)
	}
	return st, err
}

// withStore runs fn with the open store and closes it.
func (g *globals) withStore(fn func(store.Store) error) error {
	st, err := g.open()
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}
