package catalog

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "portcullis.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// spDoc is SP metadata for entityID whose signing certificate is the bytes
// of cert (the catalogue compares certificates, it does not parse them).
func spDoc(entityID, cert string) string {
	return fmt.Sprintf(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">
  <SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>%s</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%s/acs" index="0"/>
  </SPSSODescriptor>
</EntityDescriptor>`, entityID, base64.StdEncoding.EncodeToString([]byte(cert)), entityID)
}

// metadataServer serves documents that a test can change, by path.
type metadataServer struct {
	*httptest.Server
	mu   sync.Mutex
	docs map[string]string
}

func newMetadataServer(t *testing.T) *metadataServer {
	m := &metadataServer{docs: map[string]string{}}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		doc, ok := m.docs[r.URL.Path]
		m.mu.Unlock()
		if !ok {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(doc))
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *metadataServer) set(path, doc string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if doc == "" {
		delete(m.docs, path)
	} else {
		m.docs[path] = doc
	}
	return m.URL + path
}

func events(t *testing.T, st store.Store, typ string) []string {
	t.Helper()
	evs, err := st.ListEvents(t.Context(), store.EventFilter{Types: []string{typ}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.App)
	}
	return out
}

func TestAdd(t *testing.T) {
	st := openStore(t)
	must(t, st.CreateGroup(t.Context(), &store.Group{Name: "eng"}))
	c := &Catalog{Store: st, Actor: "cli", Now: func() time.Time { return now }}
	srv := newMetadataServer(t)
	u := srv.set("/grafana", spDoc("https://grafana.example.com", "cert-1"))

	wiki, err := c.Add(t.Context(), NewApp{Name: "wiki", Source: filepath.Join("testdata", "sp.xml"),
		Groups: []string{"eng", " eng"}, Settings: idp.AppSettings{NameIDFormat: idp.NameIDPersistent}})
	must(t, err)
	if wiki.EntityID != "https://wiki.example.com/saml" || wiki.MFA != MFAOptional || wiki.MetadataURL != "" ||
		wiki.Kind != store.AppSAML || wiki.Metadata != string(readTestdata(t, "sp.xml")) || len(wiki.Groups) != 1 {
		t.Errorf("wiki = %+v", wiki)
	}
	if s, err := idp.ParseSettings(wiki.Settings); err != nil || s.NameIDFormat != idp.NameIDPersistent {
		t.Errorf("settings %s: %v", wiki.Settings, err)
	}
	grafana, err := c.Add(t.Context(), NewApp{Name: "grafana", Source: u, MFA: MFARequired, Groups: []string{AllGroups}})
	must(t, err)
	if grafana.MetadataURL != u || grafana.MFA != MFARequired {
		t.Errorf("grafana = %+v", grafana)
	}
	if got := events(t, st, EventAppCreated); strings.Join(got, ",") != "grafana,wiki" {
		t.Errorf("app.created events for %v", got)
	}
}

// Every refusal leaves the store as it was.
func TestAddRefusals(t *testing.T) {
	st := openStore(t)
	c := &Catalog{Store: st, Actor: "cli"}
	sp := filepath.Join("testdata", "sp.xml")
	_, err := c.Add(t.Context(), NewApp{Name: "wiki", Source: sp})
	must(t, err)
	other := filepath.Join(t.TempDir(), "other.xml")
	os.WriteFile(other, []byte(spDoc("https://other.example.com", "c")), 0o600)
	for name, tc := range map[string]struct {
		app  NewApp
		want string
	}{
		"same name":       {NewApp{Name: "WIKI", Source: other}, `an app named "WIKI" already exists`},
		"same entity ID":  {NewApp{Name: "wiki2", Source: sp}, `app "wiki" already has entity ID https://wiki.example.com/saml`},
		"unknown group":   {NewApp{Name: "other", Source: other, Groups: []string{"nobody"}}, `group "nobody" does not exist`},
		"bad mfa":         {NewApp{Name: "other", Source: other, MFA: "sometimes"}, `mfa "sometimes"`},
		"bad settings":    {NewApp{Name: "other", Source: other, Settings: idp.AppSettings{Sign: "never"}}, `sign "never"`},
		"no name":         {NewApp{Source: other}, "needs a name"},
		"doctype":         {NewApp{Name: "x", Source: filepath.Join("testdata", "doctype.xml")}, "DOCTYPE"},
		"idp metadata":    {NewApp{Name: "x", Source: filepath.Join("testdata", "idp.xml")}, "not a service provider"},
		"missing file":    {NewApp{Name: "x", Source: filepath.Join(t.TempDir(), "none.xml")}, "no such file"},
		"unreachable URL": {NewApp{Name: "x", Source: "http://127.0.0.1:1/metadata"}, "fetch"},
	} {
		if _, err := c.Add(t.Context(), tc.app); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
	apps, _ := st.ListApps(t.Context())
	if len(apps) != 1 || len(events(t, st, EventAppCreated)) != 1 {
		t.Errorf("after refusals: %d apps, want 1", len(apps))
	}
}

func TestRemove(t *testing.T) {
	st := openStore(t)
	c := &Catalog{Store: st, Actor: "cli"}
	_, err := c.Add(t.Context(), NewApp{Name: "wiki", Source: filepath.Join("testdata", "sp.xml")})
	must(t, err)
	if _, err := c.Remove(t.Context(), "Wiki"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Remove(t.Context(), "wiki"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("second remove: %v", err)
	}
	if got := events(t, st, EventAppDeleted); len(got) != 1 {
		t.Errorf("app.deleted events %v", got)
	}
}

func TestRefresh(t *testing.T) {
	st := openStore(t)
	srv := newMetadataServer(t)
	c := &Catalog{Store: st, Actor: "scheduler"}
	u := srv.set("/a", spDoc("https://a.example.com", "cert-1"))
	a, err := c.Add(t.Context(), NewApp{Name: "a", Source: u})
	must(t, err)
	b, err := c.Add(t.Context(), NewApp{Name: "b", Source: srv.set("/b", spDoc("https://b.example.com", "cert-1"))})
	must(t, err)
	_, err = c.Add(t.Context(), NewApp{Name: "file", Source: filepath.Join("testdata", "sp.xml")})
	must(t, err)

	results, err := c.RefreshAll(t.Context())
	must(t, err)
	if len(results) != 2 || results[0].Changed || results[1].Changed || results[0].Err != nil {
		t.Fatalf("unchanged metadata: %+v", results)
	}
	if got, _ := st.App(t.Context(), a.ID); !got.UpdatedAt.Equal(a.UpdatedAt) {
		t.Error("unchanged metadata was written")
	}

	srv.set("/a", spDoc("https://a.example.com", "cert-2")) // a new signing certificate
	srv.set("/b", "")                                       // b's server is down
	results, err = c.RefreshAll(t.Context())
	must(t, err)
	if !results[0].Changed || results[0].Err != nil {
		t.Errorf("a: %+v, want changed", results[0])
	}
	if results[1].Changed || results[1].Err == nil || !strings.Contains(results[1].Err.Error(), "503") {
		t.Errorf("b: %+v, want the fetch error", results[1])
	}
	if got, _ := st.App(t.Context(), a.ID); got.Metadata != spDoc("https://a.example.com", "cert-2") {
		t.Error("a's new metadata not stored")
	}
	if got, _ := st.App(t.Context(), b.ID); got.Metadata != b.Metadata {
		t.Error("b's metadata lost on a failed fetch")
	}
	evs, _ := st.ListEvents(t.Context(), store.EventFilter{Types: []string{EventMetadataRefreshed}})
	if len(evs) != 1 || evs[0].App != "a" || evs[0].Details["certificates"] == "unchanged" || evs[0].Details["acs"] != "unchanged" {
		t.Errorf("app.metadata_refreshed events: %+v", evs)
	}

	srv.set("/a", spDoc("https://evil.example.com", "cert-3"))
	if _, err := c.Refresh(t.Context(), "a"); err == nil || !strings.Contains(err.Error(), "entity ID") {
		t.Errorf("changed entity ID: %v", err)
	}
	if _, err := c.Refresh(t.Context(), "file"); err == nil || !strings.Contains(err.Error(), "from a file") {
		t.Errorf("file app: %v", err)
	}
	if _, err := c.Refresh(t.Context(), "nope"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("unknown app: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
