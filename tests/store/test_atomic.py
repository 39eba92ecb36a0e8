"""lab.store.atomic: a file or folder is whole or absent; nothing half-written is ever left behind."""

from __future__ import annotations

import stat

import numpy as np
import pytest

from lab.store.atomic import folder_atomically, save_json_atomically, save_npy_atomically, write_atomically


def test_a_file_is_replaced_whole_and_is_world_readable(tmp_path):
    path = tmp_path / "deep" / "x.npy"
    save_npy_atomically(path, np.arange(5))
    save_npy_atomically(path, np.arange(7))
    assert np.load(path).tolist() == list(range(7))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["x.npy"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "metrics.json"
    save_json_atomically(path, {"a": 1})

    def dies(f):
        f.write(b"{half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, dies)
    assert path.read_text() == '{\n  "a": 1\n}' and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_folder_appears_only_when_complete(tmp_path):
    final = tmp_path / "run"
    with pytest.raises(RuntimeError), folder_atomically(final) as tmp:
        (tmp / "a").write_text("1")
        raise RuntimeError("interrupted")
    assert not final.exists() and list(tmp_path.iterdir()) == []
    moved = []
    final.mkdir()
    with folder_atomically(final, make_room=lambda p: (moved.append(p), p.rename(tmp_path / "old"))) as tmp:
        (tmp / "a").write_text("2")
    assert (final / "a").read_text() == "2" and moved == [final] and (tmp_path / "old").is_dir()
    assert stat.S_IMODE(final.stat().st_mode) == 0o755
