"""Tasks, hints and step-free notes in the no-app web player: forms that post once each
(a client event id made when the page renders), Post/Redirect/Get, CSRF, hostile input."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from server import game, models
from server.extensions import db
from server.i18n import t
from tests.server.helpers import let_time_pass
from tests.server.test_play import csrf_token, foreign_scripts, join, page, team_row

WALK_S = 600.0
CHOICE = {
    "type": "choice",
    "question": {"de": "Welche Farbe?", "en": "Which colour?", "de-x-ls": "Welche Farbe hat es?"},
    "options": [
        {"de": "Rot", "en": "Red"},
        {"de": "Blau", "en": "Blue"},
        {"de": "Grün", "en": "Green"},
    ],
    "answer": 1,
    "points": 60,
    "attempts": 2,
}
TEXT = {
    "type": "text",
    "question": {"de": "Wie heißt sie noch?", "en": "What else is it called?"},
    "answer": ["Kleine Kirche"],
    "points": 50,
    "attempts": 3,
}


class Forms(HTMLParser):
    """The page's forms: action -> the hidden fields of the first form with that action."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._current = self.forms.setdefault(a.get("action") or "", {})
        elif tag == "input" and self._current is not None and a.get("type") == "hidden":
            self._current.setdefault(a.get("name") or "", a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def hidden(response, action: str) -> dict[str, str]:
    """The hidden fields (csrf_token, event) of the page's form posting to ``action``."""
    parser = Forms()
    parser.feed(response.get_data(as_text=True))
    assert action in parser.forms, (action, list(parser.forms))
    return parser.forms[action]


@pytest.fixture
def app(make_app):
    """Forms as a browser sends them: CSRF protection on."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def rally(app, demo):
    """The demo rally (stop 1: a number task, letter on answer; two hints), QR path per stop."""
    slug, rally_id = demo
    with app.app_context():
        domain = game.domain_rally(db.session.get(models.Rally, rally_id))
        ring = game.keyring()
        paths = [f"/q/{ring.sign(rally_id, s.marker.id)}" for s in domain.stops]
    return slug, rally_id, domain, paths


def set_stop(app, rally_id: int, position: int, **values) -> None:
    with app.app_context():
        stop = db.session.get(models.Rally, rally_id).stops[position]
        for name, value in values.items():
            setattr(stop, name, value)
        db.session.commit()


def set_step_free(app, rally_id: int, values: dict[int, bool | None]) -> None:
    """Give the venues of these stops (0-based) a step_free value."""
    with app.app_context():
        stops = db.session.get(models.Rally, rally_id).stops
        for position, value in values.items():
            venue = stops[position].marker.venue
            assert venue is not None
            venue.step_free = value
        db.session.commit()


def progress(app, marker_id: int) -> models.StopProgress | None:
    with app.app_context():
        return db.session.scalar(select(models.StopProgress).filter_by(marker_id=marker_id))


def answer_url(slug: str, n: int) -> str:
    return f"/play/{slug}/stops/{n}/answer"


def hint_url(slug: str, n: int) -> str:
    return f"/play/{slug}/stops/{n}/hint"


def post_answer(client, slug: str, n: int, value: str, fields: dict[str, str], **extra):
    return client.post(answer_url(slug, n), data={**fields, "answer": value, **extra})


def found_first(client, rally, lang: str = "en"):
    """Join by the first stop's code and open it: the reveal page."""
    slug, _id, _domain, paths = rally
    assert join(client, slug, paths[0], lang=lang).status_code == 302
    return client.get(paths[0])


def follow(client, response):
    """Post/Redirect/Get: a 303 to the team page, at the stop; the page it leads to."""
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    target = urlsplit(response.headers["Location"])
    assert target.path.endswith("/team") and target.fragment.startswith("stop-")
    return client.get(f"{target.path}?{target.query}")


def test_the_reveal_shows_the_question_form_and_that_the_letter_waits(app, client, rally):
    slug, _id, domain, _paths = rally
    reveal = found_first(client, rally)
    raw = reveal.get_data(as_text=True)
    text = page(reveal)
    assert domain.stops[0].task.question["en"] in text
    assert t("play.letter_waits", "en") in text
    assert "<strong>B</strong>" not in text
    assert t("play.task_attempts", "en", n=3, points=50) in text
    field = re.search(r'<input id="answer-1" name="answer" type="text"[^>]*>', raw)
    assert field and 'inputmode="decimal"' in field.group(0) and "required" in field.group(0)
    assert '<label for="answer-1">' in raw
    fields = hidden(reveal, answer_url(slug, 1))
    assert set(fields) == {"csrf_token", "event"} and uuid.UUID(fields["event"])
    assert t("play.hint_offer", "en", cost=10) in text
    assert hidden(reveal, hint_url(slug, 1))["event"] != fields["event"]
    assert not foreign_scripts(raw)
    assert not re.search(r"<[^>]+\son[a-z]+=", raw)


def test_wrong_then_right_answer_with_a_comma_counts_once_each(app, client, rally):
    slug, _id, domain, _paths = rally
    reveal = found_first(client, rally)
    marker_id = domain.stops[0].marker.id
    fields = hidden(reveal, answer_url(slug, 1))
    wrong = post_answer(client, slug, 1, "1900", fields)
    assert parse_qs(urlsplit(wrong.headers["Location"]).query)["done"] == [fields["event"]]
    after = follow(client, wrong)
    assert after.headers["Cache-Control"] == "no-store"
    text = page(after)
    assert t("play.answer_wrong", "en", n=2) in text
    assert 'role="status"' in after.get_data(as_text=True)
    assert t("play.task_attempts", "en", n=2, points=33) in text
    # the same form sent again (a double click, back and resend) counts once
    follow(client, post_answer(client, slug, 1, "1901", fields))
    assert progress(app, marker_id).wrong == 1
    assert team_row(app).score == 100

    fields = hidden(after, answer_url(slug, 1))
    right = follow(client, post_answer(client, slug, 1, " 1892,0 ", fields))
    text = page(right)
    assert t("play.answer_right", "en", points=33) in text
    assert t("play.right_answer", "en", answer="1892") in text
    assert t("play.task_solved", "en", points=33) in text
    assert t("play.letter_waits", "en") not in text
    assert "<span>B</span>" in text
    assert answer_url(slug, 1) not in right.get_data(as_text=True)
    assert hint_url(slug, 1) not in right.get_data(as_text=True), "no hints once answered"
    assert team_row(app).score == 133
    # reloading the result page repeats the message, not the answer
    again = client.get(f"/play/{slug}/team?done={fields['event']}")
    assert t("play.answer_right", "en", points=33) in page(again)
    assert team_row(app).score == 133
    row = progress(app, marker_id)
    assert (row.wrong, row.solved, row.points) == (1, True, 33)
    # an answer to the closed task (an old form) is refused, changes nothing
    closed = follow(
        client, post_answer(client, slug, 1, "1892", {**fields, "event": str(uuid.uuid4())})
    )
    assert t("play.task_closed_already", "en") in page(closed)
    assert team_row(app).score == 133


def test_used_up_attempts_close_the_task_show_the_answer_and_the_letter(app, client, rally):
    slug, _id, _domain, _paths = rally
    current = found_first(client, rally, lang="de")
    for value in ("1", "2", "3"):
        current = follow(
            client, post_answer(client, slug, 1, value, hidden(current, answer_url(slug, 1)))
        )
    text = page(current)
    assert t("play.answer_wrong_last", "de") in text
    assert t("play.task_used_up", "de") in text
    assert t("play.right_answer", "de", answer="1892") in text
    assert "<span>B</span>" in text
    assert team_row(app).score == 100


@pytest.mark.parametrize("value", ["zwölf", "12 Jahre", "", "   ", "1e5", "0x10", "∞"])
def test_an_answer_of_the_wrong_form_is_a_form_error_and_uses_no_attempt(app, client, rally, value):
    slug, _id, domain, _paths = rally
    reveal = found_first(client, rally, lang="de")
    response = post_answer(client, slug, 1, value, hidden(reveal, answer_url(slug, 1)))
    assert response.status_code == 422
    raw = response.get_data(as_text=True)
    assert t("play.bad_number", "de") in page(response)
    assert 'role="alert" id="answer-1-error"' in raw
    assert 'aria-describedby="answer-1-error" aria-invalid="true"' in raw
    assert progress(app, domain.stops[0].marker.id) is None
    assert t("play.task_attempts", "de", n=3, points=50) in page(response)


def test_html_in_an_answer_is_escaped(app, client, rally):
    slug, _id, _domain, _paths = rally
    reveal = found_first(client, rally)
    evil = '"><script>alert(1)</script>'
    response = post_answer(client, slug, 1, evil, hidden(reveal, answer_url(slug, 1)))
    assert response.status_code == 422
    raw = response.get_data(as_text=True)
    assert "<script>alert(1)" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert not foreign_scripts(raw)


def test_a_nul_or_a_10_kb_answer_is_refused_without_using_an_attempt(app, client, rally):
    slug, _id, domain, _paths = rally
    reveal = found_first(client, rally)
    fields = hidden(reveal, answer_url(slug, 1))
    nul = post_answer(client, slug, 1, "18\x0092", fields)
    assert nul.status_code == 400
    huge = post_answer(client, slug, 1, "1" * 10_000, fields)
    assert huge.status_code == 422
    assert t("play.bad_number", "en") in page(huge)
    assert "1" * 201 not in huge.get_data(as_text=True)
    assert progress(app, domain.stops[0].marker.id) is None
    assert team_row(app).score == 100


def test_text_and_choice_tasks(app, client, rally):
    slug, rally_id, _domain, paths = rally
    set_stop(app, rally_id, 1, task=CHOICE)
    set_stop(app, rally_id, 2, task=TEXT)
    found_first(client, rally)
    team_id = team_row(app).id
    for path in paths[1:3]:
        let_time_pass(app, team_id, WALK_S)
        client.get(path)
    team = client.get(f"/play/{slug}/team")
    raw = team.get_data(as_text=True)
    assert "<legend>" + t("play.choose_answer", "en") + "</legend>" in raw
    for i, option in enumerate(("Red", "Blue", "Green")):
        assert (
            f'<input type="radio" name="answer" value="{i}" id="answer-2-{i}" required>\n'
            f'          <label for="answer-2-{i}">{option}</label>'
        ) in raw
    assert re.search(r'<input id="answer-3" name="answer" type="text" autocomplete="off"', raw)
    for bad in ("7", "-1", "x", "", "1" * 300):
        refused = post_answer(client, slug, 2, bad, hidden(team, answer_url(slug, 2)))
        assert refused.status_code == 422, bad
        assert t("play.bad_choice", "en") in page(refused)
    right = follow(client, post_answer(client, slug, 2, "1", hidden(team, answer_url(slug, 2))))
    assert t("play.answer_right", "en", points=60) in page(right)
    assert t("play.right_answer", "en", answer="Blue") in page(right)
    too_long = post_answer(client, slug, 3, "a" * 201, hidden(team, answer_url(slug, 3)))
    assert too_long.status_code == 422
    assert t("play.bad_text", "en", n=200) in page(too_long)
    fields = hidden(team, answer_url(slug, 3))
    text = follow(client, post_answer(client, slug, 3, "  kleine   KIRCHE ", fields))
    assert t("play.answer_right", "en", points=50) in page(text)


def test_an_answer_for_a_stop_not_found_changes_nothing(app, client, rally):
    slug, _id, _domain, _paths = rally
    reveal = found_first(client, rally)
    fields = hidden(reveal, answer_url(slug, 1))
    open_stop = follow(client, post_answer(client, slug, 2, "1892", fields))
    assert t("play.answer_not_found", "en") in page(open_stop)
    later = {**fields, "event": str(uuid.uuid4())}
    hidden_stop = follow(client, post_answer(client, slug, 10, "2", later))
    assert t("play.answer_not_found", "en") in page(hidden_stop)
    with app.app_context():
        assert db.session.scalars(select(models.StopProgress)).all() == []
    assert team_row(app).score == 100


@pytest.mark.parametrize("number", ["0", "11", "99999999999999999999", "-1", "abc", "1.5"])
@pytest.mark.parametrize("kind", ["answer", "hint"])
def test_a_forged_stop_number_is_a_404(app, client, rally, number, kind):
    slug, _id, _domain, _paths = rally
    reveal = found_first(client, rally)
    fields = hidden(reveal, answer_url(slug, 1))
    response = client.post(f"/play/{slug}/stops/{number}/{kind}", data={**fields, "answer": "1"})
    assert response.status_code == 404
    assert "Traceback" not in page(response)
    assert team_row(app).score == 100


@pytest.mark.parametrize("kind", ["answer", "hint"])
def test_a_form_without_csrf_token_or_event_id_is_refused(app, client, rally, kind):
    slug, _id, domain, _paths = rally
    reveal = found_first(client, rally)
    fields = hidden(reveal, f"/play/{slug}/stops/1/{kind}")
    url = f"/play/{slug}/stops/1/{kind}"
    for data in (
        {"event": fields["event"], "answer": "1892"},
        {"event": fields["event"], "answer": "1892", "csrf_token": "forged"},
        {"csrf_token": fields["csrf_token"], "answer": "1892"},
        {"csrf_token": fields["csrf_token"], "event": "not-a-uuid", "answer": "1892"},
    ):
        response = client.post(url, data=data)
        assert response.status_code == 400, data
        assert "Traceback" not in page(response)
    assert progress(app, domain.stops[0].marker.id) is None
    assert team_row(app).score == 100


def test_without_a_team_a_post_goes_to_the_rally_page(app, client, rally):
    slug, _id, _domain, paths = rally
    form = client.get(paths[0])
    data = {"csrf_token": csrf_token(form), "event": str(uuid.uuid4()), "answer": "1892"}
    for url in (answer_url(slug, 1), hint_url(slug, 1)):
        response = client.post(url, data=data)
        assert response.status_code == 303
        assert urlsplit(response.headers["Location"]).path == f"/play/{slug}"


def test_a_closed_rally_takes_no_answers(app, client, rally):
    slug, rally_id, _domain, _paths = rally
    reveal = found_first(client, rally)
    fields = hidden(reveal, answer_url(slug, 1))
    with app.app_context():
        db.session.get(models.Rally, rally_id).status = models.RallyStatus.CLOSED
        db.session.commit()
    assert post_answer(client, slug, 1, "1892", fields).status_code == 409
    assert client.post(hint_url(slug, 1), data=hidden(reveal, hint_url(slug, 1))).status_code == 409


def test_hints_at_an_open_and_a_found_stop_cost_points_once(app, client, rally):
    slug, _id, domain, paths = rally
    form = client.get(f"/play/{slug}")
    client.post(
        f"/play/{slug}/join",
        data={"csrf_token": csrf_token(form), "name": "Tippgeber", "next": ""},
        headers={"Accept-Language": "en"},
    )
    team = client.get(f"/play/{slug}/team?lang=en")
    text = page(team)
    assert t("play.hint_offer", "en", cost=10) in text
    assert t("play.hint_confirm", "en", cost=10) in text
    assert re.search(r'<details class="take-hint">\s*<summary>', team.get_data(as_text=True))
    fields = hidden(team, hint_url(slug, 1))
    taken = follow(client, client.post(hint_url(slug, 1), data=fields))
    text = page(taken)
    first = domain.stops[0].hints[0].text["en"]
    assert t("play.hint_taken", "en", number=1, cost=10) in text
    assert first in text and 'class="hint"' in taken.get_data(as_text=True)
    assert t("play.hint_offer", "en", cost=20) in text
    follow(client, client.post(hint_url(slug, 1), data=fields))
    assert team_row(app).score == 0, "never below 0"
    assert progress(app, domain.stops[0].marker.id).hints == 1

    # found now, its task open: the second hint may still be taken, and costs
    team_id = team_row(app).id
    let_time_pass(app, team_id, WALK_S)
    reveal = client.get(paths[0])
    assert first in page(reveal)
    follow(client, client.post(hint_url(slug, 1), data=hidden(reveal, hint_url(slug, 1))))
    assert team_row(app).score == 100 - 30
    after = client.get(f"/play/{slug}/team")
    assert hint_url(slug, 1) not in after.get_data(as_text=True), "no hints left"
    # stop 2 has no hints
    none = follow(client, client.post(hint_url(slug, 2), data=hidden(after, answer_url(slug, 1))))
    assert t("play.no_hint", "en") in page(none)
    assert team_row(app).score == 70


def test_step_free_shows_beside_the_stops_and_on_the_rally_page(app, client, rally):
    slug, rally_id, _domain, paths = rally
    assert t("play.step_free", "en") not in page(client.get(f"/play/{slug}?lang=en"))
    set_step_free(app, rally_id, {0: True, 1: False, 4: False})
    intro = page(client.get(f"/play/{slug}?lang=en"))
    assert t("play.rally_not_step_free", "en", stops="2, 5") in intro
    found_first(client, rally)
    team = client.get(f"/play/{slug}/team").get_data(as_text=True)
    steps = '<p class="access steps"><span class="icon" aria-hidden="true">⚠</span> ' + t(
        "play.not_step_free", "en"
    )
    free = '<p class="access step-free"><span class="icon" aria-hidden="true">♿</span> ' + t(
        "play.step_free", "en"
    )
    stop_2 = team.split('id="stop-2"')[1].split("</section>")[0]
    stop_1 = team.split('id="stop-1"')[1].split("</details>")[0]
    assert steps in stop_2 and free in stop_1
    assert free in client.get(paths[0]).get_data(as_text=True)
    set_step_free(app, rally_id, dict.fromkeys(range(10), True))
    client.delete_cookie(f"team_{rally_id}")
    assert t("play.rally_step_free", "en") in page(client.get(f"/play/{slug}?lang=en"))


def test_leichte_sprache_shows_the_task_in_easy_german(app, client, rally):
    slug, _id, domain, _paths = rally
    found_first(client, rally)
    text = page(client.get(f"/play/{slug}/team?lang=de-x-ls"))
    assert domain.stops[0].task.question["de-x-ls"] in text
    for key in ("play.letter_waits", "play.answer_submit", "play.your_number"):
        assert t(key, "de-x-ls") in text
    assert t("play.hint_offer", "de-x-ls", cost=10) in text


def test_element_ids_stay_unique_with_tasks_and_hints(app, client, rally):
    slug, rally_id, _domain, paths = rally
    set_stop(app, rally_id, 1, task=CHOICE, hints=[{"text": {"de": "a", "en": "a"}, "cost": 5}])
    found_first(client, rally)
    for raw in (
        client.get(f"/play/{slug}/team").get_data(as_text=True),
        client.get(paths[0]).get_data(as_text=True),
    ):
        ids = re.findall(r'\sid="([^"]+)"', raw)
        assert len(ids) == len(set(ids)), ids
        for target in re.findall(r'<label for="([^"]+)"', raw):
            assert ids.count(target) == 1, target
