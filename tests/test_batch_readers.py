"""Every input format yields the same records, and bad rows become bad records instead of exceptions."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from narrascope.batch.formats import input_format, output_format
from narrascope.batch.readers import open_input
from narrascope.batch.records import BadRecord, FieldMap, Record
from narrascope.model.webpage import decode_html

PAGES = Path(__file__).resolve().parent / "data" / "pages"
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Steppe Wire</title><link>https://example.org/</link>
<description>news</description>
<item><title>Law on territorial defence passes</title><link>https://example.org/a1</link>
<guid>urn:sw:a1</guid><pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate>
<description>&lt;p&gt;The Mazhilis adopted the law.&lt;/p&gt;
&lt;p&gt;Volunteers will train &amp;amp; serve.&lt;/p&gt;</description>
</item>
<item><title>No guid here</title><link>https://example.org/a2</link>
<source url="https://mirror.example/rss">Mirror Daily</source>
<description>Казахстан не готовится к войне.</description></item>
<item><description>neither id nor link</description></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Desk</title><id>urn:atom:desk</id>
<updated>2025-01-06T10:00:00Z</updated>
<entry><title>Reservists and brigades</title><id>urn:atom:e1</id><updated>2025-01-06T10:00:00Z</updated>
<link href="https://example.org/e1"/><author><name>Desk Editor</name></author>
<content type="html">&lt;article&gt;
&lt;p&gt;Officials said the eight new units are defensive and answer to the regions.&lt;/p&gt;
&lt;p&gt;No brigade has been moved towards the northern border, the ministry added on Monday.&lt;/p&gt;
&lt;script&gt;alert(1)&lt;/script&gt;&lt;/article&gt;
&lt;div class="related"&gt;&lt;h3&gt;Related&lt;/h3&gt;&lt;ul&gt;
&lt;li&gt;&lt;a href="/x"&gt;Weather: snow in the north&lt;/a&gt;&lt;/li&gt;
&lt;li&gt;&lt;a href="/y"&gt;Tenge firms against the dollar&lt;/a&gt;&lt;/li&gt;&lt;/ul&gt;&lt;/div&gt;
&lt;footer&gt;Follow us on Telegram. © Atom Desk&lt;/footer&gt;</content></entry>
</feed>
"""


def _records(items: list[Record | BadRecord]) -> list[Record]:
    return [i for i in items if isinstance(i, Record)]


def _bad(items: list[Record | BadRecord]) -> list[BadRecord]:
    return [i for i in items if isinstance(i, BadRecord)]


def test_jsonl_passes_extra_fields_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_bytes(
        b'{"id": "a", "text": "One. Two.", "source": "x", "lang": "en", "labels": ["kept"]}\n'
        b"\n"
        b'{"id": 7, "text": "Seven."}\n'
        b'{"id": "broken", "text": \n'
        b'["not", "an", "object"]\n'
        b'{"id": "no-text"}\n'
        b'{"id": "empty", "text": "   "}\n'
        b'{"text": "no id"}\n'
        b'{"id": "bytes", "text": "caf\xe9"}\n'
        b'{"id": "sep", "text": "A\xe2\x80\xa8B"}'
    )
    items = list(open_input(str(path)))
    records = _records(items)
    assert [r.id for r in records] == ["a", "7", "sep"]
    first = records[0]
    assert first.fields == {"source": "x", "lang": "en", "input_labels": ["kept"]}
    assert first.lang == "en" and first.location == f"{path}:1"
    assert records[2].text == "A\u2028B"  # U+2028 inside a JSON string is not a line break
    bad = {b.location.rsplit(":", 1)[1]: b for b in _bad(items)}
    assert set(bad) == {"4", "5", "6", "7", "8", "9"}
    assert bad["4"].reason.startswith("malformed JSON line")
    assert "not an object" in bad["5"].reason
    assert bad["6"].reason.startswith("no text") and bad["6"].id == "no-text"
    assert "empty" in bad["7"].reason
    assert bad["8"].reason == "no 'id' field"
    assert bad["9"].reason.startswith("undecodable")


def test_jsonl_custom_fields_and_gzip(tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"guid": "g1", "body": "Text here.", "id": "orig"}) + "\n")
    source = open_input(str(path), fields=FieldMap(id_field="guid", text_field="body"))
    (record,) = _records(list(source))
    assert record.id == "g1" and record.text == "Text here."
    assert record.fields == {"input_id": "orig"}
    assert source.estimate() is None  # compressed: unknown up front


def test_csv_and_tsv(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(
        b"id,text,outlet\n"
        b'c1,"Multi-line\nstory.",A\n'
        b"c2,,B\n"
        b"c3,too,many,fields\n" + b"c4,bad \xff byte,C\n" + b"c5,Fine.,D\n"
    )
    source = open_input(str(path))
    items = list(source)
    assert [(r.id, r.text, r.fields) for r in _records(items)] == [
        ("c1", "Multi-line\nstory.", {"outlet": "A"}),
        ("c5", "Fine.", {"outlet": "D"}),
    ]
    reasons = [b.reason for b in _bad(items)]
    assert reasons[0].startswith("no text")
    assert reasons[1].startswith("malformed CSV row")
    assert reasons[2].startswith("undecodable")
    assert [b.location for b in _bad(items)] == [f"{path}:4", f"{path}:5", f"{path}:6"]
    tsv = tmp_path / "rows.tsv"
    tsv.write_text("id\ttext\nt1\tTab separated.\n", encoding="utf-8")
    assert [r.id for r in _records(list(open_input(str(tsv))))] == ["t1"]


def test_csv_reads_long_fields_without_changing_the_process_limit(tmp_path: Path) -> None:
    """A 1 MB article in one cell is read; the csv module's process-wide limit is restored afterwards."""
    path = tmp_path / "long.csv"
    body = "Word " * 200_000
    path.write_text(f"id,text\nlong,{body}\n", encoding="utf-8")
    before = csv.field_size_limit()
    assert before < len(body)
    assert [len(r.text) for r in _records(list(open_input(str(path))))] == [len(body)]
    assert csv.field_size_limit() == before


def test_csv_without_text_column_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no 'text' column"):
        list(open_input(str(path)))


def test_parquet_file_and_folder(tmp_path: Path) -> None:
    table = pa.table({"id": ["p1", "p2", "p3"], "text": ["First.", None, "Third."], "score": [1, 2, 3]})
    path = tmp_path / "rows.parquet"
    pq.write_table(table, path)
    source = open_input(str(path))
    assert source.estimate() == 3
    items = list(source)
    assert [(r.id, r.fields) for r in _records(items)] == [("p1", {"score": 1}), ("p3", {"score": 3})]
    assert _bad(items)[0].location == f"{path}:row 2"
    folder = tmp_path / "many.parquet"
    folder.mkdir()
    pq.write_table(table.slice(0, 1), folder / "part-0.parquet")
    pq.write_table(table.slice(2, 1), folder / "part-1.parquet")
    assert input_format(str(folder)) == "parquet"
    assert [r.id for r in _records(list(open_input(str(folder))))] == ["p1", "p3"]


def test_rss_feed(tmp_path: Path) -> None:
    path = tmp_path / "wire.rss"
    path.write_text(RSS, encoding="utf-8")
    source = open_input(str(path))
    assert source.estimate() == 3
    items = list(source)
    records = _records(items)
    assert [r.id for r in records] == ["urn:sw:a1", "https://example.org/a2"]
    first = records[0]
    assert first.text == (
        "Law on territorial defence passes\n\nThe Mazhilis adopted the law.\n\nVolunteers will train & serve."
    )
    assert first.fields["title"] == "Law on territorial defence passes"
    assert first.fields["link"] == "https://example.org/a1"
    assert first.fields["feed"] == "Steppe Wire"
    assert first.fields["published"].startswith("Mon, 06 Jan 2025")
    # The outlet: the feed itself, or the outlet an aggregator's entry names in <source>.
    assert [r.fields["source"] for r in records] == ["Steppe Wire", "Mirror Daily"]
    (bad,) = _bad(items)
    assert bad.location == f"{path}#entry 3" and "neither an id" in bad.reason


def test_atom_feed_content_keeps_the_article_not_related_links_or_footer(tmp_path: Path) -> None:
    path = tmp_path / "desk.atom"
    path.write_text(ATOM, encoding="utf-8")
    (record,) = _records(list(open_input(str(path))))
    assert record.id == "urn:atom:e1"
    assert record.text == (
        "Reservists and brigades\n\n"
        "Officials said the eight new units are defensive and answer to the regions.\n\n"
        "No brigade has been moved towards the northern border, the ministry added on Monday."
    )
    assert record.fields["author"] == "Desk Editor"
    assert record.fields["link"] == "https://example.org/e1"
    assert record.fields["published"] == "2025-01-06T10:00:00Z" and record.fields["source"] == "Atom Desk"


def test_not_a_feed_is_a_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "junk.xml"
    path.write_bytes(b"\x00\x01 not xml at all <<<")
    (bad,) = list(open_input(str(path)))
    assert isinstance(bad, BadRecord) and "not a readable RSS/Atom feed" in bad.reason


def test_folder_of_text_and_html(tmp_path: Path) -> None:
    root = tmp_path / "pages"
    (root / "2025" / "01").mkdir(parents=True)
    (root / "a.txt").write_text("Plain article. Second sentence.", encoding="utf-8")
    (root / "2025" / "01" / "b.html").write_text(
        "<html><head><title>Headline</title><style>p{}</style></head>"
        "<body><h1>Headline</h1><p>First &amp; only paragraph.</p></body></html>",
        encoding="utf-8",
    )
    cp1251 = '<html><head><meta charset="windows-1251"></head><body><p>Закон принят.</p></body></html>'
    (root / "c.html").write_bytes(cp1251.encode("cp1251"))
    (root / "menu.html").write_bytes((PAGES / "no-article.html").read_bytes())  # navigation, links, footer only
    (root / "empty.txt").write_text("  \n", encoding="utf-8")
    (root / "latin1.txt").write_bytes(b"caf\xe9")
    (root / "skip.pdf").write_bytes(b"%PDF")
    (root / ".hidden.txt").write_text("hidden", encoding="utf-8")
    source = open_input(str(root))
    assert source.format == "text" and source.estimate() == 6
    items = list(source)
    records = {r.id: r for r in _records(items)}
    assert set(records) == {"a.txt", "2025/01/b.html", "c.html"}
    assert records["2025/01/b.html"].text == "First & only paragraph."
    assert records["2025/01/b.html"].fields == {"title": "Headline", "author": None, "date": None}
    assert records["c.html"].text == "Закон принят."
    assert records["a.txt"].fields == {"title": None, "author": None, "date": None}
    reasons = {b.id: b.reason for b in _bad(items)}
    assert reasons["empty.txt"].startswith("no text")
    assert reasons["latin1.txt"].startswith("undecodable")
    assert reasons["menu.html"].startswith("no main content")


def test_single_html_file(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text("<html><body><p>One.</p></body></html>", encoding="utf-8")
    (record,) = list(open_input(str(path)))
    assert isinstance(record, Record) and record.id == "page.htm" and record.text == "One."


def test_stdin_jsonl_and_csv() -> None:
    stream = io.BytesIO(b'{"id": "s1", "text": "From a pipe."}\nnot json\n')
    source = open_input("-", stdin=stream)
    assert source.estimate() is None
    items = list(source)
    assert [r.id for r in _records(items)] == ["s1"]
    assert _bad(items)[0].location == "<stdin>:2"
    csv_stream = io.BytesIO(b"id,text\nq1,Quoted.\n")
    assert [r.id for r in _records(list(open_input("-", "csv", stdin=csv_stream)))] == ["q1"]


def test_missing_input_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_input(str(tmp_path / "nope.jsonl"))
    with pytest.raises(ValueError, match="--input-format"):
        input_format("data.bin")
    with pytest.raises(ValueError, match="--format"):
        output_format("out.bin")
    assert output_format("-") == "jsonl" and output_format("x", "csv") == "csv"


def test_decode_html_falls_back_to_the_declared_charset() -> None:
    assert decode_html("é".encode()) == "é"
    assert decode_html('<meta charset="cp1251">Закон'.encode("cp1251")).endswith("Закон")
    assert decode_html("é".encode()) == "é"
    with pytest.raises(UnicodeDecodeError):
        decode_html(b"\xff\xfe no charset")
