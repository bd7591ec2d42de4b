"""Pure: the log record (wire and stored form), its one hash, the chain over a log, and the
Merkle tree of RFC 9162. No I/O: every layer above may use it."""
