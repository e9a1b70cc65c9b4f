package printable

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile holds what a torrent name or an error text may carry to attack
// a terminal: ESC sequences (title, colour, erase line), BEL, CR, the
// one-character CSI U+009B, a right-to-left override, an isolate, a zero
// width space, a BOM, a tag character and invalid UTF-8.
const hostile = "a\x1b]0;owned\x07b\r\x1b[2Kc\u009b31md\u202egpj.exe\u2066e\u200bf\ufeffg\U000E0041h\xff\xfei\u2028j\x00k\x7f"

func TestString(t *testing.T) {
	cases := map[string]string{
		"":                        "",
		"plain name.iso":          "plain name.iso",
		"Café – 東京 🎉":             "Café – 東京 🎉",
		"👨\u200d👩\u200d👧":         "👨\u200d👩\u200d👧", // ZWJ sequence kept
		"می\u200cخواهم":           "می\u200cخواهم",   // ZWNJ kept
		"tab\there":               "tab\uFFFDhere",
		"\x1b[31mred":             "\uFFFD[31mred",
		"csi\u009b2J":             "csi\uFFFD2J",
		"evil\u202egpj.exe":       "evil\uFFFDgpj.exe",
		"\u2066iso\u2069":         "\uFFFDiso\uFFFD",
		"\u200e\u200f\u061c":      "\uFFFD\uFFFD\uFFFD",
		"soft\u00adhyphen":        "soft\uFFFDhyphen",
		"bad\xffutf8":             "bad\uFFFDutf8",
		"cut\xe6\x97":             "cut\uFFFD\uFFFD",
		"line\u2028para\u2029end": "line\uFFFDpara\uFFFDend",
	}
	for in, want := range cases {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	got := String(hostile)
	checkClean(t, got)
	for _, part := range []string{"a", "]0;owned", "[2Kc", "31md", "gpj.exe", "k"} {
		if !strings.Contains(got, part) {
			t.Errorf("String(hostile) = %q lost the visible text %q", got, part)
		}
	}
}

func TestJSON(t *testing.T) {
	in := map[string]string{"name": hostile, "plain": "Café 🎉", "emoji": "👨\u200d👩"}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\u009b") || !strings.Contains(string(data), "\u202e") {
		t.Fatalf("encoding/json escaped the C1 CSI and RLO itself (%q): the test proves nothing", data)
	}
	out := JSON(data)
	checkClean(t, string(out))
	var back, want map[string]string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("escaped JSON does not decode: %v\n%s", err, out)
	}
	json.Unmarshal(data, &want)
	for k, v := range want {
		if back[k] != v {
			t.Errorf("%s: decoded %q, want %q", k, back[k], v)
		}
	}
	if !strings.Contains(string(out), `\u009b`) || !strings.Contains(string(out), `\udb40\udc41`) {
		t.Errorf("not escaped as expected: %s", out)
	}
	if plain := []byte(`{"a":"Café"}`); &JSON(plain)[0] != &plain[0] {
		t.Error("JSON copied clean input")
	}
}

// checkClean fails t when s is invalid UTF-8 or holds a character a
// terminal acts on, checked against a list written out here rather than
// with Unsafe.
func checkClean(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("invalid UTF-8 in %q", s)
	}
	for _, r := range s {
		switch {
		case r < 0x20, r >= 0x7f && r < 0xa0,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
			r == 0x200e, r == 0x200f, r == 0x061c, r == 0x200b, r == 0xfeff,
			r == 0x2028, r == 0x2029, r >= 0xe0000 && r <= 0xe007f:
			t.Fatalf("character %U left in %q", r, s)
		}
	}
}

// FuzzString: the output holds no unsafe character and is valid UTF-8,
// String is idempotent, and safe input passes unchanged.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", hostile, "\xe2\x80", "👨\u200d👩", "\u009b", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range out {
			if Unsafe(r) {
				t.Fatalf("String(%q) kept %U", s, r)
			}
		}
		if again := String(out); again != out {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
		if safe(s) && out != s {
			t.Fatalf("safe %q changed to %q", s, out)
		}
		if utf8.ValidString(s) && utf8.RuneCountInString(out) != utf8.RuneCountInString(s) {
			t.Fatalf("%q: %d characters became %d", s, utf8.RuneCountInString(s), utf8.RuneCountInString(out))
		}
	})
}

// FuzzJSON: for JSON made by encoding/json from any string, the escaped
// text holds no byte below 0x20 and no unsafe character, decodes to the
// same string, and escaping twice changes nothing more.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{"", "plain", hostile, "\U0010ffff\u009b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		out := JSON(data)
		if !utf8.Valid(out) {
			t.Fatalf("invalid UTF-8 in %q", out)
		}
		for _, r := range string(out) {
			if r < 0x20 || Unsafe(r) {
				t.Fatalf("JSON(%q) kept %U", data, r)
			}
		}
		var got, want string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q does not decode: %v", out, err)
		}
		json.Unmarshal(data, &want)
		if got != want {
			t.Fatalf("decoded %q, want %q", got, want)
		}
		if again := JSON(out); string(again) != string(out) {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
	})
}
