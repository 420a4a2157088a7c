"""The hostile corpus (tests/corpus/make_corpus.py) uploaded through the page is answered as
``xltools check`` answers it: the same finding codes, the case's own code among them, a
Chinese message for each, the same pass or fail; never a traceback, never a server error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from corpus.make_corpus import CorpusCase, make_corpus
from serve_support import client, config, sign_in, tokens, upload

from xltools.check.files import check_one
from xltools.registry import Registry

CJK = re.compile(r"[\u4e00-\u9fff]")
SERVE_ONLY = {"serve-no-stamp"}
COPY = {"copy-not-written"}  # what the intake adds: the file carries no bureau stamp


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[CorpusCase, Path, Any]]:
    tmp = tmp_path_factory.mktemp("serve-corpus")
    made = make_corpus(tmp / "corpus")
    # a roster without templates: the corpus holds returns of every bundled template
    roster = tmp / "名册.csv"
    roster.write_text("bureau_id,bureau_name\nS001,梧桐县医保局\n", encoding="utf-8")
    cfg = config(tmp / "data", roster, max_uploads_per_bureau=len(made) + 1)
    browser = client(cfg)
    value = sign_in(browser, tokens(tmp / "data")["S001"])
    found = []
    for case in made:
        path = tmp / "corpus" / case.file
        name = case.file.encode("utf-8", "replace").decode("utf-8")
        found.append((case, path, upload(browser, value, path, name=name)))
    return found


def test_every_corpus_file_is_answered_as_check_answers_it(
    answers: list[tuple[CorpusCase, Path, Any]],
) -> None:
    registry = Registry.load(None)
    assert len(answers) >= 40
    for case, path, answer in answers:
        assert answer.status_code == 200, (case.file, answer.text)
        assert "Traceback" not in answer.text and "internal-error" not in answer.text
        body = answer.json()
        codes = {f["code"] for f in body["report"]["findings"]} - SERVE_ONLY
        assert case.code in codes, (case.file, codes)
        # the check itself, as `xltools check` runs it (its copy aside: writing it costs most,
        # and whether it could be written is the one finding that comes of writing it)
        expected = check_one(path, registry, None, copy_to=None).report
        assert codes - COPY == {f.code for f in expected.findings} - COPY, case.file
        assert all(
            CJK.search(f["message"]) for f in body["report"]["findings"] if f["code"] == case.code
        )
        assert (body["verdict"] == "passed") == (case.exit == 0), (case.file, body["verdict"])
