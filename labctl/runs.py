"""``labctl.runs``: the run catalog from Python (``query(...) -> DataFrame``), as ``labctl runs`` uses it."""

from labctl.catalog import Catalog, catalog_path, query, reindex

__all__ = ["Catalog", "catalog_path", "query", "reindex"]
