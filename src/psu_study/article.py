"""The article's published facts, typed from its text, each with the section it comes from.

Recruitment counts, the PSU's base rate, the interview summary, the coders, the themes and
the statements the Results quantify, and the attributed quotations. ``synthetic`` builds
the repository's data from these; tests check them against the article's text. Nothing here
is generated or confidential.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

N_PARTICIPANTS = 8  # Methods > Participants and recruitment: "8 participants"
PARTICIPANTS = [f"P{i}" for i in range(1, N_PARTICIPANTS + 1)]  # Results: "PPT 1".."PPT 8"
PRIMARY_CODER, SECOND_CODER = "EW", "FF"  # Methods > Data collection and analysis

RESULTS = "Results"

# (code_id, parent_id, level, name, quantifier, section of the quantifier)
# Themes and sub-themes are the article's Results headings, in its order. Codes are the
# project's synthetic reconstruction of the article's statements about participants: one code
# for each statement the Results (or Discussion) quantify, so each quantifier can be checked.
CODEBOOK: list[tuple[str, str | None, str, str, str | None, str | None]] = [
    ("T1", None, "theme", "Medical identity intact (It will never happen to me)", None, None),
    ("C1.1", "T1", "code", "Assumed PSU support would never be needed", "all", RESULTS),
    ("C1.2", "T1", "code", "Could not recall hearing about the PSU", "many", RESULTS),
    ("C1.3", "T1", "code", "Heard of the PSU but did not remember it", "some", RESULTS),
    ("C1.4", "T1", "code", "A culture of 'man up'", "one", RESULTS),
    ("C1.5", "T1", "code", "Doctors are human too", "all", RESULTS),
    ("C1.6", "T1", "code", "Taking time off is unacceptable", "all", RESULTS),
    ("C1.7", "T1", "code", "Gender discussed in relation to help-seeking", "none", RESULTS),
    ("T2", None, "theme", "Denial of disrupted medical identity", None, None),
    ("C2.1", "T2", "code", "Difficulties affecting health, wellbeing and work", "all", RESULTS),
    ("C2.2", "T2", "code", "Bottling things up rather than seeking help", None, None),
    ("C2.3", "T2", "code", "Self-stigma", "some", RESULTS),
    ("C2.4", "T2", "code", "Disclosure negatively received by managers", None, None),
    ("C2.5", "T2", "code", "Feeling different despite a supportive manager", None, None),
    ("C2.6", "T2", "code", "Feeling a failure and thinking of leaving medicine", "many", RESULTS),
    ("C2.7", "T2", "code", "Guilt about sick leave", None, None),
    ("T3", None, "theme", "Being on the edge: accepting help", None, None),
    ("C3.1", "T3", "code", "At breaking point when accessing the PSU", "many", RESULTS),
    ("C3.2", "T3", "code", "Initial referral felt punitive", "some", RESULTS),
    ("C3.3", "T3", "code", "Keeping personal problems separate from work", "most", RESULTS),
    ("C3.4", "T3", "code", "Confidentiality of the PSU appealed", None, None),
    ("C3.5", "T3", "code", "Concern that PSU involvement might affect training", "some", RESULTS),
    ("C3.6", "T3", "code", "Anxious about being seen in the Deanery building", "some", RESULTS),
    ("T4", None, "theme", "Role of PSU in the \u2018recovery\u2019 process", None, None),
    ("C4.1", "T4", "code", "Engaging with PSU support despite reservations", None, None),
    ("S4.1", "T4", "subtheme", "Making sense of their story", None, None),
    ("C4.1.1", "S4.1", "code", "Talking openly to a detached third party", None, None),
    ("C4.1.2", "S4.1", "code", "Writing down her story", "one", RESULTS),
    ("S4.2", "T4", "subtheme", "Focussing on their own health", None, None),
    ("C4.2.1", "S4.2", "code", "Reassured that time off was right", None, None),
    ("C4.2.2", "S4.2", "code", "Accepting sick leave now for a better return", "several", RESULTS),
    ("S4.3", "T4", "subtheme", "Understanding that they are not alone", None, None),
    ("C4.3.1", "S4.3", "code", "Not the first trainee to go through this", None, None),
    ("C4.3.2", "S4.3", "code", "Support without judgement changed their view of training",
     "many", RESULTS),
    ("T5", None, "theme", "Repaired identity / Coming back from the edge", None, None),
    ("C5.1", "T5", "code", "Concern about competence to continue practising", "many", RESULTS),
    ("C5.2", "T5", "code", "PSU support essential to staying in medicine", "some", RESULTS),
    ("C5.3", "T5", "code", "Practical support from PSU staff", None, None),
    ("C5.4", "T5", "code", "Feeling valued as a doctor again", None, None),
    ("T6", None, "theme", "Different ways to be a doctor", None, None),
    ("C6.1", "T6", "code", "Needing reduced hours or amended duties", "some", RESULTS),
    ("C6.2", "T6", "code", "Doing things differently is acceptable", None, None),
    ("T7", None, "theme", "Breaking the cycle", None, None),
    ("C7.1", "T7", "code", "Ongoing support as a safety net", None, None),
    ("C7.2", "T7", "code", "Offering to talk to doctors in distress", "several", "Discussion"),
    ("C7.3", "T7", "code", "Messages and learning points to share", "one", RESULTS),
    ("C7.4", "T7", "code", "A protocol for earlier referral", None, None),
]

@dataclass(frozen=True)
class Quotation:
    """A quotation the Results attribute to a participant ("PPT n" or "participant n")."""

    participant_id: str | None  # None: attributed only to "one participant"
    code_id: str
    text: str


# Verbatim from the article (curly quotes, ellipses and its typos kept); the test suite
# checks each one is a substring of the article.
QUOTATIONS = [
    Quotation("P6", "C1.3", "you kind of hear about it \u2026 but you don\u2019t remember"),
    Quotation("P2", "C1.4", "It\u2019s [the NHS] very much a culture of man up and just get on "
              "with things"),
    Quotation("P2", "C1.5", "you are a human, just like everyone else, this can happen"),
    Quotation("P3", "C1.6", "it\u2019s kind of instilled in us from the start of our NHS life "
              "that you don\u2019t create extra work for people [by being off work]"),
    Quotation("P8", "C2.2", "bottle things up and trying to carry on"),
    Quotation("P7", "C2.3", "you don\u2019t want to be seen by your colleagues or managers as "
              "someone who can\u2019t cope"),
    Quotation("P5", "C2.4", "an agenda to it which was basically to try and stop me from "
              "having the break"),
    Quotation("P4", "C2.5", "the whole year I spent kind of being a bit different to everyone "
              "else"),
    Quotation("P5", "C2.6", "totally overwhelmed\u2026because I just couldn\u2019t cope with "
              "everything"),
    Quotation("P6", "C2.6", "I was feeling very much like I didn\u2019t know if I wanted to be a "
              "doctor anymore because I lost, you know, a lot of confidence in that"),
    Quotation("P2", "C3.1", "I was in a position where I was either going to give up medicine, "
              "because I felt that it was negatively impacting my own health, or I was going to "
              "try and find a better way of me doing it"),
    Quotation("P4", "C3.2", "I kind of felt as if I was in trouble and it almost felt as if you "
              "were back at school"),
    Quotation("P4", "C3.2", "I think I felt really under surveillance"),
    Quotation("P8", "C4.1", "incredibly therapeutic"),
    Quotation(None, "C4.1.2", "pivotal moment"),
    Quotation("P8", "C4.1.1", "totally open and honest"),
    Quotation("P6", "C4.2.1", "bad about it [sick leave] and you don\u2019t know what everyone "
              "thinks\u2026[the PSU staff member] was very reassuring and sayingit sounds like "
              "the right thing you\u2019re off\u2019"),
    Quotation("P7", "C4.3.1", "it\u2019s just nice knowing that I wasn\u2019t the first trainee "
              "that had ever been through this sort of thing"),
    Quotation("P1", "C5.2", "they\u2026 initiated a whole lot of support that I probably "
              "couldn\u2019t have managed without"),
    Quotation("P8", "C5.2", "this [PSU] is the one thing that\u2019s really essentially kept me "
              "in my job and kept me carrying on a doctor when I was so close to just giving it "
              "all up"),
    Quotation("P8", "C5.3", "she [PSU staff member] filled it [a form] in on my behalf, because "
              "to be honest at that stage I was just a bit of a mess\u2026and I just couldn\u2019t "
              "do almost anything"),
    Quotation("P2", "C6.2", "the overwhelming feel [during PSU support] is that actually you "
              "can do things in different ways and that doesn\u2019t make you any less of a "
              "person"),
    Quotation("P8", "C7.1", "I just knew that I had someone that I could go back to, it was "
              "then the continued support after that"),
]
QUOTATION_EXCLUDES = {"C4.1.2": {"P8"}}
""""Participant 8 also used this phrase": the unnamed writer of the "pivotal moment" is not P8."""

# Methods > Participants and recruitment: "65% (259/397) of PSU users"; 20 contacted,
# N = 10 interested, 8 consented and all interviewed.
PSU_USERS = [("all", "all", 397), ("gender", "female", 259), ("gender", "not female", 138)]
RECRUITMENT_COUNTS = {"contacted": 20, "interested": 10, "consented": 8, "interviewed": 8}
# Methods > Data collection and analysis: "between April 2014 – March 2015", "35-100 min
# (mean: 50)".
DURATION_MIN, DURATION_MAX, DURATION_MEAN = 35, 100, 50
INTERVIEW_WINDOW = (dt.date(2014, 4, 1), dt.date(2015, 3, 31))
# Methods > Participants and recruitment: "Within a six month recruitment period".
RECRUITMENT_DAYS = 180
# Methods > Data collection and analysis: "FF independently coded half the data".
SECOND_CODER_SHARE = 0.5
