package portal

import (
	"errors"
	"net/http"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/web"
)

func (h *Handler) logoutPage(w http.ResponseWriter, r *http.Request) {
	_, u, err := h.Current(r)
	if errors.Is(err, ErrNoSession) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	h.Render.Render(w, r, http.StatusOK, "logout.html", web.Page{Title: "Sign out", User: pageUser(u)})
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	s, err := h.Sessions.Logout(r.Context(), w, r)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	if s != nil {
		h.record(r, &audit.Event{Type: audit.Logout, Actor: s.Email, Subject: s.Email,
			IP: web.ClientIP(r), Outcome: audit.Success})
		if h.SingleLogout != nil && len(s.SAML) > 0 && h.SingleLogout(w, r, s) {
			return
		}
	}
	h.Render.Render(w, r, http.StatusOK, "logged_out.html", web.Page{Title: "Signed out"})
}
