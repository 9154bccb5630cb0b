"""Files written whole or not at all (studies/store/atomic.py): the old file stays until the new one is complete."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from studies.store.atomic import atomic_file, save_figure_atomic, write_text_atomic  # noqa: E402


def test_a_failing_write_leaves_the_old_file_intact_and_no_temporary_file(tmp_path):
    path = tmp_path / "summary.md"
    write_text_atomic(path, "old ±")
    with pytest.raises(RuntimeError), atomic_file(path) as sink:
        sink.write(b"half of the new")
        raise RuntimeError("killed mid-write")
    assert path.read_text(encoding="utf-8") == "old ±" and [p.name for p in tmp_path.iterdir()] == ["summary.md"]


def test_a_figure_is_saved_in_the_format_its_name_says(tmp_path):
    figure = plt.figure()
    figure.gca().plot([0, 1])
    for name in ("figure.png", "figure.svg"):
        save_figure_atomic(figure, tmp_path / "new" / name, dpi=50)
    plt.close(figure)
    assert (tmp_path / "new" / "figure.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "new" / "figure.svg").read_bytes()
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["figure.png", "figure.svg"]


@pytest.mark.parametrize("name", ["figure.svg", "figure.pdf", "figure.png"])
def test_the_same_figure_saved_twice_gives_the_same_bytes(tmp_path, name):
    """No timestamp, no random ids: a regenerated report changes only where its figures do."""
    figure = plt.figure()
    figure.gca().fill_between([0, 1, 2], [0, 1, 0], [1, 2, 1], alpha=0.2)  # a clip path and a reused path
    saved = []
    for folder in ("first", "second"):
        save_figure_atomic(figure, tmp_path / folder / name, dpi=50)
        saved.append((tmp_path / folder / name).read_bytes())
    plt.close(figure)
    assert saved[0] == saved[1]
