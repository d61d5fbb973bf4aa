"""UT1 blocklists (domain, subdomain, URL) and FineWeb's URL word lists, on entries of the real lists."""

from __future__ import annotations

import gzip
import tarfile

import numpy as np
import pytest

from cc_sieve.filters.resources import REPO_ROOT, data_path
from cc_sieve.filters.urls import (
    Blocklist,
    DomainSet,
    UrlBannedWords,
    UrlBlocklist,
    host_and_path,
    read_word_list,
    ut1_adult_archive,
)
from cc_sieve.jobs.config.recipes import RuleEntry, removes


@pytest.fixture(scope="module")
def adult():
    return Blocklist.load("adult")


def first_line(path) -> str:
    return path.read_text(encoding="utf-8").split("\n", 1)[0].strip()


def archive_entries(name: str, count: int) -> list[str]:
    with tarfile.open(ut1_adult_archive(), "r:gz") as archive:
        head = archive.extractfile(name).read(64 * 1024).decode("utf-8").split("\n")
    return head[:count]


@pytest.fixture(scope="module")
def url_words():
    return UrlBannedWords()


def url_row(annotator, url):
    out = annotator.annotate({"doc_id": ["d"], "text": [""], "language": [None], "url": [url]})
    return {name: values[0] for name, values in out.items()}


def test_adult_list_is_the_full_list_fineweb_used(adult):
    # every line of the archive's "domains" member is one domain (the last one has no newline)
    with tarfile.open(ut1_adult_archive(), "r:gz") as archive:
        stream, newlines = archive.extractfile("domains"), 0
        while chunk := stream.read(8 << 20):
            newlines += chunk.count(b"\n")
    assert newlines == 4_558_939
    assert len(adult.domains) == newlines + 1
    assert adult.domains.hashes.nbytes == 8 * len(adult.domains)  # 8 bytes a domain, not a str set
    assert len(adult.urls) > 19_000


def test_the_bundled_archive_is_the_shared_copy():
    shared = data_path("blocklists/datatrove-ut1-url_filterblacklistsv0_3_0.tar.gz")
    with gzip.open(shared) as a, gzip.open(ut1_adult_archive()) as b:
        assert a.read(1 << 20) == b.read(1 << 20)


def test_domain_subdomain_and_url_matches(adult):
    domain = archive_entries("domains", 1)[0]
    url = archive_entries("urls", 1)[0]
    host, _, path = url.partition("/")
    kinds = adult.match_batch([
        f"https://{domain}/any/page", f"http://www.{domain}", f"https://shop.{domain}:8443/cart",
        f"http://{url}", f"https://{url}/deeper/page?x=1", f"https://{host}/", f"https://{host}/{path}extra",
        "https://example.org/", None, "", "not a url at all"])
    assert kinds == ["domain", "domain", "subdomain", "url", "url", None, None, None, None, None, None]


def test_unlisted_lookalikes_do_not_match(adult):
    domain = archive_entries("domains", 1)[0]
    assert adult.match_batch([f"https://{domain}.example.org/", f"https://x{domain}/"]) == [None, None]


def test_domain_set_membership_is_exact_on_the_real_list(adult):
    listed = [entry.encode() for entry in archive_entries("domains", 500)]
    assert adult.domains.contains(listed).all()
    assert not adult.domains.contains([b"example.org", b"wikipedia.org", b"commoncrawl.org"]).any()


def test_domain_set_reads_entries_cut_across_chunks():
    chunks = [b"alpha.com\nbra", b"vo.org\n", b"charlie.net"]
    domains = DomainSet.from_chunks(chunks)
    assert len(domains) == 3
    found = domains.contains([b"bravo.org", b"charlie.net", b"bra", b"vo.org"])
    assert found.tolist() == [True, True, False, False]
    assert DomainSet(np.empty(0, dtype=np.int64)).contains([b"a.com"]).tolist() == [False]


@pytest.mark.parametrize("category", ["agressif", "dating", "gambling", "mixed_adult"])
def test_small_categories_match_their_own_domains(category):
    blocklist = Blocklist.load(category)
    domain = first_line(data_path(f"blocklists/ut1/{category}/domains"))
    assert blocklist.match_batch([f"https://{domain}/", "https://example.org/"]) == ["domain", None]


def test_phishing_has_urls_only():
    blocklist = Blocklist.load("phishing")
    url = first_line(data_path("blocklists/ut1/phishing/urls"))
    assert len(blocklist.domains) == 0
    assert blocklist.match_batch([f"https://{url}"]) == ["url"]


def test_unknown_category_names_the_known_ones():
    with pytest.raises(ValueError, match="known: adult, agressif"):
        Blocklist.load("malware")


def test_host_and_path_normalises():
    assert host_and_path("HTTPS://WWW.Example.COM:8080/A/b?q=1") == ("example.com", "/A/b?q=1")
    assert host_and_path("example.com/path") == ("example.com", "/path")
    assert host_and_path("http://[::1]/x") == ("::1", "/x")
    assert host_and_path("mailto:someone") is None


def test_blocklist_annotator_columns_and_rule():
    domain = first_line(data_path("blocklists/ut1/gambling/domains"))
    annotator = UrlBlocklist(categories=("gambling", "dating"))
    batch = {"doc_id": ["a", "b", "c"], "text": ["", "", ""], "language": [None] * 3,
             "url": [f"https://www.{domain}/", "https://example.org/", None]}
    out = annotator.annotate(batch)
    assert [f.name for f in annotator.schema()] == list(out)
    assert out["url_ut1_gambling_match"] == [True, False, None]
    assert out["url_ut1_gambling_kind"] == ["domain", None, None]
    rows = [{name: values[i] for name, values in out.items()} for i in range(3)]
    assert [removes(RuleEntry(rule="url_ut1_gambling"), row) for row in rows] == [True, False, False]


def test_word_lists_are_read_as_datatrove_reads_them():
    banned = read_word_list(data_path("lexicons/fineweb-datatrove/banned_words.txt"))
    assert "mong" not in banned  # "#mong" is a comment line in datatrove's parse_list
    assert "2g1c" in banned
    subwords = read_word_list(data_path("lexicons/fineweb-datatrove/banned_subwords.txt"))
    assert "2girls1cup" in subwords  # normalised: non-alphanumerics removed


def test_banned_word_must_be_a_whole_url_word(url_words):
    assert url_row(url_words, "https://example.com/2g1c/video")["url_banned_word"]
    assert url_row(url_words, "https://EXAMPLE.com/2G1C")["url_banned_word"]  # lower-cased
    assert not url_row(url_words, "https://example.com/x2g1cx")["url_banned_word"]


def test_banned_subword_matches_inside_words(url_words):
    row = url_row(url_words, "https://example.com/blog/alaskan-pipeline-news")
    assert row["url_banned_subword"] and removes(RuleEntry(rule="url_banned_subword"), row)
    assert not url_row(url_words, "https://example.com/alaska/pipeline")["url_banned_subword"]


def test_soft_banned_words_on_threshold(url_words):
    one = url_row(url_words, "https://example.com/babes/gallery")
    two = url_row(url_words, "https://example.com/babes/apeshit")
    assert one["url_soft_banned_words"] == 1 and not removes(RuleEntry(rule="url_soft_banned_words"), one)
    assert two["url_soft_banned_words"] == 2 and removes(RuleEntry(rule="url_soft_banned_words"), two)


def test_missing_url_is_never_removed(url_words):
    row = url_row(url_words, None)
    assert row == {"url_banned_word": None, "url_soft_banned_words": None, "url_banned_subword": None}
    for rule in ("url_banned_word", "url_banned_subword", "url_soft_banned_words"):
        assert not removes(RuleEntry(rule=rule), row)


def test_a_blocklist_sent_to_another_process_is_read_again_there():
    import pickle
    import subprocess
    import sys

    blocklist = Blocklist.load("gambling")
    domain = first_line(data_path("blocklists/ut1/gambling/domains"))
    script = ("import pickle, sys; blocklist = pickle.load(sys.stdin.buffer); "
              f"print(blocklist.match_batch(['https://{domain}/']))")
    result = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(blocklist),
                            capture_output=True, check=True, env={"PYTHONHASHSEED": "123"}, cwd=REPO_ROOT)
    assert result.stdout.decode().strip() == "['domain']"


def test_hashes_from_another_process_are_refused():
    domains = DomainSet(np.array([1, 2, 3], dtype=np.int64))
    domains.probe += 1  # as if built under another hash seed
    with pytest.raises(RuntimeError, match="built in another process"):
        domains.contains([b"a.com"])
