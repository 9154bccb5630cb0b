"""Hydra's hook for STUDYBENCH_PATH (studies/studypath.py): its folders join the config search path of every
Hydra app and compose call, so `study=<name>` finds `<folder>/study/<name>.yaml` and `--help` lists it.
Hydra finds this plugin by scanning the `hydra_plugins` namespace package."""
from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin

from studies.studypath import ENV, extra_conf_dirs


class StudybenchSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        for folder in extra_conf_dirs():  # after the package's conf/: its studies keep their names
            search_path.append(provider=ENV, path=f"file://{folder}")
