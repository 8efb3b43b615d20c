"""Load a YAML file and remember the source line of every field, so errors can name it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

import yaml

from .errors import ConfigError


class Located:
    """A parsed YAML document plus the line (1-based) of each field path such as ``("pins", 3, "card")``."""

    def __init__(self, path: Path, data: object, lines: dict[tuple, int]) -> None:
        self.path = path
        self.data = data
        self.lines = lines

    def error(self, where: tuple, value: object, why: str) -> ConfigError:
        """Build a ``ConfigError`` naming the file, line and dotted field of ``where``."""
        field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in where).replace(".[", "[")
        line = next((self.lines[where[:n]] for n in range(len(where), -1, -1) if where[:n] in self.lines), 1)
        return ConfigError(f"{self.path}:{line}: {field or '<document>'}={value!r}: {why}")

    def check_keys(self, where: tuple, mapping: dict, known: Iterable[str]) -> None:
        """Raise ``ConfigError`` naming the first key of ``mapping`` not in ``known`` and the nearest known one.

        A misspelt section (``limit:`` for ``limits:``) must not be ignored: its contents would be lost.
        """
        known = sorted(known)
        for key in mapping:
            if key not in known:
                near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.5)
                hint = f"did you mean {near[0]}?" if near else f"known: {', '.join(known)}"
                field = ".".join(map(str, where + (key,)))
                line = self.lines.get(where + (key,), self.lines.get(where, 1))
                raise ConfigError(f"{self.path}:{line}: unknown key {field!r}; {hint}")


def read_text(path: Path) -> str:
    """The text of ``path``; a missing or non-UTF-8 file raises ``ConfigError`` naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a text (UTF-8) file: byte {exc.start} is {exc.object[exc.start]:#04x}") from None


def load_located(path: str | Path, text: str | None = None) -> Located:
    """Parse ``path`` (or ``text``, read from it already); a missing file or bad YAML raises ``ConfigError``
    naming it."""
    path = Path(path)
    text = read_text(path) if text is None else text
    lines: dict[tuple, int] = {}
    try:
        data = _parse(text, lines)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]  # a ReaderError's text has several lines
        raise ConfigError(f"{path}:{line}: not valid YAML: {problem}") from None
    return Located(path, data, lines)


FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The same safe loader in C (libyaml) where PyYAML was built with it: the same nodes, lines and data."""


def _parse(text: str, lines: dict[tuple, int]) -> object:
    """``yaml.safe_load(text)``, parsed once: the same nodes give ``lines`` and then the data.

    libyaml's loader (5x faster: a bench opens its 900-pin probe-card map each time) when PyYAML has it;
    a file it refuses is parsed again in Python, whose messages name more (the alias, the token found).
    """
    try:
        return _parse_with(FAST_LOADER, text, lines)
    except yaml.YAMLError:
        lines.clear()
        return _parse_with(yaml.SafeLoader, text, lines)


def _parse_with(loader_class, text: str, lines: dict[tuple, int]) -> object:
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        _walk(root, (), lines)  # before constructing, which flattens merge keys (<<) into their mappings
        return None if root is None else loader.construct_document(root)
    finally:
        loader.dispose()


def _walk(node, where: tuple, lines: dict[tuple, int]) -> None:
    if node is None:
        return
    lines[where] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _walk(value, where + (key.value,), lines)
            lines[where + (key.value,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, where + (i,), lines)
