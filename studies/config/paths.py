"""Where the package finds its own files: a leaf module, so that any module may import it."""
from __future__ import annotations

from pathlib import Path

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"  # Hydra's config tree: config.yaml and its groups
