package enterprise

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/portcullis/portcullis/store"
)

// expUsers creates users; expired ones must change their password.
func expUsers(t *testing.T, s *server, us ...store.User) map[string]string {
	t.Helper()
	ids := map[string]string{}
	err := s.st.InTx(t.Context(), func(tx store.Tx) error {
		for i := range us {
			if err := tx.CreateUser(t.Context(), &us[i]); err != nil {
				return err
			}
			ids[us[i].Email] = strconv.FormatInt(us[i].ID, 10)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestExpiredMasterPasswordList(t *testing.T) {
	old := expiredScan
	expiredScan = 2 // read the directory in several calls
	t.Cleanup(func() { expiredScan = old })
	eachBackend(t, func(t *testing.T, s *server) {
		s.cmd(t, "expiredmasterpwlist", "").
			want(t, `{"status":"Success","continuation":{"token":null,"remaining_item_count":0},"items":[]}`)

		changed := time.Date(2022, 1, 13, 8, 30, 13, 0, time.UTC) // 03:30:13 in New York
		id := expUsers(t, s,
			store.User{Email: "a@example.com", PasswordHash: "h", PasswordResetRequired: true, PasswordChangedAt: changed},
			store.User{Email: "fine@example.com", PasswordHash: "h", PasswordChangedAt: changed},
			store.User{Email: "disabled@example.com", PasswordHash: "h", PasswordResetRequired: true, Disabled: true},
			store.User{Email: "federated@example.com", PasswordResetRequired: true},
			store.User{Email: "b@example.com", PasswordHash: "h", PasswordResetRequired: true},
			store.User{Email: "c@example.com", PasswordHash: "h", PasswordResetRequired: true, PasswordChangedAt: changed},
		)
		a := `{"user_id":` + id["a@example.com"] + `,"user_name":"a@example.com","last_pw_change":"2022-01-13 03:30:13"}`
		b := `{"user_id":` + id["b@example.com"] + `,"user_name":"b@example.com","last_pw_change":""}`
		c := `{"user_id":` + id["c@example.com"] + `,"user_name":"c@example.com","last_pw_change":"2022-01-13 03:30:13"}`
		for _, data := range []string{"", `{}`, `null`, `{"limit":0}`, `{"limit":500,"continuation_token":""}`} {
			s.cmd(t, "expiredmasterpwlist", data).want(t,
				`{"status":"Success","continuation":{"token":null,"remaining_item_count":0},"items":[`+a+`,`+b+`,`+c+`]}`)
		}
		// A client's loop: the token of each page starts the next.
		s.cmd(t, "expiredmasterpwlist", `{"limit":"1"}`).want(t,
			`{"status":"Success","continuation":{"token":"`+id["a@example.com"]+`","remaining_item_count":2},"items":[`+a+`]}`)
		s.cmd(t, "expiredmasterpwlist", `{"limit":1,"continuation_token":"`+id["a@example.com"]+`"}`).want(t,
			`{"status":"Success","continuation":{"token":"`+id["b@example.com"]+`","remaining_item_count":1},"items":[`+b+`]}`)
		s.cmd(t, "expiredmasterpwlist", `{"limit":1,"continuation_token":`+id["b@example.com"]+`}`).want(t,
			`{"status":"Success","continuation":{"token":null,"remaining_item_count":0},"items":[`+c+`]}`)
		s.cmd(t, "expiredmasterpwlist", `{"limit":2,"continuation_token":"`+id["c@example.com"]+`"}`).want(t,
			`{"status":"Success","continuation":{"token":null,"remaining_item_count":0},"items":[]}`)

		evs, err := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{EventExpiredList}})
		if err != nil || len(evs) != 10 || evs[0].Actor != "api" {
			t.Errorf("events: %d %v", len(evs), err)
		}
	})
}

func TestExpiredListLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		var us []store.User
		for i := range maxExpiredItems + 2 {
			us = append(us, store.User{Email: fmt.Sprintf("u%03d@example.com", i), PasswordHash: "h", PasswordResetRequired: true})
		}
		id := expUsers(t, s, us...)
		for _, data := range []string{`{"limit":501}`, `{}`} {
			r := s.cmd(t, "expiredmasterpwlist", data)
			want := `{"status":"Success","continuation":{"token":"` + id["u499@example.com"] + `","remaining_item_count":2},"items":[`
			if r.status != 200 || len(r.body) < len(want) || r.body[:len(want)] != want {
				t.Errorf("%s: %.200s", data, r.body)
			}
		}
		for _, data := range []string{`{"limit":-1}`, `{"limit":"many"}`, `{"limit":1.5}`, `{"limit":[1]}`} {
			s.cmd(t, "expiredmasterpwlist", data).want(t, `{"status":"FAIL","error":"Invalid limit: want a number from 1 to 500"}`)
		}
		for _, data := range []string{`{"continuation_token":"next"}`, `{"continuation_token":-3}`, `{"continuation_token":{}}`} {
			s.cmd(t, "expiredmasterpwlist", data).want(t, `{"status":"FAIL","error":"Invalid continuation_token"}`)
		}
		if r := s.cmd(t, "expiredmasterpwlist", `"all"`); r.body[:39] != `{"status":"FAIL","error":"Invalid data:` {
			t.Errorf("string data: %s", r.body)
		}
	})
}
