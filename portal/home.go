package portal

import (
	"errors"
	"net/http"
	"time"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	s, u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	groups, err := h.Store.UserGroups(r.Context(), u.ID)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	data := homeData(s, u, groups)
	if h.Apps != nil {
		if data.Apps, err = h.Apps(r.Context(), u); err != nil {
			h.unavailable(w, r, err)
			return
		}
	}
	h.Render.Render(w, r, http.StatusOK, "portal.html", web.Page{Title: "Portcullis", User: pageUser(u), Data: data})
}

// requireUser loads the signed-in user, or answers the request itself: a
// redirect to sign-in, the forced password change, or 503.
func (h *Handler) requireUser(w http.ResponseWriter, r *http.Request) (*session.Session, store.User, bool) {
	s, u, ok := h.requireSignedIn(w, r)
	if ok && u.PasswordResetRequired {
		http.Redirect(w, r, "/password?return="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil, u, false
	}
	return s, u, ok
}

// requireSignedIn is requireUser without the forced password change, for the
// page that performs it.
func (h *Handler) requireSignedIn(w http.ResponseWriter, r *http.Request) (*session.Session, store.User, bool) {
	s, u, err := h.Current(r)
	switch {
	case errors.Is(err, ErrNoSession):
		http.Redirect(w, r, "/login?return="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil, u, false
	case err != nil:
		h.unavailable(w, r, err)
		return nil, u, false
	}
	return s, u, true
}

func homeData(s *session.Session, u store.User, groups []store.Group) web.PortalData {
	d := web.PortalData{Name: u.Name, Email: u.Email, Admin: u.Admin, AuthTime: s.AuthTime.UTC().Format(time.RFC1123)}
	for _, g := range groups {
		d.Groups = append(d.Groups, g.Name)
	}
	for _, f := range s.Factors {
		d.Factors = append(d.Factors, web.Factor{Name: factorLabels[f.Name], At: f.At.UTC().Format(time.RFC1123)})
	}
	return d
}

func pageUser(u store.User) *web.PageUser {
	return &web.PageUser{Email: u.Email, Name: u.Name}
}

// factorLabels names factors as people know them.
var factorLabels = map[string]string{
	session.FactorPassword: "Password",
	session.FactorUpstream: "Company sign-in",
	session.FactorTOTP:     "Authenticator app",
	session.FactorWebAuthn: "Security key or passkey",
	session.FactorPush:     "Push approval",
	session.FactorRecovery: "Recovery code",
}
