"""The run's boundary (studies/run/boundary.py): the composed config is read once into a typed `Run`; the harness
trains from it without reading the dict, planning the study or composing Hydra again; defaults live in the YAML."""
import pytest
from omegaconf import OmegaConf

import studies.run.boundary
import studies.run.plan
from studies.config.paths import CONF_DIR
from studies.config.run_settings import RunSettings, engine_defaults
from studies.config.settings import ConfigError
from studies.run.boundary import prepare_run
from studies.run.harness import run_study
from tests.helpers import compose_config


def test_run_settings_are_typed_and_read_only():
    settings = RunSettings.from_config(compose_config("results_dir=/tmp/store", "data.strict=true"))
    assert (settings.results_dir, settings.data.strict, settings.lease_timeout_s) == ("/tmp/store", True, 120)
    with pytest.raises(TypeError):
        settings.engine["max_replicas"] = 1  # the engine's settings cannot change under a running harness


@pytest.mark.parametrize("broken, message", [
    (lambda cfg: cfg.pop("store"), "the run's config has no 'store'"),
    (lambda cfg: cfg["data"].update(folder="x"), "data: unknown key(s) folder; valid: dir, download, strict"),
    (lambda cfg: cfg.update(report="yes"), "report='yes' is not a boolean"),
    (lambda cfg: cfg.update(mode="check"), "mode: unknown value 'check'; valid: run, report"),
])
def test_a_config_that_is_no_run_is_one_line(broken, message):
    cfg = compose_config()
    broken(cfg)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RunSettings.from_config(cfg)


def test_engine_defaults_are_the_yaml_s_alone():
    """The fallback engine runs with conf/engine/keras.yaml's settings, and the engines' own defaults are read from
    their YAML (one place to change them)."""
    from studies.engines.fast import DEFAULTS as FAST
    from studies.engines.keras_fit import DEFAULTS as KERAS

    for name, defaults in (("fast", FAST), ("keras", KERAS)):
        assert defaults == OmegaConf.to_container(OmegaConf.load(CONF_DIR / "engine" / f"{name}.yaml"))
    settings = RunSettings.from_config(compose_config("engine=fast", "engine.max_replicas=3"))
    assert settings.engine_settings("fast")["max_replicas"] == 3
    assert settings.engine_settings("keras") == engine_defaults("keras") == KERAS
    assert engine_defaults("turbo") == {"name": "turbo"}  # a registered engine without a YAML of ours


@pytest.mark.slow  # trains fit_basics at smoke size
def test_the_harness_trains_from_the_run_alone(smoke_config, monkeypatch):
    """After prepare_run, a run plans nothing and composes nothing: every later call to either fails the test
    (before, the harness planned once more per run and the sweeps module composed Hydra once per round)."""
    cfg = smoke_config("study=fit_basics", "n_seeds=1", "report=false")
    run = prepare_run(cfg)
    assert [plan.study for plan in run.plans] == ["fit_basics"] and not run.searched
    assert set(run.declared) == set(run.plan.arms)  # each arm's settings as the YAML declares them

    def refuse(*arguments, **keywords):
        pytest.fail("planned or composed again below the boundary")

    for module, name in ((studies.run.plan, "plan_study"), (studies.run.boundary, "plan_study"),
                         (studies.run.boundary, "declared_study"), (studies.run.boundary, "compose")):
        monkeypatch.setattr(module, name, refuse)
    monkeypatch.setattr("hydra.compose", refuse)
    outcome = run_study(run)
    assert outcome.trained == len(run.plan.trials) > 0
