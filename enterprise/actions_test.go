package enterprise

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/catalog"
	"github.com/portcullis/portcullis/mfa"
)

// knownTypes is every event type the gateway records, from the packages'
// own constants where this test may import them.
var knownTypes = []string{
	audit.LoginSucceeded, audit.LoginFailed, audit.LoginThrottled, audit.Logout, audit.UserCreated,
	audit.UserUpdated, audit.UserDisabled, audit.UserEnabled, audit.UserDeleted, audit.PasswordChanged,
	audit.GroupCreated, audit.GroupDeleted, audit.GroupUpdated, audit.GroupMemberAdd, audit.GroupMemberDel,
	audit.SessionsRevoked,
	mfa.EventEnrolled, mfa.EventRemoved, mfa.EventRenamed, mfa.EventSucceeded, mfa.EventFailed,
	mfa.EventThrottled, mfa.EventRefused, mfa.EventReset, mfa.EventPushSent, mfa.EventPushApproved,
	mfa.EventPushDenied, mfa.EventPushExpired, mfa.EventPushFraud, mfa.EventCounterRegression,
	idp.EventSSO, idp.EventSSORefused, idp.EventSLO,
	catalog.EventAppCreated, catalog.EventAppDeleted, catalog.EventMetadataRefreshed,
	"key.created", "key.rotated", // internal/server, which imports this package
	"api.token_issued", "api.token_revoked", // cmd/gateway
	EventInvited, EventPasswordReset, EventChangeRequired, EventSecretRegenerated,
	EventReporting, EventExpiredList, EventGetUserData, EventGetSFData, EventSitesPushed,
	EventFolderCreated, EventFolderShared, EventFolderUnshared, EventFolderAppAdded, EventFolderAppRemoved,
}

// LastPass's names (§7.2) for the types that have an equivalent.
var lastPassNames = map[string]string{
	audit.LoginSucceeded:   "Log in",
	audit.LoginFailed:      "Failed Login Attempt",
	audit.UserCreated:      "Employee Account Created",
	audit.UserDeleted:      "Employee Account Deleted",
	audit.UserDisabled:     "Deactivated User",
	audit.UserEnabled:      "Reactivated User",
	audit.GroupCreated:     "Create Group",
	audit.GroupMemberAdd:   "Adding User to Group",
	audit.PasswordChanged:  "Master Password Changed",
	idp.EventSSO:           "SAML Login",
	mfa.EventEnrolled:      "Multifactor Enabled",
	mfa.EventReset:         "Disabled Multifactor Authentication",
	EventInvited:           "Employee Invited",
	EventPasswordReset:     "Master Password Reset by Super Admin",
	EventChangeRequired:    "Require Password Change",
	EventSecretRegenerated: "Enterprise API Secret regenerated",
	EventReporting:         "Reporting",
	EventGetUserData:       "Get User Data",
	EventGetSFData:         "Get Shared Folder Data",
	EventFolderCreated:     "Created Shared Folder",
	EventFolderShared:      "Add to Shared Folder",
	EventFolderUnshared:    "Removed From Shared Folder",
	EventFolderAppAdded:    "Move to Shared Folder",
	EventFolderAppRemoved:  "Move from Shared Folder",
}

// titleCase reports whether every word is capitalised, but for the short
// words Title Case leaves small and the one word LastPass itself writes in
// lower case ("Enterprise API Secret regenerated").
func titleCase(s string) bool {
	for _, w := range strings.Fields(s) {
		r := []rune(w)
		if !unicode.IsUpper(r[0]) && !slices.Contains([]string{"in", "to", "by", "from", "of", "regenerated"}, w) {
			return false
		}
	}
	return s != ""
}

func TestActionNames(t *testing.T) {
	for _, typ := range knownTypes {
		a, ok := eventActions[typ]
		if !ok {
			t.Errorf("%s: not in the table", typ)
			continue
		}
		if !titleCase(a.name) {
			t.Errorf("%s: %q is not Title Case", typ, a.name)
		}
		if want, ok := lastPassNames[typ]; ok && a.name != want {
			t.Errorf("%s: %q, want LastPass's %q", typ, a.name, want)
		}
	}
	for typ := range eventActions {
		if !slices.Contains(knownTypes, typ) {
			t.Errorf("%s: in the table but recorded nowhere the test knows", typ)
		}
	}
	// Elastic classifies by substring: our own names must not contain a
	// LastPass name they are not.
	for typ, a := range eventActions {
		for _, lp := range []string{"log in", "saml login", "failed login attempt", "reporting", "multifactor enabled"} {
			if n := strings.ToLower(a.name); strings.Contains(n, lp) && n != lp {
				t.Errorf("%s: %q contains %q", typ, a.name, lp)
			}
		}
	}
}

func TestActionFallback(t *testing.T) {
	for typ, want := range map[string]string{
		"mfa.totp.failed":        "MFA TOTP Failed",
		"custom_thing-happened":  "Custom Thing Happened",
		"saml.sso.idp_initiated": "SAML SSO Idp Initiated",
		"x":                      "X",
		"élan.vital":             "Élan Vital",
		"":                       "Unknown Event",
		"..":                     "Unknown Event",
	} {
		if got := Action(typ); got != want {
			t.Errorf("Action(%q) = %q, want %q", typ, got, want)
		}
	}
}

func TestAdminTypes(t *testing.T) {
	admin := adminTypes()
	for typ, want := range map[string]bool{
		audit.UserCreated: true, audit.GroupMemberAdd: true, EventSecretRegenerated: true, EventReporting: true,
		mfa.EventReset: true, EventFolderShared: true, "key.rotated": true,
		audit.LoginSucceeded: false, audit.LoginFailed: false, mfa.EventEnrolled: false, audit.PasswordChanged: false,
		idp.EventSSO: false, "unknown.type": false,
	} {
		if got := slices.Contains(admin, typ); got != want {
			t.Errorf("%s admin = %v, want %v", typ, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	at := time.Date(2015, 7, 17, 13, 51, 51, 999_999_000, time.UTC)
	ny, _ := time.LoadLocation("America/New_York")
	for _, tc := range []struct {
		e    audit.Event
		want Row
	}{
		{audit.Event{ID: 7, Time: at, Type: audit.LoginFailed, Subject: "j.user@example.com", IP: "10.16.21.21"},
			Row{"2015-07-17 09:51:51", "j.user@example.com", "10.16.21.21", "Failed Login Attempt", "", "7"}},
		{audit.Event{ID: 8, Time: at, Type: audit.LoginSucceeded, Actor: "ann@example.com", Subject: "ann@example.com", App: "wiki"},
			Row{"2015-07-17 09:51:51", "ann@example.com", "", "Log in", "wiki", "8"}},
		{audit.Event{ID: 9, Time: at, Type: audit.UserCreated, Actor: "api", Subject: "new@example.com"},
			Row{"2015-07-17 09:51:51", "API", "", "Employee Account Created", "new@example.com", "9"}},
		{audit.Event{ID: 10, Type: audit.GroupCreated, Actor: "api:hr-sync", Subject: "Sales Team"},
			Row{"", "API: hr-sync", "", "Create Group", "'Sales Team'", "10"}},
		{audit.Event{ID: 11, Type: audit.GroupMemberAdd, Actor: "scim:okta", Subject: "a@example.com", Details: map[string]string{"group": "Sales"}},
			Row{"", "SCIM: okta", "", "Adding User to Group", "a@example.com - Sales", "11"}},
		{audit.Event{ID: 12, Type: idp.EventSSO, Actor: "a@example.com", Subject: "a@example.com", App: "Grafana"},
			Row{"", "a@example.com", "", "SAML Login", "Grafana", "12"}},
		{audit.Event{ID: 13, Type: mfa.EventEnrolled, Actor: "a@example.com", Details: map[string]string{"factor": "totp"}},
			Row{"", "a@example.com", "", "Multifactor Enabled", "totp", "13"}},
		{audit.Event{ID: 14, Type: EventReporting, Actor: "api:splunk.collector"},
			Row{"", "API: splunk.collector", "", "Reporting", "Initiated by API", "14"}},
		{audit.Event{ID: 15, Type: EventSecretRegenerated, Actor: "cli", Subject: "enterprise"},
			Row{"", "CLI", "", "Enterprise API Secret regenerated", "", "15"}},
		{audit.Event{ID: 16, Type: audit.GroupUpdated, Actor: "cli", Subject: "New", Details: map[string]string{"previous_name": "Old"}},
			Row{"", "CLI", "", "Update Group", "'Old' 'New'", "16"}},
		{audit.Event{ID: 17, Type: EventFolderShared, Actor: "cli", Subject: "Ops",
			Details: map[string]string{"user": "b@example.com", "readonly": "1"}},
			Row{"", "CLI", "", "Add to Shared Folder", "'Ops' 'b@example.com'", "17"}},
		{audit.Event{ID: 18, Type: EventFolderAppAdded, Actor: "api", Subject: "Ops", Details: map[string]string{"app": "Grafana"}},
			Row{"", "API", "", "Move to Shared Folder", "Grafana to Ops", "18"}},
		{audit.Event{ID: 19, Type: "webhook.delivered", Actor: "bootstrap", Subject: "hook", App: "Pager"},
			Row{"", "bootstrap", "", "Webhook Delivered", "Pager", "19"}},
		{audit.Event{ID: 20, Type: "api.token_issued", Actor: "cli", Subject: "scim:okta"},
			Row{"", "CLI", "", "SCIM Token Issued", "okta", "20"}},
	} {
		if got := Describe(tc.e, ny); got != tc.want {
			t.Errorf("Describe(%s) = %+v\nwant %+v", tc.e.Type, got, tc.want)
		}
	}
}
