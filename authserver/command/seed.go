package command

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

func seedCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "seed FILE",
		Short: "Create the clients and users of a seed file that do not exist yet",
		Long: `Reads a JSON seed file and creates its clients and users that are not in
the store yet; existing ones are left unchanged, so seeding twice is safe.

  {"clients": [{"client_id": "billing", "client_secret": "<32+ chars>",
                "grant_types": ["client_credentials"], "scopes": ["admin.read"]}],
   "users":   [{"username": "alice", "password": "...", "name": "Alice"}]}

Client fields: client_id, name, client_secret, public, grant_types,
scopes, redirect_uris, post_logout_redirect_uris, audience, scope_format,
access_token_lifetime, refresh_token_lifetime, code_lifetime (seconds).
User fields: username, password, name, given_name, family_name, email,
email_verified.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seed, err := authserver.LoadSeed(args[0])
			if err != nil {
				return err
			}
			return g.withStore(func(st store.Store) error {
				clients, users, err := authserver.ApplySeed(cmd.Context(), st, seed, time.Now())
				fmt.Fprintf(cmd.OutOrStdout(), "created clients: [%s], users: [%s]\n", strings.Join(clients, " "), strings.Join(users, " "))
				return err
			})
		},
	}
}
