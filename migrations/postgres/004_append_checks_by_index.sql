-- sumkeep PostgreSQL schema, version 4: append-only checks that cost O(batch) whatever the size of
-- the log.
--
-- Why: the check of version 1's hashes trigger is one query without parameters, so each session
-- plans it once and keeps the plan. Planned while the log was small, PostgreSQL chose to hash the
-- whole hashes table to answer its NOT EXISTS ("hashed SubPlan" over a sequential scan), and kept
-- doing that on every batch: at 200,000 stored hashes that one check took 100-400 ms of a batch's
-- 150-450 ms. The same can happen to any lookup in a trigger (a cached generic plan made for a small
-- table). Now:
--  * the hashes trigger probes the stored hash before each new level's first one by its primary
--    key, level by level (a batch touches at most ~64 levels);
--  * every append-only trigger function runs with enable_seqscan = off, so its lookups (one
--    primary-key probe each, or max() over a primary key) are always index probes: the planner has
--    an index path for each of them, and with this setting never prefers scanning the table. The
--    scans of a statement's transition table (new_records, new_hashes: the batch itself) are not
--    table scans and are not affected.
-- What the triggers refuse is unchanged (see 001_init.sql).

CREATE OR REPLACE FUNCTION sumkeep_hashes_append() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE
  g record;
BEGIN
  FOR g IN SELECT level, min(n) AS lo, max(n) AS hi, count(*) AS cnt FROM new_hashes GROUP BY level LOOP
    IF g.hi - g.lo + 1 <> g.cnt
       OR (g.lo > 0 AND NOT EXISTS (SELECT 1 FROM hashes h WHERE h.level = g.level AND h.n = g.lo - 1)) THEN
      RAISE EXCEPTION 'sumkeep: stored hashes do not continue their tree level' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  END LOOP;
  RETURN NULL;
END;
$$;

ALTER FUNCTION sumkeep_records_append() SET enable_seqscan = off;
ALTER FUNCTION sumkeep_heads_append() SET enable_seqscan = off;
