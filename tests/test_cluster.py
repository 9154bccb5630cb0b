"""A multirun's command line before dispatch (studies/run/cluster.py): absolute paths for every launcher; under a
cluster launcher data.strict=true, and for Ray the submitting shell's Keras settings in the workers' environment."""
from pathlib import Path

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from studies.config.settings import ConfigError
from studies.run.cluster import dispatch_arguments, quoted, refuse_unprepared_job
from tests.helpers import studybench

ROOT = Path(__file__).resolve().parent.parent
RAY = "++hydra.launcher.ray.init"


def test_relative_paths_become_absolute_and_the_defaulted_ones_are_added_after_the_overrides():
    arguments = ["-m", "study=dropout", "results_dir=store", "data.dir=../data", "reports_dir=a,b", "--config-dir", "x"]
    assert dispatch_arguments(arguments, "/work/here", {}) == [
        "-m", "study=dropout", "results_dir='/work/here/store'", "data.dir='/work/data'", "reports_dir=a,b",
        "--config-dir", "x"]
    rewritten = dispatch_arguments(["-m", "study=dropout", "--config-dir", "x"], "/work/it's", {})
    assert rewritten == ["-m", "study=dropout", r"results_dir='/work/it\'s/results'",
                         r"reports_dir='/work/it\'s/reports'", "--config-dir", "x"]


def test_a_sweep_an_interpolation_and_null_stay_as_given():
    arguments = ["-m", "results_dir=a,b", "reports_dir=${oc.env:HOME}/r", "data.dir=null"]
    assert dispatch_arguments(arguments, "/w", {}) == arguments


@pytest.mark.parametrize("launcher", ["slurm", "submitit_slurm", "ray"])
def test_a_cluster_launcher_gets_strict_data_and_refuses_data_strict_false(launcher):
    arguments = ["-m", f"hydra/launcher={launcher}", "results_dir=/r", "reports_dir=/p"]
    assert "data.strict=true" in dispatch_arguments(arguments, "/w", {})
    assert dispatch_arguments(arguments + ["data.strict=true"], "/w", {}).count("data.strict=true") == 1
    with pytest.raises(ConfigError, match=f"^data.strict=false with hydra/launcher={launcher}: on a cluster a node "
                                          "without full MNIST would train on the 5,000-digit mnist5k subset; drop it"):
        dispatch_arguments(arguments + ["data.strict=false"], "/w", {})


@pytest.mark.parametrize("launcher", ["joblib", "ray_local", "submitit_local"])
def test_a_local_launcher_keeps_the_data_settings_and_environment(launcher):
    arguments = ["-m", f"hydra/launcher={launcher}", "results_dir=/r", "reports_dir=/p", "data.strict=false"]
    assert dispatch_arguments(arguments, "/w", {"KERAS_BACKEND": "jax"}) == arguments


def test_ray_workers_get_the_keras_backend_and_the_settings_the_submitting_shell_has():
    environ = {"KERAS_HOME": "keras", "STUDYBENCH_PATH": "mine/conf:/abs/conf", "TF_CPP_MIN_LOG_LEVEL": "3"}
    added = dispatch_arguments(["-m", "hydra/launcher=ray", "results_dir=/r", "reports_dir=/p"], "/w", environ)[4:]
    assert added == ["data.strict=true", f"{RAY}.object_store_memory=null",
                     f"{RAY}.runtime_env.env_vars.KERAS_BACKEND='tensorflow'",
                     f"{RAY}.runtime_env.env_vars.KERAS_HOME='/w/keras'",
                     f"{RAY}.runtime_env.env_vars.STUDYBENCH_PATH='/w/mine/conf:/abs/conf'",
                     f"{RAY}.runtime_env.env_vars.TF_CPP_MIN_LOG_LEVEL='3'"]
    jax = dispatch_arguments(["-m", "hydra/launcher=ray"], "/w", {"KERAS_BACKEND": "jax"})
    assert f"{RAY}.runtime_env.env_vars.KERAS_BACKEND='jax'" in jax


def test_data_strict_false_under_a_cluster_launcher_is_one_line_and_writes_nothing(tmp_path):
    done = studybench("-m", "study=dropout", "hydra/launcher=slurm", "data.strict=false", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("studybench: error: data.strict=false with hydra/launcher")
    assert len(done.stderr.strip().splitlines()) == 1 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["/a b/c", "/it's", "a\\b", "ends\\", "x\\'y", ""])
def test_a_quoted_value_reads_back_as_itself_in_hydra_s_grammar(value):
    assert OverridesParser.create().parse_override(f"key={quoted(value)}").value() == value


def test_a_job_of_a_cluster_launcher_a_config_file_chose_refuses_to_run_unprepared():
    with pytest.raises(ConfigError, match="hydra/launcher=ray was chosen by a config file: name it on the command"):
        refuse_unprepared_job("ray", data_strict=False)
    refuse_unprepared_job("ray", data_strict=True)  # prepared: the command line named it
    refuse_unprepared_job("joblib", data_strict=False)  # this machine's own processes: nothing to prepare
    refuse_unprepared_job(None, data_strict=False)
