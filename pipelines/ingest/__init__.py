r"""Ingest: map source records to ``problems`` rows and existing responses to ``samples``.

Canonical fields a record can supply (``--map FIELD=SOURCE`` sets where each comes from):

================  ===========================================================
``question``      problem statement (required, non-empty text)
``answer``        reference final answer (text; numbers are turned into text)
``solution``      reference worked solution (text)
``source_id``     the record's id in its source (text or integer)
``task``          finer task label (text)
``domain``        per-record domain, one of ``catalogs.DOMAINS``
``source_level``  difficulty level given by the source (integer)
``license``       license of the record (text)
``tests``         code test cases (see :mod:`tracemill.pipelines.ingest.testcases`)
``fn_name``       the function that function-call tests call
``choices``       multiple-choice options (list, ``{"A": ...}`` object, or one text)
``messages``      chat turns (``role``/``content``, ``from``/``value``, content parts)
``responses``     existing model responses (text or list of texts)
``model``         the model that wrote the responses
================  ===========================================================

``SOURCE`` is a path: ``a.b`` descends into objects, ``a.0`` indexes lists (``a.-1`` is
the last element), and a field that holds JSON text (or a Python literal) is parsed when
the path goes on into it (``labels.task_id`` with ``labels = '{"task_id": ...}'``).
``SOURCE`` may also be a template that joins fields, ``"{Body} {Question}"`` (missing
fields are empty), and ``tests`` may join several fields with ``+``
(``public_test_cases+private_test_cases``).

Presets fill the mapping for public layouts (:data:`PRESETS`); explicit ``--map`` entries
override them. With no preset and no mapping, ``question`` (or ``problem``), ``answer``
and ``id`` (as ``source_id``) are read. Fields a record has that no canonical field reads
are kept verbatim as JSON in ``problems.metadata``.

- ``answer_from``: when a record has no answer, it is extracted from this field (a worked
  solution): the last ``\boxed{}``/``\fbox{}``, else GSM8K's ``#### n``, else an
  ``<answer>`` tag or a final "The answer is ..." line. The text is kept as ``solution``.
  Records where nothing is found keep no answer and are counted (``answer_not_found``).
- ``choices``: the problem becomes a multiple-choice problem (verifier ``choice``): the
  question lists the options as ``A. ...``, the answer becomes the option's letter (an
  integer answer is a 0-based index; text is a letter, ``(C)``, or an option's text).
- chat (``messages``): each assistant turn becomes a reference sample whose prompt is the
  conversation up to it. By default a conversation yields its first exchange (first user
  turn as the question, the assistant turns before the next user turn as samples); later
  turns are counted as ``turns_dropped``. With ``all_turns`` every user turn is a problem
  of its own: its question is the conversation so far rendered as ``User: …`` /
  ``Assistant: …`` paragraphs (so it stands alone), and its id is ``source_id#k``.

Existing responses become ``samples`` rows with role ``reference``, origin
``ingest:<source>``, backend ``ingest`` and params ``{"origin": …, "completion_md5": …}``:
the id is content-addressed, so re-ingesting is idempotent and two different responses to
the same question never collide. Reasoning is split on ``<think>…</think>`` (and on
OpenThoughts' ``<|begin_of_thought|>`` markers).
"""

from tracemill.pipelines.ingest.chat import Turn, parse_turns
from tracemill.pipelines.ingest.choices import choice_label, parse_options
from tracemill.pipelines.ingest.mapping import (
    CANONICAL,
    DEFAULT_VERIFIERS,
    PRESETS,
    TEXT_FIELDS,
    IngestOptions,
    Mapped,
    Preset,
    SeenIds,
    check_source_ids,
    extract_reference_answer,
    map_source,
)
from tracemill.pipelines.ingest.testcases import UnreadableTests, normalize_tests
from tracemill.pipelines.ingest.values import get_path, number_text

__all__ = [
    "CANONICAL",
    "DEFAULT_VERIFIERS",
    "PRESETS",
    "TEXT_FIELDS",
    "IngestOptions",
    "Mapped",
    "Preset",
    "SeenIds",
    "Turn",
    "UnreadableTests",
    "check_source_ids",
    "choice_label",
    "extract_reference_answer",
    "get_path",
    "map_source",
    "normalize_tests",
    "number_text",
    "parse_options",
    "parse_turns",
]
