-- sumkeep PostgreSQL schema, version 5: the append of one batch as one statement.
--
-- Store.appendBatch used to send seven statements per batch, each a round trip (BEGIN, the append
-- lock, the latest size, records, hashes, head, COMMIT); on a busy machine every round trip waits
-- for the scheduler twice. sumkeep_append does the same steps inside one call, and the call is its
-- own transaction (the implicit transaction of a single statement, committed when it returns), so:
--  * the advisory lock (class 'sumk' 0x73756d6b, key 'appn' 0x6170706e: LOCK_CLASS and
--    APPEND_LOCK of src/store/postgres-migrate.ts) is taken first and held until the commit, and
--    it serializes commits with every other writer, old or new, as before;
--  * the latest size is read after the lock is granted (a function's statements each take a new
--    snapshot under READ COMMITTED), so the size compared is the size the inserts extend;
--  * records, stored hashes and the head are inserted in that transaction, by the same statements
--    as before, and the append-only triggers check each insert as they check any writer's.
-- When the latest size is not old_size, nothing is inserted and appended is false (the caller
-- reports the conflict); any refusal by a key or a trigger aborts the whole call.
--
-- Arguments: old_size, the size the batch extends; the records as arrays (ids, paths, versions,
-- sources, and offsets and lengths into texts, the record texts concatenated); created_at, the
-- commit time (ms since the epoch) of the records and the head; the stored hashes as (level, n)
-- arrays and hash_bytes, their 32-byte values concatenated in the same order; the head.
CREATE FUNCTION sumkeep_append(
  old_size bigint,
  ids bigint[],
  paths text[],
  versions text[],
  sources text[],
  offs int4[],
  lens int4[],
  texts bytea,
  created_at bigint,
  levels int4[],
  ns int8[],
  hash_bytes bytea,
  head_size bigint,
  head_hash bytea,
  head_note bytea,
  OUT latest bigint,
  OUT appended boolean
) LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(1937075563, 1634758766);
  SELECT max(h.size) INTO latest FROM heads h;
  IF coalesce(latest, 0) <> old_size THEN
    appended := false;
    RETURN;
  END IF;
  INSERT INTO records (id, path, version, text, source, created_at)
    SELECT r.id, r.path, r.version, substring(texts FROM r.off + 1 FOR r.len), r.source, sumkeep_append.created_at
    FROM unnest(ids, paths, versions, sources, offs, lens) WITH ORDINALITY AS r(id, path, version, source, off, len, k)
    ORDER BY r.k;
  INSERT INTO hashes (level, n, hash)
    SELECT x.level, x.n, substring(hash_bytes FROM (x.k::int4 - 1) * 32 + 1 FOR 32)
    FROM unnest(levels, ns) WITH ORDINALITY AS x(level, n, k)
    ORDER BY x.k;
  INSERT INTO heads (size, hash, note, created_at) VALUES (head_size, head_hash, head_note, sumkeep_append.created_at);
  appended := true;
END;
$$;
