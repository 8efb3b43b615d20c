"""Generated bad bench files (misspelt keys at any level, limits past their ceilings, random bytes,
files cut short) are refused in one line naming the key, never with a traceback; a few dozen here,
benchmarks/reliability.py runs thousands."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from . import fuzz, fuzz_files
from .test_properties import PROFILE


@settings(PROFILE, max_examples=80)
@given(data=st.data())
def test_bad_bench_file_is_refused_in_one_line_naming_the_key(tmp_path, data):
    tree = fuzz.bench_tree(tmp_path)
    kind, content, path = data.draw(fuzz_files.bad_bench_files(tree))
    outcome = fuzz_files.bench_file_case(tmp_path, kind, content, path)
    assert outcome == "rejected" or kind == "truncated"  # a cut that keeps a whole valid file may load


def test_every_class_is_generated(tmp_path):
    tree = fuzz.bench_tree(tmp_path)
    seen = set()

    @settings(max_examples=60, derandomize=True, database=None)
    @given(fuzz_files.bad_bench_files(tree))
    def collect(case):
        seen.add(case[0])
    collect()
    assert seen == set(fuzz_files.CLASSES)
