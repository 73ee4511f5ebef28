package push

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/mfa"
)

// FuzzParseLink: any input either fails or yields an http(s) base URL and a
// token that rebuild a link ParseLink reads back the same.
func FuzzParseLink(f *testing.F) {
	for _, s := range []string{"https://sso.example.com/push/v1/enrol#tok", "http://h/gw/push/v1/enrol#t",
		"https://h/push/v1/enrol", "javascript:alert(1)#x", "https://h/push/v1/enrol#a#b", "://", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, link string) {
		server, token, err := ParseLink(link)
		if err != nil {
			return
		}
		if !strings.HasPrefix(server, "https://") && !strings.HasPrefix(server, "http://") || token == "" {
			t.Fatalf("ParseLink(%q) = %q, %q", link, server, token)
		}
		s2, t2, err := ParseLink(server + EnrolPath + "#" + token)
		if err != nil || s2 != server || t2 != token {
			t.Fatalf("round trip of %q: %q %q %v", link, s2, t2, err)
		}
	})
}

// FuzzVerifyWebhook: no header but the one WebhookSignature makes for the
// body verifies.
func FuzzVerifyWebhook(f *testing.F) {
	now := time.Unix(1700000000, 0)
	good := WebhookSignature("secret-of-sixteen", now, []byte(`{"a":1}`))
	for _, s := range []string{good, "t=1700000000,v1=00", "v1=,t=", "t=x,v1=zz", strings.Repeat(",", 100), ""} {
		f.Add(s, []byte(`{"a":1}`))
	}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := VerifyWebhook("secret-of-sixteen", header, body, now, time.Minute)
		want := WebhookSignature("secret-of-sixteen", now, body)
		if err == nil && header != want && !sameFields(header, want) {
			t.Fatalf("header %q verified for body %q (want %q)", header, body, want)
		}
	})
}

// sameFields reports whether two signature headers carry the same t and v1
// (the parser ignores spacing, order, unknown fields and the case of the
// hex digits).
func sameFields(a, b string) bool {
	at, as := webhookFields(a)
	bt, bs := webhookFields(b)
	return at == bt && strings.EqualFold(as, bs)
}

// FuzzSignedRequest: headers and bodies an attacker controls never pass the
// signature check unless signed with the key.
func FuzzSignedRequest(f *testing.F) {
	pub, key, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	fac := New(&mfa.Handler{}, Options{})
	ts := time.Now().Unix()
	nonce := b64(bytes.Repeat([]byte{1}, 16))
	sig := b64(ed25519.Sign(key, SigningString("POST", "/push/v1/challenges/x", ts, "1.d", nonce, []byte("{}"))))
	f.Add("POST", "/push/v1/challenges/x", strconv.FormatInt(ts, 10), nonce, sig, []byte("{}"))
	f.Add("GET", "/push/v1/challenges?wait=1", "0", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, method, path, tsHeader, nonceHeader, sigHeader string, body []byte) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(method, " \t\r\n") || method == "" {
			return
		}
		r, err := newRequest(method, path, tsHeader, nonceHeader, sigHeader)
		if err != nil {
			return
		}
		_, aerr := fac.signed(r, pub, "1.d", body)
		if aerr != nil {
			return
		}
		want := ed25519.Sign(key, SigningString(r.Method, r.URL.RequestURI(), mustInt(tsHeader), "1.d", nonceHeader, body))
		if sigHeader != b64(want) {
			t.Fatalf("accepted a signature the key did not make: %s %s", method, path)
		}
	})
}

var errPanicked = errors.New("httptest.NewRequest refused the input")

// newRequest builds a request, or fails for input no server would parse.
func newRequest(method, path, ts, nonce, sig string) (r *http.Request, err error) {
	defer func() {
		if recover() != nil {
			err = errPanicked
		}
	}()
	r = httptest.NewRequest(method, path, nil)
	r.Header.Set(HeaderTimestamp, ts)
	r.Header.Set(HeaderNonce, nonce)
	r.Header.Set(HeaderSignature, sig)
	return r, nil
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
