"""Encoding detection on the files our users have: every sample is written here with
a known codec and must be read back as exactly the text it was made from."""

from __future__ import annotations

import pytest

import royalroad as rr
from royalroad.io.encoding import detect_encoding

SAMPLES = [
    # Western Europe / Americas: Excel's "CSV" is Windows-1252
    ("cp1252", "Name,City\nJosé,Zürich\nFrançoise,Montréal\nnaïve café,Köln\n"),
    (
        "cp1252",
        "lead_id,activity\nL1,Réunion technique\nL2,Démo produit\nL3,Präsentation für Kunden\n",
    ),
    ("cp1252", "name\nnaïve\n"),  # one accented letter: charset-normalizer alone said Urdu (cp1006)
    ("cp1252", "navn,note\nRødgrød,“tak” – 5 €\n"),
    # Central Europe keeps its own code page (š ž ť ł ą are not Western letters)
    ("cp1250", "jméno,město\nPříliš žluťoučký kůň,Brno\nÚpěl ďábelské ódy,Plzeň\n"),
    ("cp1250", "imię,miasto\nZażółć gęślą jaźń,Łódź\n"),
    # Japan: Excel's CP932 (with its NEC/IBM extensions), and EUC-JP from Unix systems
    ("cp932", "商談ID,作成日\nD-001,2024/01/05\n①㈱髙\n"),
    ("cp932", "顧客カナ\nｶﾌﾞｼｷｶﾞｲｼｬ ﾃｽﾄ\n"),  # half-width katakana, as old systems export
    ("euc_jp", "名前,活動\n佐藤,技術打合せ\n鈴木,資料送付\n"),
    (
        "euc_jp",
        "名前\n営業部の佐藤です。技術打合せ\n",
    ),  # also decodes as CP932: was read as mojibake
]


@pytest.mark.parametrize(
    "codec, text", SAMPLES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(SAMPLES)]
)
def test_detected_encoding_reads_the_text_back(codec, text):
    data = text.encode(codec)
    enc = detect_encoding(data, "x.csv")
    assert data.decode(enc) == text, (codec, enc)


def test_cp1252_file_ingests_with_its_letters(write):
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at,industry\n"
        "L1,2024-01-01,won,2024-02-01,Café & Bäckerei\nL2,2024-01-02,open,,Société naïve\n",
        encoding="cp1252",
    )
    ws = rr.ingest(leads="leads.csv")
    assert ws.con.execute("SELECT industry FROM leads ORDER BY _line").fetchall() == [
        ("Café & Bäckerei",),
        ("Société naïve",),
    ]
    assert ws.con.execute("SELECT encoding FROM files").fetchone() == ("cp1252",)


# -------------------------------------------------------------- --encoding, when detection is wrong


def test_encoding_option_overrides_the_detection(write):
    # a short Hungarian file, which detection alone may take for cp1252 (ő → õ)
    text = (
        "lead_id,created_at,outcome,closed_at,industry\n"
        "L1,2024-01-01,won,2024-02-01,Fűtő és hűtő kft\n"
    )
    write("leads.csv", text, encoding="cp1250")
    ws = rr.ingest(leads="leads.csv", encoding="cp1250")
    assert ws.con.execute("SELECT industry FROM leads").fetchone() == ("Fűtő és hűtő kft",)
    assert ws.con.execute("SELECT encoding FROM files").fetchone() == ("cp1250",)


def test_shift_jis_means_cp932_as_in_excel(write):
    write(
        "leads.csv", "商談ID,作成日,結果,完了日\nD-①,2024/01/05,受注,2024/02/01\n", encoding="cp932"
    )
    ws = rr.ingest(leads="leads.csv", encoding="Shift_JIS")
    assert ws.con.execute("SELECT lead_id FROM leads").fetchone() == (
        "D-①",
    )  # ① exists in CP932 only


@pytest.mark.parametrize(
    "encoding, message",
    [
        ("klingon", "leads.csv: unknown encoding 'klingon' (--encoding); use a name such as cp932"),
        ("utf-8", "leads.csv: line 2: byte 0x8B cannot be read as utf-8 (--encoding)"),
    ],
)
def test_bad_encoding_option_is_one_line_exit_2(write, encoding, message):
    from typer.testing import CliRunner

    from royalroad.cli import app

    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at\n技術,2024-01-01,won,2024-02-01\n",
        encoding="cp932",
    )
    res = CliRunner().invoke(app, ["validate", "--leads", "leads.csv", "--encoding", encoding])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr
    assert "Traceback" not in res.stderr
