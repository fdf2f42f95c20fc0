"""User text in the app: Markdown escaped (checked with markdown-it-py, an independent
CommonMark renderer), and the session folders that go once a session is gone."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from royalroad.app import sessions
from royalroad.app.safe import md_escape, md_frame, md_params, md_rows

PAYLOADS = [
    "![x](http://127.0.0.1:9/rrbeacon.png)",
    "[click](http://127.0.0.1:9/rrbeacon)",
    "[ref]\n\n[ref]: http://127.0.0.1:9/rrbeacon",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "**bold** __b__ *it* _it_ `code` ~~strike~~",
    "# heading",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "$x^2$ $$\\href{http://127.0.0.1:9/rrbeacon}{x}$$",
    "http://127.0.0.1:9/rrbeacon www.example.com mail@example.com <http://x.y>",
    "&lt;b&gt; &amp; &#x3C;",
    "- item\n1. item\n> quote\n    code",
    ":red[x] :material/home: :smile:",
    "商談<b>太字</b>・受注*確定*\\",
    "a\\*b \\\\ c",
]


def _render(text: str) -> str:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escaped_text_renders_as_itself_and_nothing_else(payload):
    escaped = md_escape(payload)
    rendered = _render(escaped)
    assert re.findall(r"<(\w+)", rendered) == ["p"], rendered  # one paragraph, no element
    inner = rendered.strip().removeprefix("<p>").removesuffix("</p>")
    # shown as the payload itself, give or take invisible word joiners (U+2060) that keep
    # http://, www. and e-mail addresses from becoming links
    assert html.unescape(inner).replace("\u2060", "") == re.sub(r"\n+", " ", payload).strip()
    # LaTeX (Streamlit renders $…$): every dollar is escaped
    assert re.search(r"(?<!\\)\$", escaped) is None


def test_unescaped_payloads_would_render_elements():
    """The reference renderer sees the danger: the test above can fail."""
    assert "<img" in _render(PAYLOADS[0]) and "<a " in _render(PAYLOADS[1])


def test_japanese_text_is_unchanged():
    assert md_escape("技術打合せ 資料送付") == "技術打合せ 資料送付"


def test_literal_autolinks_are_broken_by_an_invisible_joiner():
    """GitHub's autolink regexes (as in mdast-util-gfm-autolink-literal) no longer match."""
    url = re.compile(r"(https?://|www(?=\.))[-.\w]+", re.I)
    email = re.compile(r"[-.\w+]+@[-\w]+(\.[-\w]+)+")
    text = "see http://x.y/a, HTTPS://x.y, www.x.y and a.b@c.de"
    shown = md_escape(text).replace("\\", "")  # the text node once escapes are resolved
    assert url.search(text) and email.search(text)
    assert not url.search(shown) and not email.search(shown)


def test_params_rows_and_frames_escape_user_text_only():
    assert md_params(name="[x](y)", n=3) == {"name": r"\[x\]\(y\)", "n": "3"}
    assert md_rows([{"file": "a_b.csv", "rows": 3}]) == [{"file": r"a\_b\.csv", "rows": 3}]
    frame = md_frame(pd.DataFrame({"file name": ["*x*", None], "read": [1, 2]}))
    assert list(frame.columns) == ["file name", "read"]
    assert frame["file name"].tolist()[0] == r"\*x\*" and frame["file name"].isna().tolist()[1]
    assert frame["read"].tolist() == [1, 2]


def test_every_markdown_element_of_the_app_escapes_what_it_shows():
    """A static check of the script: calls that render Markdown take catalogue text with
    escaped parameters, or escaped text — never a bare value."""
    source = (Path(sessions.__file__).with_name("main.py")).read_text(encoding="utf-8")
    calls = re.findall(
        r"st\.(?:success|info|warning|error|caption|markdown|write|table)\((.*?)\)\n",
        source,
        flags=re.S,
    )
    calls += re.findall(r"\(st\.success if .*? else st\.warning\)\((.*?)\)\n", source, re.S)
    assert calls
    for args in calls:
        args = re.sub(r"\(\s+", "(", " ".join(args.split()))
        safe = (
            args.startswith(("md_escape(", "md_rows(", "md_frame("))
            or re.fullmatch(r't\("[a-z_.]+"(, lang=lang)?\)', args)
            or re.fullmatch(r't\("[a-z_.]+", limit=CONFIG\.max_upload_mb\)', args)
            or re.match(r't\("[a-z_.]+", \*\*md_params\(', args)
            or args.startswith("f\"{t('app.run.last'")
        )
        assert safe, args


# Session folders ----------------------------------------------------------------------


class FakeState:
    def __init__(self, **values):
        self.values = dict(values)

    def filtered_state(self):
        return dict(self.values)

    def __delitem__(self, key):
        del self.values[key]


def test_folders_of_sessions_gone_longer_than_the_grace_are_removed(tmp_path):
    now = [0.0]
    alive = {"a", "b"}
    gone: list[str] = []
    reg = sessions.SessionFolders(
        tmp_path, alive=lambda s: s in alive, grace=60, on_gone=gone.append, clock=lambda: now[0]
    )
    state_b = FakeState(rr_files={"x": b"big"}, rr_results=object())
    fa, fb = reg.folder("a"), reg.folder("b", state_b)
    assert fa != fb and fa.parent == tmp_path and fb.is_dir()
    (fb / "uploads").mkdir()
    (fb / "uploads" / "leads.csv").write_text("x", encoding="utf-8")
    assert reg.folder("b") == fb  # the same folder on every run of the session

    alive.discard("b")  # the tab closed: disconnected, may still reconnect
    now[0] = 50
    assert reg.sweep() == [] and fb.is_dir()
    now[0] = 111  # inactive since the sweep at 0 (last seen alive): 111 > 60
    assert reg.sweep() == ["b"]
    assert not fb.exists() and fa.is_dir()
    assert state_b.values == {} and gone == ["b"]
    assert reg.sweep() == []  # once

    alive.discard("a")
    now[0] = 150  # "a" was seen alive at 111
    assert reg.sweep() == []
    now[0] = 172
    assert reg.sweep() == ["a"] and not any(tmp_path.iterdir())


def test_a_swept_or_reset_folder_comes_back_empty(tmp_path):
    reg = sessions.SessionFolders(tmp_path, alive=lambda s: True)
    first = reg.folder("s")
    (first / "data.csv").write_text("x", encoding="utf-8")
    fresh = reg.reset("s")
    assert not first.exists() and fresh.is_dir() and not any(fresh.iterdir())
    fresh.rmdir()  # removed behind our back
    again = reg.folder("s")
    assert again.is_dir() and again != first
