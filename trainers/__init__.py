"""Thin trainer stages over TRL that read built datasets from the catalog.

Importing this package is cheap: torch, transformers and TRL load inside each ``main``.
"""

from tracemill.trainers.common import TrainConfig, TrainResult, config_from_dict, load_config
from tracemill.trainers.dpo import DpoConfig
from tracemill.trainers.grpo import GrpoConfig
from tracemill.trainers.redi import RediConfig, redi_loss, sequence_logps
from tracemill.trainers.rewards import LaserDReward, LaserReward, verifier_reward
from tracemill.trainers.sft import SftConfig
from tracemill.trainers.tiny import build_tiny_model

__all__ = [
    "DpoConfig",
    "GrpoConfig",
    "LaserDReward",
    "LaserReward",
    "RediConfig",
    "SftConfig",
    "TrainConfig",
    "TrainResult",
    "build_tiny_model",
    "config_from_dict",
    "load_config",
    "redi_loss",
    "sequence_logps",
    "verifier_reward",
]
