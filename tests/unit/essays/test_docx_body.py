"""The body of a .docx is read as a person reads it: tracked changes accepted, tables, text boxes and
content controls in place, and nothing that is markup rather than text; a DOCTYPE is refused."""

from __future__ import annotations

import pytest

from els.errors import EssayRejectedError, RejectionCode
from essays.docx_body import MAX_XML_DEPTH, read_body_text
from essays.docx_extraction import ArchiveCaps, extract_docx_text
from essays.validate import Limits
from tests.support.documents import make_docx_with_body

CAPS = ArchiveCaps(
    max_uncompressed_bytes=Limits().docx_max_uncompressed_bytes,
    max_compression_ratio=Limits().docx_max_compression_ratio,
    max_entries=Limits().docx_max_entries,
)
NAMESPACES = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    ' xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"'
    ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
    ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
    ' xmlns:v="urn:schemas-microsoft-com:vml"'
)


def document(body: str) -> bytes:
    """A `word/document.xml` with `body` as the content of `w:body`."""
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    return f"{declaration}<w:document {NAMESPACES}><w:body>{body}</w:body></w:document>".encode()


def run(text: str) -> str:
    return f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'


def paragraph(*content: str) -> str:
    return f"<w:p><w:pPr><w:jc w:val='left'/></w:pPr>{''.join(content)}</w:p>"


def text_box(text: str) -> str:
    # As Word writes it: a DrawingML shape, and the same box again as a VML fallback.
    box = f"<w:txbxContent>{paragraph(run(text))}</w:txbxContent>"
    return (
        "<w:r><mc:AlternateContent>"
        '<mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData><wps:wsp>'
        f"<wps:txbx>{box}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
        f"<mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    )


def cell(*paragraphs: str) -> str:
    return f"<w:tc><w:tcPr><w:tcW w:w='2000'/></w:tcPr>{''.join(paragraphs)}</w:tc>"


REVISED_ESSAY = document(
    paragraph(
        run("The essay "),
        '<w:ins w:id="1" w:author="Teacher">' + run("really ") + "</w:ins>",
        '<w:del w:id="2" w:author="Teacher"><w:r><w:delText>never </w:delText></w:r></w:del>',
        run("begins here."),
    )
    + "<w:tbl><w:tblPr/><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>"
    + f"<w:tr>{cell(paragraph(run('Name')))}{cell(paragraph(run('Score')))}</w:tr>"
    + f"<w:tr>{cell(paragraph(run('Ada')), paragraph(run('Lovelace')))}{cell(paragraph(run('10')))}</w:tr>"
    + "</w:tbl>"
    + paragraph(run("A figure follows."), text_box("Words in a box."))
    + '<w:sdt><w:sdtPr><w:alias w:val="Conclusion"/></w:sdtPr><w:sdtContent>'
    + paragraph(run("A conclusion in a content control."))
    + "</w:sdtContent></w:sdt>"
    + "<w:sectPr><w:pgSz w:w='11906'/></w:sectPr>"
)


def test_a_revised_essay_reads_with_changes_accepted_and_every_container_in_order() -> None:
    assert extract_docx_text(make_docx_with_body(REVISED_ESSAY), CAPS) == (
        "The essay really begins here.\n\n"
        "Name\tScore\nAda\nLovelace\t10\n\n"
        "A figure follows.\n\nWords in a box.\n\n"
        "A conclusion in a content control."
    )


def test_placeholders_field_codes_and_tab_stops_are_not_text() -> None:
    body = document(
        paragraph(
            "<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent>"
            + run("Click or tap here to enter text.")
            + "</w:sdtContent></w:sdt>",
            run("Page "),
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>',
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>' + run("3"),
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
        )
        + '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>'
        + "<w:r><w:t>Tab</w:t><w:tab/><w:t>stop</w:t><w:br/><w:t>next line</w:t></w:r></w:p>"
    )
    assert read_body_text([body]) == "Page 3\n\nTab\tstop\nnext line"


def test_the_text_does_not_depend_on_where_the_xml_is_cut_into_chunks() -> None:
    whole = read_body_text([REVISED_ESSAY])
    assert (
        read_body_text(REVISED_ESSAY[index : index + 7] for index in range(0, len(REVISED_ESSAY), 7)) == whole
    )


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE w:document [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE w:document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE w:document SYSTEM "http://127.0.0.1:9/word.dtd">',
    ],
    ids=["internal_entities", "external_entity", "external_dtd"],
)
def test_a_docx_declaring_a_doctype_is_refused(doctype: str) -> None:
    body = document(paragraph(run("&b;")) if "ENTITY a" in doctype else paragraph(run("An essay.")))
    hostile = body.replace(b"?><w:document", b"?>" + doctype.encode() + b"<w:document", 1)
    with pytest.raises(EssayRejectedError) as raised:
        extract_docx_text(make_docx_with_body(hostile), CAPS)
    assert raised.value.code == RejectionCode.TEXT_EXTRACTION_FAILED
    assert raised.value.details == {"reason": "doctype"}


def test_xml_nested_deeper_than_any_document_is_refused() -> None:
    depth = MAX_XML_DEPTH + 1
    nested = "<w:smartTag>" * depth + "</w:smartTag>" * depth
    with pytest.raises(EssayRejectedError) as raised:
        extract_docx_text(make_docx_with_body(document(nested)), CAPS)
    assert raised.value.details == {"reason": "xml_depth", "maximum": MAX_XML_DEPTH}
