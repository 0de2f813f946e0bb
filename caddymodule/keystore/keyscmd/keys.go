// Package keyscmd adds `caddy gatehouse keys`: offline management of an
// API-key store file, for bootstrap and scripts. It opens the bbolt file
// directly, so it works only while no gateway holds it; a running
// gateway is managed through the clients admin API.
//
//	caddy gatehouse keys create  --store PATH --name N [--scopes a,b] [--expires RFC3339] [--metadata k=v,...] [--prefix rsa_live_]
//	caddy gatehouse keys list    --store PATH [--status active|disabled]
//	caddy gatehouse keys get     --store PATH ID
//	caddy gatehouse keys rotate  --store PATH ID [--grace 1h]
//	caddy gatehouse keys disable --store PATH ID
//	caddy gatehouse keys enable  --store PATH ID
//	caddy gatehouse keys delete  --store PATH ID
//
// Every command takes --json for machine-readable output and
// --lock-timeout. Only create and rotate print a plaintext key. Changes
// are audited as made by "cli:<OS user>".
package keyscmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/caddymodule/gatehousecmd"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

func init() {
	gatehousecmd.Register(func(gatehouse *cobra.Command) { gatehouse.AddCommand(newKeysCommand()) })
}

// globals are the flags every keys subcommand shares.
type globals struct {
	store       string
	json        bool
	lockTimeout time.Duration
}

func newKeysCommand() *cobra.Command {
	g := &globals{}
	keys := &cobra.Command{
		Use:   "keys <command>",
		Short: "Manages the API keys of a key store file",
		Long: `Creates, lists, rotates, disables, enables and deletes API-key clients in
a key store file. The file must not be held by a running gateway: while the
gateway runs, use the admin API (/admin/api/v1/clients) instead.`,
		SilenceUsage: true,
	}
	keys.PersistentFlags().StringVar(&g.store, "store", "", "path of the key store file (required)")
	keys.PersistentFlags().BoolVar(&g.json, "json", false, "print JSON")
	keys.PersistentFlags().DurationVar(&g.lockTimeout, "lock-timeout", keystore.DefaultLockTimeout, "how long to wait for the store's file lock")
	_ = keys.MarkPersistentFlagRequired("store")
	keys.AddCommand(newCreateCommand(g), newListCommand(g), newGetCommand(g), newRotateCommand(g),
		newStatusCommand(g, "disable", keystore.StatusDisabled), newStatusCommand(g, "enable", keystore.StatusActive),
		newDeleteCommand(g))
	return keys
}

// open opens the store for one command. Only create may make a new file:
// a mistyped --store for any other command must not leave an empty store
// behind.
func (g *globals) open(create bool, prefix string) (*keystore.BoltStore, error) {
	if !create {
		if _, err := os.Stat(g.store); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no key store at %s", g.store)
		}
	}
	s, err := keystore.Open(g.store, keystore.Options{KeyPrefix: prefix, LockTimeout: g.lockTimeout})
	if errors.Is(err, keystore.ErrLocked) {
		return nil, fmt.Errorf("%w: %s is held by a running gateway; manage keys through the admin API (/admin/api/v1/clients), or stop the gateway first",
			keystore.ErrLocked, g.store)
	}
	return s, err
}

// withStore runs fn on the store, closing it afterwards, with the CLI
// user as the actor of any change.
func (g *globals) withStore(cmd *cobra.Command, create bool, prefix string, fn func(ctx context.Context, s *keystore.BoltStore) error) error {
	s, err := g.open(create, prefix)
	if err != nil {
		return err
	}
	ctx := keystore.WithActor(cmd.Context(), cliActor())
	return errors.Join(fn(ctx, s), s.Close())
}

// cliActor is the audit actor of CLI changes: "cli", with the OS user
// when it is known.
func cliActor() keystore.Actor {
	subject := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		subject += ":" + u.Username
	}
	return keystore.Actor{Subject: subject}
}

func newCreateCommand(g *globals) *cobra.Command {
	var (
		name, expires, prefix string
		scopes                []string
		metadata              map[string]string
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME [--scopes a,b] [--expires RFC3339] [--metadata k=v] [--prefix PREFIX]",
		Short: "Creates a client and prints its API key, once",
		Long: `Creates an active client and prints its API key. The key is shown only
this once and cannot be recovered: store it securely. --prefix sets the key
prefix of a new store file (default rsa_live_); an existing store keeps its own.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			nc := keystore.NewClient{Name: name, Scopes: scopes, Metadata: metadata}
			if expires != "" {
				t, err := time.Parse(time.RFC3339, expires)
				if err != nil {
					return fmt.Errorf("--expires must be an RFC 3339 time, e.g. 2030-01-31T00:00:00Z")
				}
				nc.ExpiresAt = t
			}
			return g.withStore(cmd, true, prefix, func(ctx context.Context, s *keystore.BoltStore) error {
				c, key, _, err := s.Create(ctx, nc)
				if err != nil {
					return err
				}
				return g.printClient(cmd, c, key)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "client name (required)")
	cmd.Flags().StringSliceVar(&scopes, "scopes", nil, "scopes granted to the key, comma-separated")
	cmd.Flags().StringVar(&expires, "expires", "", "expiry of the client, RFC 3339 (default: never)")
	cmd.Flags().StringToStringVar(&metadata, "metadata", nil, "metadata entries, k=v,...")
	cmd.Flags().StringVar(&prefix, "prefix", "", "key prefix of a new store (default rsa_live_)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newListCommand(g *globals) *cobra.Command {
	var status string
	cmd := &cobra.Command{
		Use:   "list [--status active|disabled]",
		Short: "Lists clients in creation order",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStore(cmd, false, "", func(ctx context.Context, s *keystore.BoltStore) error {
				var all []keystore.Client
				opts := keystore.ListOptions{Status: keystore.Status(status), Limit: keystore.MaxPageSize}
				for {
					page, err := s.List(ctx, opts)
					if err != nil {
						return err
					}
					all = append(all, page.Clients...)
					if page.Next == "" {
						break
					}
					opts.After = page.Next
				}
				return g.printList(cmd, all)
			})
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only clients with this status (active or disabled)")
	return cmd
}

func newGetCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Shows one client (never its key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withStore(cmd, false, "", func(ctx context.Context, s *keystore.BoltStore) error {
				c, err := s.Get(ctx, args[0])
				if err != nil {
					return err
				}
				return g.printClient(cmd, c, "")
			})
		},
	}
}

func newRotateCommand(g *globals) *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "rotate ID [--grace 1h]",
		Short: "Issues a new key and prints it, once",
		Long: `Issues a new API key for the client and prints it, once. The old key is
refused at once, or keeps working for --grace (at most 720h).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withStore(cmd, false, "", func(ctx context.Context, s *keystore.BoltStore) error {
				c, key, err := s.Rotate(ctx, args[0], grace)
				if err != nil {
					return err
				}
				return g.printClient(cmd, c, key)
			})
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", 0, "how long the old key keeps working (default: refused at once)")
	return cmd
}

func newStatusCommand(g *globals, verb string, status keystore.Status) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " ID",
		Short: fmt.Sprintf("Sets a client's status to %s", status),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withStore(cmd, false, "", func(ctx context.Context, s *keystore.BoltStore) error {
				c, err := s.SetStatus(ctx, args[0], status)
				if err != nil {
					return err
				}
				return g.printClient(cmd, c, "")
			})
		},
	}
}

func newDeleteCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Deletes a client and its keys",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withStore(cmd, false, "", func(ctx context.Context, s *keystore.BoltStore) error {
				if err := s.Delete(ctx, args[0]); err != nil {
					return err
				}
				return g.printDeleted(cmd, args[0])
			})
		},
	}
}
