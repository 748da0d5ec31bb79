"""Finding image files (`digitrec.io.decode`): the sorted walk, the fast count and the first-hit check agree."""

from __future__ import annotations

from digitrec.io.decode import count_images, has_images, iter_image_paths


def test_walk_count_and_check_agree(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "empty").mkdir()
    for name in ["a/2.png", "a/1.JPG", "a/b/3.webp", "a/.hidden.png", "a/notes.txt", "top.gif"]:
        (tmp_path / name).write_bytes(b"x")
    walked = list(iter_image_paths([str(tmp_path)]))
    assert [p.removeprefix(str(tmp_path) + "/") for p in walked] == ["a/1.JPG", "a/2.png", "a/b/3.webp", "top.gif"]
    assert count_images([str(tmp_path)]) == 4
    # NOTE: a file named on the command line counts whatever its suffix, as the walk yields it.
    assert count_images([str(tmp_path / "a"), str(tmp_path / "a" / "notes.txt")]) == 4
    assert has_images(str(tmp_path)) and not has_images(str(tmp_path / "empty"))
