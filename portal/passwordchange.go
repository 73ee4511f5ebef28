package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/password"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// maxPasswordLength bounds the work argon2 does for one request.
const maxPasswordLength = 1024

func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.requireSignedIn(w, r)
	if !ok {
		return
	}
	h.Render.Render(w, r, http.StatusOK, "password_change.html", web.Page{
		Title: "Change password", User: pageUser(u),
		Data: web.PasswordChangeData{Return: h.returnTarget(r.URL.Query().Get("return"))},
	})
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) {
	if err := web.ParseForm(w, r); err != nil {
		h.Render.Fail(w, r, err)
		return
	}
	s, u, ok := h.requireSignedIn(w, r)
	if !ok {
		return
	}
	ret := h.returnTarget(r.PostFormValue("return"))
	cur, next := r.PostFormValue("current"), r.PostFormValue("new")
	if msg := h.checkNewPassword(u, cur, next, r.PostFormValue("confirm")); msg != "" {
		h.Render.Render(w, r, http.StatusBadRequest, "password_change.html", web.Page{
			Title: "Change password", User: pageUser(u), Data: web.PasswordChangeData{Error: msg, Return: ret},
		})
		return
	}
	if err := h.setPassword(r.Context(), u.ID, next, web.ClientIP(r)); err != nil {
		h.unavailable(w, r, err)
		return
	}
	if err := h.restartSessions(w, r, s); err != nil {
		h.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

// checkNewPassword returns what is wrong with the request, or "".
func (h *Handler) checkNewPassword(u store.User, cur, next, confirm string) string {
	if ok, _ := password.Verify(cur, u.PasswordHash); !ok {
		return "Your current password is not correct."
	}
	switch n := utf8.RuneCountInString(next); {
	case n < h.MinLength:
		return fmt.Sprintf("The new password must have at least %d characters.", h.MinLength)
	case len(next) > maxPasswordLength:
		return fmt.Sprintf("The new password must have at most %d bytes.", maxPasswordLength)
	case next != confirm:
		return "The two new passwords do not match."
	case next == cur:
		return "The new password must differ from the current one."
	}
	return ""
}

// setPassword stores the new hash, clears the reset flag and records the
// change, in one transaction.
func (h *Handler) setPassword(ctx context.Context, userID int64, pw, ip string) error {
	hash, err := h.Hasher.Hash(pw)
	if err != nil {
		return err
	}
	return h.Store.InTx(ctx, func(tx store.Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		u.PasswordHash, u.PasswordResetRequired, u.PasswordChangedAt = hash, false, h.now()
		return errors.Join(tx.UpdateUser(ctx, u), tx.Record(ctx, &audit.Event{
			Type: audit.PasswordChanged, Actor: u.Email, Subject: u.Email, IP: ip, Outcome: audit.Success}))
	})
}

// restartSessions ends every session of the user (a changed password must
// sign out whoever else knew the old one) and starts a fresh one here.
func (h *Handler) restartSessions(w http.ResponseWriter, r *http.Request, s *session.Session) error {
	if _, err := h.Sessions.RevokeUser(r.Context(), s.UserID); err != nil {
		return err
	}
	fresh := *s
	fresh.ID = ""
	return h.Sessions.Login(r.Context(), w, r, &fresh)
}
