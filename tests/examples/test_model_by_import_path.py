"""A newcomer adds a model through the command line by pointing at an import path, with no edit to the package:
a builder in a file of their own folder, named in their simulation file's [model], trained by `fedchain simulate`
run from that folder (the current folder is on the import path, as Flower's loader has it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

BUILDER = '''\
from torch import nn


def build(in_features: int, num_classes: int, width: int = 4) -> nn.Module:
    """The newcomer's own model: one hidden tanh layer of `width` units."""
    return nn.Sequential(nn.Linear(in_features, width), nn.Tanh(), nn.Linear(width, num_classes))
'''

CONFIG = '''\
rounds = 1
mode = "plain"
adversaries = []

[model]
name = "my_model:build"        # package.module:function, found in the folder the command runs in
options = { width = 6 }        # keyword options of the builder

[simulation]
hospitals = 2
output = "out"
'''


def test_a_model_named_by_import_path_in_the_simulation_file_is_trained_by_the_cli(tmp_path: Path) -> None:
    (tmp_path / "my_model.py").write_text(BUILDER)
    (tmp_path / "sim.toml").write_text(CONFIG)
    result = subprocess.run([sys.executable, "-m", "fedchain", "simulate", "sim.toml"], cwd=tmp_path,
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "round 1/1 finalized: 2/2 included" in result.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["config"]["task"]["model"]["name"] == "my_model:build"
    assert report["config"]["task"]["model"]["options"] == {"width": 6}
    state = torch.load(tmp_path / "out" / "model.pt", weights_only=True)
    assert {name: tuple(tensor.shape) for name, tensor in state.items()} == {
        "0.weight": (6, 30), "0.bias": (6,), "2.weight": (2, 6), "2.bias": (2,)}  # breast cancer: 30 features

