"""Following the docs from the repository root leaves no untracked output behind: every folder a documented
``--out`` writes is ignored by git."""

from __future__ import annotations

import re
import shlex

from tests.test_docs import PAGES, ROOT, blocks, commands


def test_every_documented_output_folder_is_ignored():
    ignored = {line.strip().strip("/") for line in (ROOT / ".gitignore").read_text().splitlines()
               if line.strip().endswith("/") and not line.startswith("#")}
    tops = set()
    for page in [*PAGES, ROOT / "README.md"]:
        for _, lang, _, body in blocks(page):
            if lang not in ("console", "bash"):
                continue
            for line, _ in commands(body):
                args = shlex.split(line, comments=True)
                tops |= {re.split(r"[/\\]", args[i + 1])[0] for i, a in enumerate(args[:-1]) if a in ("--out", "-o")
                         and "/" in args[i + 1]}
    assert tops and tops <= ignored, f"documented output folders git would show as untracked: {tops - ignored}"
