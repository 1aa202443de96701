import pytest

from schemas.youtube import is_video_id, valid_youtube_id, youtube_id


@pytest.mark.parametrize(("src", "expected"), [
    ("https://www.youtube.com/watch?v=h1mD-_DKHc0", "h1mD-_DKHc0"),
    ("http://www.youtube.com/watch?feature=x&v=abc123def45", "abc123def45"),
    ("https://youtu.be/XYZ_987-abc?t=10", "XYZ_987-abc"),
    ("https://www.youtube.com/embed/EMB3dEMB3d0", "EMB3dEMB3d0"),
    ("https://www.youtube.com/embed/EMB3dEMB3d0?v=OTHERotherX", "EMB3dEMB3d0"),  # the path names the video
    ("https://m.youtube.com/watch?v=mob1mob1mob", "mob1mob1mob"),
    # Links whose id is not 11 characters of [A-Za-z0-9_-]: kept in src, no video id.
    ("https://www.youtube.com/watch?v=abc", None),
    ("https://www.youtube.com/watch?v=has space11", None),
    ("https://www.youtube.com/watch?v=h1mD-_DKHc0x", None),
    ("https://youtu.be/", None),
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
    assert not is_video_id("abc") and not is_video_id("bad id!") and not is_video_id("x" * 12)
