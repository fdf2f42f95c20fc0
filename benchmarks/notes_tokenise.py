"""How long does it take to tokenise sales notes? (issue 15: "seconds, not minutes")

Three corpora of ``--notes`` notes each (default 100,000), tokenised the way the trigger
analysis does it (:func:`royalroad.analysis.triggers_texts.index_texts`: every distinct
text once, every distinct sentence once, terms and trigger categories per text):

* ``unique``: every note and every sentence different (a random reference number in
  each sentence defeats the sentence cache): the raw speed of SudachiPy plus ours;
* ``realistic``: every note different, built from a few hundred visit-note sentences
  with names, phone numbers, dates and amounts, a tenth in English or mixed;
* ``simulated``: the simulator's notes (few distinct texts, as CRM templates give).

Then the whole ``royalroad triggers`` analysis on a simulated workspace with about that
many notes (ingest excluded), without and with the goals grid of note milestones.

    .venv/bin/python benchmarks/notes_tokenise.py                 # 100,000 notes
    .venv/bin/python benchmarks/notes_tokenise.py --notes 20000 --no-analysis

It prints a Markdown section; the figures of record are in ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time
from pathlib import Path

JA = (
    "{name}様と打合せ",
    "比較資料をお送りしたところ前向きな反応",
    "予算未確保のため来期に再提案",
    "導入時期は未定とのこと",
    "試作評価の結果は良好",
    "技術者同士で仕様を詰めた",
    "展示会で実機をご覧いただいた",
    "稟議書の準備を進めている",
    "価格面で難色を示された",
    "決裁者が同席",
    "競合他社の見積と比較中",
    "次回は{month}月上旬に訪問予定",
    "見積金額は{amount}万円",
    "代表 03-{a}-{b} まで折り返し",
    "担当の{name}さんが異動予定",
    "図面を受領、社内で検討",
    "サンプル品の納期を確認",
    "ウェビナー参加後に問い合わせあり",
    "品質保証部も関心あり",
    "既存ラインの更新時期を確認中",
    "{name}部長より予算確保済みとの連絡",
    "PoCの範囲について合意",
    "工場見学の日程を調整",
    "メールで資料を追加送付",
)
EN = (
    "Call with {en_name}: budget secured",
    "They reviewed the comparison sheet",
    "No budget this fiscal year",
    "Decision maker joined the meeting",
    "Timeline undecided, follow up next month",
    "Sent the brochure again",
)
NAMES = ("山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤")
EN_NAMES = ("Mr. Smith", "Ms. Brown", "John Lee", "Dr. Tanaka")


def realistic(n: int, rng: random.Random, unique: bool) -> list[str]:
    out = []
    for i in range(n):
        parts = []
        for _ in range(rng.randint(2, 5)):
            pool = EN if rng.random() < 0.1 else JA
            s = rng.choice(pool).format(
                name=rng.choice(NAMES),
                en_name=rng.choice(EN_NAMES),
                month=rng.randint(1, 12),
                amount=rng.randint(10, 999),
                a=rng.randint(1000, 9999),
                b=rng.randint(1000, 9999),
            )
            if unique:  # a reference number per sentence: nothing repeats
                s += (
                    f"(案件{rng.randint(0, 10**9)})"
                    if pool is JA
                    else f" (ref {rng.randint(0, 10**9)})"
                )
            parts.append(s)
        text = "。".join(parts) + "。"
        out.append(text if unique else f"{text}#{i}")  # every note different
    return out


def simulated(n: int) -> list[str]:
    from royalroad.simulate import simulate

    leads = int(n / 1.5) + 1
    notes = simulate("manufacturing", leads=leads, seed=1).notes["text"].to_pylist()
    return notes[:n]


def tokenise(texts: list[str]) -> dict:
    from royalroad.analysis.triggers_texts import index_texts
    from royalroad.text.dictionary import load
    from royalroad.text.tokens import Tokeniser

    tk = Tokeniser()
    d = load(None, tk)
    tk.japanese  # noqa: B018 - the dictionary loads once per process, outside the clock
    distinct = sorted(set(texts))
    start = time.perf_counter()
    index = index_texts(distinct, d.matcher(), tk)
    seconds = time.perf_counter() - start
    chars = sum(len(t) for t in texts)
    return {
        "notes": len(texts),
        "distinct": len(distinct),
        "chars": chars,
        "seconds": seconds,
        "vocabulary": len(index.vocabulary),
        "pairs": index.terms.num_rows,
    }


def analysis(n: int) -> dict:
    import royalroad as rr
    from royalroad.analysis.goals import discover_goals
    from royalroad.analysis.triggers import triggers
    from royalroad.simulate import simulate

    leads = int(n / 1.5) + 1
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        simulate("manufacturing", leads=leads, seed=1).write(out)
        ws = rr.ingest(leads=out / "leads.csv", events=out / "events.csv", notes=out / "notes.csv")
        notes = ws.con.execute("SELECT count(*) FROM notes").fetchone()[0]
        t0 = time.perf_counter()
        goals = discover_goals(ws)
        t1 = time.perf_counter()
        triggers(ws, goals=goals, milestones=False)
        t2 = time.perf_counter()
        triggers(ws, goals=goals, milestones=True)
        t3 = time.perf_counter()
        ws.close()
    return {
        "leads": leads,
        "notes": notes,
        "goals": t1 - t0,
        "triggers": t2 - t1,
        "with_grid": t3 - t2,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--notes", type=int, default=100_000)
    ap.add_argument("--no-analysis", action="store_true", help="tokenising only")
    args = ap.parse_args()
    rng = random.Random(0)
    rows = []
    for name, texts in (
        ("unique", realistic(args.notes, rng, unique=True)),
        ("realistic", realistic(args.notes, rng, unique=False)),
        ("simulated", simulated(args.notes)),
    ):
        r = tokenise(texts)
        rows.append((name, r))
        print(f"{name}: {r}", flush=True)
    print()
    print(f"## Tokenising notes (`benchmarks/notes_tokenise.py --notes {args.notes}`)")
    print()
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        "one process; SudachiPy dictionary load (~0.1 s) excluded."
    )
    print()
    print("| corpus | notes | distinct texts | characters | seconds | notes/s | terms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        rate = r["notes"] / r["seconds"] if r["seconds"] else float("inf")
        print(
            f"| {name} | {r['notes']:,} | {r['distinct']:,} | {r['chars']:,} | "
            f"{r['seconds']:.2f} | {rate:,.0f} | {r['vocabulary']:,} |"
        )
    if not args.no_analysis:
        a = analysis(args.notes)
        print()
        print(
            f"Whole analysis on the manufacturing simulation ({a['leads']:,} leads, "
            f"{a['notes']:,} notes; ingest excluded): goal search {a['goals']:.1f} s, "
            f"`triggers` {a['triggers']:.1f} s, with the goals grid of note milestones "
            f"{a['with_grid']:.1f} s."
        )


if __name__ == "__main__":
    main()
