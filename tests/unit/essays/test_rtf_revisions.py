"""RTF read as the document shows: tracked deletions left out, text boxes' text after their anchor."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from essays.normalise import normalise
from essays.rtf_revisions import visible_rtf
from essays.rtf_text import extract_rtf_text
from tests.support.documents import make_rtf

HEAD = "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}\\f0\\fs24 "


def text_of(body: str) -> str:
    return normalise(extract_rtf_text((HEAD + body + "}").encode("ascii")))


def test_an_rtf_without_revisions_or_shapes_passes_through_unchanged() -> None:
    source = make_rtf("A plain essay with {braces}, a back\\slash and caf\u00e9 au lait.\n\nA second one.")
    assert visible_rtf(source.decode("ascii")) == source.decode("ascii")


def test_the_rewrite_itself_loses_nothing_when_nothing_is_deleted() -> None:
    # `\deleted0` makes the rewrite run, yet deletes nothing: every token must come back as it was.
    source = make_rtf("Caf\u00e9 {au} lait, a \\back\\slash.\n\nSecond.").decode("ascii")
    marked = source.replace("\\f0\\fs24 ", "\\f0\\fs24\\deleted0 ", 1)
    assert marked != source
    assert visible_rtf(marked) == marked


def test_a_deleted_group_is_dropped_and_an_inserted_one_kept() -> None:
    body = (
        "First kept {\\revised\\revauth1 inserted }text{\\deleted\\revauthdel1\\revdttmdel666 \\loch\n"
        " removed words} ends.\\par"
    )
    assert text_of(body) == "First kept inserted text ends."


def test_word_style_deletions_drop_escapes_and_unicode_too() -> None:
    body = (
        "Le {\\rtlch\\fcs1 \\af0 \\ltrch\\fcs0 \\deleted\\insrsid1\\delrsid2 caf\\'e9 \\u233? }th\\'e9.\\par"
    )
    assert text_of(body) == "Le th\u00e9."


def test_deleted0_and_plain_end_a_deletion_inside_its_group() -> None:
    assert (
        text_of("{\\deleted gone \\deleted0 kept} and {\\deleted gone\\plain back}.\\par") == "kept and back."
    )


def test_a_deletion_ends_with_its_group() -> None:
    assert text_of("Kept{\\deleted {\\b gone} gone} stays.\\par") == "Kept stays."


def test_a_text_box_follows_the_paragraph_it_is_anchored_in_and_its_shape_properties_go() -> None:
    shape = (
        "{\\shp{\\*\\shpinst\\shpleft0\\shptop0{\\sp{\\sn shapeType}{\\sv 202}}"
        "{\\shptxt\\pard\\plain Boxed words inside.\\par}}"
        "{\\shprslt{\\*\\do\\dobxcolumn{\\dptxbxtext\\pard\\plain Boxed words inside.\\par}}}}"
    )
    text = text_of(f"\\pard Before.\\par\\pard {shape}Anchor paragraph here.\\par\\pard After.\\par")
    assert text == "Before.\nAnchor paragraph here.\nBoxed words inside.\n\nAfter."
    assert "shapeType" not in text and "202" not in text


def test_a_text_box_in_the_last_paragraph_is_kept_at_the_end() -> None:
    text = text_of("Last words{\\shp{\\*\\shpinst{\\shptxt boxed}}}")
    assert text.split() == ["Last", "words", "boxed"]


def test_escaped_braces_are_text_not_groups() -> None:
    assert text_of("A \\{literal\\} pair {\\deleted \\{gone\\}}stays.\\par") == "A {literal} pair stays."


@settings(max_examples=300)
@given(st.text(alphabet="{}\\ab01 -*'\n", max_size=80).map(lambda tail: "{\\rtf1 \\deleted0 " + tail))
def test_any_source_is_rewritten_without_error_and_read_by_striprtf(source: str) -> None:
    rewritten = visible_rtf(source)
    assert len(rewritten) <= len(source) + 16 * source.count("shptxt")
    extract_rtf_text(rewritten.encode("ascii"))


def test_control_words_spelled_alike_are_not_taken_for_shapes_or_deletions() -> None:
    # `\deleted0` makes the rewrite run; `\shppict` and `\deletedx` are other words.
    source = HEAD + "\\deleted0 {\\shppict{\\pict\\pngblip 89}}{\\deletedx kept} words.\\par}"
    assert "kept" in normalise(extract_rtf_text(visible_rtf(source).encode("ascii")))
