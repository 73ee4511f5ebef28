package filter

import (
	"cmp"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// compareValue applies op to one attribute value and the literal, per
// RFC 7644 §3.4.2.2: values of different types never compare equal, so
// "ne" is the negation of "eq" and the other operators are false.
func compareValue(attr any, op Op, lit any, exact bool) bool {
	if op == OpNe {
		return !compareValue(attr, OpEq, lit, exact)
	}
	switch l := lit.(type) {
	case string:
		return compareString(attr, op, l, exact)
	case bool:
		b, ok := attr.(bool)
		return ok && op == OpEq && b == l
	}
	ln, ok := toNum(lit)
	an, ok2 := toNum(attr)
	return ok && ok2 && ordered(op, an.compare(ln))
}

func compareString(attr any, op Op, lit string, exact bool) bool {
	switch a := attr.(type) {
	case bool:
		// Entra ID sends booleans as strings: active eq "True".
		l := strings.ToLower(lit)
		return op == OpEq && (l == "true" || l == "false") && a == (l == "true")
	case string:
		return compareStrings(a, op, lit, exact)
	}
	return false
}

func compareStrings(a string, op Op, lit string, exact bool) bool {
	if op != OpCo && op != OpSw && op != OpEw {
		if ta, err := time.Parse(time.RFC3339, a); err == nil {
			if tl, err := time.Parse(time.RFC3339, lit); err == nil {
				return ordered(op, ta.Compare(tl))
			}
		}
	}
	if !exact {
		a, lit = strings.ToLower(a), strings.ToLower(lit)
	}
	switch op {
	case OpCo:
		return strings.Contains(a, lit)
	case OpSw:
		return strings.HasPrefix(a, lit)
	case OpEw:
		return strings.HasSuffix(a, lit)
	}
	return ordered(op, strings.Compare(a, lit))
}

// ordered maps a three-way comparison result onto eq, gt, lt, ge and le.
func ordered(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpGt:
		return c > 0
	case OpLt:
		return c < 0
	case OpGe:
		return c >= 0
	case OpLe:
		return c <= 0
	}
	return false
}

// num is a JSON number, kept as an int64 when it is one so that large
// identifiers compare exactly.
type num struct {
	i     int64
	f     float64
	isInt bool
}

func (a num) float() float64 {
	if a.isInt {
		return float64(a.i)
	}
	return a.f
}

func (a num) compare(b num) int {
	if a.isInt && b.isInt {
		return cmp.Compare(a.i, b.i)
	}
	return cmp.Compare(a.float(), b.float())
}

// toNum reads the number types encoding/json and Go callers produce.
// Floats are parsed rather than held as big numbers, so a literal such as
// 1e999999999 costs nothing (it becomes +Inf).
func toNum(v any) (num, bool) {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return num{i: i, isInt: true}, true
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return num{}, false
		}
		return num{f: f}, true
	case float64:
		return num{f: x}, true
	case float32:
		return num{f: float64(x)}, true
	case int:
		return num{i: int64(x), isInt: true}, true
	case int32:
		return num{i: int64(x), isInt: true}, true
	case int64:
		return num{i: x, isInt: true}, true
	case uint64:
		if x > math.MaxInt64 {
			return num{f: float64(x)}, true
		}
		return num{i: int64(x), isInt: true}, true
	}
	return num{}, false
}
