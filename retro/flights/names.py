"""Compare the passenger name on an airline flight coupon with a loyalty member's name.

The CSR's "Verify" step of the retro flight claim wizard uses this check: miles must only go to the person
who flew. Airlines write names as SURNAME/GIVENNAMES TITLE in upper-case ASCII, drop spaces, hyphens and
apostrophes, glue the title on and cut long names short. Comparing the strings exactly would turn away
many honest claims, so the rules below accept what an airline does to a name. Anything else that is close
is a near miss for the CSR to judge. Standard library only.
"""

import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import accumulate


class NameResult:
    MATCH = "match"
    NEAR_MISS = "near_miss"
    MISMATCH = "mismatch"
    MISSING = "missing"


@dataclass(frozen=True)
class NameCheck:
    result: str  # one of NameResult's values
    score: int  # similarity 0..100: 100 for a match, 0 when the coupon has no name
    message: str  # one sentence for the CSR
    coupon_surname: str  # normalised parts as read from the coupon ("" when missing)
    coupon_given: str


# Below this similarity a name that does not match is a different person, not a typo.
NEAR_MISS_SIMILARITY = 75
# Reservation systems and boarding-pass barcodes allow about 20 characters for a name, some only for the
# surname. A coupon name this long may have been cut short, so a surname or given names that stop part-way
# through the member's are accepted. A shorter name was not cut, so "SMIT" is not "SMITH".
TRUNCATION_LENGTH = 20
TITLES = ("MSTR", "MISS", "MRS", "MR", "MS", "DR")
# Every ending a title can leave on a name, longest first. A cut title ("M", "MIS") is only a cut title
# when reading it that way makes the name match: otherwise it is part of the name.
TITLE_ENDINGS = sorted({title[:n] for title in TITLES for n in range(1, len(title) + 1)}, key=len, reverse=True)
SPECIAL_LETTERS = str.maketrans(
    {"ß": "SS", "ẞ": "SS", "Æ": "AE", "æ": "AE", "Ø": "O", "ø": "O", "Ł": "L", "ł": "L", "Đ": "D", "đ": "D"}
)
DROPPED = str.maketrans("", "", " -'’.")  # airlines write O'BRIEN as OBRIEN and LEFEVRE-MARTIN as LEFEVREMARTIN
MISSING_MESSAGE = (
    "The coupon carries no passenger name, so the name cannot be checked: "
    "verify the flight another way, such as the boarding pass or the e-ticket receipt."
)


def normalise(text: str) -> str:
    """Upper case, accents removed (unicodedata NFKD, drop combining marks; also ß->SS, Æ->AE, Ø->O, Ł->L, Đ->D),
    and spaces, hyphens, apostrophes (' and ’), dots removed."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(SPECIAL_LETTERS))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(plain.upper().split()).translate(DROPPED)


def _similarity(a: str, b: str) -> int:
    # 100 is kept for a match: a name that is not accepted always shows at most 99%.
    return min(99, round(SequenceMatcher(None, a, b).ratio() * 100))


def _readings(words: list[str]) -> list[tuple[list[str], bool]]:
    """The ways to read the given-name words after the "/": (words without the title, shown if no match)."""
    if words and words[-1] in TITLES:
        return [(words[:-1], True)]  # a title on its own after a space cannot be part of a name
    readings = [(words, True)]
    last = words[-1] if words else ""
    for ending in TITLE_ENDINGS:
        if last.endswith(ending) and (len(last) > len(ending) or len(words) > 1):
            without = [*words[:-1], last[: -len(ending)]]
            readings.append(([w for w in without if w], ending in TITLES))
    return readings


def _given_status(words: list[str], member_prefixes: list[str], field_cut: bool) -> tuple[str, str]:
    """How the coupon's given names compare with the member's, and the member's part this depends on."""
    given = "".join(words)
    member_given = member_prefixes[-1]
    if not given:
        return "none", ""
    # The coupon may carry all of the member's given names or only the first ones ("John Andrew" as JOHN).
    if given in member_prefixes:
        return "match", ""
    # A middle initial or a middle name the member did not give: JOHNA or JOHN ANDREW for John.
    word_ends = set(accumulate(len(w) for w in words))
    for prefix in reversed(member_prefixes):
        if prefix and given.startswith(prefix) and (len(given) == len(prefix) + 1 or len(prefix) in word_ends):
            return "match", ""
    if field_cut and len(given) >= 2 and member_given.startswith(given):
        return "match", "cut"
    # Without a space, JOHNATHAN could be John with a middle name or another person: the CSR decides.
    for prefix in reversed(member_prefixes):
        if prefix and given.startswith(prefix):
            return "extra", prefix
    if len(given) == 1 and member_given.startswith(given):
        return "initial", ""
    return "differs", ""


RANK = {"match": 0, "initial": 1, "extra": 2, "none": 3, "differs": 4}


def check_passenger_name(coupon_name: str | None, first_name: str, last_name: str) -> NameCheck:
    """Whether the coupon's passenger name is the member's, with a sentence saying why, for the CSR."""
    shown = (coupon_name or "").strip().upper()
    member = f"{(first_name or '').strip()} {(last_name or '').strip()}".strip()
    if not normalise(shown).strip("/"):
        return NameCheck(NameResult.MISSING, 0, MISSING_MESSAGE, "", "")
    member_surname = normalise(last_name)
    member_words = [w for w in map(normalise, (first_name or "").split()) if w]
    member_prefixes = ["".join(member_words[:n]) for n in range(1, len(member_words) + 1)] or [""]
    member_given = member_prefixes[-1]
    if "/" not in shown:
        return _without_slash(shown, member, member_surname, member_prefixes)

    left, _, right = shown.partition("/")
    surname = normalise(left)
    words = [w for w in map(normalise, right.split()) if w]
    field_cut = len(shown) >= TRUNCATION_LENGTH
    # The surname was cut if it fills the surname field on its own, or if the whole field ends right after it.
    surname_cut = (
        surname != member_surname
        and len(surname) >= 2
        and member_surname.startswith(surname)
        and (len(surname) >= TRUNCATION_LENGTH or (field_cut and not words))
    )
    surname_ok = surname == member_surname or surname_cut

    readings = []
    for given_words, shown_if_no_match in _readings(words):
        status, part = _given_status(given_words, member_prefixes, field_cut)
        if status == "match" or shown_if_no_match:
            given = "".join(given_words)
            score = max(_similarity(f"{surname}/{given}", f"{member_surname}/{p}") for p in member_prefixes)
            readings.append((RANK[status], -score, given, status, part))
    _, minus_score, given, status, part = min(readings)  # the reading closest to the member's name

    if surname_ok and status == "match":
        note = " (the airline cut the name short)" if surname_cut or part == "cut" else ""
        message = f"The name on the coupon, {shown}, matches the member {member}{note}."
        return NameCheck(NameResult.MATCH, 100, message, surname, given)

    score = -minus_score
    if surname_ok and status != "differs":
        # Same surname and nothing that contradicts the given name, but not enough to be sure of the person.
        result = NameResult.NEAR_MISS
        reason = {
            "initial": f"only the initial {given} of the given name is on the coupon, {member_given} on the member",
            "extra": f"given name {given} on the coupon starts with {part} on the member but goes on, "
            "so it is a middle name or another name",
            "none": f"the coupon carries the surname {surname} but no given name",
        }[status]
    else:
        result = NameResult.NEAR_MISS if score >= NEAR_MISS_SIMILARITY else NameResult.MISMATCH
        differences = []
        if not surname_ok:
            differences.append(f"surname {surname or '(none)'} on the coupon, {member_surname} on the member")
        if status != "match":
            differences.append(f"given name {given or '(none)'} on the coupon, {member_given} on the member")
        reason = "; ".join(differences)
    return NameCheck(result, score, _message(shown, member, result, f"{reason} (similarity {score}%)"), surname, given)


def _without_slash(shown: str, member: str, member_surname: str, member_prefixes: list[str]) -> NameCheck:
    """A name without "/" cannot be split into surname and given names: compare it as a whole, never a match."""
    words = [w for w in map(normalise, shown.split()) if w]
    if len(words) > 1 and words[-1] in TITLES:
        words = words[:-1]
    text = "".join(words)
    arrangements = {member_surname} | {p + member_surname for p in member_prefixes}
    arrangements |= {member_surname + p for p in member_prefixes}
    score = max(_similarity(text, a) for a in arrangements)
    # The member's whole name, or a surname cut at the field's length, is worth a look by the CSR.
    same_letters = text in arrangements or (len(text) >= TRUNCATION_LENGTH and member_surname.startswith(text))
    result = NameResult.NEAR_MISS if same_letters or score >= NEAR_MISS_SIMILARITY else NameResult.MISMATCH
    reason = (
        f'it has no "/" between surname and given names, so it was compared as a whole with '
        f"{member_surname}/{member_prefixes[-1]} (similarity {score}%)"
    )
    return NameCheck(result, score, _message(shown, member, result, reason), text, "")


def _message(shown: str, member: str, result: str, reason: str) -> str:
    if result == NameResult.NEAR_MISS:
        return f"The name on the coupon, {shown}, is close to {member} but not the same: {reason}."
    return f"The name on the coupon, {shown}, does not match the member {member}: {reason}."
