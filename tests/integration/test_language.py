"""One language per document, and each region's own wording (issue 18).

Every sample renders in every locale its language allows; outside proper names and
payload references the text holds no common word of the other language, none of the other
region's vocabulary and none of the defects once found by native readers. A payload in one
language is refused in a locale of the other, naming every free-text field that lacks it,
and renders wholly in that language when it gives those fields in it.
"""

from __future__ import annotations

import copy
import html as htmllib
import re
from typing import Any

import pytest

from correspondence.engine import Engine, locales_of
from correspondence.errors import InvalidPayload
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import KINDS, SAMPLES_DIR
from correspondence.mail.compose import Envelope, compose
from tests.conftest import PLACEHOLDER, flat, in_language

SAMPLES = sorted(p.name for p in SAMPLES_DIR.glob("*.json"))

COMMON_WORDS = {
    # articles, prepositions, conjunctions and months of each language, none of which the
    # other language writes on its own
    "es": {
        "el", "la", "los", "las", "del", "al", "y", "para", "por", "con", "sin", "una",
        "que", "en", "su", "sus", "desde", "hasta", "enero", "febrero", "marzo", "abril",
        "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
    },
    "en": {
        "the", "of", "and", "to", "for", "with", "from", "by", "your", "is", "are", "will",
        "january", "february", "march", "april", "june", "july", "august", "september",
        "october", "november", "december",
    },
}  # fmt: skip

REGIONAL = {
    # what the other region writes (brief §1 glossary; US and British spelling). The names
    # of legal proceedings follow the policy's law, not the reader's region (see
    # test_legal_terms_follow_the_policys_jurisdiction_not_the_readers_region).
    "es-ES": [
        "contratante", "deducible", "cobranza", "remisión", "carátula", "parcialidad",
        "reclamación de siniestro", "vigencia", "endoso", "monto",
        "monitoreo", "falta de pago", "mora prolongada", "comuníquese",
    ],
    "es-MX": [
        "tomador", "franquicia", "recobro", "albarán", "fracción", "suplemento",
        "clasificación", "anualidad", "póngase en contacto",
        "periodo de seguro", "impago prolongado",
    ],
    "en-US": [
        "favour", "cheque", "specialised", "postcode", "instalment", "apologise",
        "Yours sincerely", "Yours faithfully", "Dear Ms ", "Dear Mr ", "Defence",
        "For the attention of", "with effect from", "delivery note", "by phone on",
    ],
    "en-GB": ["installment", "favor ", "apologize", "Sincerely,", "Dear Ms. ", "Dear Mr. "],
}  # fmt: skip

DEFECTS = [
    "parcialidads", "fracciónes", "el cobranza", "este reclamación", "la albarán",
    "Estimado/a", "Estimado(a)", "de 0 – 10", "valore condiciones", "No es un recorte",
    "12:00 PM", "(billed: mensual)", "por su reclamación de siniestro",
    # the native reader's second pass (docs: notes/review-language.md)
    "la recobro", "Todos los plazos salen", "Antes de necesitarla", "Avisar antes de",
    "aplazamiento más largo", "Compruebe que ese día", "le prometemos, y", "No se trata de",
    "Quedan pendientes", "ligado a su", "who answers for it", "Write to your contact also",
    "This is not a reduction", "Please find the document",
]  # fmt: skip
DEFECT_PATTERNS = [r"\bde el\b", r"\ba el\b"]


def payload_texts(payload: Any) -> list[str]:
    """Every string the payload holds: proper names and payload references."""
    if isinstance(payload, str):
        return [payload]
    if isinstance(payload, dict):
        return [t for v in payload.values() for t in payload_texts(v)]
    if isinstance(payload, list):
        return [t for v in payload for t in payload_texts(v)]
    return []


def visible_text(html: str) -> str:
    """The words a reader sees: tags, styles and attribute values removed."""
    body = re.sub(r"<(style|head)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", body)))


def our_words(engine: Engine, payload: dict[str, Any], locale: str) -> str:
    """The document's text in ``locale`` without anything the payload wrote."""
    validated = engine.validate(payload)
    text = visible_text(engine.html(validated, locale=locale))
    figures = validated.figures
    written = [*payload_texts(payload), str(getattr(figures, "amount_in_words", "") or "")]
    # The SAT catalogues' descriptions are the catalogue's own (Mexican) text, quoted.
    written += [e.es for e in getattr(figures, "sat_codes", {}).values()]
    return without(text, written)


def without(text: str, pieces: list[str]) -> str:
    """``text`` with each of ``pieces`` removed where it stands as whole words."""
    for piece in sorted({p.strip() for p in pieces if p and p.strip()}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(piece)}(?!\w)", " ", text)
    return text


def sample(name: str) -> dict[str, Any]:
    import json

    loaded: dict[str, Any] = json.loads((SAMPLES_DIR / name).read_text("utf-8"))
    return loaded


def cases() -> list[tuple[str, str]]:
    found = []
    for name in SAMPLES:
        language = "en" if "en-GB" in name else "es"
        found += [(name, locale) for locale in SUPPORTED_LOCALES if locale.startswith(language)]
    return found


@pytest.mark.parametrize(("name", "locale"), cases())
def test_every_sample_reads_in_one_language_and_one_region(
    engine: Engine, name: str, locale: str
) -> None:
    """No common word of the other language, none of the other region's vocabulary and
    none of the listed defects, outside what the payload wrote."""
    payload = sample(name)
    text = our_words(engine, payload, locale)
    other = "en" if locale.startswith("es") else "es"
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    assert not words & COMMON_WORDS[other], (
        f"{other} words in {locale}: {words & COMMON_WORDS[other]}"
    )
    if locale.startswith("es"):
        assert [w for w in REGIONAL[locale] if w.lower() in text.lower()] == []
    else:
        assert [w for w in REGIONAL[locale] if w in text] == []
        assert "meses" not in text and "mensual" not in text
    assert [d for d in DEFECTS if d in text] == []
    assert [p for p in DEFECT_PATTERNS if re.search(p, text)] == []


def test_samples_render_in_the_locales_their_language_allows(engine: Engine) -> None:
    """The Spanish samples in es-MX and es-ES, the English ones in en-GB and en-US."""
    for name in SAMPLES:
        validated = engine.validate(sample(name))
        expected = ("en-GB", "en-US") if "en-GB" in name else ("es-MX", "es-ES")
        assert locales_of(validated) == expected, name


def test_the_word_check_sees_the_other_language(engine: Engine) -> None:
    """The check is not blind: a Spanish phrase the template wrote would be caught."""
    payload = sample("05_credit_limit_decision_partial_es-MX.json")
    text = our_words(engine, payload, "es-MX") + " the limit of the buyer"
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    assert {"the", "of"} <= words & COMMON_WORDS["en"]


@pytest.mark.parametrize(
    ("name", "locale"),
    [
        ("06_claim_decision_partial_es-ES.json", "en-GB"),
        ("04_claim_filing_guide_en-GB.json", "es-ES"),
    ],
)
def test_a_payload_is_refused_in_a_locale_of_another_language(
    engine: Engine, name: str, locale: str
) -> None:
    """Refused before anything is rendered, naming each free-text field that lacks the
    locale's language; the same fields as the payload's Text values."""
    payload = sample(name)
    validated = engine.validate(payload)
    with pytest.raises(InvalidPayload) as refused:
        engine.render(validated, locale=locale)
    fields = {p.field for p in refused.value.problems}
    assert {p.error for p in refused.value.problems} == {"untranslated"}
    assert "policy.product_name" in fields and "insurer.registry_footer" in fields
    assert all(locale in p.message for p in refused.value.problems)
    with pytest.raises(InvalidPayload):
        engine.html(validated, locale=locale)


def test_a_payload_that_gives_its_text_in_english_renders_wholly_in_english(
    engine: Engine,
) -> None:
    """Every free text given as {"es": …, "en": …}: the English document holds the English
    text and none of the Spanish."""
    original = sample("06_claim_decision_partial_es-ES.json")
    payload = in_language(original, "en")
    validated = engine.validate(payload)
    text = visible_text(engine.html(validated, locale="en-GB"))
    assert PLACEHOLDER["en"] in text
    assert original["post_payment"]["subrogation_note"] not in text
    assert original["invoices"][4]["ineligible_reason"]["text"] not in text
    spanish = visible_text(engine.html(validated, locale="es-ES"))
    assert (
        original["post_payment"]["subrogation_note"] in spanish and PLACEHOLDER["en"] not in spanish
    )


def test_text_language_can_differ_from_the_locale(engine: Engine) -> None:
    """An English-language payload may be issued in a Spanish locale only with Spanish text
    for every field; document.text_language says which language the plain strings are in."""
    payload = sample("04_claim_filing_guide_en-GB.json")
    payload["document"]["locale"] = "es-MX"
    payload["document"]["text_language"] = "en"
    with pytest.raises(InvalidPayload) as refused:
        engine.validate(payload)
    assert "documents_required.0.label" in {p.field for p in refused.value.problems}
    translated = in_language(sample("04_claim_filing_guide_en-GB.json"), "es")
    translated["document"].update(locale="es-MX", text_language="en")
    assert engine.validate(translated).doc.document.locale == "es-MX"


@pytest.mark.parametrize(
    ("field", "text", "what"),
    [
        ("reasons.0.text", "Debe 45.600,00 € desde marzo.", "an amount"),
        ("reasons.0.text", "Owes $45,600.00 MXN.", "an amount"),
        ("reasons.0.text", "Vencida el 3 de marzo de 2026.", "a date"),
        ("reasons.0.text", "Overdue since 31/01/2027.", "a date"),
        ("reasons.0.text", "Overdue since March 3, 2026.", "a date"),
    ],
)
def test_amounts_and_dates_in_free_text_are_refused(field: str, text: str, what: str) -> None:
    """A figure the customer reads is a typed field the service formats."""
    from correspondence.kinds import validate

    payload = sample("05_credit_limit_decision_partial_es-MX.json")
    payload["decision"]["reasons"][0]["text"] = text
    with pytest.raises(InvalidPayload) as refused:
        validate(payload)
    (problem,) = [p for p in refused.value.problems if p.field == f"decision.{field}"]
    assert what in problem.message


def test_the_place_of_issue_is_free_text_in_a_language(engine: Engine) -> None:
    """A city's name is written per language: an English payload's "Mexico City" is not
    printed in a Spanish date line, and the Spanish name is when the payload gives it
    (English letters print no place on their date line)."""
    payload = sample("04_claim_filing_guide_en-GB.json")
    with pytest.raises(InvalidPayload) as refused:
        engine.html(engine.validate(payload), locale="es-MX")
    assert "document.issue_place" in {p.field for p in refused.value.problems}
    bilingual = in_language(payload, "es")
    bilingual["document"]["issue_place"] = {"es": "Ciudad de México", "en": "Mexico City"}
    validated = engine.validate(bilingual)
    assert "Ciudad de México, a 15 de diciembre" in visible_text(
        engine.html(validated, locale="es-MX")
    )
    assert "Ciudad de México, 15 de diciembre" in visible_text(
        engine.html(validated, locale="es-ES")
    )
    assert "Mexico City, 15" not in visible_text(engine.html(validated, locale="es-ES"))


@pytest.mark.parametrize("place", ["", "Mexico\nCity", "x" * 201])
def test_the_place_of_issue_is_one_short_line(place: str) -> None:
    from correspondence.kinds import validate

    payload = sample("04_claim_filing_guide_en-GB.json")
    payload["document"]["issue_place"] = {"en": place, "es": "Madrid"}
    with pytest.raises(InvalidPayload) as refused:
        validate(payload)
    assert "document.issue_place" in {p.field for p in refused.value.problems}


@pytest.mark.parametrize(("locale", "spelling"), [("en-GB", "Defence"), ("en-US", "Defense")])
def test_a_complaint_body_is_named_in_the_readers_spelling(
    engine: Engine, locale: str, spelling: str
) -> None:
    """Legal names come from legal.py, once per language, with a region's own spelling
    where it differs (CONDUSEF's "Defense" in American English)."""
    payload = sample("04_claim_filing_guide_en-GB.json")
    text = visible_text(engine.html(engine.validate(payload), locale=locale))
    assert f"Protection and {spelling} of Users of Financial Services (CONDUSEF)" in text


def test_en_us_dates_take_a_comma_after_the_year_in_running_text(engine: Engine) -> None:
    """Month-day-year dates followed by more words take a comma after the year in en-US
    (not in en-GB, whose dates are day-month-year)."""
    payload = sample("07b_collection_update_en-GB.json")
    us = visible_text(engine.html(engine.validate(payload), locale="en-US"))
    assert re.search(r"From \w+ \d{1,2}, \d{4}, to \w+ \d{1,2}, \d{4}, we recovered", us)
    gb = visible_text(engine.html(engine.validate(payload), locale="en-GB"))
    assert re.search(r"From \d{1,2} \w+ \d{4} to \d{1,2} \w+ \d{4} we recovered", gb)


FEMALE = {"gender": "female", "surname": "Ficticia"}
CP = {"gender": "male", "surname": "Ficticio", "title": "cp"}
DR = {"gender": "female", "surname": "Ficticia", "title": "dr"}
LIC = {"gender": "male", "surname": "Ficticio", "title": "lic"}
ES_CLOSE = "Atentamente,"


@pytest.mark.parametrize(
    ("address_as", "locale", "salutation", "closing"),
    [
        (FEMALE, "es-ES", "Estimada Sra. Ficticia:", ES_CLOSE),
        (FEMALE, "es-MX", "Estimada Sra. Ficticia:", ES_CLOSE),
        (CP, "es-MX", "Estimado C.P. Ficticio:", ES_CLOSE),
        (CP, "es-ES", "Estimado Sr. Ficticio:", ES_CLOSE),
        (DR, "es-ES", "Estimada Dra. Ficticia:", ES_CLOSE),
        (FEMALE, "en-GB", "Dear Ms Ficticia,", "Yours sincerely,"),
        (FEMALE, "en-US", "Dear Ms. Ficticia:", "Sincerely,"),
        (LIC, "en-US", "Dear Mr. Ficticio:", "Sincerely,"),
        (None, "es-MX", "Estimados señores:", ES_CLOSE),
        (None, "es-ES", "Estimados señores:", ES_CLOSE),
        (None, "en-GB", "Dear Sir or Madam,", "Yours faithfully,"),
        (None, "en-US", "Dear Sir or Madam:", "Sincerely,"),
    ],
)
def test_salutation_and_closing_come_from_the_addressee(
    engine: Engine, address_as: Any, locale: str, salutation: str, closing: str
) -> None:
    """Title and surname when the payload gives them; the country's neutral form else."""
    payload = sample("03_credit_limit_change_reduction_es-ES.json")
    payload["policyholder"]["contact"].pop("address_as")
    if address_as is not None:
        payload["policyholder"]["contact"]["address_as"] = address_as
    payload = in_language(payload, locale[:2])
    text = visible_text(engine.html(engine.validate(payload), locale=locale))
    assert salutation in text and closing in text
    assert not re.search(r"(Estimad\S*|Dear) Elena", text)  # never a mail-merge greeting


@pytest.mark.parametrize("locale", ["es-MX", "es-ES", "en-GB", "en-US"])
def test_emails_follow_the_same_rules(engine: Engine, locale: str) -> None:
    """Subject, text and HTML parts in one language and one region, greeting the
    addressee by title and surname, and refused in a locale the payload's text lacks."""
    from datetime import UTC, datetime

    base = sample("01_renewal_pack_es-ES.json")
    payload = base if locale.startswith("es") else in_language(base, "en")
    validated = engine.validate(payload)
    context = engine.context(validated, locale=locale)
    context.update(kind=validated.kind.name, link=None, link_expires=None)
    envelope = Envelope("a@b.example", ("c@d.example",), (), "<m@b.example>", datetime.now(UTC))
    message = compose(engine.env, context, envelope, pdf=b"%PDF", filename="x.pdf")
    body = message.get_body(("plain",))
    assert body is not None
    text = f"{message['Subject']}\n{body.get_content()}"
    expected = {
        "es-MX": ("Estimada Sra. Ficticia:", "primera parcialidad", "Saludos cordiales,"),
        "es-ES": ("Estimada Sra. Ficticia:", "primera fracción", "Un cordial saludo,"),
        "en-GB": ("Dear Ms Ficticia,", "first instalment", "Kind regards,"),
        "en-US": ("Dear Ms. Ficticia:", "first installment", "Best regards,"),
    }[locale]
    for phrase in expected:
        assert phrase in text
    stripped = without(text, payload_texts(payload))
    other = "en" if locale.startswith("es") else "es"
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", stripped)}
    assert not words & COMMON_WORDS[other]
    if locale.startswith("en"):
        with pytest.raises(InvalidPayload):
            engine.context(engine.validate(copy.deepcopy(base)), locale=locale)


def test_every_kind_has_a_sample_checked() -> None:
    """Each kind is covered by at least one sample above."""
    kinds = {sample(name)["document"]["type"] for name in SAMPLES}
    assert kinds == set(KINDS)


def test_a_surname_is_data_never_markup(engine: Engine) -> None:
    """The salutation's surname is escaped in the letter's HTML."""
    payload = sample("03_credit_limit_change_reduction_es-ES.json")
    payload["policyholder"]["contact"]["address_as"]["surname"] = "<b>Ficticia</b>"
    html = engine.html(engine.validate(payload))
    assert "Estimada Sra. &lt;b&gt;Ficticia&lt;/b&gt;:" in html and "<b>Ficticia</b>" not in html


INSOLVENCY = {"MX": "concurso mercantil", "ES": "concurso de acreedores"}


@pytest.mark.parametrize("locale", ["es-MX", "es-ES"])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_legal_terms_follow_the_policys_jurisdiction_not_the_readers_region(
    engine: Engine, name: str, locale: str
) -> None:
    """An insolvency is a concurso mercantil under Mexican law and a concurso de acreedores
    under Spanish law, whichever Spanish the reader reads: the term follows
    ``document.jurisdiction``. Every sample and every kind's term lists are rendered,
    with a buyer in insolvency where the kind has one."""
    payload = sample(name)
    if not name.endswith(("es-MX.json", "es-ES.json")):
        payload = in_language(payload, "es")
    jurisdiction = payload["document"]["jurisdiction"]
    other = INSOLVENCY["ES" if jurisdiction == "MX" else "MX"]
    text = flat(visible_text(engine.html(engine.validate(payload), locale=locale)))
    assert other not in text.lower()
    if payload["document"]["type"] in ("claim_filing_guide",):
        assert INSOLVENCY[jurisdiction] in text.lower()


@pytest.mark.parametrize("locale", ["es-ES", "es-MX"])
def test_a_mexican_guide_read_in_spain_says_concurso_mercantil(engine: Engine, locale: str) -> None:
    """The reviewer's case: the Mexican claim guide read in es-ES."""
    payload = in_language(sample("04_claim_filing_guide_en-GB.json"), "es")
    payload["document"]["jurisdiction"] = "MX"
    text = flat(visible_text(engine.html(engine.validate(payload), locale=locale)))
    assert "Si su " in text and "entra en concurso mercantil" in text
    assert "concurso de acreedores" not in text
    payload["document"]["jurisdiction"] = "ES"
    try:
        spanish = flat(visible_text(engine.html(engine.validate(payload), locale=locale)))
    except InvalidPayload:
        return  # a Mexican guide's other facts (CONDUSEF, RFC…) may not stand under ES law
    assert "concurso de acreedores" in spanish


def email_of(
    engine: Engine, payload: dict[str, Any], locale: str, *, link: bool = False
) -> tuple[str, str, str, str]:
    """Subject, text part, HTML part (visible text) and attachment name of the email that
    carries ``payload`` rendered in ``locale`` (a download link instead of the PDF when
    ``link``)."""
    from datetime import UTC, date, datetime

    from correspondence.mail.compose import attachment_name

    validated = engine.validate(payload)
    context = engine.context(validated, locale=locale)
    context.update(kind=validated.kind.name, link=None, link_expires=None)
    if link:
        context.update(link="https://docs.example/d/1", link_expires=date(2027, 1, 31))
    filename = attachment_name(engine.env, validated, locale)
    envelope = Envelope("a@b.example", ("c@d.example",), (), "<m@b.example>", datetime.now(UTC))
    message = compose(
        engine.env, context, envelope, pdf=None if link else b"%PDF", filename=filename
    )
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(message["Subject"]), text.get_content(), visible_text(html.get_content()), filename


def every_sample_locale() -> list[tuple[str, str]]:
    """Each sample in all four locales (in the other language through in_language)."""
    return [(name, locale) for name in SAMPLES for locale in SUPPORTED_LOCALES]


def in_locale_language(name: str, locale: str) -> dict[str, Any]:
    payload = sample(name)
    language = locale[:2]
    return payload if ("en-GB" in name) == (language == "en") else in_language(payload, language)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.?!])\s+", flat(text)) if s.strip()]


@pytest.mark.parametrize("link", [False, True])
@pytest.mark.parametrize(("name", "locale"), every_sample_locale())
def test_an_email_body_does_not_repeat_its_subject(
    engine: Engine, name: str, locale: str, link: bool
) -> None:
    """After the greeting comes a whole sentence that says what the document is, in other
    words than the subject; the text part's paragraphs are separated by exactly one blank
    line (one line each, the signature block last), and the HTML says the same."""
    subject, text, html, _name = email_of(
        engine, in_locale_language(name, locale), locale, link=link
    )
    subject = flat(subject)
    paragraphs = text.strip("\n").split("\n\n")
    assert "\n\n\n" not in text and all(p.strip() == p and p for p in paragraphs)
    # one line each (the download link on its own line under the sentence that offers it)
    lines = [p.removesuffix("\nhttps://docs.example/d/1") for p in paragraphs[:-1]]
    assert all("\n" not in p for p in lines), paragraphs
    first = flat(paragraphs[1])
    assert first.endswith(".") and first[0].isupper()
    assert subject not in first and not first.startswith(subject.split(":")[0] + ":")
    # it states the document's own facts, not a lesser version of the subject
    figures = set(re.findall(r"\d[\d.,]*\d", subject))
    assert figures <= set(re.findall(r"\d[\d.,]*\d", first)), (subject, first)
    assert first in flat(html) and subject not in flat(html).split(first)[0].split(":", 1)[-1]
    if link:
        assert any(p.endswith(":\nhttps://docs.example/d/1") for p in paragraphs)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_a_withdrawal_subject_says_withdrawn_without_an_arrow_to_zero(
    engine: Engine, locale: str
) -> None:
    """A withdrawn limit is not a change "→ 0": the subject and the first sentence say it
    is withdrawn (cancelled, annulled) and from when, in the reader's region."""
    name = "03b_credit_limit_withdrawal_exceptional_en-GB.json"
    payload = in_locale_language(name, locale)
    assert payload["change"]["type"] == "withdrawal"
    subject, text, _html, _name = email_of(engine, payload, locale)
    first = text.split("\n\n")[1]
    for line in (flat(subject), flat(first)):
        assert "→" not in line and not re.search(r"(?<![\d.,])0[.,]00\b", line)
        assert re.search(r"withdraw|[Cc]ancel|[Aa]nula", line), line
        assert payload["buyer"]["legal_name"] in line and "2026" in line
    if locale.startswith("es"):
        assert [w for w in REGIONAL[locale] if w.lower() in f"{subject} {text}".lower()] == []


INVOICE_NAME = {
    # how each language names a premium invoice under each jurisdiction's law
    ("MX", "es"): ("factura", "recibo"),
    ("MX", "en"): ("invoice", "receipt"),
    ("ES", "es"): ("recibo", "factura"),
    ("ES", "en"): ("receipt", "invoice"),
}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("jurisdiction", ["MX", "ES"])
def test_an_invoice_is_named_by_its_jurisdiction_in_every_locale(
    engine: Engine, jurisdiction: str, locale: str
) -> None:
    """A Mexican premium invoice is a factura and a Spanish one a recibo de prima, whichever
    Spanish (or English) the reader reads: in the attachment's file name, the PDF's header,
    the questions heading, the subject and the email's first sentence; never both names,
    never a slash label."""
    from tests.conftest import es_invoice, pdf_text

    base = sample("02_premium_invoice_es-MX.json") if jurisdiction == "MX" else es_invoice()
    language = locale[:2]
    payload = base if language == "es" else in_language(base, "en")
    assert payload["document"]["jurisdiction"] == jurisdiction
    name, other = INVOICE_NAME[(jurisdiction, language)]
    subject, text, _html, filename = email_of(engine, payload, locale)
    assert re.match(rf"({name}|premium-{name})-", filename), filename
    pdf = pdf_text(engine.render(engine.validate(payload), locale=locale).pdf)
    header = pdf.split(payload["invoice"]["number"])[0]
    assert name in header.lower() and other not in header.lower(), header
    assert " / " not in header
    questions = re.search(r"(¿Dudas sobre [^?]+\?|Questions about [^?]+\?)", pdf)
    assert questions is not None and name in questions.group(1).lower()
    first = text.split("\n\n")[1]
    for words in (subject, first):
        assert name in words.lower() and other not in words.lower()


def pdf_of(engine: Engine, payload: dict[str, Any], locale: str) -> str:
    from tests.conftest import pdf_text

    return pdf_text(engine.render(engine.validate(payload), locale=locale).pdf)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_the_worked_example_names_the_deductible_as_the_calculation_step_does(
    engine: Engine, locale: str
) -> None:
    """The guide's step "how it is calculated" names the deduction (annual aggregate first
    loss, deducible agregado anual, franquicia anual agregada); its worked example deducts
    the same thing by the same name, not "a deductible"."""
    payload = in_locale_language("04_claim_filing_guide_en-GB.json", locale)
    assert payload["policy_params"]["deductible"]["type"] == "aggregate_first_loss"
    text = pdf_of(engine, payload, locale)
    step = re.search(
        r"(?:How it is calculated|Cómo se calcula): [^−]+− ([^\W\d_][^\d.$€]*?) (?:of|de) ", text
    )
    example = re.search(r"(?:Indicative indemnity|Indemnización orientativa): .+?= .+?= ", text)
    assert step is not None and example is not None, text
    term = re.sub(r"^(an?|un|una|el|la) ", "", step.group(1))
    assert len(term.split()) >= 3 and term in example.group(0), (term, example.group(0))


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_an_annual_aggregate_used_up_by_the_claim_is_said_so_not_stated_as_zero(
    engine: Engine, locale: str
) -> None:
    """When the claim uses up what was left of the annual aggregate first loss, the letter
    says so in words; it does not print a remaining amount of zero."""
    payload = in_locale_language("06_claim_decision_partial_es-ES.json", locale)
    validated = engine.validate(payload)
    calc = validated.figures.calc  # type: ignore[attr-defined]
    assert calc.afl_remaining_after == 0 and calc.deductible_applied > 0
    text = pdf_of(engine, payload, locale)
    year = str(payload["claim"]["policy_year"])
    sentence = next(s for s in sentences(text) if year in s and re.search(r"agot|uses up", s))
    assert not re.search(r"(?<![\d.,])0[.,]00(?!\d)", sentence), sentence
    assert not re.search(r"(?<![\d.,])0[.,]00(?!\d)", text.split(year)[0][-200:])


TITLE_AFTER_WORD = re.compile(
    r"\b(?:con|es|please contact|is|with)\s+(?:Lic|Licda|Ing|Arq|Mtro|Mtra|Dr|Dra|C\.\s?P)\.",
)


@pytest.mark.parametrize(("name", "locale"), every_sample_locale())
def test_a_titled_name_in_running_text_is_printed_without_its_title(
    engine: Engine, name: str, locale: str
) -> None:
    """Spanish names someone by title only with the article the title's gender asks for
    ("con el Lic. …", "con la Mtra. …"), which the payload cannot give; so a sentence
    names the person without the title ("comuníquese con Andrés Muestra Robles"), and the
    title stays where the name stands alone (the email's signature)."""
    payload = in_locale_language(name, locale)
    text = flat(visible_text(engine.html(engine.validate(payload), locale=locale)))
    assert not TITLE_AFTER_WORD.search(text), TITLE_AFTER_WORD.search(text)
    executive = payload["account_executive"]["name"]
    _subject, mail, _html, _file = email_of(engine, payload, locale)
    assert executive in mail.split("\n\n")[-1]  # the signature keeps the title


def test_the_samples_name_titled_contacts() -> None:
    """The check above is not empty: some samples' contacts carry a title."""
    names = [t for n in SAMPLES for t in payload_texts(sample(n)) if TITLED.match(t)]
    assert len(names) >= 3, names


TITLED = re.compile(r"(?:Lic|Mtra|Mtro|Ing|C\.P|Dr|Dra)\. [A-ZÁÉÍÓÚ]")


@pytest.mark.parametrize(
    ("name", "plain"),
    [
        ("Lic. Andrés Muestra Robles", "Andrés Muestra Robles"),
        ("C.P. Ramiro Ficticio Lara", "Ramiro Ficticio Lara"),
        ("Mtra. Sofía Ejemplo Durán", "Sofía Ejemplo Durán"),
        ("Sr. Lic. Andrés Muestra", "Andrés Muestra"),
        ("Ms Jane Example", "Jane Example"),
        ("Ingrid Ejemplo", "Ingrid Ejemplo"),
        ("Don Example", "Don Example"),
        ("Dra.", "Dra."),
    ],
)
def test_without_title(name: str, plain: str) -> None:
    from correspondence.language import without_title

    assert without_title(name) == plain


SMALL_PERIOD = re.compile(r"(?<![\d.,])(?:[1-9]|10) (?:mes|meses|año|años|months?|years?)\b")


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize(
    "name",
    [n for n in SAMPLES if sample(n)["document"]["jurisdiction"] == "ES"],
)
def test_a_small_period_in_running_text_is_written_in_words(
    engine: Engine, name: str, locale: str
) -> None:
    """The complaints service's answer period (two months under Spanish law) reads "en un
    plazo máximo de dos meses" / "within two months": a count up to ten is spelled out
    in a sentence; larger counts (30 días hábiles) and tables (the schedule's "6 meses")
    stay in figures."""
    from correspondence.language import spelled

    payload = in_locale_language(name, locale)
    answers = [
        s for s in sentences(pdf_of(engine, payload, locale)) if re.search(r"respond|answer", s)
    ]
    assert answers and not [s for s in answers if SMALL_PERIOD.search(s)], answers
    words = {spelled(n, locale) for n in range(1, 11)}
    assert [s for s in answers if re.search(rf"\b(?:{'|'.join(words)}) (?:meses|months)\b", s)]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_spelled_counts(locale: str) -> None:
    from correspondence.language import spelled

    assert spelled(2, locale) == ("dos" if locale.startswith("es") else "two")
    assert spelled(1, locale) in ("un", "one") and spelled(30, locale) == "30"
    assert spelled(0, locale) == "0" and len({spelled(n, locale) for n in range(1, 11)}) == 10


REGIONAL_TITLE = {"es": "Gestora de cuenta", "es-MX": "Ejecutiva de cuenta"}


@pytest.mark.parametrize("locale", ["es-MX", "es-ES"])
def test_a_text_may_be_worded_for_one_region(engine: Engine, locale: str) -> None:
    """A payload may give a text in its region's own words beside its language's
    (``{"es": "Gestora de cuenta", "es-MX": "Ejecutiva de cuenta"}``): the reader in that
    region reads those, every other reader of the language reads the language's, in the
    PDF and in the email."""
    payload = sample("01_renewal_pack_es-ES.json")
    payload["account_executive"]["title"] = REGIONAL_TITLE
    wanted = REGIONAL_TITLE.get(locale, REGIONAL_TITLE["es"])
    other = ({*REGIONAL_TITLE.values()} - {wanted}).pop()
    text = pdf_of(engine, payload, locale)
    assert wanted in text and other not in text
    _subject, mail, html, _file = email_of(engine, payload, locale)
    assert wanted in mail.split("\n\n")[-1] and other not in mail and wanted in html


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ({"es-MX": "Ejecutiva de cuenta"}, "give the 'es' text too"),
        ({"es": "Gestora de cuenta", "es-AR": "Ejecutiva de cuenta"}, "is not a language"),
    ],
)
def test_a_regions_text_goes_beside_its_languages(title: dict[str, str], message: str) -> None:
    """A region's wording refines its language's text; it never stands alone (a reader of
    the language's other region would have nothing), and only our four regions exist."""
    from correspondence.kinds import validate

    payload = sample("01_renewal_pack_es-ES.json")
    payload["account_executive"]["title"] = title
    with pytest.raises(InvalidPayload) as refused:
        validate(payload)
    (problem,) = [p for p in refused.value.problems if p.field == "account_executive.title"]
    assert message in problem.message
