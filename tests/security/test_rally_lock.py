"""Rally state changes serialise with team creation: teams made in parallel with an unpublish
leave either a published rally with its teams or a draft with none, never a draft with teams
(real threads and transactions, on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import delete, func, select

from tests.server.helpers import API
from tests.server.organiser_helpers import login

PARALLEL = 10
ROUNDS = 6


def _state(app, rally_id: int) -> tuple[str, int]:
    from server import models
    from server.extensions import db

    with app.app_context():
        status = db.session.scalar(select(models.Rally.status).filter_by(id=rally_id))
        teams = db.session.scalar(
            select(func.count()).select_from(models.Team).filter_by(rally_id=rally_id)
        )
        return status.value, teams


def _reset(app, rally_id: int) -> None:
    from server import models
    from server.extensions import db

    with app.app_context():
        db.session.execute(delete(models.Team).where(models.Team.rally_id == rally_id))
        db.session.get(models.Rally, rally_id).status = models.RallyStatus.PUBLISHED
        db.session.commit()


def _race(app, curator, slug: str, rally_id: int, round_: int) -> tuple[list[int], int]:
    """PARALLEL team creations and one unpublish, released together; their statuses."""
    barrier = threading.Barrier(PARALLEL + 1)

    def create(i: int) -> int:
        client = app.test_client()
        barrier.wait(timeout=30)
        body = {"name": f"Racer {round_}-{i}"}
        return client.post(f"{API}/rallies/{slug}/teams", json=body).status_code

    def unpublish() -> int:
        barrier.wait(timeout=30)
        path = f"{API}/curator/rallies/{rally_id}/status"
        return curator.put(path, json={"status": "draft"}).status_code

    with ThreadPoolExecutor(max_workers=PARALLEL + 1) as pool:
        made = [pool.submit(create, i) for i in range(PARALLEL)]
        changed = pool.submit(unpublish)
        return [f.result() for f in made], changed.result()


def test_unpublish_racing_team_creation_leaves_no_draft_with_teams(app, demo):
    slug, rally_id = demo
    curator = login(app.test_client(), app, "admin")
    for round_ in range(ROUNDS):
        _reset(app, rally_id)
        statuses, unpublished = _race(app, curator, slug, rally_id, round_)
        status, teams = _state(app, rally_id)
        assert all(s in (201, 404) for s in statuses), statuses
        assert teams == statuses.count(201)
        if status == "draft":
            assert (teams, unpublished) == (0, 200), (round_, statuses)
        else:
            assert (status, unpublished, teams > 0) == ("published", 409, True), statuses


def test_stops_cannot_change_under_teams(app, client, demo):
    slug, rally_id = demo
    assert client.post(f"{API}/rallies/{slug}/teams", json={"name": "Stayers"}).status_code == 201
    curator = login(app.test_client(), app, "admin")
    resp = curator.put(f"{API}/curator/rallies/{rally_id}/status", json={"status": "draft"})
    assert resp.status_code == 409
    resp = curator.put(f"{API}/curator/rallies/{rally_id}/stops", json={"stops": []})
    assert resp.status_code == 409
    assert _state(app, rally_id) == ("published", 1)
