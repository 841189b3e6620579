"""The Results' sentences, written once for the report and the paper alike.

Each sentence is a list of parts, each part text with placeholders for the values it states:
``{kind:key}`` (and ``|column,...`` for the data columns the value rests on, which the paper
sets in its quiet style where they are synthetic). ``psu_study.report`` fills them here
(``render``); ``paper/paper.typ`` fills the same templates, which ``psu_study.manuscript``
passes it in ``manuscript.json``, with its own ``n()``, ``pct()``, ``ci()``, ``pval()``,
``date()``, ``q()`` and ``noun()``. So both say the same words around the same values; only
the paper's cross-references (``{ref:label}``, "(Figure 1)") are its own.

Kinds: ``n:key`` a value as written, ``n:key:digits`` rounded; ``pct:key`` a percentage (one
decimal); ``ci:key`` its 95% interval (``key_ci_low``, ``key_ci_high``); ``pval:key`` a p-value
(``pval:key:label`` names a sidedness other than the convention's); ``date:key`` a day;
``q:key``/``Q:key`` a count of participants with its word of quantity (capitalised);
``noun:key:one:many`` the noun for a count; ``modes:n_interviews`` each interview mode used,
with its count (``interview_modes``); ``ref:label,...`` the paper's cross-reference.
A part marked ``optional`` is said only when the numbers hold its keys; a part with ``when``
only when that count is (``zero``) or is not (``nonzero``) zero.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from . import schema
from .quantifiers import quantity_word

PLACEHOLDER = re.compile(r"\{(\w+):([^}|]+)(?:\|([^}]*))?\}")
_RECRUITMENT = "|recruitment.stage_reached"
_STAGE = "|participants.training_stage"
_DATE = "|interviews.interview_date"
_DURATION = "|interviews.duration_min"
SEGMENT_COLUMNS = tuple(f"segments.{column}" for column in schema.CODING_COLUMNS)
"""What a count of coded participants rests on: who was coded, by whom, at which code."""
_SEGMENTS = "|" + ",".join(SEGMENT_COLUMNS)


MODE_PHRASES = {"telephone": "by telephone", "video": "by video",
                "face-to-face": "face to face"}
"""How the text says each interview mode of the contract (``schema.INTERVIEW_MODES``)."""


def interview_modes(numbers: dict) -> list[dict]:
    """Each mode of the contract that some interview used, with its count (numbers.json's
    ``n_interviews_<mode>``) and how the text says it."""
    modes = []
    for mode in schema.INTERVIEW_MODES:
        key = f"n_interviews_{mode.replace('-', '_')}"
        if numbers.get(key) is None:
            raise ValueError(f"numbers.json has no value for {key!r}, which the text needs")
        if numbers[key]:
            modes.append({"mode": mode, "key": key, "phrase": MODE_PHRASES[mode]})
    return modes


def series(names: list[str]) -> str:
    """Names as the paper lists them: "A", "A and B", "A, B and C"."""
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)


def _part(text: str, *, optional: bool = False, when: dict[str, str] | None = None) -> dict:
    return {"text": text, "optional": optional, "when": when}


SENTENCES: dict[str, list[dict]] = {
    "response": [_part(
        f"Of the {{n:n_contacted{_RECRUITMENT}}} trainees contacted, "
        f"{{n:n_interested{_RECRUITMENT}}} expressed interest, a response rate of "
        f"{{pct:pct_responded{_RECRUITMENT}}} ({{ci:pct_responded}}); "
        f"{{n:n_consented{_RECRUITMENT}}} consented and {{n:n_interviewed{_RECRUITMENT}}} were "
        f"interviewed, {{pct:pct_interviewed{_RECRUITMENT}}} of those contacted "
        "({ci:pct_interviewed}){ref:fig-recruitment}.")],
    "female": [_part(
        "{Q:n_participants_female} participants were female ({pct:pct_participants_female}, "
        "{ci:pct_participants_female}), against {pct:pct_psu_users_female} "
        "({n:n_psu_users_female}/{n:n_psu_users}) of the PSU\u2019s users{ref:fig-female}.")],
    "female_tests": [
        _part(f"The participants were drawn from the {{n:n_contacted{_RECRUITMENT}}} trainees "
              "contacted, not from the users, and chose themselves; compared with the users as "
              "if they were a random draw, a sample this far from the users\u2019 share would "
              "occur with exact binomial "
              "{pval:p_female_binomial_two_sided}"),
        _part(" (hypergeometric {pval:p_female_hypergeometric_two_sided})", optional=True),
        _part("; the {pval:p_sample_female_at_least_observed:one-sided} of a sample at least "
              "this female is shown only for comparison, since its direction was chosen after "
              "seeing the sample", optional=True),
        _part(". Neither test can say why the sample is as it is."),
    ],
    "stages": [_part(
        f"The participants were at {{n:n_training_stages{_STAGE}}} training stages, from "
        f"{{n:stage_earliest{_STAGE}}} to {{n:stage_latest{_STAGE}}}{{ref:tab-stages}}.")],
    "interviews": [_part(
        f"{{n:n_interviews}} {{noun:n_interviews:interview:interviews}} ({{modes:n_interviews}}) "
        "took place between "
        f"{{date:interview_first_date{_DATE}}} and {{date:interview_last_date{_DATE}}}"
        "{ref:fig-timeline}.")],
    "durations": [_part(
        f"They lasted {{n:duration_min_minutes{_DURATION}}} to "
        f"{{n:duration_max_minutes{_DURATION}}} minutes (mean "
        f"{{n:duration_mean_minutes:1{_DURATION}}}, median "
        f"{{n:duration_median_minutes:1{_DURATION}}}){{ref:fig-durations}}.")],
    "themes": [
        _part("The analysis found {n:n_themes} {noun:n_themes:theme:themes},"),
        _part(" none with sub-themes,", when={"zero": "n_subthemes"}),
        _part(" {n:n_themes_with_subthemes} of them with {n:n_subthemes} "
              "{noun:n_subthemes:sub-theme:sub-themes},", when={"nonzero": "n_subthemes"}),
        _part(f" over {{n:n_segments{_SEGMENTS}}} coded segments{{ref:fig-map,fig-heatmap}}."),
    ],
    "matrix": [_part(
        "Matrix coding crosses the themes and sub-themes with each of the "
        "{n:n_attribute_tables} {noun:n_attribute_tables:participant attribute:participant "
        "attributes}{ref:fig-by-stage}, and a co-occurrence table counts the participants coded "
        "for each pair of them.")],
    "prevalence": [_part(
        "How many participants each theme was coded for is counted on the coding of "
        "{n:prevalence_coder}, who coded every transcript.")],
}
"""The sentences by name, in the order of the Results; the paper says each where it belongs
(``say("name")``), the report in the first notebook's section by which all its keys are
written."""


def keys(text: str) -> list[str]:
    """The numbers.json keys a part's placeholders state (its ``ci`` the interval's bounds;
    a ``q`` the number of participants too)."""
    found: list[str] = []
    for kind, args, _ in PLACEHOLDER.findall(text):
        key = args.split(":")[0]
        if kind == "ref":
            continue
        if kind == "modes":
            found += [f"n_interviews_{m.replace('-', '_')}" for m in schema.INTERVIEW_MODES]
        if kind == "ci":
            found += [f"{key}_ci_low", f"{key}_ci_high"]
        elif kind in ("q", "Q"):
            found += [key, "n_participants"]
        else:
            found.append(key)
    return list(dict.fromkeys(found))


def for_the_paper() -> dict[str, list[dict]]:
    """Every sentence with each part's keys, as ``manuscript.json`` gives them to the paper."""
    return {name: [{**part, "keys": keys(part["text"])} for part in parts]
            for name, parts in SENTENCES.items()}


# --- the report's rendering: the paper's formats, in Python --------------------------------

def fmt(value: object, digits: int | None = None) -> str:
    """A value as Typst's ``str(calc.round(value, digits: digits))`` shows it: a whole float
    without its ".0", a rounded one half away from zero."""
    if digits is not None and isinstance(value, int | float) and not isinstance(value, bool):
        scaled = abs(value) * 10 ** digits
        value = math.copysign(math.floor(scaled + 0.5) / 10 ** digits, value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fill(kind: str, args: list[str], numbers: dict[str, object]) -> str:
    key = args[0]
    if kind == "n":
        return fmt(numbers[key], int(args[1]) if len(args) > 1 else None)
    if kind == "pct":
        return f"{fmt(numbers[key], 1)}%"
    if kind == "ci":
        low, high = (fmt(numbers[f"{key}_ci_{end}"], 1) for end in ("low", "high"))
        return f"95% CI {low}\u2013{high}%"
    if kind == "pval":
        label = f"{args[1]} " if len(args) > 1 else ""
        return f"{label}p = {fmt(numbers[key], 3)}"
    if kind == "date":
        day = dt.date.fromisoformat(str(numbers[key]))
        return f"{day.day} {day:%B} {day.year}"
    if kind in ("q", "Q"):
        count, n = int(numbers[key]), int(numbers["n_participants"])
        word = quantity_word(count, n)
        return f"{word[:1].upper() + word[1:] if kind == 'Q' else word} ({count} of {n})"
    if kind == "noun":
        return args[1] if numbers[key] == 1 else args[2]
    if kind == "modes":
        return series([f"{fmt(numbers[m['key']])} {m['phrase']}"
                       for m in interview_modes(numbers)])
    if kind == "ref":
        return ""  # the report shows each figure in its section, without a number
    raise ValueError(f"unknown placeholder kind {kind!r} in a sentence")


def _said(part: dict, numbers: dict[str, object]) -> bool:
    if part["optional"] and not all(k in numbers for k in keys(part["text"])):
        return False
    when = part["when"] or {}
    if "zero" in when:
        return numbers[when["zero"]] == 0
    if "nonzero" in when:
        return numbers[when["nonzero"]] != 0
    return True


def required_keys(name: str) -> list[str]:
    """The keys a sentence cannot be said without (those of its parts that are not optional)."""
    parts = [p for p in SENTENCES[name] if not p["optional"]]
    return list(dict.fromkeys(k for p in parts for k in [*keys(p["text"]),
                                                         *(p["when"] or {}).values()]))


def render(name: str, numbers: dict[str, object]) -> str:
    """Sentence ``name`` as plain text, its values from ``numbers`` in the paper's formats."""
    text = ""
    for part in SENTENCES[name]:
        if _said(part, numbers):
            text += PLACEHOLDER.sub(
                lambda m: _fill(m.group(1), m.group(2).split(":"), numbers), part["text"])
    return text
