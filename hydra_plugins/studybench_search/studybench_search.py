"""hydra/sweeper=book_random_search's sweeper: Optuna's, with each batch of settings it draws (`n_jobs` of
them) trained by one job as one study run, so that engine=fast stacks them (one compiled program instead of
one per setting, studies/engines/fast.py).

Optuna asks, draws and is told exactly as with its own sweeper (the same sampler, in the same order, so the
same seed draws the same settings); only the launch differs: the batch goes to the launcher as one job whose
`search` setting lists every setting's swept values (studies/run/sweeps.py), and that job returns one value per
setting, which Optuna is told as each setting's own.
"""
from __future__ import annotations

from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.sweeper import Sweeper


class StackedOptunaSweeper(Sweeper):
    def __init__(self, **settings: Any) -> None:
        # Imported here: Hydra imports every plugin module when it starts, and Optuna is an optional extra.
        from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper

        self.optuna = OptunaSweeper(**settings)
        self.params = settings.get("params") or {}

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.optuna.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> None:
        # Optuna's fixed parameters, as its sweeper finds them: the settings and arguments that are no sweep.
        given = [f"{key}={value}" for key, value in self.params.items()] + list(arguments)
        parsed = OverridesParser.create().parse_overrides(given)
        fixed = {override.get_key_element() for override in parsed if not override.is_sweep_override()}
        self.optuna.sweeper.launcher = OneJobPerBatch(self.optuna.sweeper.launcher, fixed)
        return self.optuna.sweep(arguments)


class OneJobPerBatch:
    """A launcher's stand-in for Optuna's sweeper: a batch of settings launched as one job, its values handed
    back as one JobReturn per setting."""

    def __init__(self, launcher, fixed_keys: set):
        self.launcher, self.fixed_keys = launcher, fixed_keys

    def launch(self, job_overrides: list, initial_job_idx: int) -> list[JobReturn]:
        settings = [dict(override.split("=", 1) for override in overrides) for overrides in job_overrides]
        fixed = [f"{key}={value}" for key, value in settings[0].items() if key in self.fixed_keys]
        keys = [key for key in settings[0] if key not in self.fixed_keys]  # what Optuna drew
        rows = ",".join("[" + ",".join(setting[key] for key in keys) + "]" for setting in settings)
        search = f"search={{keys:[{','.join(keys)}],values:[{rows}]}}"
        [job] = self.launcher.launch([fixed + [search]], initial_job_idx=initial_job_idx)
        values = job._return_value if job.status == JobStatus.COMPLETED else [job._return_value] * len(settings)
        return [JobReturn(overrides=list(overrides), cfg=job.cfg, hydra_cfg=job.hydra_cfg, working_dir=job.working_dir,
                          task_name=job.task_name, status=job.status, _return_value=value)
                for overrides, value in zip(job_overrides, values)]
