"""The codebook: the shipped one loads; an invalid one is one clear CodebookError."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from nlp.codebook import get_codebook, load_codebook, parse_codebook
from nlp.errors import CodebookError
from nlp.patterns import Normaliser
from nlp.settings import DEFAULT_CODEBOOK
from nlp.taxonomy import THEMES


def minimal() -> dict[str, Any]:
    """A valid two-theme codebook to break one field at a time."""
    return {
        "version": 1,
        "themes": [
            {
                "id": "chronology",
                "label": "Chronologies",
                "description": "Chronology current and used, or missing and out of date.",
                "concern": ["chronology (out of date / not current)"],
                "strength": [{"pattern": "chronology ... up to date", "confidence": 0.9}],
                "absence": ["chronology"],
            },
            {
                "id": "supervision",
                "label": "Supervision",
                "description": "Regular, reflective supervision and management oversight.",
                "concern": [{"pattern": "task-focused", "negated": "drop"}],
                "strength": ["reflective supervision"],
            },
        ],
    }


def test_shipped_codebook_has_every_taxonomy_theme() -> None:
    codebook = get_codebook()
    assert [t.id for t in codebook.themes] == list(THEMES)
    for theme in codebook.themes:
        kinds = {c.kind for c in theme.cues}
        assert {"concern", "strength"} <= kinds, theme.id
        assert theme.label and theme.description


def test_minimal_codebook_parses_cues_with_defaults(norms: Normaliser) -> None:
    codebook = parse_codebook(minimal(), normalise=norms)
    chronology = codebook.theme("chronology")
    assert [(c.kind, c.pattern, c.negated, c.confidence) for c in chronology.cues] == [
        ("concern", "chronology (out of date / not current)", "flip", 0.8),
        ("strength", "chronology ... up to date", "flip", 0.9),
        ("absence", "chronology", "flip", 0.8),
    ]
    assert codebook.theme("supervision").cues[0].negated == "drop"
    with pytest.raises(KeyError):
        codebook.theme("drift_delay")


def _broken(path: tuple[Any, ...], value: Any, delete: bool = False) -> dict[str, Any]:
    data = minimal()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "names"),
    [
        pytest.param(
            _broken(("themes", 0, "colour"), "red"),
            ["'chronology'", "colour"],
            id="unknown-theme-key",
        ),
        pytest.param(
            _broken(("themes", 0, "concern", 0), {"pattern": "late chronology", "weight": 2}),
            ["'chronology'", "'concern'", "item 1", "weight"],
            id="unknown-cue-key",
        ),
        pytest.param(
            _broken(("themes", 1, "id"), "chronology"),
            ["'chronology'", "'id'", "duplicated"],
            id="duplicate-id",
        ),
        pytest.param(
            _broken(("themes", 1, "id"), "neglect"),
            ["'neglect'", "'id'", "taxonomy"],
            id="id-outside-taxonomy",
        ),
        pytest.param(
            _broken(("themes", 1, "id"), None, delete=True), ["theme #2", "'id'"], id="missing-id"
        ),
        pytest.param(
            _broken(("themes", 0, "concern", 0), "chronology (out of date"),
            ["'chronology'", "'concern'", "item 1", "malformed pattern", "without"],
            id="malformed-pattern",
        ),
        pytest.param(
            _broken(("themes", 1, "strength", 0), "... reflective"),
            ["'supervision'", "'strength'", "item 1", "malformed pattern"],
            id="leading-gap",
        ),
        pytest.param(
            _broken(("themes", 1, "concern", 0, "negated"), "invert"),
            ["'supervision'", "'concern'", "'negated'", "'invert'"],
            id="bad-negated",
        ),
        pytest.param(
            _broken(("themes", 0, "strength", 0, "confidence"), 1.5),
            ["'chronology'", "'strength'", "'confidence'", "1.5"],
            id="confidence-above-one",
        ),
        pytest.param(
            _broken(("themes", 0, "strength", 0, "confidence"), 0),
            ["'chronology'", "'strength'", "'confidence'"],
            id="confidence-zero",
        ),
        pytest.param(
            _broken(("themes", 0, "strength", 0, "confidence"), "high"),
            ["'chronology'", "'strength'", "'confidence'", "'high'"],
            id="confidence-text",
        ),
        pytest.param(
            _broken(("themes", 0, "strength", 0, "confidence"), True),
            ["'chronology'", "'strength'", "'confidence'"],
            id="confidence-bool",
        ),
        pytest.param(
            _broken(("themes", 0, "concern"), "chronology out of date"),
            ["'chronology'", "'concern'", "list"],
            id="cue-field-not-a-list",
        ),
        pytest.param(
            _broken(("themes", 0, "absence", 0), ["chronology"]),
            ["'chronology'", "'absence'", "item 1"],
            id="cue-not-a-string-or-mapping",
        ),
        pytest.param(
            _broken(("themes", 0, "concern", 0), {"pattern": "  "}),
            ["'chronology'", "'concern'", "'pattern'"],
            id="blank-pattern",
        ),
        pytest.param(
            _broken(("themes", 1, "label"), ""), ["'supervision'", "'label'"], id="empty-label"
        ),
        pytest.param(
            _broken(("themes", 1, "description"), None, delete=True),
            ["'supervision'", "'description'"],
            id="no-description",
        ),
        pytest.param(_broken(("owner",), "QA team"), ["owner"], id="unknown-top-level-key"),
        pytest.param(
            _broken(("themes",), {"chronology": {}}), ["'themes' list"], id="themes-not-a-list"
        ),
    ],
)
def test_invalid_codebook_is_one_clear_error(
    norms: Normaliser, data: dict[str, Any], names: list[str]
) -> None:
    with pytest.raises(CodebookError) as caught:
        parse_codebook(data, normalise=norms)
    message = str(caught.value)
    assert "\n" not in message
    for name in names:
        assert name in message
    # the pattern error is reported in the codebook's terms, not chained as a second error
    assert caught.value.__cause__ is None


def test_malformed_patterns_are_only_checked_with_a_normaliser() -> None:
    data = _broken(("themes", 0, "concern", 0), "chronology (out of date")
    assert parse_codebook(data).theme("chronology").cues[0].pattern == "chronology (out of date"


def test_load_reports_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match="file not found"):
        load_codebook(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("themes: [\n  - id: chronology\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="not valid YAML"):
        load_codebook(bad)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("themes: []\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(CodebookError, match="not UTF-8"):
        load_codebook(latin)


def test_hash_is_stable_and_ignores_comments_and_key_order(
    tmp_path: Path, norms: Normaliser
) -> None:
    shipped = load_codebook(DEFAULT_CODEBOOK)
    assert shipped.hash == load_codebook(DEFAULT_CODEBOOK).hash == get_codebook().hash
    assert re.fullmatch("[0-9a-f]{64}", shipped.hash)

    data = minimal()
    reordered = {"themes": [dict(reversed(list(t.items()))) for t in data["themes"]], "version": 1}
    assert parse_codebook(reordered).hash == parse_codebook(data).hash

    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(data), encoding="utf-8")
    commented = tmp_path / "commented.yaml"
    commented.write_text("# edited by the QA lead\n" + yaml.safe_dump(data), encoding="utf-8")
    assert (
        load_codebook(plain, norms).hash
        == load_codebook(commented, norms).hash
        == parse_codebook(data).hash
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("themes", 0, "concern", 0), "chronology (out of date / not current / missing)"),
        (("themes", 0, "strength", 0, "confidence"), 0.7),
        (("themes", 1, "concern", 0, "negated"), "flip"),
    ],
)
def test_hash_changes_when_a_cue_changes(path: tuple[Any, ...], value: Any) -> None:
    original = minimal()
    changed = _broken(path, value)
    assert changed != original
    assert parse_codebook(changed).hash != parse_codebook(copy.deepcopy(original)).hash
