"""FeFET device physics, parameters, model files and energy; imports nothing from labctl."""

from .modelfile import load_model, load_preset, model_from_dict, model_to_dict, preset_names, save_model
from .params import (
    ChipModel,
    DeviceParams,
    Kinetics,
    OperatingPoint,
    PolarityParams,
    Retention,
    StepShape,
    Transfer,
    Variation,
)

__all__ = [
    "ChipModel", "DeviceParams", "Kinetics", "OperatingPoint", "PolarityParams", "Retention",
    "StepShape", "Transfer", "Variation", "load_model", "load_preset", "model_from_dict",
    "model_to_dict", "preset_names", "save_model",
]
