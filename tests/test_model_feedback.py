"""Analysts' decisions improve next month: rejected look-alikes of one kind teach the model, and
different look-alikes of that kind stop being flagged while confirmed kinds stay flagged.

Real SQLite file, real review spreadsheet round trip, real training (scikit-learn) through `wtm`.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from monitor.cli import cli
from monitor.matching import Lexicon, Matcher
from monitor.storage import CrawlRecorder, Database
from storage_db import at, item

# White plastic printed on a 3D printer: 白塑料 is also an ivory code word, and the product words
# give the rules the context they need to flag it.
MONTH1_LOOKALIKES = [
    ("白塑料 手办 3D打印", "PLA材料 打印精度0.1mm 可定制"),
    ("白塑料 雕像 3D打印", "ABS耗材 来图定制 打磨上色另议"),
    ("白塑料 佛像摆件 3D打印", "光固化 打印件 支持定制"),
    ("白塑料 印章 3D打印", "PLA 打印 刻字定制"),
    ("白塑料 笔筒 3D打印", "PETG耗材 桌面收纳 可改尺寸"),
    ("白塑料 麻将 3D打印", "PLA打印 一副144张"),
]
MONTH1_REAL = [
    ("白塑料手串 网格纹", "老料 包浆自然"),
    ("白塑料 平安扣", "老料 有网纹"),
    ("带帽 手串", "老料 网纹"),
    ("非洲料 摆件", "老料 雕刻"),
    ("十三鳞 扇子", "老料"),
]
# next month: other products, other wording, same kind
MONTH2_LOOKALIKES = [
    ("白塑料 吊坠 3D打印", "树脂打印 可刻名字"),
    ("白塑料 把件 3D打印", "打印机打印 PLA 手感顺滑"),
    ("白塑料 手镯 3D打印", "PLA打印 圈口可选"),
    ("白塑料 梳子 3D打印", "ABS打印 防静电"),
    ("白塑料 筷子 3D打印", "PLA 食品级耗材"),
]
MONTH2_REAL = [
    ("白塑料 手镯 圈口56", "老料 网格纹清晰"),
    ("白塑料 吊坠", "非洲老料 有裂"),
    ("带帽 梳子", "老料 有血丝"),
    ("白塑料 筷子", "老料 十双 网纹"),
    ("非洲料 印章", "老料 有网纹"),
]


def flags(matcher: Matcher, listings: list[tuple[str, str]]) -> list[bool]:
    return [matcher.match({"title": t, "description": d}).flagged for t, d in listings]


def test_rejected_lookalikes_stop_being_flagged_next_month(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    base = ["--data-dir", str(data)]
    assert runner.invoke(cli, [*base, "db", "upgrade"]).exit_code == 0
    db = Database(f"sqlite:///{data / 'wtm.sqlite3'}", evidence_dir=data / "evidence")
    lexicon = Lexicon.load()
    before = Matcher(lexicon, model_dir=data)  # nothing trained yet: the shipped model
    # the rules keep learning to clear look-alikes (手办 is a toy); the test needs those they still flag
    flagged_next = [x for x, f in zip(MONTH2_LOOKALIKES, flags(before, MONTH2_LOOKALIKES)) if f]
    assert len(flagged_next) >= 3 and sum(flags(before, MONTH1_LOOKALIKES)) >= 4, \
        "the rules flag this kind of look-alike before any decision"
    assert all(flags(before, MONTH1_REAL + MONTH2_REAL))

    run = db.start_run("monthly", at("2025-06"), "2025-06")
    ids = {}
    with CrawlRecorder(db, run_id=run, site="alpha", observed_at=at("2025-06")) as rec:
        for n, (title, description) in enumerate(MONTH1_LOOKALIKES + MONTH1_REAL):
            verdict = before.match({"title": title, "description": description}).to_dict()
            rec.add(item(str(n), site="alpha", title=title, description=description), matches=verdict["matches"],
                    lexicon_version=before.version, flagged=verdict["flagged"], species=verdict["species"],
                    score=verdict["score"])
            ids[str(n)] = title
    out = tmp_path / "review.xlsx"
    result = runner.invoke(cli, [*base, "review", "export", "--month", "2025-06", "--out", str(out)])
    month1 = sum(flags(before, MONTH1_LOOKALIKES + MONTH1_REAL))
    assert result.exit_code == 0 and f"{month1} listings to review" in result.output, result.output
    fakes = {t for t, _ in MONTH1_LOOKALIKES}
    book = load_workbook(out)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    for row in range(2, sheet.max_row + 1):
        # the sheet marks matched terms as 【白塑料】: the analyst reads the title without the marks
        title = sheet.cell(row=row, column=header.index("title") + 1).value.replace("【", "").replace("】", "")
        decision = "rejected" if title in fakes else "confirmed"
        sheet.cell(row=row, column=header.index("decision") + 1, value=decision)
    book.save(out)
    result = runner.invoke(cli, [*base, "review", "import", str(out), "--reviewer", "ana"])
    assert result.exit_code == 0 and f"{month1} decisions recorded" in result.output, result.output
    db.dispose()

    result = runner.invoke(cli, [*base, "model", "train", "--sandbox", "300"])
    assert result.exit_code == 0, result.output
    assert f"{month1} decisions" in result.output

    after = Matcher(lexicon, model_dir=data)
    assert after.version != before.version and after.version.startswith(lexicon.version + "+")
    assert not any(flags(after, flagged_next)), "unseen look-alikes of the rejected kind"
    assert all(flags(after, MONTH2_REAL)), "confirmed kinds keep their recall"
    assert all(flags(after, MONTH1_REAL))
    verdict = after.match({"title": flagged_next[0][0], "description": flagged_next[0][1]})
    assert verdict.model["decided_by"] == "model" and verdict.model["probability"] < 0.5
    assert any(reason.startswith("model:") for _, reason in verdict.rejected)  # the rule evidence is kept
