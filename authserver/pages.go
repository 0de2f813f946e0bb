package authserver

import (
	"embed"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the server-rendered pages: plain HTML forms that work without
// JavaScript.
var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// render writes a page with headers that keep it out of caches and frames.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := s.pages.ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("authserver: rendering page", "page", name, "error", err)
	}
}

// errorPage tells the person at the browser what went wrong; it never
// redirects.
func (s *Server) errorPage(w http.ResponseWriter, status int, message string) {
	s.render(w, status, "error.html", struct{ Message string }{message})
}

func (s *Server) handleLoggedOut(w http.ResponseWriter, _ *http.Request) {
	s.render(w, http.StatusOK, "logged-out.html", nil)
}

// formPage serves a page that shows a form on GET (and HEAD) and takes
// its submission on POST; other methods get 405.
func formPage(show, submit http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			show(w, r)
		case http.MethodPost:
			submit(w, r)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	}
}
