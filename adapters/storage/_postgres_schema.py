"""The PostgreSQL store's tables, triggers and fixed statements.

Integer keys (``pm_partnerships.id``), ``bytea`` event ids and hashes, and
``bytea`` UTF-8 for every free-text field: PostgreSQL ``text`` cannot hold a
NUL character, and partnership ids, activities or actors may. Partnership names
are unique by SHA-256 (a btree entry cannot hold a long incompressible name).
UPDATE, DELETE and TRUNCATE on ``pm_events`` raise an "append-only" error.
"""

from __future__ import annotations

from typing import Final

from engine import schema as s

__all__ = [
    "BYTEA_ARRAY",
    "COPY_SQL",
    "DB_COLUMNS",
    "DDL",
    "DDL_LOCK",
    "DIGEST_ARRAY",
    "SELECT_EVENTS",
]

# Event-frame column -> SQL column of pm_events (the partnership is an integer key).
DB_COLUMNS: Final = {
    s.POSITION: "position",
    s.PARTNERSHIP_ID: "partnership",
    s.VERSION: "version",
    s.EVENT_ID: "event_id",
    s.ACTIVITY: "activity",
    s.TIMESTAMP: "ts",
    s.TZ_OFFSET: "tz_offset_s",
    s.PHASE: "phase",
    s.ACTOR: "actor",
    s.ORGANIZATION: "organization",
    s.PARTICIPANTS: "participants",
    s.WORKSTREAM: "workstream",
    s.ATTRIBUTES: "attributes",
    s.SCHEMA_VERSION: "schema_version",
    s.RECORDED_AT: "recorded_at",
    s.CONTENT_HASH: "content_hash",
    s.HASH: "hash",
}
# A comma-separated hex parameter as bytea[].
BYTEA_ARRAY: Final = (
    "ARRAY(SELECT decode(h, 'hex') FROM unnest(string_to_array(%s, ',')) AS h)"
)
# The same, as the SHA-256 digests partnership names are indexed by.
DIGEST_ARRAY: Final = (
    "ARRAY(SELECT sha256(decode(h, 'hex')) FROM unnest(string_to_array(%s, ',')) AS h)"
)
DDL_LOCK: Final = 7_310_251_001  # pg_advisory_xact_lock key for schema creation

DDL: Final = """
CREATE TABLE IF NOT EXISTS pm_partnerships (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name bytea NOT NULL
);
-- Unique on a digest: a btree entry cannot hold a long (incompressible) name.
CREATE UNIQUE INDEX IF NOT EXISTS pm_partnerships_name
    ON pm_partnerships (sha256(name));
CREATE TABLE IF NOT EXISTS pm_events (
    position bigint PRIMARY KEY,
    partnership integer NOT NULL REFERENCES pm_partnerships (id),
    version bigint NOT NULL CHECK (version >= 1),
    event_id bytea NOT NULL UNIQUE CHECK (length(event_id) = 16),
    activity bytea NOT NULL,
    ts timestamptz NOT NULL,
    tz_offset_s integer NOT NULL,
    phase bytea,
    actor bytea,
    organization bytea,
    participants bytea,
    workstream bytea,
    attributes bytea,
    schema_version smallint NOT NULL,
    recorded_at timestamptz NOT NULL,
    content_hash bytea NOT NULL,
    hash bytea NOT NULL,
    UNIQUE (partnership, version)
);
CREATE TABLE IF NOT EXISTS pm_checkpoints (
    name text PRIMARY KEY,
    position bigint NOT NULL
);
CREATE OR REPLACE FUNCTION pm_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'pm_events is append-only: % refused', TG_OP
        USING ERRCODE = 'raise_exception';
END $$;
CREATE OR REPLACE TRIGGER pm_events_no_update_delete
    BEFORE UPDATE OR DELETE ON pm_events
    FOR EACH ROW EXECUTE FUNCTION pm_refuse_change();
CREATE OR REPLACE TRIGGER pm_events_no_truncate
    BEFORE TRUNCATE ON pm_events
    FOR EACH STATEMENT EXECUTE FUNCTION pm_refuse_change();
"""

SELECT_EVENTS: Final = """
SELECT e.position, p.name AS pid, e.version, e.event_id, e.activity, e.ts,
       e.tz_offset_s, e.phase, e.actor, e.organization, e.participants,
       e.workstream, e.attributes, e.schema_version, e.recorded_at,
       e.content_hash, e.hash
FROM pm_events e JOIN pm_partnerships p ON p.id = e.partnership
"""


COPY_SQL: Final = (
    "COPY pm_events (position, partnership, version, event_id, activity, phase, "
    "actor, organization, workstream, attributes, ts, tz_offset_s, participants, "
    "schema_version, recorded_at, content_hash, hash) FROM STDIN (FORMAT csv)"
)
