-- sumkeep schema, version 1: the log (records), its Merkle tree (stored hashes) and every signed head.
--
-- The log is append-only and the database itself enforces it: the triggers below abort any UPDATE
-- or DELETE of a record, stored hash or head, and any INSERT that would not extend the log (a record
-- whose id is not the next one or whose path@version is already logged, a hash that is already
-- stored, a head that is not larger than every earlier one). BEFORE INSERT triggers also stop
-- INSERT OR REPLACE, whose implicit delete does not fire DELETE triggers.

-- One row per log entry. id is the record id (log index), 0-based and contiguous.
-- text holds the exact record bytes ("<path> <version> h1:...\n<path> <version>/go.mod h1:...\n").
-- path and version compare bytewise (BINARY collation): Go module paths are case-sensitive.
-- created_at is milliseconds since the Unix epoch at which the batch was committed.
CREATE TABLE records (
  id INTEGER PRIMARY KEY CHECK (id >= 0),
  path TEXT NOT NULL,
  version TEXT NOT NULL,
  text BLOB NOT NULL,
  source TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (path, version)
);

-- Stored hashes of the Merkle tree, addressed by tree level and index within the level rather than
-- by tlog's stored-hash index: a tile of tile-level L and number N (height 8) is then the single
-- range scan level = 8*L, n in [256*N, 256*N + W) over the primary key.
CREATE TABLE hashes (
  level INTEGER NOT NULL CHECK (level >= 0),
  n INTEGER NOT NULL CHECK (n >= 0),
  hash BLOB NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, n)
) WITHOUT ROWID;

-- Every tree head ever signed, so that tiles and proofs can be served for each of them.
-- note holds the complete signed note, exact bytes as served on /latest.
CREATE TABLE heads (
  size INTEGER PRIMARY KEY CHECK (size >= 0),
  hash BLOB NOT NULL CHECK (length(hash) = 32),
  note BLOB NOT NULL,
  created_at INTEGER NOT NULL
);

-- One row, rewritten by the readiness probe (Store.checkWritable): a real committed write is the
-- only honest proof that the file, its directory and the disk still accept writes.
CREATE TABLE write_probe (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  checked_at INTEGER NOT NULL
);

CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: records are append-only');
END;

CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: records are append-only');
END;

CREATE TRIGGER records_append_only BEFORE INSERT ON records
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: record id is not the next log index')
  WHERE NEW.id IS NOT (SELECT coalesce(max(id), -1) + 1 FROM records);
  SELECT RAISE(ABORT, 'sumkeep: record path@version is already logged')
  WHERE EXISTS (SELECT 1 FROM records WHERE path = NEW.path AND version = NEW.version);
END;

CREATE TRIGGER hashes_no_update BEFORE UPDATE ON hashes
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: stored hashes are append-only');
END;

CREATE TRIGGER hashes_no_delete BEFORE DELETE ON hashes
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: stored hashes are append-only');
END;

CREATE TRIGGER hashes_append_only BEFORE INSERT ON hashes
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: stored hash is already stored')
  WHERE EXISTS (SELECT 1 FROM hashes WHERE level = NEW.level AND n = NEW.n);
END;

CREATE TRIGGER heads_no_update BEFORE UPDATE ON heads
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: signed heads are append-only');
END;

CREATE TRIGGER heads_no_delete BEFORE DELETE ON heads
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: signed heads are append-only');
END;

CREATE TRIGGER heads_append_only BEFORE INSERT ON heads
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: signed head does not extend the latest one')
  WHERE NEW.size <= (SELECT max(size) FROM heads);
END;
