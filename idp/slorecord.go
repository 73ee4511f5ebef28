package idp

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/session"
)

// sloCookie names the single logout in progress in this browser. It is
// scoped to the SLO path, where the apps send their LogoutResponses.
const sloCookie = "portcullis_slo"

// sloRecord is the progress of one single logout, kept in the session
// backend: the IdP session is already over, and this drives the apps one at
// a time. Being ours rather than only crewjam's signed cookie, it lets the
// chain go on past an app that answers wrongly or not at all.
type sloRecord struct {
	key       string
	User      string              `json:"user"`
	Pending   []session.SAMLEntry `json:"pending,omitempty"`
	Current   *session.SAMLEntry  `json:"current,omitempty"`
	Results   []sloResult         `json:"results,omitempty"`
	Initiator *sloInitiator       `json:"initiator,omitempty"`
	// Upstream holds the ended session's "upstream." values until the
	// upstream IdP's logout hop has been sent.
	Upstream map[string]string `json:"upstream,omitempty"`
	// Then is where the browser goes at the end instead of the signed-out
	// page (an upstream-initiated logout, which answers its IdP there).
	Then    string    `json:"then,omitempty"`
	Expires time.Time `json:"expires"`
}

// sloResult is one app's outcome.
type sloResult struct {
	App    string `json:"app"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

// sloInitiator is the app whose LogoutRequest started the logout; it is
// answered last (saml-profiles §4.4.4.2).
type sloInitiator struct {
	App        string        `json:"app"`
	RequestID  string        `json:"request_id"`
	RelayState string        `json:"relay_state,omitempty"`
	Endpoint   saml.Endpoint `json:"endpoint"`
}

// finish records the outcome for the current app.
func (rec *sloRecord) finish(ok bool, reason string) {
	if rec.Current == nil {
		return
	}
	rec.Results = append(rec.Results, sloResult{App: rec.Current.App, OK: ok, Reason: reason})
	rec.Current = nil
}

// next makes the first pending app the current one; false when none is left.
func (rec *sloRecord) next() bool {
	if len(rec.Pending) == 0 {
		return false
	}
	cur := rec.Pending[0]
	rec.Current, rec.Pending = &cur, rec.Pending[1:]
	return true
}

func (rec *sloRecord) partial() bool {
	for _, res := range rec.Results {
		if !res.OK {
			return true
		}
	}
	return false
}

func sloKey(key string) string { return "saml:slo:" + key }

// saveSLO stores rec and points the browser's cookie at it.
func (h *Handler) saveSLO(w http.ResponseWriter, r *http.Request, rec *sloRecord) error {
	if rec.key == "" {
		rec.key = rand.Text()
	}
	ttl := rec.Expires.Sub(h.now())
	if ttl < time.Second {
		return errors.New("idp: single logout took too long")
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := h.Replay.Put(r.Context(), sloKey(rec.key), 0, data, ttl); err != nil {
		return err
	}
	http.SetCookie(w, h.sloCookie(rec.key, int(ttl/time.Second)))
	return nil
}

// loadSLO returns the logout in progress in this browser, or an error
// wrapping session.ErrNotFound.
func (h *Handler) loadSLO(r *http.Request) (*sloRecord, error) {
	c, err := r.Cookie(sloCookie)
	if err != nil || c.Value == "" || len(c.Value) > 64 {
		return nil, session.ErrNotFound
	}
	data, _, err := h.Replay.Get(r.Context(), sloKey(c.Value))
	if err != nil {
		return nil, err
	}
	rec := &sloRecord{key: c.Value}
	if err := json.Unmarshal(data, rec); err != nil {
		return nil, session.ErrNotFound
	}
	return rec, nil
}

// dropSLO deletes rec and its cookie.
func (h *Handler) dropSLO(w http.ResponseWriter, r *http.Request, rec *sloRecord) {
	http.SetCookie(w, h.sloCookie("", -1))
	if rec.key == "" {
		return
	}
	if err := h.Replay.Delete(r.Context(), sloKey(rec.key)); err != nil {
		h.logger().WarnContext(r.Context(), "saml: logout record not deleted", "err", err)
	}
}

// sloCookie is SameSite=None over https, since apps answer with a
// cross-site POST; over plain http (development) browsers refuse None
// without Secure, so it is Lax there.
func (h *Handler) sloCookie(value string, maxAge int) *http.Cookie {
	u := h.url(SLOPath)
	c := &http.Cookie{Name: sloCookie, Value: value, Path: SLOPath, MaxAge: maxAge,
		HttpOnly: true, Secure: u.Scheme == "https", SameSite: http.SameSiteLaxMode}
	if c.Secure {
		c.SameSite = http.SameSiteNoneMode
	}
	return c
}
