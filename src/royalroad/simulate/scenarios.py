"""The four processes of the seed article, as data.

A scenario says *what* a synthetic CRM looks like: the activities a Japanese CRM
would log, the share of each segment, the planted rates and the traps. The engine
(:mod:`royalroad.simulate.engine`) knows nothing about any particular industry; it
reads these tables.

Every lead follows the same skeleton::

    entry (by source) ─► cheap steps ─► GOAL ─► later stage 1 ─► later stage 2 … ─► close
                          (catalogue)          (each for a part of the previous one)

* ``win_catalogue`` is the win rate of *catalogue-only* leads: closed leads whose
  pre-close activities, proxies aside, are all in :attr:`Scenario.catalogue_steps`.
* ``goal.win`` and ``Stage.win`` are the win rates of leads whose *deepest* step is
  that one. They are chosen so that the later, narrower steps add a little to the
  win rate but cover far fewer winners: the goal has the best balance (MCC).
* The confounder industry has ``confounder.win_odds`` times the win odds at every
  depth and does ``confounder.activity`` far more often; the activity itself has no
  effect (given the industry it is independent of the goal and of the outcome).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Where a lead comes from; decides its first (entry) activity."""

    name: str
    share: float
    entry: str
    entry_channel: str
    goal_odds: float  # odds multiplier on reaching the goal


@dataclass(frozen=True)
class OnceStep:
    """A cheap step done at most once, a few days after creation (e.g. 資料送付)."""

    activity: str
    p: float
    mean_delay_days: float
    same_time_share: float  # logged in the same second as the entry (batch import)
    channel: str
    by_rep: bool
    goal_odds: float = 1.0  # odds multiplier on reaching the goal: the planted route to it


@dataclass(frozen=True)
class CountStep:
    """A cheap step repeated a Poisson number of times before close (mail opens, calls)."""

    activity: str
    mean_count: float
    channel: str
    by_rep: bool


@dataclass(frozen=True)
class Milestone:
    """The goal or a later stage: reached by a share ``p`` of the previous step."""

    activity: str
    p: float  # goal: P(reach) over all leads; later stage: P(reach | previous reached)
    win: float  # win rate of closed leads whose deepest step is this one
    channels: tuple[str, ...]
    by_rep: bool = True


@dataclass(frozen=True)
class Confounder:
    industry: str
    activity: str
    p_in: float  # P(activity) in the confounder industry
    p_out: float  # P(activity) in every other industry
    win_odds: float  # win odds multiplier of the industry (no effect under null)
    channel: str


@dataclass(frozen=True)
class Drift:
    """A change over time (``simulate(..., drift=True)``): from a date inside the span
    every lead created on or after it has ``win_odds`` times the win odds, and a new
    activity with no effect of its own starts, done by a share ``p`` of those leads."""

    activity: str
    p: float  # share of leads created on or after the date that do the activity
    win_odds: float  # win odds multiplier of every lead created on or after the date
    channel: str


DRIFT = Drift("新サービス説明会", 0.7, 3.0, "オンライン")
"""A new-offer briefing introduced when the market turned: it looks like a cause."""


@dataclass(frozen=True)
class Scenario:
    name: str
    prefix: str
    sources: tuple[Source, ...]
    industries: tuple[tuple[str, float], ...]
    regions: tuple[tuple[str, float], ...]
    reps: tuple[tuple[str, float], ...]  # name, skill = odds multiplier on reaching the goal
    once: tuple[OnceStep, ...]
    counts: tuple[CountStep, ...]
    goal: Milestone
    stages: tuple[Milestone, ...]
    repeat_goal: float  # share of goal-reachers with a second goal event (no effect)
    win_catalogue: float
    win_null: float  # constant win rate under null=True
    days_to_goal: float  # mean days from creation to the goal (plus one)
    days_goal_to_close: float  # mean days from the goal to close (plus seven), any depth
    days_to_close_no_goal: float  # mean days from the last cheap step to close (plus one)
    confounder: Confounder
    proxy: str
    proxy_channel: str
    proxy_p_won: float
    proxy_p_lost: float
    post_won: str
    post_won_p: float
    post_lost: str
    post_lost_p: float
    amount_median: int
    amount_sigma: float
    fillers: tuple[str, ...]  # neutral note fragments specific to the scenario
    span_days: int = 300  # leads are created during the span_days before as_of
    drift: Drift = DRIFT  # planted only with simulate(..., drift=True)
    slow_share: float = 0.35
    """Share of slow leads: they do the repeated steps (mail opens, calls) at
    ``slow_repeat_rate`` times the usual rate, so they sit idle longer, and win with
    ``slow_win_odds`` times the odds at every depth (not under null): the planted idle
    effect a P(win) must pick up."""
    slow_repeat_rate: float = 0.25
    slow_win_odds: float = 0.4

    @property
    def royal_road(self) -> list[str]:
        """Entry of the main source, the cheap once-steps, the goal and later stages."""
        main = max(self.sources, key=lambda s: s.share)
        road = [main.entry] + [s.activity for s in self.once if s.activity != main.entry]
        return road + [self.goal.activity] + [s.activity for s in self.stages]

    @property
    def catalogue_steps(self) -> list[str]:
        names = [s.entry for s in self.sources] + [s.activity for s in self.once]
        names += [c.activity for c in self.counts]
        return list(dict.fromkeys(names))

    @property
    def activities(self) -> list[str]:
        """Every activity, in the order used to break ties between equal timestamps."""
        names = self.catalogue_steps + [self.goal.activity] + [s.activity for s in self.stages]
        names += [self.confounder.activity, self.proxy, self.post_won, self.post_lost]
        return list(dict.fromkeys(names))


_REGIONS = (
    ("関東", 0.42),
    ("関西", 0.20),
    ("中部", 0.15),
    ("九州", 0.09),
    ("東北", 0.07),
    ("北海道", 0.07),
)
_SKILLS = (1.8, 1.45, 1.2, 1.0, 1.0, 0.85, 0.7, 0.5)


def _reps(names: str) -> tuple[tuple[str, float], ...]:
    return tuple(zip(names.split(","), _SKILLS, strict=True))


MANUFACTURING = Scenario(
    name="manufacturing",
    prefix="MFG",
    sources=(
        Source("展示会", 0.65, "展示会名刺交換", "展示会", 1.0),
        Source("Webサイト", 0.25, "Web問い合わせ", "Web", 1.2),
        Source("紹介", 0.10, "紹介受付", "電話", 1.8),
    ),
    industries=(
        ("自動車部品", 0.25),
        ("電子部品", 0.22),
        ("産業機械", 0.20),
        ("食品", 0.18),
        ("化学", 0.15),
    ),
    regions=_REGIONS,
    reps=_reps("佐藤 健,鈴木 美咲,高橋 翔,田中 陽子,伊藤 大輔,渡辺 さくら,山本 拓也,中村 由美"),
    once=(OnceStep("資料送付", 0.85, 2.0, 0.12, "メール", True, goal_odds=3.0),),
    counts=(
        CountStep("メール開封", 3.5, "メール", False),
        CountStep("電話フォロー", 1.0, "電話", True),
    ),
    goal=Milestone("技術打合せ", 0.35, 0.55, ("対面", "オンライン")),
    stages=(
        Milestone("見積依頼", 0.60, 0.63, ("メール",)),
        Milestone("試作評価", 0.50, 0.70, ("対面",)),
        Milestone("量産提案", 0.60, 0.78, ("対面", "オンライン")),
    ),
    repeat_goal=0.30,
    win_catalogue=0.10,
    win_null=0.28,
    days_to_goal=18.0,
    days_goal_to_close=35.0,
    days_to_close_no_goal=40.0,
    confounder=Confounder("自動車部品", "工場見学", 0.75, 0.05, 3.5, "対面"),
    proxy="契約締結",
    proxy_channel="対面",
    proxy_p_won=0.98,
    proxy_p_lost=0.015,
    post_won="初回納品",
    post_won_p=0.90,
    post_lost="フォローメール",
    post_lost_p=0.60,
    amount_median=4_800_000,
    amount_sigma=0.8,
    fillers=(
        "サンプル品の納期を確認",
        "図面を受領",
        "品質保証部も関心あり",
        "次回は来月上旬",
        "既存ラインの更新時期を確認中",
        "技術資料を追加で依頼された",
    ),
)

SAAS = Scenario(
    name="saas",
    prefix="SAAS",
    sources=(
        Source("ウェビナー", 0.45, "ウェビナー参加", "オンライン", 1.0),
        Source("Web広告", 0.40, "資料ダウンロード", "Web", 0.9),
        Source("紹介", 0.15, "問い合わせ", "Web", 1.8),
    ),
    industries=(
        ("IT・通信", 0.25),
        ("小売", 0.20),
        ("製造", 0.20),
        ("金融", 0.15),
        ("医療・福祉", 0.10),
        ("サービス", 0.10),
    ),
    regions=_REGIONS,
    reps=_reps("小林 亮,加藤 真由,吉田 悠斗,山田 彩,佐々木 誠,山口 葵,松本 大樹,井上 愛"),
    once=(OnceStep("資料ダウンロード", 0.50, 3.0, 0.0, "Web", False, goal_odds=2.5),),
    counts=(
        CountStep("メール開封", 4.0, "メール", False),
        CountStep("インサイドセールス架電", 1.0, "電話", True),
    ),
    goal=Milestone("無料トライアル登録", 0.35, 0.295, ("Web",), by_rep=False),
    stages=(
        Milestone("オンボーディング面談", 0.30, 0.305, ("オンライン",)),
        Milestone("見積提示", 0.50, 0.32, ("メール", "オンライン")),
    ),
    repeat_goal=0.10,
    win_catalogue=0.10,
    win_null=0.17,
    days_to_goal=10.0,
    days_goal_to_close=20.0,
    days_to_close_no_goal=35.0,
    confounder=Confounder("IT・通信", "導入事例閲覧", 0.75, 0.05, 2.3, "Web"),
    proxy="有料プラン申込",
    proxy_channel="Web",
    proxy_p_won=0.98,
    proxy_p_lost=0.015,
    post_won="導入キックオフ",
    post_won_p=0.90,
    post_lost="フォローメール",
    post_lost_p=0.60,
    amount_median=1_200_000,
    amount_sigma=0.7,
    fillers=(
        "管理画面の操作感は好評",
        "SSO対応の有無を質問された",
        "情報システム部の確認待ち",
        "利用人数は50名程度の見込み",
        "既存ツールからの移行を検討",
        "次回は来週火曜",
    ),
    span_days=240,
)

EDUCATION = Scenario(
    name="education",
    prefix="EDU",
    sources=(
        Source("Web広告", 0.55, "資料請求", "Web", 1.0),
        Source("セミナー", 0.30, "オンライン説明会参加", "オンライン", 1.3),
        Source("紹介", 0.15, "紹介受付", "電話", 1.8),
    ),
    industries=(("金融", 0.25), ("IT・通信", 0.22), ("製造", 0.20), ("小売", 0.18), ("商社", 0.15)),
    regions=_REGIONS,
    reps=_reps("木村 翼,林 香織,清水 涼,山崎 舞,森 啓太,池田 千尋,橋本 蓮,阿部 美穂"),
    once=(OnceStep("カリキュラム送付", 0.70, 2.0, 0.10, "メール", True, goal_odds=3.0),),
    counts=(
        CountStep("メール開封", 3.5, "メール", False),
        CountStep("電話フォロー", 1.0, "電話", True),
    ),
    goal=Milestone("無料体験レッスン", 0.40, 0.64, ("オンライン", "対面")),
    stages=(Milestone("個別相談", 0.60, 0.74, ("オンライン", "対面")),),
    repeat_goal=0.20,
    win_catalogue=0.10,
    win_null=0.34,
    days_to_goal=14.0,
    days_goal_to_close=14.0,
    days_to_close_no_goal=30.0,
    confounder=Confounder("金融", "講師プロフィール閲覧", 0.75, 0.05, 3.5, "Web"),
    proxy="申込書受領",
    proxy_channel="メール",
    proxy_p_won=0.98,
    proxy_p_lost=0.015,
    post_won="初回レッスン",
    post_won_p=0.90,
    post_lost="フォローメール",
    post_lost_p=0.60,
    amount_median=800_000,
    amount_sigma=0.6,
    fillers=(
        "受講対象は新任管理職",
        "人事部長が窓口",
        "研修は下期を予定",
        "オンライン受講を希望",
        "受講人数は20名前後",
        "他社研修の実績を質問された",
    ),
    span_days=220,
)

CONSULTING = Scenario(
    name="consulting",
    prefix="CON",
    sources=(
        Source("Webサイト", 0.50, "問い合わせ", "Web", 1.0),
        Source("セミナー", 0.30, "セミナー参加", "対面", 1.2),
        Source("紹介", 0.20, "紹介受付", "電話", 1.8),
    ),
    industries=(("製薬", 0.25), ("製造", 0.22), ("金融", 0.20), ("小売", 0.18), ("物流", 0.15)),
    regions=_REGIONS,
    reps=_reps("斎藤 聡,山下 理恵,石川 達也,中島 瞳,前田 和也,藤田 絵美,小川 直樹,後藤 優子"),
    once=(OnceStep("会社案内送付", 0.80, 2.0, 0.10, "メール", True, goal_odds=2.5),),
    counts=(
        CountStep("メール開封", 3.5, "メール", False),
        CountStep("電話フォロー", 1.0, "電話", True),
    ),
    goal=Milestone("課題ヒアリング", 0.35, 0.46, ("対面", "オンライン")),
    stages=(Milestone("提案書提出", 0.60, 0.53, ("メール", "対面")),),
    repeat_goal=0.25,
    win_catalogue=0.10,
    win_null=0.24,
    days_to_goal=14.0,
    days_goal_to_close=30.0,
    days_to_close_no_goal=40.0,
    confounder=Confounder("製薬", "事例集ダウンロード", 0.75, 0.05, 3.5, "Web"),
    proxy="契約締結",
    proxy_channel="対面",
    proxy_p_won=0.98,
    proxy_p_lost=0.015,
    post_won="キックオフ会議",
    post_won_p=0.90,
    post_lost="フォローメール",
    post_lost_p=0.60,
    amount_median=6_000_000,
    amount_sigma=0.6,
    fillers=(
        "経営企画部長が窓口",
        "現状の業務フローを共有いただいた",
        "社内稟議は四半期ごと",
        "プロジェクト期間は6か月想定",
        "他ファームにも相談しているか不明",
        "次回は再来週",
    ),
    span_days=280,
)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (MANUFACTURING, SAAS, EDUCATION, CONSULTING)}
