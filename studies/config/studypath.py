"""Where configs are found: the package's conf/, then each folder named on STUDYBENCH_PATH.

A folder on the path is laid out like conf/: `study/<name>.yaml` is then `study=<name>`, and a module
`study/<name>.py` beside it declares that study's claims and figures (studies/config/contract.py). Hydra reads the
same list through a search-path plugin (`StudybenchSearchPathPlugin`), so composing, `--help` and every job
of a sweep see the same studies. The package's conf/ comes first: a name it already has is its own.
"""
from __future__ import annotations

import os
from pathlib import Path

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.plugins import Plugins
from hydra.plugins.search_path_plugin import SearchPathPlugin

from studies.config.paths import CONF_DIR
from studies.config.settings import ConfigError

ENV = "STUDYBENCH_PATH"  # folders like conf/, separated as PATH is (':' on POSIX)


def extra_conf_dirs() -> list[Path]:
    """The folders on STUDYBENCH_PATH, absolute (relative ones from the working directory), in order."""
    return [Path(entry).resolve() for entry in os.environ.get(ENV, "").split(os.pathsep) if entry]


def check_extra_conf_dirs() -> None:
    """Raise ConfigError on a STUDYBENCH_PATH entry that is not a folder: Hydra would only warn and then
    report its studies as unknown."""
    for folder in extra_conf_dirs():
        if not folder.is_dir():
            raise ConfigError(f"{ENV} entry {str(folder)!r} is not a folder; give folders laid out like conf/ "
                              f"(study/<name>.yaml), separated by {os.pathsep!r}")


def conf_dirs() -> list[Path]:
    return [CONF_DIR, *extra_conf_dirs()]


def available(group: str) -> list[str]:
    """The options of a config group, across the package's conf/ and STUDYBENCH_PATH."""
    return sorted({path.stem for folder in conf_dirs() for path in (folder / group).glob("*.yaml")})


def study_yaml(name: str) -> Path | None:
    """The file Hydra composes for study=<name>: the first on the search path, or None."""
    return next((folder / "study" / f"{name}.yaml" for folder in conf_dirs()
                 if (folder / "study" / f"{name}.yaml").is_file()), None)


class StudybenchSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        for folder in extra_conf_dirs():  # after the package's conf/: its studies keep their names
            search_path.append(provider=ENV, path=f"file://{folder}")


# Hydra finds plugins by scanning the hydra_plugins namespace package, where an editable install (`pip install
# -e`, as make does) does not show this project's part; registered here, every Hydra app and compose call of a
# process that imports studybench sees it (hydra_plugins/ re-exports it for other Hydra apps).
Plugins.instance().register(StudybenchSearchPathPlugin)
