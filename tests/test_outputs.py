import pytest

from imgclf.outputs import atomic_dir, atomic_path, read_json, write_json


def test_write_json_round_trip_and_sorted(tmp_path):
    path = tmp_path / "sub" / "a.json"
    write_json(path, {"b": 1, "a": [1, 2]})
    assert read_json(path) == {"a": [1, 2], "b": 1}
    assert path.read_text().index('"a"') < path.read_text().index('"b"')


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]


def test_atomic_dir_replaces_whole_directory_only_on_success(tmp_path):
    target = tmp_path / "models"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as out:
            (out / "new.txt").write_text("half")
            raise RuntimeError("crash")
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
    assert list(tmp_path.iterdir()) == [target]

    with atomic_dir(target) as out:
        (out / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
