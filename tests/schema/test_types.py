"""The parser-free paths of type and identifier spelling agree with the parser's."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pglast import keywords

from dibs.schema.keywords import QUOTED_KEYWORDS
from dibs.schema.types import _PLAIN_SPELLINGS, _parsed_type, _plain_type, canonical_type


def test_quoted_keywords_are_pglasts() -> None:
    expected = (
        keywords.RESERVED_KEYWORDS | keywords.COL_NAME_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS
    )
    assert expected == QUOTED_KEYWORDS


@pytest.mark.parametrize("spelling", sorted(_PLAIN_SPELLINGS))
@pytest.mark.parametrize("suffix", ["", "[]"])
def test_every_plain_spelling_is_what_the_parser_says(spelling: str, suffix: str) -> None:
    assert _plain_type(spelling + suffix) == _parsed_type(spelling + suffix)


@given(
    st.sampled_from(["character varying", "varchar", "character"]),
    st.integers(min_value=1, max_value=10_485_760),
    st.booleans(),
)
def test_sized_spellings_are_what_the_parser_says(name: str, size: int, array: bool) -> None:
    text = f"{name}({size})" + ("[]" if array else "")
    assert _plain_type(text) == _parsed_type(text)


@pytest.mark.parametrize(
    "text",
    ["varchar(0)", "varchar(01)", "char", "numeric(10)", "timestamp(3) with time zone", "Text"],
)
def test_spellings_the_fast_path_does_not_know_go_to_the_parser(text: str) -> None:
    assert _plain_type(text) is None
    assert canonical_type(text) == _parsed_type(text)


def test_reading_common_types_does_not_import_the_parser() -> None:
    code = (
        "import sys\n"
        "from dibs.schema.types import canonical_type, quote_ident\n"
        "canonical_type('timestamp with time zone'); canonical_type('character varying(20)[]')\n"
        "quote_ident('order'); quote_ident('users')\n"
        "print('pglast' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"
