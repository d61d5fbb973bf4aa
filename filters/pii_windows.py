"""Context words for Presidio's enhancer from the lemmas of windows around the results, not of the whole text.

Presidio's LemmaContextAwareEnhancer raises a result's score when a context word ("phone", "security", ...) is
held by one of the few keywords (`context_prefix_count` + 1 lemmas that are no stop word, punctuation or "be")
it counts back from the token where the result starts. Those lemmas take spaCy's tagger, parser, attribute ruler
and lemmatizer (the parser's labels feed the attribute ruler): about 0.3 s for a 30,000-character page, which
needs them for one to six results. `ContextWindows` makes them for a window of whole lines around the results
instead, and runs Presidio's enhancer on the window as if it were the text. The scores are the same as with the
whole text's lemmas, because:
- a window is cut at whitespace, so its tokens are the text's tokens (spaCy cuts at whitespace first);
- a window holds at least MARGIN_TOKENS tokens before the last keyword the enhancer counts back to and after the
  result's token (else it is widened and done again): the tagger reads 4 tokens on each side (tok2vec: 4 layers
  of window 1). The parser reads further, and its labels change the lemma of a few words only ("getting" as an
  auxiliary verb); beyond these margins every lemma measured was the whole text's (0 of 26,717 tokens
  of the windows of two bench shards differ, 22 inside the margins do: docs/performance.md), and the findings
  are Presidio's on every text of the identity checks;
- whether a lemma counts as a keyword depends on the rest of the text in one way only: Presidio splits keywords
  at ":", so a token such as "a:1" makes "a", a stop word, a keyword everywhere in the text. The pieces that
  the text's tokens with ":" add (`colon_keywords`) are keywords in every window too; they are read off the
  token, as its lemma is the token itself (a proper noun) or one of the few forms the lemmatizer's rules and
  exceptions give, and when these forms would add different pieces the text keeps its whole-text lemmas.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from presidio_analyzer import RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts

MARGIN_TOKENS = 64
BEFORE_CHARS = 600  # a first window: the lines from this far before a result to this far after it,
AFTER_CHARS = 300  # doubled until the margins hold
WHOLE_TEXT_SHARE = 0.5  # windows over more of the text than this: the whole text instead
WHITESPACE_FREE_RUN = re.compile(r"\S+")
NOT_WHITESPACE = re.compile(r"\S")
WHITESPACE = re.compile(r"\s")
WHITESPACE_CHARACTERS = " \t\r\n\f\v"  # the usual ones; a window may begin after a rarer one further back


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def window_around(text: str, start: int, end: int, before: int, after: int) -> Span:
    """About [start - before, end + after], widened to the start and end of its lines when a line break is within
    `before` (`after`) characters more, else cut at whitespace; it begins and ends where a whitespace-free run
    does (spaCy tokenizes each such run by itself)."""
    left = start - before
    if left <= 0:
        left = 0
    else:
        line = text.rfind("\n", 0, left)
        if not (line >= 0 and left - line <= before):
            line = max(text.rfind(space, 0, left) for space in WHITESPACE_CHARACTERS)
        following = NOT_WHITESPACE.search(text, line + 1, start + 1)
        left = following.start() if following else start
    right = end + after
    if right >= len(text):
        right = len(text)
    else:
        line = text.find("\n", right)
        space = WHITESPACE.search(text, right)
        right = line if 0 <= line <= right + after else space.start() if space else len(text)
    return Span(left, right)


def merged(spans: list[Span]) -> list[Span]:
    """Overlapping spans as one."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if out and span.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, span.end))
        else:
            out.append(span)
    return out


def keyword_walk(lemmas: list[str], index: int, count: int, keywords: set[str], step: int) -> int | None:
    """The index of the last token that Presidio's walk (_add_n_words) reads from `index` in direction `step` to
    collect `count` keywords; None when it runs off the tokens first."""
    remaining = count
    while 0 <= index < len(lemmas):
        if lemmas[index].lower() in keywords:
            remaining -= 1
            if remaining == 0:
                return index
        index += step
    return None


class ContextWindows:
    """Presidio's enhancer over windows of the text (see the module's docstring); `engine` is the spaCy engine
    whose `lemmatized(text)` runs the whole lemma chain."""

    def __init__(self, engine, language: str):
        self.engine = engine
        self.language = language
        lemmatizer = engine.nlp[language].get_pipe("lemmatizer")
        self.rules = [rule for rules in lemmatizer.lookups.get_table("lemma_rules").values() for rule in rules]
        self.exceptions = list(lemmatizer.lookups.get_table("lemma_exc").values())
        self.windows = 0  # windows lemmatized
        self.characters = 0  # their characters

    def is_keyword(self, word: str) -> bool:
        return bool(NlpArtifacts.set_keywords(self.engine, [word], self.language))

    def lemma_forms(self, lowered: str) -> set[str]:
        """Every lemma, lowercased, the rule lemmatizer and its exceptions can give a token (given lowercased);
        the attribute ruler sets lemmas of listed words only, none with a ":"."""
        forms = {lowered} | {form for table in self.exceptions for form in table.get(lowered, ())}
        return forms | {lowered[:len(lowered) - len(old)] + new for old, new in self.rules if lowered.endswith(old)}

    def colon_keywords(self, text: str) -> set[str] | None:
        """The words that only the text's tokens with ":" make keywords, as Presidio splits a keyword at ":" ("a:1"
        makes "a", a stop word, one): the same whatever lemma the pipeline gives such a token among those it can
        give (the token itself, or a form of `lemma_forms`); None when the lemma would decide (the whole text's
        lemmas are needed). A piece that is a keyword by itself is one in the window anyway."""
        added: set[str] = set()
        for run in WHITESPACE_FREE_RUN.finditer(text):
            if ":" not in run.group():
                continue
            for token in self.engine.make_doc(run.group()):
                if ":" not in token.text:
                    continue
                pieces = {frozenset(piece for piece in NlpArtifacts.set_keywords(self.engine, [form], self.language)
                                    if piece and not self.is_keyword(piece))
                          for form in self.lemma_forms(token.text.lower()) | {token.text}}
                if len(pieces) > 1:
                    return None
                added.update(*pieces)
        return added

    def enhance(self, enhancer: LemmaContextAwareEnhancer, text: str, results: list[RecognizerResult],
                raisable: list[bool], recognizers: list, added_keywords: set[str]) -> list[RecognizerResult]:
        """Copies of the results, those that may be raised (`raisable`) as Presidio's enhancer makes them on
        windows (score and explanation), with the keywords the whole text's ":" tokens add (`colon_keywords`)."""
        results = copy.deepcopy(results)
        pending = [index for index, may in enumerate(raisable) if may]
        before, after = BEFORE_CHARS, AFTER_CHARS
        while pending:
            spans = merged([window_around(text, results[i].start, results[i].end, before, after) for i in pending])
            if sum(span.end - span.start for span in spans) > WHOLE_TEXT_SHARE * len(text):
                spans = [Span(0, len(text))]
            widen = []
            for span in spans:
                inside = [i for i in pending if span.start <= results[i].start < span.end]
                widen += self.enhance_window(enhancer, text, span, results, recognizers, inside, added_keywords)
            pending = [index for index in pending if index in widen]
            before, after = 2 * before, 2 * after
        return results

    def enhance_window(self, enhancer: LemmaContextAwareEnhancer, text: str, span: Span,
                       results: list[RecognizerResult], recognizers: list, indexes: list[int],
                       added_keywords: set[str]) -> list[int]:
        """Replace results[i] for i in `indexes` by Presidio's enhancement on one window; the indexes of those whose
        window is too narrow (left as they are)."""
        doc = self.engine.lemmatized(text[span.start:span.end])
        self.windows += 1
        self.characters += span.end - span.start
        lemmas = [token.lemma_ for token in doc]
        artifacts = NlpArtifacts(entities=[], tokens=doc, tokens_indices=[token.idx for token in doc], lemmas=lemmas,
                                 nlp_engine=self.engine, language=self.language)
        artifacts.keywords += sorted(added_keywords)
        keywords = set(artifacts.keywords)
        token_ends = [token.idx + len(token) for token in doc]
        scored, shifted, widen = [], [], []
        for index in indexes:
            result = results[index]
            token = next(i for i, end in enumerate(token_ends) if end > result.start - span.start)
            first = keyword_walk(lemmas, token, enhancer.context_prefix_count + 1, keywords, -1)
            last = keyword_walk(lemmas, token, enhancer.context_suffix_count + 1, keywords, 1)
            enough_before = span.start == 0 or (first is not None and first >= MARGIN_TOKENS)
            enough_after = span.end == len(text) or (last is not None and len(doc) - 1 - last >= MARGIN_TOKENS)
            if not (enough_before and enough_after):
                widen.append(index)
                continue
            moved = copy.copy(result)
            moved.start, moved.end = result.start - span.start, result.end - span.start
            scored.append(index)
            shifted.append(moved)
        enhanced = LemmaContextAwareEnhancer.enhance_using_context(enhancer, text[span.start:span.end], shifted,
                                                                   artifacts, recognizers)
        for index, result in zip(scored, enhanced, strict=True):
            result.start, result.end = results[index].start, results[index].end
            results[index] = result
        return widen
