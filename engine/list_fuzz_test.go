package engine

import "testing"

// FuzzParseList: a damaged torrent list never panics the engine's restore.
func FuzzParseList(f *testing.F) {
	f.Add([]byte(`[{"info_hash": "0123456789abcdef0123456789abcdef01234567", "dir": "/d", "peers": ["127.0.0.1:1"]}]`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[{"info_hash": 5}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := parseList(data)
		if err != nil {
			return
		}
		for _, le := range list {
			parseHash(le.InfoHash)
			parsePeers(le.Peers)
		}
	})
}
