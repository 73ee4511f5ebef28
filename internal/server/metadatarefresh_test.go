package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/catalog"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web/webtest"
)

func spMetadata(cert string) string {
	return fmt.Sprintf(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.com">
  <SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>%s</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs" index="0"/>
  </SPSSODescriptor>
</EntityDescriptor>`, cert)
}

// TestServeRefreshesMetadata serves a node whose app's metadata changes
// (a new SP signing certificate): the node stores it without anyone
// acting, and stops refreshing when it shuts down.
func TestServeRefreshesMetadata(t *testing.T) {
	var doc atomic.Value
	doc.Store(spMetadata("AAAA"))
	var fetches atomic.Int32
	sp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Write([]byte(doc.Load().(string)))
	}))
	defer sp.Close()

	cfg := testConfig(t)
	cfg.SAML.MetadataRefresh = config.Duration(20 * time.Millisecond)
	s, err := New(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cat := &catalog.Catalog{Store: s.Store, Actor: "test"}
	app, err := cat.Add(t.Context(), catalog.NewApp{Name: "sp", Source: sp.URL, Groups: []string{catalog.AllGroups}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	doc.Store(spMetadata("BBBB"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := s.Store.App(t.Context(), app.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Metadata == spMetadata("BBBB") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new metadata was not stored within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	events, _ := s.Store.ListEvents(t.Context(), store.EventFilter{Types: []string{catalog.EventMetadataRefreshed}})
	if len(events) != 1 || events[0].Actor != "scheduler" {
		t.Errorf("events %+v, want one app.metadata_refreshed by the scheduler", events)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	// A fetch the shutdown cancelled may still reach the server after the
	// client gave up on it: let it land before counting.
	time.Sleep(50 * time.Millisecond)
	after := fetches.Load()
	time.Sleep(100 * time.Millisecond) // five refresh periods
	if n := fetches.Load(); n != after {
		t.Errorf("%d fetches after shutdown", n-after)
	}
}

// The first node imports its data-dir key into the store; a second node
// with another data dir on the same store signs with that key and
// generates none of its own.
func TestNodesShareSigningKey(t *testing.T) {
	cfg1 := testConfig(t)
	cfg1.MasterSecret = "a shared master secret for both nodes"
	cfg1.Database = filepath.Join(t.TempDir(), "shared.db")
	s1, err := New(context.Background(), cfg1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	onDisk, created, err := keys.LoadOrCreateSigning(cfg1.DataDir, "localhost", time.Now())
	if err != nil || created || !s1.Signing.Key.Equal(onDisk.Key) {
		t.Fatalf("node 1 does not sign with its data-dir key (created=%v err=%v)", created, err)
	}
	cfg2 := *cfg1
	cfg2.DataDir = t.TempDir()
	s2, err := New(context.Background(), &cfg2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	set, err := s2.Keys.SigningKeys(t.Context())
	if err != nil || !set.Active.Key.Equal(onDisk.Key) || !s2.Signing.Key.Equal(onDisk.Key) {
		t.Fatalf("node 2 signs with another key (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(cfg2.DataDir, "keys", "signing.key")); !os.IsNotExist(err) {
		t.Errorf("node 2 generated a data-dir key: %v", err)
	}
}

// rolledOkta is the Okta metadata fixture of package sp signing with the
// other certificate of the Entra ID fixture instead of its own.
func rolledOkta(t *testing.T) (before, after string) {
	t.Helper()
	dir := filepath.Join("..", "..", "sp", "testdata", "metadata")
	okta, err1 := os.ReadFile(filepath.Join(dir, "okta.xml"))
	entra, err2 := os.ReadFile(filepath.Join(dir, "entra.xml"))
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	u, err := sp.ParseMetadata(entra)
	if err != nil || len(u.Certs) != 2 {
		t.Fatalf("entra fixture: %v", err)
	}
	old, next := base64.StdEncoding.EncodeToString(u.Certs[0].Raw), base64.StdEncoding.EncodeToString(u.Certs[1].Raw)
	if !strings.Contains(string(okta), old) {
		t.Fatal("the okta fixture does not sign with entra's first certificate")
	}
	return string(okta), strings.Replace(string(okta), old, next, 1)
}

// TestServeRefreshesIdPMetadata serves a node whose upstream IdP publishes
// a new signing certificate: the node stores it without anyone acting.
// When the IdP's metadata URL then fails, the node logs it and keeps the
// metadata it has.
func TestServeRefreshesIdPMetadata(t *testing.T) {
	before, after := rolledOkta(t)
	var doc atomic.Value
	doc.Store(before)
	var fetches atomic.Int32
	var down atomic.Bool
	idpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(doc.Load().(string)))
	}))
	defer idpSrv.Close()

	cfg := testConfig(t)
	cfg.SAML.MetadataRefresh = config.Duration(20 * time.Millisecond)
	logs := &webtest.LogBuffer{}
	s, err := New(context.Background(), cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cat := &catalog.Catalog{Store: s.Store, Actor: "test"}
	p, _, err := cat.AddIdP(t.Context(), "okta", idpSrv.URL, sp.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()

	doc.Store(after)
	waitFor(t, "the new metadata to be stored", func() bool {
		got, err := s.Store.IdP(t.Context(), p.ID)
		return err == nil && got.Metadata == after
	})
	got, _ := s.Store.IdP(t.Context(), p.ID)
	if u, err := sp.ParseMetadata([]byte(got.Metadata)); err != nil || u.EntityID != p.EntityID {
		t.Errorf("stored metadata does not parse: %v", err)
	}
	events, _ := s.Store.ListEvents(t.Context(), store.EventFilter{Types: []string{sp.EventIdPRefreshed}})
	if len(events) != 1 || events[0].Actor != "scheduler" || events[0].Subject != "okta" {
		t.Errorf("events %+v, want one idp.refreshed by the scheduler", events)
	}
	waitFor(t, "the change to be logged", func() bool { return strings.Contains(logs.String(), "idp metadata changed") })

	if strings.Contains(logs.String(), "refresh failed") {
		t.Fatalf("a refresh failed while the IdP was up:\n%s", logs)
	}
	down.Store(true)
	n := fetches.Load()
	waitFor(t, "the failure to be logged", func() bool {
		return fetches.Load() > n && strings.Contains(logs.String(), "idp metadata refresh failed; keeping the metadata the IdP has")
	})
	if got, err := s.Store.IdP(t.Context(), p.ID); err != nil || got.Metadata != after {
		t.Errorf("a failed fetch changed the stored metadata (%v)", err)
	}
	if n := len(mustEvents(t, s.Store, sp.EventIdPRefreshed)); n != 1 {
		t.Errorf("%d idp.refreshed events after a failed fetch, want 1", n)
	}
}

func waitFor(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustEvents(t *testing.T, st store.Store, typ string) []audit.Event {
	t.Helper()
	evs, err := st.ListEvents(t.Context(), store.EventFilter{Types: []string{typ}})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
