"""load_flickr8k on a folder in the release's layout, built here."""

import pytest

from kzoo.data import load_flickr8k


@pytest.fixture
def folder(tmp_path):
    lines = [f"{name}.jpg#{i}\t{name} caption {i} ." for name in ("a", "b", "c") for i in range(5)]
    (tmp_path / "Flickr8k.token.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "Flickr_8k.trainImages.txt").write_text("a.jpg\nb.jpg\n")
    (tmp_path / "Flickr_8k.testImages.txt").write_text("c.jpg\nmissing.jpg\n")
    (tmp_path / "Flicker8k_Dataset").mkdir()
    return tmp_path


def test_splits_paths_and_five_captions(folder):
    paths, captions = load_flickr8k(folder, split="train")
    assert paths == [str(folder / "Flicker8k_Dataset" / "a.jpg"), str(folder / "Flicker8k_Dataset" / "b.jpg")]
    assert captions[1] == [f"b caption {i} ." for i in range(5)]
    paths, captions = load_flickr8k(folder, split="test")  # names without captions are left out
    assert [p.rsplit("/", 1)[1] for p in paths] == ["c.jpg"] and len(captions[0]) == 5
    assert len(load_flickr8k(folder, split="train", limit=1)[0]) == 1


def test_errors_name_the_problem(folder, tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_flickr8k(folder, split="val")
    with pytest.raises(FileNotFoundError, match="Flickr_8k.devImages.txt"):
        load_flickr8k(folder, split="dev")
    with pytest.raises(ValueError, match="limit"):
        load_flickr8k(folder, limit=0)
    (folder / "Flickr8k.token.txt").write_text("no tab here\n")
    with pytest.raises(ValueError, match=r"Flickr8k.token.txt:1"):
        load_flickr8k(folder, split="train")
