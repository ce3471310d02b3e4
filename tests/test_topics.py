"""Task `topics`: splits keep translations of D out of every test set, and draws depend only on the seed."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.config import TaskConfig
from engine.tasks import get_task
from engine.tasks import topics as T
from engine.tasks.base import TaskData

ROOT = Path(__file__).resolve().parent.parent
TASK = get_task("topics")
ALL = [c for c in TASK.languages() if c != "en"]


def load(seed: int = 3, **fields) -> TaskData:
    return TASK.load(TaskConfig(name="topics", **fields), seed)


def digest(data: TaskData) -> str:
    parts = [data.train, data.unlabeled, *(data.test[k] for k in sorted(data.test))]
    parts += [p for p in (data.parallel, data.parallel_source) if p is not None]
    h = hashlib.sha256()
    for ex in parts:
        for row in zip(ex.id, ex.text, ex.group, ex.label.tolist()):
            h.update(repr(row).encode())
    return h.hexdigest()


def texts_by_lang(ex) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for t, lang in zip(ex.text, ex.lang):
        out.setdefault(lang, set()).add(t)
    return out


def test_task_description() -> None:
    assert TASK.name == "topics" and TASK.kind == "single" and TASK.metric == "accuracy"
    assert TASK.labels() == sorted(TASK.labels()) == list(T.LABELS)
    assert TASK.default_source() == "en" and "en" in TASK.languages()
    assert set(TASK.translated_languages()) <= set(ALL)
    assert {"it", "ja", "ko", "zh", "de"} <= set(TASK.translated_languages())


def test_table_matches_the_corpus() -> None:
    g = T._graph()
    assert not g.unaligned_files
    for code in TASK.languages():
        assert g.by_lang.get(code), f"{code} has no utterance in the label set"
    for code in ALL:
        nodes = g.by_lang[code]
        share = sum(1 for i in nodes if g.group[i]) / len(nodes)
        assert (code in T.TRANSLATED) == (share >= 0.4), (code, share)


def test_languages_is_cheap() -> None:
    code = ("import sys; from engine.tasks import get_task; import engine.tasks.topics; "
            "langs = get_task('topics').languages(); assert 'en' in langs and 'ja' in langs; "
            "print(sorted(m for m in ('yaml', 'numpy', 'chatterbot_corpus') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_same_seed_same_data_other_seed_other_data() -> None:
    fields = dict(target_langs=["it", "ja", "fa"], parallel_size=20, max_unlabeled=100)
    a, b, c = load(5, **fields), load(5, **fields), load(6, **fields)
    assert digest(a) == digest(b)
    assert a.train.text != c.train.text and a.test["it"].text != c.test["it"].text
    assert a.parallel.text != c.parallel.text


def test_draws_do_not_depend_on_the_string_hash_seed() -> None:
    code = ("from tests.test_topics import load, digest; "
            "print(digest(load(5, target_langs=['it', 'fa', 'zh'], parallel_size=20, max_unlabeled=50)))")
    here = digest(load(5, target_langs=["it", "fa", "zh"], parallel_size=20, max_unlabeled=50))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "12345"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == here


def test_d_and_test_sets_do_not_depend_on_the_other_targets() -> None:
    one, many = load(9, target_langs=["ja"]), load(9, target_langs=["ja", "it", "fa", "ko"])
    assert one.train.id == many.train.id
    assert one.test["en"].id == many.test["en"].id and one.test["ja"].id == many.test["ja"].id


def test_no_test_text_shares_a_group_with_d() -> None:
    data = load(11)
    d_groups = set(data.train.group)
    assert "" not in d_groups  # every English item is an aligned item
    for lang, ex in data.test.items():
        assert not d_groups & (set(ex.group) - {""}), lang
    # every item a translated test set holds is aligned with English test items, never with D
    en_test = set(data.test["en"].group)
    for lang in TASK.translated_languages():
        assert {g for g in data.test[lang].group if g} <= en_test, lang


def test_splits_are_disjoint_and_deduplicated() -> None:
    data = load(13, parallel_size=40)
    u = texts_by_lang(data.unlabeled)
    par = texts_by_lang(data.parallel)
    for lang, ex in data.test.items():
        assert not set(ex.text) & u.get(lang, set()), lang
        assert not set(ex.text) & par.get(lang, set()), lang
    for lang in par:
        assert not par[lang] & u.get(lang, set()), lang
    assert not set(data.train.text) & set(data.test["en"].text)
    # one example per text and language, whatever set it is in, and every text has one label
    seen: dict[tuple[str, str], int] = {}
    for ex in [data.train, data.unlabeled, data.parallel, *data.test.values()]:
        for t, lang, y in zip(ex.text, ex.lang, ex.label.tolist()):
            key = (lang, " ".join(t.split()).casefold())
            assert key not in seen, key
            seen[key] = y
    ids = [i for ex in [data.train, data.unlabeled, data.parallel, *data.test.values()] for i in ex.id]
    assert len(ids) == len(set(ids))


def test_dedup_drops_texts_under_two_topics() -> None:
    g = T._graph()
    labels_of: dict[tuple[str, str], set[int]] = {}
    for t, lang, y in zip(g.text, g.lang, g.label):
        labels_of.setdefault((lang, t.casefold()), set()).add(y)
    assert all(len(v) == 1 for v in labels_of.values())
    assert sum(d["ambiguous"] for d in g.dropped.values()) > 0
    assert sum(d["duplicate"] for d in g.dropped.values()) > 0


def test_example_columns() -> None:
    data = load(2, target_langs=["it", "fa"], max_unlabeled=30)
    assert set(data.test) == {"en", "it", "fa"}
    assert set(data.train.lang) == {"en"} and set(data.unlabeled.lang) == {"it", "fa"}
    assert all(i.startswith(f"{lang}/") for i, lang in zip(data.unlabeled.id, data.unlabeled.lang))
    topic, pos = data.unlabeled.id[0].split("/")[1:]
    assert topic in T.LABELS and pos.isdigit()
    assert data.train.label.min() >= 0 and data.train.label.max() < len(T.LABELS)
    assert set(data.train.label.tolist()) == set(range(len(T.LABELS)))
    assert data.parallel is None and data.parallel_source is None
    assert data.notes and any("it" in n and "split by aligned item" in n for n in data.notes)
    assert any(n.startswith("fa") and "independently" in n for n in data.notes)


def test_test_fraction_holds_out_about_that_share() -> None:
    data = load(4, target_langs=["ja", "fa"], test_fraction=0.2)
    g = T._graph()
    for lang in ("en", "ja", "fa"):
        share = len(data.test[lang]) / len(g.by_lang[lang])
        assert 0.15 < share < 0.25, (lang, share)


def test_caps() -> None:
    data = load(7, target_langs=["it", "ja", "de"], max_source=50, max_unlabeled=7, max_test=5)
    assert len(data.train) == 50
    assert all(len(ex) == 5 for ex in data.test.values())
    counts = {lang: data.unlabeled.lang.count(lang) for lang in ("it", "ja", "de")}
    assert counts == {"it": 7, "ja": 7, "de": 7}
    none = load(7, target_langs=["it"], max_unlabeled=0)
    assert len(none.unlabeled) == 0


def test_parallel_pairs() -> None:
    data = load(8, target_langs=["it", "ja", "fa"], parallel_size=60)
    par, src = data.parallel, data.parallel_source
    assert len(par) == len(src) == 60
    assert set(par.lang) <= {"it", "ja"} and set(src.lang) == {"en"}
    assert np.array_equal(par.label, src.label)
    assert par.group == src.group and all(par.group)
    test_groups = {g for ex in data.test.values() for g in ex.group if g}
    assert not set(par.group) & test_groups
    assert not set(src.text) & set(data.test["en"].text)
    u = set(zip(data.unlabeled.lang, data.unlabeled.text))
    assert not set(zip(par.lang, par.text)) & u


def test_parallel_translates_only_items_of_d_when_d_is_capped() -> None:
    data = load(8, target_langs=["it", "ja", "zh"], parallel_size=60, max_source=120)
    assert len(data.train) == 120 and len(data.parallel) > 0
    assert set(data.parallel_source.id) <= set(data.train.id)


def test_parallel_takes_what_there_is() -> None:
    data = load(8, target_langs=["hi"], parallel_size=10_000)
    assert 0 < len(data.parallel) < 10_000
    assert any("parallel_size" in n for n in data.notes)
    assert not {t for t, lang in zip(data.unlabeled.text, data.unlabeled.lang) if lang == "hi"} & set(data.parallel.text)


def test_parallel_without_translated_target_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"task\.parallel_size is 5 .*no target language.*translations.*it"):
        load(1, target_langs=["fa", "he"], parallel_size=5)


def test_other_source_language_is_an_error() -> None:
    with pytest.raises(ValueError, match="task.source_lang"):
        load(1, source_lang="it", target_langs=["ja"])


def test_a_file_the_table_does_not_fit_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if chatterbot-corpus changed the file: its translations could no longer be kept away from D.
    monkeypatch.setattr(T, "_ALIGNMENT", T._ALIGNMENT.replace("german food 34 34 |", "german food 34 35 |"))
    T._alignment.cache_clear()
    T._graph.cache_clear()
    try:
        data = load(1, target_langs=["de"])
        assert T._graph().unaligned_files == ["german/food.yml"]
        assert "food" not in {i.split("/")[1] for ex in (data.unlabeled, data.test["de"]) for i in ex.id}
        assert any("german/food.yml" in n for n in data.notes)
    finally:
        T._alignment.cache_clear()
        T._graph.cache_clear()
