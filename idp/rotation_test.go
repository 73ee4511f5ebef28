package idp_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/internal/testenv"
)

// A rotation publishes the next certificate in metadata before it signs;
// apps that refreshed the metadata keep working when it switches.
func TestKeyRotation(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	sp := h.peer("Peer", testenv.SPOptions{WantAssertionsSigned: true}, idp.AppSettings{})
	c := h.client()
	srv := h.node.Server
	ctx := context.Background()
	const rollover = time.Second
	r, err := server.RotateSigningKey(ctx, srv.Store, srv.Master, server.Rotation{CommonName: "next",
		Rollover: rollover, Now: time.Now(), Actor: "test"})
	must(t, err)
	reload := func() { must(t, srv.Keys.(*server.Keyring).Reload(ctx)) }
	reload()
	next := base64.StdEncoding.EncodeToString(r.Cert.Raw)
	md := string(fetch(t, c, h.url+"/saml/metadata"))
	if !strings.Contains(md, next) || strings.Count(md, `use="signing"`) != 2 {
		t.Fatalf("metadata does not announce the next key:\n%s", md)
	}
	l := h.peerLogin(c, sp, c.Get(sp.AuthnRequestURL("")))
	if strings.Contains(string(l.ResponseXML), next) {
		t.Error("the next key signs before it is active")
	}
	must(t, sp.Trust([]byte(md)))
	time.Sleep(time.Until(r.Key.ActivatesAt.Add(10 * time.Millisecond)))
	reload()
	l = h.peerLogin(c, sp, c.Get(sp.AuthnRequestURL("")))
	if !strings.Contains(string(l.ResponseXML), next) {
		t.Error("the new active key does not sign")
	}
}
