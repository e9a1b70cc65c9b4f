// Package publish holds what updatable publications (BEP 46) need besides
// the DHT: the publisher's ed25519 key in a file of its own (Key, moved
// between machines with ImportKey), the record of a publication between
// runs (Record), the rule a follower applies to every item it reads
// (Check), and the copy of files dropped on a publication into its
// folder (CopyInto). It starts no goroutines; the
// DHT lookups and puts are the engine's (Engine.GetItem, Engine.PutItem).
package publish
