package authserver

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

type consentPage struct {
	ID, CSRF, Client, Username string
	Scopes                     []scopeLine
}

type scopeLine struct{ Name, Description string }

func (s *Server) showConsent(w http.ResponseWriter, r *http.Request) {
	ar, browser, ok := s.loadFlow(w, r, r.URL.Query().Get("id"))
	if !ok {
		return
	}
	if ar.UserID == "" {
		redirectSeeOther(w, r, PathLogin+"?id="+url.QueryEscape(ar.ID))
		return
	}
	page := consentPage{ID: ar.ID, CSRF: s.csrfToken(browser, ar.ID, "consent"), Client: s.clientName(r, ar.ClientID)}
	if u, err := s.st.GetUser(r.Context(), ar.UserID); err == nil {
		page.Username = u.Username
	}
	for _, scope := range ar.Scopes {
		d := s.cfg.ScopeDescriptions[scope]
		if d == "" {
			d = "Use the scope"
		}
		page.Scopes = append(page.Scopes, scopeLine{Name: scope, Description: d})
	}
	s.render(w, http.StatusOK, "consent.html", page)
}

func (s *Server) submitConsent(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	ar, browser, ok := s.loadFlow(w, r, r.PostForm.Get("id"))
	if !ok || !s.checkCSRF(w, r, browser, ar.ID, "consent") {
		return
	}
	if ar.UserID == "" {
		redirectSeeOther(w, r, PathLogin+"?id="+url.QueryEscape(ar.ID))
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		s.consentDecided(r.Context(), outcomeDenied, ar.ClientID, ar.UserID, ar.Scopes)
		s.failToClient(w, r, ar, oidc.ErrAccessDenied().WithDescription("the user denied access"))
		return
	}
	granted := slices.Clone(ar.Scopes)
	if prev, err := s.st.GetConsent(r.Context(), ar.UserID, ar.ClientID); err == nil {
		granted = append(granted, prev.Scopes...)
	}
	slices.Sort(granted)
	err := s.st.PutConsent(r.Context(), store.Consent{UserID: ar.UserID, ClientID: ar.ClientID, Scopes: slices.Compact(granted), GrantedAt: s.now()})
	if err != nil {
		s.log.ErrorContext(r.Context(), "authserver: storing consent", "error", err)
		s.errorPage(w, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again later.")
		return
	}
	s.consentDecided(r.Context(), outcomeGranted, ar.ClientID, ar.UserID, ar.Scopes)
	s.complete(w, r, ar)
}
