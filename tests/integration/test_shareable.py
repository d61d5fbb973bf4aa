"""Nothing meant to be shared holds a person: a benchmark over pages seeded with labeled personal data (names,
home addresses, dates of birth, e-mail addresses, phone, card and social security numbers, some in the URL's
query string) leaves none of it in MLflow (params, metric names, tags and descriptions, artifacts), in the
report, in the annotations' URLs or on the console."""

from __future__ import annotations

import re

import pytest

from cc_sieve.filters.pii_eval import load_nemo_lines
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.commands.benchmark import apply_overrides, parse_args, run_benchmark
from cc_sieve.jobs.config.presets import load_benchmark_config
from cc_sieve.jobs.config.recipes import load_recipes
from cc_sieve.jobs.reading.inputs import resolve_inputs
from tests.support.shareable import file_texts, logged_texts
from tests.support.warcs import gzip_members, http_response, warc_record

# The security review's own examples, beside the labeled lines of NeMo Curator's PII set.
REVIEW_SENTENCES = [
    ("My name is Sameer Rawat and I live at 66-4 Parkhurst Rd, Chelmsford MA 1824.",
     ["Sameer Rawat", "66-4 Parkhurst Rd", "Chelmsford"]),
    ("Patient Wijtze Haverkamp, born 5 December 1983, was admitted with chest pain.",
     ["Wijtze Haverkamp", "5 December 1983"]),
]
FILLER = ("The rest of this page is about the weather in the valley and the opening hours of the library, "
          "which change in summer. ")
RECIPES = "raw,gopher,c4,pii-dolma,fineweb"


def seeded_pages() -> tuple[list[bytes], list[str]]:
    """WARC records of pages that open with a sentence holding personal data; the values to look for."""
    sentences = [(item.text, [item.text[start:end] for start, end, _ in item.spans]) for item in load_nemo_lines()
                 if item.spans] + REVIEW_SENTENCES
    records, values = [], set()
    for number, (sentence, personal) in enumerate(sentences):
        query = f"?email=jane.roe{number}%40example.org&phone=%2B1-617-555-01{number:02d}"
        values |= {f"jane.roe{number}", f"555-01{number:02d}"}
        body = f"<html><body><p>{sentence}</p><p>{FILLER * (1 + number % 4)}</p></body></html>".encode()
        records.append(warc_record(http_response(body), uri=f"http://people.example.com/profile/{number}{query}",
                                   record_id=f"<urn:uuid:00000000-0000-0000-0000-{number:012d}>"))
        values |= set(personal)
    return records, sorted(values)


@pytest.fixture(scope="module")
def seeded_benchmark(spark, tmp_path_factory):
    folder = tmp_path_factory.mktemp("shareable")
    records, values = seeded_pages()
    shard = folder / "seeded.warc.gz"
    shard.write_bytes(gzip_members(records))
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    args = parse_args(["--input", str(shard), "--recipes", RECIPES, "--tracking-uri", tracking_uri,
                       "--output", str(folder / "out"), "--experiment", "shareable"])
    config = apply_overrides(load_benchmark_config(), args)
    result = run_benchmark(spark, config, load_recipes(config.recipes), resolve_inputs(config.input))
    return {"result": result, "folder": folder, "values": values, "tracking_uri": tracking_uri}


def occurrences(values: list[str], texts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    patterns = {value: re.compile(rf"(?<!\w){re.escape(value)}(?!\w)") for value in values}
    return [(where, value) for where, text in texts for value, pattern in patterns.items() if pattern.search(text)]


def test_the_seeded_pages_were_read_and_some_removed_with_excerpts(seeded_benchmark):
    result = seeded_benchmark["result"]
    assert result.baseline[M.DOCS_IN] == len(seeded_pages()[0])
    removed = [sample for recipe in result.recipes for sample in recipe.samples]
    assert len(removed) >= 10  # the excerpts the report and MLflow show are of these very pages


def test_no_seeded_personal_data_in_mlflow_or_the_report(seeded_benchmark):
    from mlflow.tracking import MlflowClient

    result, folder = seeded_benchmark["result"], seeded_benchmark["folder"]
    texts = logged_texts(MlflowClient(seeded_benchmark["tracking_uri"]), result.parent_run_id, folder / "logged")
    texts += file_texts(folder / "out" / "report")
    assert len(texts) > 50
    assert occurrences(seeded_benchmark["values"], texts) == []


def test_annotation_urls_keep_scheme_host_and_path_only(seeded_benchmark, spark):
    urls = [row["url"] for row in spark.read.parquet(str(seeded_benchmark["folder"] / "out" / "annotations"))
            .select("url").collect()]
    assert urls and all(url.startswith("http://people.example.com/profile/") and "?" not in url for url in urls)
    documents = spark.read.parquet(str(seeded_benchmark["folder"] / "out" / "ingest" / "documents"))
    assert documents.where("url LIKE '%email=%'").count() == len(urls)  # the documents table keeps it whole


def test_nothing_personal_on_the_console(seeded_benchmark, spark, tmp_path, capfd):
    args = parse_args(["--input", str(seeded_benchmark["folder"] / "seeded.warc.gz"), "--recipes", "gopher",
                       "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--output", str(tmp_path / "out")])
    config = apply_overrides(load_benchmark_config(), args)
    run_benchmark(spark, config, load_recipes(config.recipes), resolve_inputs(config.input))
    printed = capfd.readouterr()
    assert occurrences(seeded_benchmark["values"], [("stdout", printed.out), ("stderr", printed.err)]) == []
