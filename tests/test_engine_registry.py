"""Engines by name: the built-in ones whether or not the package's entry points are installed, and those another
package registers under the entry-points group studybench.engines."""
import importlib.metadata

import pytest

from studies.config.settings import ConfigError
from studies.engines import BUILT_IN, ENTRY_POINTS_GROUP, make_engine, registered_engines
from studies.engines.fast import FastEngine
from studies.engines.keras_fit import KerasFitEngine
from tests.helpers import ROOT


class ToyEngine:
    """A user's engine, as a package's entry point names it."""
    name, fallback = "toy", False

    def __init__(self, settings: dict, results_dir):
        self.settings, self.results_dir = settings, results_dir


def installed(monkeypatch, **entries: str) -> None:
    """importlib.metadata's entry points as if packages registered `entries` (name -> "module:Class") for engines."""
    points = [importlib.metadata.EntryPoint(name, value, ENTRY_POINTS_GROUP) for name, value in entries.items()]
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda group: [p for p in points if p.group == group])


def test_built_in_engines_work_without_installed_entry_points(monkeypatch, tmp_path):
    installed(monkeypatch)
    assert sorted(registered_engines()) == ["fast", "keras"]
    assert isinstance(make_engine({"name": "keras"}, tmp_path), KerasFitEngine)
    assert isinstance(make_engine({"name": "fast"}, tmp_path), FastEngine)


def test_a_registered_engine_is_made_with_its_settings(monkeypatch, tmp_path):
    installed(monkeypatch, toy="tests.test_engine_registry:ToyEngine")
    engine = make_engine({"name": "toy", "speed": 3}, tmp_path)
    assert isinstance(engine, ToyEngine) and engine.settings["speed"] == 3 and engine.results_dir == tmp_path


def test_an_unknown_engine_names_the_built_in_and_registered_ones(monkeypatch, tmp_path):
    installed(monkeypatch, toy="tests.test_engine_registry:ToyEngine")
    with pytest.raises(ConfigError, match=r"^unknown engine 'turbo'; valid: fast, keras, toy$"):
        make_engine({"name": "turbo"}, tmp_path)


def test_the_packages_own_entry_points_repeat_the_built_ins(monkeypatch, tmp_path):
    installed(monkeypatch, fast="studies.engines.fast:FastEngine", keras="studies.engines.keras_fit:KerasFitEngine")
    assert sorted(registered_engines()) == ["fast", "keras"]


def test_a_second_class_under_a_built_in_name_is_refused(monkeypatch, tmp_path):
    installed(monkeypatch, fast="tests.test_engine_registry:ToyEngine")
    with pytest.raises(ConfigError, match="engine 'fast' is registered twice, as studies.engines.fast:FastEngine and "
                                          "as tests.test_engine_registry:ToyEngine"):
        make_engine({"name": "keras"}, tmp_path)


def test_the_pyproject_registers_the_built_in_engines_as_declared_in_code():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"][ENTRY_POINTS_GROUP] == BUILT_IN
