"""The SQLite file: where it lives, how it is opened (WAL, busy timeout), rows in and out.

WAL lets the GUI, a headless ``labctl run`` and a ``labctl runs list`` read and write at once;
writers queue on the busy timeout instead of failing. Connections are short-lived (one per
operation), so nothing is shared between threads or processes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from .record import RunRecord
from .schema import migrate

ENV_VAR = "LABCTL_CATALOG"
"""Environment variable holding the catalog path (``off`` disables recording)."""
DISABLED = ("off", "none", "0")
BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for another process's write transaction before giving up."""
RUN_COLUMNS = ("id", "kind", "name", "backend", "chip_id", "device_ids", "parameters", "seed", "model_id",
               "git_revision", "instrument_idns", "temperature_k", "started", "ended", "status", "folder",
               "primary_file", "pid", "host", "pid_start", "parent_id", "summary")


def catalog_path() -> Path | None:
    """The catalog file: ``$LABCTL_CATALOG``, else ``catalog.sqlite`` in the user data dir; None if off."""
    value = os.environ.get(ENV_VAR)
    if value is not None and value.strip().lower() in DISABLED:
        return None
    if value:
        return Path(value).expanduser()
    import platformdirs

    return platformdirs.user_data_path("labctl") / "catalog.sqlite"


def now_iso() -> str:
    """Current UTC time, ISO 8601 with microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Catalog:
    """One catalog file. Every method opens, uses and closes its own connection."""

    def __init__(self, path: str | Path | None = None):
        path = Path(path) if path is not None else catalog_path()
        if path is None:
            from labctl.errors import ConfigError

            raise ConfigError(f"the run catalog is off ({ENV_VAR}={os.environ.get(ENV_VAR)})")
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._open()
        except sqlite3.DatabaseError as exc:  # not a database, or a damaged one: the run folders are the truth
            aside = self._move_aside()
            self._open()
            sys.stderr.write(f"warning: run catalog {self.path} was unreadable ({exc}): moved aside to {aside.name} "
                             "and started empty; rebuild it with `labctl runs reindex DIR` (your run folders)\n")
            sys.stderr.flush()

    def _open(self) -> None:
        with closing(self._connect()) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {check}")
            migrate(conn)

    def _move_aside(self) -> Path:
        """Rename the damaged file (and its WAL files) to ``<name>.corrupt-<time>``; returns the new path."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        self.path.replace(aside)
        for suffix in ("-wal", "-shm"):
            extra = self.path.with_name(self.path.name + suffix)
            if extra.exists():
                extra.replace(aside.with_name(aside.name + suffix))
        return aside

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.row_factory = sqlite3.Row
        return conn

    def _write(self, statements: list[tuple[str, tuple]]) -> None:
        """Run ``statements`` in one immediate transaction (all or nothing)."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    conn.execute(sql, args)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def select(self, sql: str, args: tuple = ()) -> list[dict]:
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute(sql, args).fetchall()]

    # -- runs --------------------------------------------------------------------------------------
    def upsert(self, record: RunRecord) -> None:
        """Insert or replace one run with its files and inputs."""
        row = record.row()
        cols = ", ".join(RUN_COLUMNS)
        marks = ", ".join("?" for _ in RUN_COLUMNS)
        statements = [(f"INSERT OR REPLACE INTO runs ({cols}) VALUES ({marks})", tuple(row[c] for c in RUN_COLUMNS)),
                      ("DELETE FROM files WHERE run_id=?", (record.id,)),
                      ("DELETE FROM inputs WHERE run_id=?", (record.id,))]
        statements += [("INSERT INTO files VALUES (?, ?, ?, ?)", (record.id, f.path, f.sha256, f.size_bytes))
                       for f in record.files]
        statements += [("INSERT OR IGNORE INTO inputs VALUES (?, ?, ?, ?)", (record.id, i.sha256, i.role, i.path))
                       for i in record.inputs]
        self._write(statements)

    def set_status(self, run_id: str, status: str, ended: str | None) -> None:
        self._write([("UPDATE runs SET status=?, ended=? WHERE id=?", (status, ended, run_id))])

    def runs(self, where: str = "", args: tuple = ()) -> list[dict]:
        """Run rows (parameters and summary decoded), newest first."""
        rows = self.select(f"SELECT * FROM runs {where} ORDER BY started DESC, id", args)
        for row in rows:
            row["parameters"] = json.loads(row["parameters"] or "{}")
            row["summary"] = json.loads(row["summary"] or "{}")
        return rows

    def resolve(self, prefix: str) -> str:
        """The full id of the one run whose id starts with ``prefix``."""
        from labctl.errors import ConfigError, field_error

        ids = [r["id"] for r in self.select("SELECT id FROM runs WHERE id LIKE ? ORDER BY id", (prefix + "%",))]
        if len(ids) != 1:
            why = "no such run" if not ids else f"ambiguous: {', '.join(ids[:5])}"
            raise field_error(ConfigError, "run id", prefix, why)
        return ids[0]

    def files(self, run_id: str) -> list[dict]:
        return self.select("SELECT path, sha256, size_bytes FROM files WHERE run_id=? ORDER BY path", (run_id,))

    def input_runs(self, run_id: str) -> list[dict]:
        """Runs that produced a file this run read (matched by sha256), with the role of the input."""
        return self.select(
            "SELECT DISTINCT r.id, r.kind, r.name, r.chip_id, i.role, i.path AS input FROM inputs i "
            "JOIN files f ON f.sha256 = i.sha256 JOIN runs r ON r.id = f.run_id "
            "WHERE i.run_id=? AND r.id != ? ORDER BY r.started, r.id", (run_id, run_id))

    def output_runs(self, run_id: str) -> list[dict]:
        """Runs that read a file of this run."""
        return self.select(
            "SELECT DISTINCT r.id, r.kind, r.name, i.role FROM files f JOIN inputs i ON i.sha256 = f.sha256 "
            "JOIN runs r ON r.id = i.run_id WHERE f.run_id=? AND r.id != ? ORDER BY r.started, r.id",
            (run_id, run_id))

    def children(self, run_id: str) -> list[dict]:
        return self.select("SELECT id, kind, name, status FROM runs WHERE parent_id=? ORDER BY started, id", (run_id,))

    # -- roots -------------------------------------------------------------------------------------
    def add_root(self, folder: str | Path) -> None:
        self._write([("INSERT OR IGNORE INTO roots VALUES (?, ?)", (str(Path(folder).resolve()), now_iso()))])

    def roots(self) -> list[Path]:
        return [Path(r["path"]) for r in self.select("SELECT path FROM roots ORDER BY path")]
