"""The catalog's tables and their forward migrations (one SQL script per version step).

A database records its version in ``schema_version``; opening it runs every later script in one
transaction, so an old catalog is upgraded in place and never rebuilt (rows keep their ids).
"""

from __future__ import annotations

import sqlite3

V1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE runs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, backend TEXT, chip_id TEXT,
    device_ids TEXT, parameters TEXT NOT NULL DEFAULT '{}', seed INTEGER, model_id TEXT,
    git_revision TEXT, instrument_idns TEXT, temperature_k REAL, started TEXT, ended TEXT,
    status TEXT NOT NULL, folder TEXT NOT NULL, primary_file TEXT NOT NULL, pid INTEGER);
CREATE TABLE files (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, path TEXT NOT NULL,
    sha256 TEXT NOT NULL, size_bytes INTEGER NOT NULL, PRIMARY KEY (run_id, path));
CREATE INDEX files_sha256 ON files(sha256);
CREATE INDEX runs_status ON runs(status);
"""

V2 = """
ALTER TABLE runs ADD COLUMN host TEXT;
ALTER TABLE runs ADD COLUMN pid_start TEXT;
ALTER TABLE runs ADD COLUMN parent_id TEXT;
ALTER TABLE runs ADD COLUMN summary TEXT NOT NULL DEFAULT '{}';
CREATE TABLE inputs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, sha256 TEXT NOT NULL,
    role TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (run_id, sha256, role));
CREATE INDEX inputs_sha256 ON inputs(sha256);
CREATE TABLE roots (path TEXT PRIMARY KEY, added TEXT NOT NULL);
"""
"""v2: process identity (host, start tick) for the dead-run sweep, nesting, summaries, lineage, roots."""

MIGRATIONS = (V1, V2)
"""``MIGRATIONS[k]`` upgrades a version-k database to version k + 1 (version 0: empty file)."""
SCHEMA_VERSION = len(MIGRATIONS)


def version_of(conn: sqlite3.Connection) -> int:
    """The schema version of an open database (0 when it has no tables yet)."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; return the version it had.

    Runs under ``BEGIN IMMEDIATE`` so two processes opening an old catalog at once migrate it once.
    A newer database than this code knows is refused rather than guessed at.
    """
    from labctl.errors import ConfigError

    start = version_of(conn)
    if start == SCHEMA_VERSION:
        return start
    conn.execute("BEGIN IMMEDIATE")
    try:
        start = version_of(conn)  # another process may have migrated while we waited for the lock
        if start > SCHEMA_VERSION:
            raise ConfigError(f"catalog schema version {start} is newer than this labctl ({SCHEMA_VERSION})")
        for version in range(start, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version VALUES (?)", (version + 1,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return start
