-- sumkeep schema, version 2: further signed notes of an existing tree head.
--
-- After a note-key rotation the stored note of the latest tree carries only the old key's
-- signature. The sequencer signs that same tree text again with every current note key and serves
-- the new note (src/log/sequencer.ts, cosign): same tree size and root hash, other signature lines.
-- Every note the server ever serves is kept, so each one is stored here, once.
-- note holds the complete signed note, exact bytes as served.
CREATE TABLE head_notes (
  size INTEGER NOT NULL REFERENCES heads (size),
  note BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (size, note)
) WITHOUT ROWID;

CREATE TRIGGER head_notes_no_update BEFORE UPDATE ON head_notes
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: head notes are append-only');
END;

CREATE TRIGGER head_notes_no_delete BEFORE DELETE ON head_notes
BEGIN
  SELECT RAISE(ABORT, 'sumkeep: head notes are append-only');
END;
