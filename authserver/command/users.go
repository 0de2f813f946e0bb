package command

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

func usersCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage users who log in"}
	cmd.AddCommand(usersAdd(g), usersPasswd(g), usersRemove(g), usersList(g))
	return cmd
}

// password reads a password from stdin (first line) when asked to, or
// generates one; generated reports which.
func password(cmd *cobra.Command, fromStdin bool) (pw string, generated bool, err error) {
	if !fromStdin {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b), true, nil
	}
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && line == "" {
		return "", false, errors.New("reading the password from standard input: nothing read")
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

func usersAdd(g *globals) *cobra.Command {
	var spec authserver.UserSpec
	var fromStdin bool
	cmd := &cobra.Command{
		Use:     "add USERNAME",
		Short:   "Add a user; without --password-stdin a password is generated and printed once",
		Example: `  echo 'a long passphrase' | authserver users add alice --password-stdin --name "Alice Liddell" --email alice@example.com`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, generated, err := password(cmd, fromStdin)
			if err != nil {
				return err
			}
			spec.Username, spec.Password = args[0], pw
			return g.withStore(func(st store.Store) error {
				u, err := authserver.CreateUser(cmd.Context(), st, spec, time.Now())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "user %s (sub %s) added\n", u.Username, u.ID)
				if generated {
					fmt.Fprintf(cmd.OutOrStdout(), "password: %s\n(shown once)\n", pw)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&spec.Name, "name", "", "full name (profile scope)")
	f.StringVar(&spec.GivenName, "given-name", "", "given name")
	f.StringVar(&spec.FamilyName, "family-name", "", "family name")
	f.StringVar(&spec.Email, "email", "", "email address (email scope)")
	f.BoolVar(&spec.EmailVerified, "email-verified", false, "mark the email address verified")
	return cmd
}

func usersPasswd(g *globals) *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "passwd USERNAME",
		Short: "Set a user's password; without --password-stdin one is generated and printed once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, generated, err := password(cmd, fromStdin)
			if err != nil {
				return err
			}
			return g.withStore(func(st store.Store) error {
				if err := authserver.SetPassword(cmd.Context(), st, args[0], pw, time.Now()); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "password of %s changed\n", args[0])
				if generated {
					fmt.Fprintf(cmd.OutOrStdout(), "password: %s\n(shown once)\n", pw)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	return cmd
}

func usersRemove(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "remove USERNAME",
		Short: "Remove a user with their sessions, consents and refresh tokens",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withStore(func(st store.Store) error {
				u, err := st.GetUserByUsername(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if err := st.DeleteUser(cmd.Context(), u.ID); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed user %s\n", u.Username)
				return nil
			})
		},
	}
}

func usersList(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStore(func(st store.Store) error {
				users, err := st.ListUsers(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "USERNAME\tSUB\tNAME\tEMAIL")
				for _, u := range users {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Username, u.ID, u.Name, u.Email)
				}
				return w.Flush()
			})
		},
	}
}
