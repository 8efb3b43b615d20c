"""Hardware in the loop: the same training loop on HardwareArray over the simulated instruments."""

from __future__ import annotations

from labctl.training import train
from labctl.visalog import audit, read_log


def test_single_layer_trains_on_sim_instruments_and_leaves_the_bench_safe(tmp_path):
    log = tmp_path / "visa.log"
    df = train(backend="sim-instruments", model="garg-hzo-2us", algo="mpsgd", epochs=1, layers=(30, 10), seed=1,
               train_samples=3000, test_samples=300, progress=False, visa_log=str(log))
    assert df.loc[0, "pulses"] > 0
    assert df.attrs["transactions"][0] > 0 and df.attrs["chip_time_s"][0] > 0
    assert df.loc[0, "test_accuracy"] > 0.15  # above chance (0.10) after one short epoch
    hot_switches, outputs_on = audit(read_log(log))
    assert hot_switches == [] and not outputs_on
