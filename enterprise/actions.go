package enterprise

// How audit events read in reports (lastpass-apis.md §7). Decisions:
//   - Action is LastPass's string where §7.2 has an equivalent, spelled as
//     §7.2 spells it (clients compare case-insensitively, §7.1); every other
//     type of the gateway has its own Title Case name, chosen not to contain
//     a LastPass name that it is not (Elastic classifies events by substrings
//     such as "log in" and "saml login"). A type this table does not know
//     reads as its words in Title Case: "mfa.totp.failed" → "MFA TOTP Failed".
//   - Data follows §7.2's format for LastPass's actions (the email for
//     account actions, 'name' for Create Group, "email - group" for Adding
//     User to Group, "Initiated by API" for API calls) and is the most
//     useful single value otherwise (the app, the factor, the subject).
//   - Username (§7.1, §9.10) is who acted: the user's email; "API" for the
//     Enterprise API, or "API: NAME" when the caller sent apiuser NAME (one
//     client filters on "API", a SIEM parser expects "API: name"); "SCIM:
//     NAME" for a SCIM token; "CLI" for the gateway command. An anonymous
//     attempt (a failed login) shows the username that was tried.
//   - Admin events (reporting's admin "1") are the administrative types:
//     changes to users, groups, folders, apps, keys and secrets, and the
//     API's own calls; a user's sign-ins, MFA and password changes are
//     user activity, whoever the user is.

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/portcullis/portcullis/audit"
)

// Event types recorded by packages this one may not import (mfa, idp,
// internal/catalog, internal/server, cmd/gateway); actions_test.go checks
// them against those packages' constants where it can import them.
const (
	typeMFAEnrolled      = "mfa.enrolled"
	typeMFARemoved       = "mfa.removed"
	typeMFARenamed       = "mfa.renamed"
	typeMFASucceeded     = "mfa.succeeded"
	typeMFAFailed        = "mfa.failed"
	typeMFAThrottled     = "mfa.throttled"
	typeMFARefused       = "mfa.refused"
	typeMFAReset         = "mfa.reset"
	typePushSent         = "mfa.push.sent"
	typePushApproved     = "mfa.push.approved"
	typePushDenied       = "mfa.push.denied"
	typePushExpired      = "mfa.push.expired"
	typePushFraud        = "mfa.push.suspected_fraud"
	typeCounterRegressed = "mfa.webauthn.counter_regression"
	typeSSO              = "saml.sso"
	typeSSORefused       = "saml.sso.refused"
	typeSLO              = "saml.slo"
	typeAppCreated       = "app.created"
	typeAppDeleted       = "app.deleted"
	typeAppRefreshed     = "app.metadata_refreshed"
	typeKeyCreated       = "key.created"
	typeKeyRotated       = "key.rotated"
	typeTokenIssued      = "api.token_issued"
	typeTokenRevoked     = "api.token_revoked"
)

// Events of the Enterprise API's read commands (§7.2: LastPass logs its
// API calls), each "api." and the command's name; getuserdata's and
// getsfdata's are in their files.
const (
	EventReporting   = "api.reporting"
	EventExpiredList = "api.expiredmasterpwlist"
)

// apiCalls names the API's read commands as LastPass's reports do; their
// events are "api." + cmd, with Data "Initiated by API".
var apiCalls = map[string]string{
	"getuserdata":         "Get User Data",
	"getsfdata":           "Get Shared Folder Data",
	"reporting":           "Reporting",
	"expiredmasterpwlist": "Expired Master Password List",
}

// eventAction is how reports show one event type.
type eventAction struct {
	name  string
	admin bool                     // an administrative change (reporting's admin filter)
	data  func(audit.Event) string // nil: no Data
}

var eventActions = map[string]eventAction{
	audit.LoginSucceeded:  {"Log in", false, evApp},
	audit.LoginFailed:     {"Failed Login Attempt", false, evApp},
	audit.LoginThrottled:  {"Login Throttled", false, evApp},
	audit.Logout:          {"Log Out", false, nil},
	audit.PasswordChanged: {"Master Password Changed", false, nil},
	typeSSO:               {"SAML Login", false, evApp},
	typeSSORefused:        {"SAML Request Refused", false, evApp},
	typeSLO:               {"SAML Logout", false, evApp},
	typeMFAEnrolled:       {"Multifactor Enabled", false, evFactor},
	typeMFARemoved:        {"Multifactor Removed", false, evFactor},
	typeMFARenamed:        {"Multifactor Renamed", false, evFactor},
	typeMFASucceeded:      {"Multifactor Succeeded", false, evFactor},
	typeMFAFailed:         {"Multifactor Failed", false, evFactor},
	typeMFAThrottled:      {"Multifactor Throttled", false, evApp},
	typeMFARefused:        {"Multifactor Refused", false, evApp},
	typePushSent:          {"Push Notification Sent", false, evApp},
	typePushApproved:      {"Push Notification Approved", false, evApp},
	typePushDenied:        {"Push Notification Denied", false, evApp},
	typePushExpired:       {"Push Notification Expired", false, evApp},
	typePushFraud:         {"Push Notification Suspected Fraud", false, evApp},
	typeCounterRegressed:  {"Security Key Counter Regression", false, evApp},

	audit.UserCreated:      {"Employee Account Created", true, evSubject},
	audit.UserUpdated:      {"Employee Account Updated", true, evRenamed("previous_email", false)},
	audit.UserDisabled:     {"Deactivated User", true, evSubject},
	audit.UserEnabled:      {"Reactivated User", true, evSubject},
	audit.UserDeleted:      {"Employee Account Deleted", true, evSubject},
	EventInvited:           {"Employee Invited", true, evSubject},
	EventPasswordReset:     {"Master Password Reset by Super Admin", true, evSubject},
	EventChangeRequired:    {"Require Password Change", true, evSubject},
	typeMFAReset:           {"Disabled Multifactor Authentication", true, evSubject},
	audit.SessionsRevoked:  {"Sessions Revoked", true, evSubject},
	audit.GroupCreated:     {"Create Group", true, evQuoted},
	audit.GroupDeleted:     {"Delete Group", true, evQuoted},
	audit.GroupUpdated:     {"Update Group", true, evRenamed("previous_name", true)},
	audit.GroupMemberAdd:   {"Adding User to Group", true, evMembership},
	audit.GroupMemberDel:   {"Removing User from Group", true, evMembership},
	EventFolderCreated:     {"Created Shared Folder", true, evSubject},
	EventFolderShared:      {"Add to Shared Folder", true, evFolderMember},
	EventFolderUnshared:    {"Removed From Shared Folder", true, evFolderMember},
	EventFolderAppAdded:    {"Move to Shared Folder", true, evFolderApp(" to ")},
	EventFolderAppRemoved:  {"Move from Shared Folder", true, evFolderApp(" from ")},
	EventSitesPushed:       {"Push Sites to Users", true, evFolderApp(" to ")},
	typeAppCreated:         {"App Added", true, evSubject},
	typeAppDeleted:         {"App Deleted", true, evSubject},
	typeAppRefreshed:       {"App Metadata Refreshed", true, evSubject},
	typeKeyCreated:         {"Signing Key Created", true, evSubject},
	typeKeyRotated:         {"Signing Key Rotated", true, evSubject},
	typeTokenIssued:        {"SCIM Token Issued", true, evTokenName},
	typeTokenRevoked:       {"SCIM Token Revoked", true, evTokenName},
	EventSecretRegenerated: {"Enterprise API Secret regenerated", true, nil},
}

func init() {
	for cmd, name := range apiCalls {
		eventActions["api."+cmd] = eventAction{name, true, func(audit.Event) string { return "Initiated by API" }}
	}
}

// Action returns the report name of an event type (§7.2).
func Action(typ string) string {
	if a, ok := eventActions[typ]; ok {
		return a.name
	}
	return titleWords(typ)
}

// adminTypes lists the administrative event types (reporting's admin "1").
func adminTypes() []string {
	var out []string
	for typ, a := range eventActions {
		if a.admin {
			out = append(out, typ)
		}
	}
	slices.Sort(out)
	return out
}

// acronyms are written in capitals when an unknown type is turned into words.
var acronyms = map[string]string{"api": "API", "mfa": "MFA", "saml": "SAML", "scim": "SCIM", "sso": "SSO",
	"slo": "SLO", "totp": "TOTP", "otp": "OTP", "ip": "IP", "id": "ID", "oidc": "OIDC", "url": "URL", "cli": "CLI"}

// titleWords turns an unknown event type into Title Case words.
func titleWords(typ string) string {
	words := strings.FieldsFunc(typ, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == ' ' })
	for i, w := range words {
		if a, ok := acronyms[strings.ToLower(w)]; ok {
			words[i] = a
		} else {
			r, n := utf8.DecodeRuneInString(w)
			words[i] = string(unicode.ToUpper(r)) + w[n:]
		}
	}
	if len(words) == 0 {
		return "Unknown Event"
	}
	return strings.Join(words, " ")
}

// Row is an audit event as LastPass's reports show it (§7.1).
type Row struct {
	Time      string // "YYYY-MM-DD HH:MM:SS" in the reporting zone
	Username  string
	IPAddress string
	Action    string
	Data      string
	ID        string // the event's ID (the SIEM format's only)
}

// Describe returns e as a report row, its time in zone.
func Describe(e audit.Event, zone *time.Location) Row {
	r := Row{Username: username(e), IPAddress: e.IP, Action: Action(e.Type), ID: strconv.FormatInt(e.ID, 10)}
	if !e.Time.IsZero() {
		r.Time = e.Time.In(zone).Format(timeLayout)
	}
	if a, ok := eventActions[e.Type]; ok && a.data != nil {
		r.Data = a.data(e)
	} else if !ok {
		r.Data = firstOf(e.App, e.Subject)
	}
	return r
}

// username is who acted, as §7.1's Username.
func username(e audit.Event) string {
	switch {
	case e.Actor == "":
		return e.Subject
	case e.Actor == "api":
		return "API"
	case strings.HasPrefix(e.Actor, "api:"):
		return "API: " + e.Actor[len("api:"):]
	case strings.HasPrefix(e.Actor, "scim:"):
		return "SCIM: " + e.Actor[len("scim:"):]
	case e.Actor == "cli":
		return "CLI"
	}
	return e.Actor
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func evApp(e audit.Event) string     { return e.App }
func evSubject(e audit.Event) string { return e.Subject }
func evQuoted(e audit.Event) string  { return "'" + e.Subject + "'" }
func evFactor(e audit.Event) string  { return firstOf(e.Details["factor"], e.App) }

// evMembership is "email - group" (Adding User to Group).
func evMembership(e audit.Event) string { return e.Subject + " - " + e.Details["group"] }

// evRenamed shows 'old' 'new' (Renamed Shared Folder) when the event
// carries the previous name under key, else the name, in quotes if quoted.
func evRenamed(key string, quoted bool) func(audit.Event) string {
	return func(e audit.Event) string {
		switch old := e.Details[key]; {
		case old != "":
			return "'" + old + "' '" + e.Subject + "'"
		case quoted:
			return "'" + e.Subject + "'"
		}
		return e.Subject
	}
}

// evFolderMember is 'folder' 'member' (Add to / Removed From Shared Folder):
// the folder is the subject; the member a user's email or a group's name
// (folders.go's Details).
func evFolderMember(e audit.Event) string {
	return "'" + e.Subject + "' '" + firstOf(e.Details["user"], e.Details["group"]) + "'"
}

// evFolderApp is "app to Folder" / "app from Folder" (Move to/from Shared
// Folder).
func evFolderApp(sep string) func(audit.Event) string {
	return func(e audit.Event) string { return e.Details["app"] + sep + e.Subject }
}

// evTokenName is the SCIM token's name (the subject is "scim:NAME").
func evTokenName(e audit.Event) string { return strings.TrimPrefix(e.Subject, "scim:") }
