-- sumkeep PostgreSQL schema, version 1: the log (records), its Merkle tree (stored hashes), every
-- signed head and the further notes of a head. Versions count per backend (migrations/sqlite/ has
-- its own); this one holds what SQLite's 001 and 002 hold.
--
-- The log is append-only and the database itself enforces it, whatever client writes: the triggers
-- below refuse UPDATE, DELETE and TRUNCATE of records, stored hashes, heads and head notes, and any
-- INSERT that would not extend the log: record ids that do not continue the log, stored hashes that
-- do not continue their tree level, a head that is not larger than every earlier one or does not
-- cover exactly the records and leaf hashes stored (so a head can only be inserted in the
-- transaction that inserts the data it covers, or after it). A path@version already logged is
-- refused by its UNIQUE key. INSERT ... ON CONFLICT DO UPDATE is refused by the UPDATE triggers;
-- ON CONFLICT DO NOTHING skips the conflicting rows, i.e. inserts nothing for them, and what it does
-- insert is checked like any insert.

-- Integers are bigint (ids and sizes go past 2^31); bytes are bytea; path and version use the "C"
-- collation: Go module paths compare bytewise and are case-sensitive, whatever the database's
-- default collation is.

-- One row per log entry. id is the record id (log index), 0-based and contiguous.
-- text holds the exact record bytes ("<path> <version> h1:...\n<path> <version>/go.mod h1:...\n").
-- created_at is milliseconds since the Unix epoch at which the batch was committed.
CREATE TABLE records (
  id bigint PRIMARY KEY CHECK (id >= 0),
  path text COLLATE "C" NOT NULL,
  version text COLLATE "C" NOT NULL,
  text bytea NOT NULL,
  source text NOT NULL,
  created_at bigint NOT NULL,
  UNIQUE (path, version)
);

-- Stored hashes of the Merkle tree, addressed by tree level and index within the level rather than
-- by tlog's stored-hash index: a tile of tile-level L and number N (height 8) is the single range
-- scan level = 8*L, n in [256*N, 256*N + W) over the primary key.
CREATE TABLE hashes (
  level integer NOT NULL CHECK (level >= 0),
  n bigint NOT NULL CHECK (n >= 0),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, n)
);

-- Every tree head ever signed, so that tiles and proofs can be served for each of them.
-- note holds the complete signed note, exact bytes as served on /latest. One head per size: two
-- nodes can never store two different heads of one size.
CREATE TABLE heads (
  size bigint PRIMARY KEY CHECK (size >= 0),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  note bytea NOT NULL,
  created_at bigint NOT NULL
);

-- Further signed notes of an existing head (the same tree signed again after a note-key rotation,
-- src/log/sequencer.ts cosign). Every note the server ever serves is kept, once.
CREATE TABLE head_notes (
  size bigint NOT NULL REFERENCES heads (size),
  note bytea NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (size, note)
);

-- One row, rewritten by the readiness probe (Store.checkWritable): a committed write is the only
-- honest proof that the server still accepts writes (not a standby, not read-only, disk not full).
CREATE TABLE write_probe (
  id integer PRIMARY KEY CHECK (id = 0),
  checked_at bigint NOT NULL
);

CREATE FUNCTION sumkeep_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'sumkeep: % is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

-- The inserts of one statement, checked together (a transition table, so a batch of 1,000 records
-- costs one check rather than 1,000). By induction the ids already stored are 0 .. k-1, and the
-- primary key keeps new ids distinct from them, so the new ids extend the log exactly when they are
-- contiguous (count = max - min + 1) and start right after a stored one (or at 0).
CREATE FUNCTION sumkeep_records_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lo bigint;
  hi bigint;
  cnt bigint;
BEGIN
  SELECT min(id), max(id), count(*) INTO lo, hi, cnt FROM new_records;
  IF cnt > 0 AND (hi - lo + 1 <> cnt OR (lo > 0 AND NOT EXISTS (SELECT 1 FROM records WHERE id = lo - 1))) THEN
    RAISE EXCEPTION 'sumkeep: record ids do not continue the log' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END;
$$;

-- The same for stored hashes, level by level: the hashes of each tree level are n = 0, 1, 2, ...
CREATE FUNCTION sumkeep_hashes_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM (SELECT level, min(n) AS lo, max(n) AS hi, count(*) AS cnt FROM new_hashes GROUP BY level) g
    WHERE g.hi - g.lo + 1 <> g.cnt
       OR (g.lo > 0 AND NOT EXISTS (SELECT 1 FROM hashes h WHERE h.level = g.level AND h.n = g.lo - 1))
  ) THEN
    RAISE EXCEPTION 'sumkeep: stored hashes do not continue their tree level' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END;
$$;

-- One row per batch: checked row by row, before the insert. The records and leaf hashes it covers
-- must already be stored (earlier in the same transaction), so a head never runs ahead of its data.
CREATE FUNCTION sumkeep_heads_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.size <= (SELECT max(size) FROM heads) THEN
    RAISE EXCEPTION 'sumkeep: signed head does not extend the latest one' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.size <> coalesce((SELECT max(id) FROM records), -1) + 1
     OR NEW.size <> coalesce((SELECT max(n) FROM hashes WHERE level = 0), -1) + 1 THEN
    RAISE EXCEPTION 'sumkeep: signed head does not cover exactly the stored records' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER records_append_only AFTER INSERT ON records
  REFERENCING NEW TABLE AS new_records
  FOR EACH STATEMENT EXECUTE FUNCTION sumkeep_records_append();
CREATE TRIGGER records_no_change BEFORE UPDATE OR DELETE ON records
  FOR EACH ROW EXECUTE FUNCTION sumkeep_refuse_change();
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records
  FOR EACH STATEMENT EXECUTE FUNCTION sumkeep_refuse_change();

CREATE TRIGGER hashes_append_only AFTER INSERT ON hashes
  REFERENCING NEW TABLE AS new_hashes
  FOR EACH STATEMENT EXECUTE FUNCTION sumkeep_hashes_append();
CREATE TRIGGER hashes_no_change BEFORE UPDATE OR DELETE ON hashes
  FOR EACH ROW EXECUTE FUNCTION sumkeep_refuse_change();
CREATE TRIGGER hashes_no_truncate BEFORE TRUNCATE ON hashes
  FOR EACH STATEMENT EXECUTE FUNCTION sumkeep_refuse_change();

CREATE TRIGGER heads_append_only BEFORE INSERT ON heads
  FOR EACH ROW EXECUTE FUNCTION sumkeep_heads_append();
CREATE TRIGGER heads_no_change BEFORE UPDATE OR DELETE ON heads
  FOR EACH ROW EXECUTE FUNCTION sumkeep_refuse_change();
CREATE TRIGGER heads_no_truncate BEFORE TRUNCATE ON heads
  FOR EACH STATEMENT EXECUTE FUNCTION sumkeep_refuse_change();

CREATE TRIGGER head_notes_no_change BEFORE UPDATE OR DELETE ON head_notes
  FOR EACH ROW EXECUTE FUNCTION sumkeep_refuse_change();
CREATE TRIGGER head_notes_no_truncate BEFORE TRUNCATE ON head_notes
  FOR EACH STATEMENT EXECUTE FUNCTION sumkeep_refuse_change();
