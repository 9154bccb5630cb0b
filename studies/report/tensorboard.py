"""tensorboard=true: each trained trial's curves as TensorBoard event files, for people who watch runs there.

    <results_dir>/tensorboard/<study>/<variant>/<profile>/<engine>/<arm>/seed<k>-<trial_id>/

(`tensorboard --logdir <results_dir>/tensorboard`). A run holds every stored curve as the scalar
`<metric>/<split>` at each epoch (1-based, as in the store) and each final test metric as `final/<metric>` at
the trial's last epoch. Written from the finished TrialResult, so both engines give the same files, with
tf.summary.write and the scalars plugin's metadata, which is what tf.summary.scalar writes but needs no
`tensorboard` package (TensorFlow is imported for it whatever the Keras backend). Each trial is written to a hidden
temporary folder renamed into place: a folder that exists is whole, and is never written again. Failed trials
have no curves and get none; trials stored before tensorboard=true get none either (the store has them).
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from studies.config.settings import TrialSpec
from studies.store.trial_result import TrialResult


def trial_folder(results_dir, trial: TrialSpec) -> Path:
    """Where a trial's events go; `trial` may also be a stored trial row (it has the same fields)."""
    return (Path(results_dir) / "tensorboard" / trial.study / trial.variant / trial.profile / trial.engine / trial.arm
            / f"seed{trial.seed}-{trial.trial_id}")


def write_trial_events(results_dir, result: TrialResult) -> Path | None:
    """The trial's event folder, written now; None for a failed trial or one already written."""
    folder = trial_folder(results_dir, result.trial)
    if result.status == "failed" or folder.exists():
        return None
    temporary = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:12]}.tmp")
    _write_scalars(temporary, result)
    try:
        temporary.rename(folder)
    except OSError:  # another process (a concurrent rerun) wrote the trial first: keep its folder
        shutil.rmtree(temporary)
        return None
    return folder


def _write_scalars(folder: Path, result: TrialResult) -> None:
    import tensorflow as tf
    from tensorflow.core.framework.summary_pb2 import SummaryMetadata

    scalars = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))

    def scalar(tag: str, value: float, step: int) -> None:
        tf.summary.write(tag, tf.constant(value, tf.float32), step=step, metadata=scalars)

    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for (split, metric), values in sorted(result.curves.items()):
            for epoch, value in enumerate(values, start=1):
                scalar(f"{metric}/{split}", value, epoch)
        for metric, value in sorted(result.final.items()):
            scalar(f"final/{metric}", value, result.stop_epoch)
    writer.close()
