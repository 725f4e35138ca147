-- sumkeep PostgreSQL schema, version 3 (SQLite's 004): what sumkeep remembers of the independent checksum
-- databases it cross-checks public modules against (--check-sumdb), like the go command's
-- $GOPATH/pkg/sumdb/<name>/latest.
--
-- remote_heads: per database name, the largest signed tree head sumkeep has verified and proven
-- consistent with every earlier one. size is the tree size, hash the 32-byte root hash, note the
-- complete signed note, exact bytes as that database served it; seen_at in ms since the epoch. A
-- row is only ever replaced by a larger tree (src/store: saveRemoteHead), never removed by sumkeep.
CREATE TABLE remote_heads (
  name text PRIMARY KEY,
  size bigint NOT NULL CHECK (size >= 0),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  note bytea NOT NULL,
  seen_at bigint NOT NULL
);

-- remote_forks: a database that showed two tree heads that cannot both be prefixes of one log.
-- proof is UTF-8 text holding both signed notes; while a row exists every cross-check against that
-- database fails closed, on every node and after a restart. The first proof is kept; an operator
-- removes the row once the fork is understood (docs/operations.md).
CREATE TABLE remote_forks (
  name text PRIMARY KEY,
  proof text NOT NULL,
  detected_at bigint NOT NULL
);
