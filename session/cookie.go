package session

import (
	"net/http"

	"github.com/gorilla/securecookie"
)

// newCodec signs (but does not encrypt) the ticket: the ID is random and
// opaque already, and the signature lets a node reject a forged or altered
// cookie before asking the backend. securecookie also binds the value to the
// cookie name, refuses values older than maxAge seconds, and compares MACs
// in constant time. No other secret is ever compared: the record is found by
// a hash of the ID and authenticated by AES-GCM.
func newCodec(hashKey []byte, maxAge int) *securecookie.SecureCookie {
	c := securecookie.New(hashKey, nil)
	c.SetSerializer(securecookie.NopEncoder{})
	c.MaxAge(maxAge)
	return c
}

// readCookie returns the first cookie named m.name that carries a valid
// ticket. It tries each one because a browser may send several with the same
// name (a parent-domain cookie beside a host-only one).
func (m *Manager) readCookie(r *http.Request) (ticket, bool) {
	for _, c := range r.CookiesNamed(m.name) {
		if t, ok := m.decodeCookie(c.Value); ok {
			return t, true
		}
	}
	return ticket{}, false
}

// decodeCookie checks a session cookie's value and returns its ticket.
func (m *Manager) decodeCookie(value string) (ticket, bool) {
	var raw []byte
	if err := m.codec.Decode(m.name, value, &raw); err != nil {
		return ticket{}, false
	}
	return parseTicket(string(raw))
}

// HasCookie reports whether r carries a session cookie at all, valid or
// not. A cross-site POST carries none, since the cookie is SameSite=Lax.
func (m *Manager) HasCookie(r *http.Request) bool {
	return len(r.CookiesNamed(m.name)) > 0
}

// writeCookie sets the session cookie. It has no Max-Age: it is a browser
// session cookie, so closing the browser on a shared machine ends it, while
// the server-side idle and absolute deadlines bound it either way.
func (m *Manager) writeCookie(w http.ResponseWriter, t ticket) error {
	v, err := m.codec.Encode(m.name, []byte(t.id))
	if err != nil {
		return err
	}
	http.SetCookie(w, m.cookie(v, 0))
	return nil
}

// clearCookie tells the browser to drop the session cookie.
func (m *Manager) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, m.cookie("", -1))
}

func (m *Manager) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     m.name,
		Value:    value,
		Path:     "/",
		Domain:   m.domain,
		MaxAge:   maxAge,
		Secure:   m.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}
