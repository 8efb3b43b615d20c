"""Analytic latency and energy of one inference of a sparse layer: index-free vs dense vs index-based.

A first-order estimator, not NeuroSim: every constant is a field of :class:`CostAssumptions` and is
written next to the table it produces. Cell read energy comes from the device model (V^2 G t).

* dense: the whole ``fan_in x fan_out`` array is read in one parallel MVM; pruning saves nothing.
* index-based: only the non-zero weights are stored, packed into ``ceil(nnz / fan_in)`` full columns
  of a dense array; each stored weight needs an index (``ceil(log2 fan_in)`` bits) fetched from SRAM
  and an input-routing (mux) step per weight, and a packed column mixes outputs, so its partial sums
  are gathered digitally (one digital add per stored weight).
* index-free (seed 000): the same array as dense with a sparsity device per cell; pruned cells are
  gated off (their series current is ~0); no index memory, no routing; twice the devices.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from device_models.params import ChipModel


@dataclass(frozen=True)
class CostAssumptions:
    """Constants of the estimator (typical literature values; our choice)."""

    integration_s: float = 10e-9
    """Time the column currents are integrated per MVM."""
    adc_energy_j: float = 2e-12
    """Energy of one 8-bit ADC conversion (SAR)."""
    adc_time_s: float = 10e-9
    """Time of one conversion."""
    adcs: int = 8
    """ADCs shared by the columns (conversions run in ceil(columns / adcs) rounds)."""
    dac_energy_j: float = 0.1e-12
    """Energy of driving one input row."""
    sram_energy_per_bit_j: float = 0.05e-12
    """Energy of reading one index bit from SRAM."""
    sram_bits_per_cycle: int = 64
    """Index bits fetched per SRAM cycle."""
    sram_cycle_s: float = 1e-9
    """SRAM cycle time."""
    mux_energy_j: float = 0.05e-12
    """Energy of routing one input to one stored weight (index-based)."""
    digital_add_energy_j: float = 0.03e-12
    """Energy of one digital accumulation of a partial sum (index-based)."""
    digital_add_time_s: float = 0.5e-9
    """Time of one digital accumulation (sequential per output)."""
    read_v: float = 0.1
    """Read voltage on the rows."""


def estimate_costs(fan_in: int, fan_out: int, sparsity: float, model: ChipModel,
                   assumptions: CostAssumptions = CostAssumptions()) -> pd.DataFrame:
    """Latency (s) and energy (J) per inference of a ``fan_in x fan_out`` layer, per storage scheme."""
    a = assumptions
    cells = fan_in * fan_out
    nnz = int(round((1 - sparsity) * cells))
    g_mean = (model.weight.g_min_s + model.weight.g_max_s) / 2
    cell_j = a.read_v**2 * g_mean * a.integration_s
    off_j = 0.0
    if model.sparsity is not None:
        g_off = model.sparsity.g_min_s
        off_j = a.read_v**2 * g_mean * g_off / (g_mean + g_off) * a.integration_s

    def periphery(columns: int) -> tuple[float, float]:
        rounds = -(-columns // a.adcs)
        return a.integration_s + rounds * a.adc_time_s, columns * a.adc_energy_j + fan_in * a.dac_energy_j

    rows = []
    t, e = periphery(fan_out)
    rows.append({"scheme": "dense", "devices": cells, "index_bits": 0, "latency_s": t, "energy_j": e + cells * cell_j})
    packed_cols = max(1, -(-nnz // fan_in))
    index_bits = nnz * int(np.ceil(np.log2(max(fan_in, 2))))
    t, e = periphery(packed_cols)
    t += -(-index_bits // a.sram_bits_per_cycle) * a.sram_cycle_s + nnz * a.digital_add_time_s / max(fan_out, 1)
    e += nnz * cell_j + index_bits * a.sram_energy_per_bit_j + nnz * (a.mux_energy_j + a.digital_add_energy_j)
    rows.append({"scheme": "index-based", "devices": packed_cols * fan_in, "index_bits": index_bits,
                 "latency_s": t, "energy_j": e})
    t, e = periphery(fan_out)
    rows.append({"scheme": "index-free", "devices": 2 * cells, "index_bits": 0, "latency_s": t,
                 "energy_j": e + nnz * cell_j + (cells - nnz) * off_j})
    df = pd.DataFrame(rows)
    df.insert(1, "sparsity", sparsity)
    base = df.set_index("scheme")
    df["latency_vs_index_free"] = df["latency_s"] / base.loc["index-free", "latency_s"]
    df["energy_vs_index_free"] = df["energy_j"] / base.loc["index-free", "energy_j"]
    return df


def assumptions_markdown(assumptions: CostAssumptions = CostAssumptions()) -> str:
    """The estimator's assumptions as a markdown list (written next to its table)."""
    docs = {"integration_s": "MVM integration time", "adc_energy_j": "energy per 8-bit ADC conversion",
            "adc_time_s": "time per conversion", "adcs": "ADCs shared by the columns",
            "dac_energy_j": "energy per driven input row", "sram_energy_per_bit_j": "SRAM energy per index bit",
            "sram_bits_per_cycle": "index bits per SRAM cycle", "sram_cycle_s": "SRAM cycle time",
            "mux_energy_j": "input routing per stored weight (index-based)",
            "digital_add_energy_j": "digital partial-sum add (index-based)",
            "digital_add_time_s": "time per digital add", "read_v": "row read voltage"}
    lines = [f"- `{k}` = {v:g}: {docs[k]}" for k, v in asdict(assumptions).items()]
    lines.append("- cell read energy = read_v^2 x mean weight conductance x integration time (device model);"
                 " a pruned index-free cell conducts through its off sparsity device (series)")
    lines.append("- index-based: non-zeros packed into full columns, ceil(log2 fan_in) index bits each,"
                 " fetched from SRAM, one mux step and one digital add per stored weight")
    lines.append("- first-order: no wires, no leakage, no buffers; ratios matter more than absolute numbers")
    return "\n".join(lines)
