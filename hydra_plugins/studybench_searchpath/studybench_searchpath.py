"""Hydra's hook for STUDYBENCH_PATH, where Hydra scans for plugins (a regular install): the plugin itself lives in
studies/config/studypath.py, which also registers it whenever studybench is imported (an editable install hides this
folder from Hydra's scan)."""
from studies.config.studypath import StudybenchSearchPathPlugin

__all__ = ["StudybenchSearchPathPlugin"]
