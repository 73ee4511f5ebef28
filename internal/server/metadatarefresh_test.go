package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/catalog"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/store"
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
	after := fetches.Load()
	time.Sleep(100 * time.Millisecond)
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
