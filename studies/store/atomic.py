"""Files written whole or not at all: each goes to a hidden temporary file in its own folder, then is renamed
over the old one (`os.replace` is atomic), so a reader, or a process killed mid-write, never leaves a
half-written file under the real name; at worst a hidden `.<name>.<random>.tmp` stays behind.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMPORARY_GLOB = ".*.tmp"  # the temporary files' names, for whoever lists what an interrupted write left


@contextlib.contextmanager
def atomic_file(path) -> Iterator[BinaryIO]:
    """A binary file to write; it replaces `path` when the block ends, and vanishes if the block raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    # O_EXCL: never a file another writer made; mode 0o666 minus the umask, like any new file
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as sink:
            yield sink
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path, data: bytes) -> None:
    with atomic_file(path) as sink:
        sink.write(data)


def write_text_atomic(path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


# No timestamp and no random element ids (matplotlib's default per save): the same figure gives the same bytes,
# so a regenerated report differs from the committed one only where its content does.
UNSTAMPED = {"svg": {"metadata": {"Date": None}}, "pdf": {"metadata": {"CreationDate": None}}}


def save_figure_atomic(figure, path, **options) -> None:
    """`figure.savefig(path, **options)`, atomically and reproducibly; the format comes from the file's
    extension."""
    import matplotlib  # the caller has it loaded, with its backend chosen

    form = Path(path).suffix[1:]
    with atomic_file(path) as sink, matplotlib.rc_context({"svg.hashsalt": "studybench"}):
        figure.savefig(sink, format=form, **UNSTAMPED.get(form, {}), **options)
