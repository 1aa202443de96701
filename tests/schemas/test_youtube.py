import pytest

from schemas.youtube import is_video_id, valid_youtube_id, youtube_id


@pytest.mark.parametrize(("src", "expected"), [
    ("https://www.youtube.com/watch?v=h1mD-_DKHc0", "h1mD-_DKHc0"),
    ("http://www.youtube.com/watch?feature=x&v=abc123", "abc123"),
    ("https://youtu.be/XYZ_987?t=10", "XYZ_987"),
    ("https://www.youtube.com/embed/EMB3d", "EMB3d"),
    ("https://m.youtube.com/watch?v=mob1", "mob1"),
    ("https://vimeo.com/12345", None),
    ("https://www.youtube.com/user/someone", None),
    ("not a url", None),
    (None, None),
])
def test_youtube_id(src, expected):
    assert youtube_id(src) == expected


def test_valid_youtube_ids_from_urls():
    assert valid_youtube_id("https://www.youtube.com/watch?v=h1mD-_DKHc0") == "h1mD-_DKHc0"
    assert valid_youtube_id("http://youtube.com/watch?feature=x&v=abcdefghijk") == "abcdefghijk"
    assert valid_youtube_id("https://youtu.be/abcdefghijk?t=10") == "abcdefghijk"
    assert valid_youtube_id("https://www.youtube.com/embed/abcdefghijk") == "abcdefghijk"
    assert valid_youtube_id("https://m.youtube.com/watch?v=abcdefghijk") == "abcdefghijk"
    assert valid_youtube_id("https://vimeo.com/watch?v=abcdefghijk") is None
    assert valid_youtube_id("https://notyoutube.com/watch?v=abcdefghijk") is None
    assert valid_youtube_id("https://www.youtube.com/watch") is None
    assert valid_youtube_id(None) is None


def test_video_id_shape():
    assert is_video_id("h1mD-_DKHc0")
    assert not is_video_id("abc") and not is_video_id("bad id!") and not is_video_id("x" * 21)
