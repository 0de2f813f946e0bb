package command

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/keys"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

func keysCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Show and rotate the token-signing keys"}
	var lead time.Duration
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Publish a new signing key now; it signs after the publish lead",
		Long: `Publishes a new signing key at once. It starts signing after the publish
lead (default 24h), so verifiers that cache the JWKS learn it first; the
current key then retires and stays published past the longest token
lifetime. If a next key is already waiting, nothing changes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withManager(cmd.Context(), lead, func(m *keys.Manager) error {
				st, err := m.Rotate(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "next key %s published, signs from %s\n", st.ID, st.ActivatesAt.Format(time.RFC3339))
				return nil
			})
		},
	}
	rotate.Flags().DurationVar(&lead, "publish-lead", authserver.DefaultKeyPublishLead, "time the new key is published before it signs")
	list := &cobra.Command{
		Use:   "list",
		Short: "List signing keys and their state (next, current, retiring)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withManager(cmd.Context(), authserver.DefaultKeyPublishLead, func(m *keys.Manager) error {
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "KID\tSTATE\tCREATED\tSIGNS_FROM\tRETIRED\tENCRYPTED")
				for _, s := range m.Status() {
					retired := "-"
					if !s.RetiredAt.IsZero() {
						retired = s.RetiredAt.Format(time.RFC3339)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%v\n", s.ID, s.State, s.CreatedAt.Format(time.RFC3339), s.ActivatesAt.Format(time.RFC3339), retired, s.Encrypted)
				}
				return w.Flush()
			})
		},
	}
	cmd.AddCommand(rotate, list)
	return cmd
}

// withManager loads the key manager over the store without running its
// maintenance: listing and manual rotation must not remove keys by a
// retention that may differ from the server's.
func (g *globals) withManager(ctx context.Context, lead time.Duration, fn func(*keys.Manager) error) error {
	secret, err := g.keySecret()
	if err != nil {
		return err
	}
	return g.withStore(func(st store.Store) error {
		interval := authserver.DefaultKeyRotationInterval
		if lead >= interval {
			interval = 2 * lead
		}
		m, err := keys.NewManager(st, keys.Config{RotationInterval: interval, PublishLead: lead,
			Retention: authserver.DefaultMaxTokenLifetime + time.Hour, Secret: secret}, time.Now)
		if err != nil {
			return err
		}
		if err := m.Load(ctx); err != nil {
			return err
		}
		return fn(m)
	})
}
