-- sumkeep schema, version 3: signed heads by commit time, for the status page's growth chart.
--
-- Store.headGrowth asks, for a bounded number of instants, for the head with the latest
-- created_at at or before each one (ties: the larger size). With this index each is one seek
-- (and min/max(created_at) are one seek each), whatever the number of heads.
CREATE INDEX heads_by_time ON heads (created_at, size);
