"""EXAMPLE: tests of app/task_examples.py (`make remove-examples` deletes
both). The tasks run in-process here (Celery's eager mode): no broker."""

import pytest

from app.tasks import celery


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    monkeypatch.setitem(celery.conf, "task_always_eager", True)
    monkeypatch.setitem(celery.conf, "task_store_eager_result", True)
    monkeypatch.setitem(celery.conf, "result_backend", "cache+memory://")


def test_a_task_is_queued_and_its_result_read(client):
    queued = client.post("/api/tasks?seconds=0", headers={"X-Request-ID": "r1"})
    assert queued.status_code == 202
    task_id = queued.get_json()["id"]
    assert task_id.endswith("@r1")  # the request that queued it
    assert queued.headers["Location"] == f"/api/tasks/{task_id}"
    answer = client.get(queued.headers["Location"]).get_json()
    assert answer["state"] == "SUCCESS"
    assert answer["result"]["seconds"] == 0


@pytest.mark.parametrize("seconds", ["x", "-1", "601"])
def test_a_bad_duration_is_refused(client, seconds):
    answer = client.post(f"/api/tasks?seconds={seconds}")
    assert answer.status_code == 400
    assert "seconds" in answer.get_json()["error"]
