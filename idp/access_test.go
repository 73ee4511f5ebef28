package idp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/store"
)

func TestAccess(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.user("group@example.com", "staff")
	viaFolderUser := h.user("folder-user@example.com")
	h.user("folder-group@example.com", "contractors")
	h.user("nobody@example.com", "visitors")
	sp := newTestSP(t, "wiki", spOpts{})
	wiki := h.app("Wiki", sp, spOpts{}, idp.AppSettings{}, "staff")
	open := newTestSP(t, "open", spOpts{})
	h.app("Open", open, spOpts{}, idp.AppSettings{}, idp.Everyone)

	contractors, _ := h.st.GroupByName(ctx, "contractors")
	f := store.Folder{Name: "Shared"}
	must(t, h.st.CreateFolder(ctx, &f))
	must(t, h.st.AddFolderApp(ctx, f.ID, wiki.ID))
	must(t, h.st.ShareFolder(ctx, f.ID, store.FolderMember{Kind: store.MemberUser, ID: viaFolderUser.ID, ReadOnly: true}))
	must(t, h.st.ShareFolder(ctx, f.ID, store.FolderMember{Kind: store.MemberGroup, ID: contractors.ID, ReadOnly: true}))

	for _, c := range []struct {
		email string
		want  int
		apps  []string
	}{
		{"group@example.com", http.StatusOK, []string{"Open", "Wiki"}},
		{"folder-user@example.com", http.StatusOK, []string{"Open", "Wiki"}},
		{"folder-group@example.com", http.StatusOK, []string{"Open", "Wiki"}},
		{"nobody@example.com", http.StatusForbidden, []string{"Open"}},
	} {
		t.Run(c.email, func(t *testing.T) {
			cl := h.loggedIn(c.email)
			r := cl.Get(h.url + idp.LaunchPath("Wiki"))
			if r.StatusCode != c.want {
				t.Fatalf("launch = %d, want %d\n%s", r.StatusCode, c.want, pageText(r.Body))
			}
			if c.want == http.StatusForbidden && h.lastEvent(idp.EventSSORefused).Subject != c.email {
				t.Error("no refusal event for the user")
			}
			u, _ := h.st.UserByEmail(ctx, c.email)
			handler := &idp.Handler{Store: h.st}
			apps, err := handler.AppsFor(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, a := range apps {
				names = append(names, a.Name)
			}
			if len(names) != len(c.apps) || (len(names) > 0 && names[0] != c.apps[0]) || names[len(names)-1] != c.apps[len(c.apps)-1] {
				t.Errorf("portal apps = %v, want %v", names, c.apps)
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
