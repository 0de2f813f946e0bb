package command

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

func clientsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "clients", Short: "Manage OAuth clients"}
	cmd.AddCommand(clientsAdd(g), clientsList(g), clientsRotateSecret(g), clientsRemove(g))
	return cmd
}

func clientsAdd(g *globals) *cobra.Command {
	var spec authserver.ClientSpec
	cmd := &cobra.Command{
		Use:   "add CLIENT_ID",
		Short: "Add a client; a confidential client's secret is printed once",
		Example: `  authserver clients add billing --grant client_credentials --scope admin.read
  authserver clients add portal --public --grant authorization_code --grant refresh_token \
      --scope openid --scope profile --scope admin.read \
      --redirect-uri http://localhost:3001/api/auth/callback/rsa`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec.ID = args[0]
			return g.withStore(func(st store.Store) error {
				c, secret, err := authserver.CreateClient(cmd.Context(), st, spec, time.Now())
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				fmt.Fprintf(out, "client_id:     %s\n", c.ID)
				if secret != "" {
					fmt.Fprintf(out, "client_secret: %s\n(shown once: store it now)\n", secret)
				} else {
					fmt.Fprintln(out, "public client: no secret; use PKCE")
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Name, "name", "", "name shown on the consent page")
	f.BoolVar(&spec.Public, "public", false, "public client: no secret, authorization_code with PKCE")
	f.StringSliceVar(&spec.GrantTypes, "grant", nil, "allowed grant type (client_credentials, authorization_code, refresh_token); repeatable")
	f.StringSliceVar(&spec.Scopes, "scope", nil, "allowed scope; repeatable")
	f.StringSliceVar(&spec.RedirectURIs, "redirect-uri", nil, "redirect URI, matched exactly; repeatable")
	f.StringSliceVar(&spec.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "post-logout redirect URI; repeatable")
	f.StringSliceVar(&spec.Audience, "audience", nil, "access-token audience instead of the server's; repeatable")
	f.StringVar(&spec.ScopeFormat, "scope-format", "", `scope claim format: "string" or "array" (IdentityServer)`)
	f.IntVar(&spec.AccessTokenLifetime, "access-token-lifetime", 0, "access token lifetime in seconds (default: the server's, 3600)")
	f.IntVar(&spec.RefreshTokenLifetime, "refresh-token-lifetime", 0, "refresh token lifetime in seconds")
	f.IntVar(&spec.CodeLifetime, "code-lifetime", 0, "authorization code lifetime in seconds (default 300)")
	return cmd
}

func clientsList(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStore(func(st store.Store) error {
				clients, err := st.ListClients(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "CLIENT_ID\tTYPE\tGRANTS\tSCOPES\tREDIRECT_URIS")
				for _, c := range clients {
					kind := "confidential"
					if c.Public {
						kind = "public"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.ID, kind, strings.Join(c.GrantTypes, ","), strings.Join(c.Scopes, " "), strings.Join(c.RedirectURIs, " "))
				}
				return w.Flush()
			})
		},
	}
}

func clientsRotateSecret(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-secret CLIENT_ID",
		Short: "Give a confidential client a new secret; the old one stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withStore(func(st store.Store) error {
				secret, err := authserver.RotateClientSecret(cmd.Context(), st, args[0], time.Now())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "client_id:     %s\nclient_secret: %s\n(shown once: store it now)\n", args[0], secret)
				return nil
			})
		},
	}
}

func clientsRemove(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "remove CLIENT_ID",
		Short: "Remove a client, its consents and refresh tokens",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withStore(func(st store.Store) error {
				if err := st.DeleteClient(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed client %s\n", args[0])
				return nil
			})
		},
	}
}
