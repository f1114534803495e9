"""Collection subscriptions over the API: typed errors, idempotency, one per datastream and
workspace, pause/resume/delete, listing, and the subscription that follows one."""

from __future__ import annotations

from typing import Any

from tests.helpers.inprocess import ApiClient

SUBSCRIBE = """mutation($ds: ID!, $key: String) {
  createCollectionSubscription(input: {datastreamId: $ds, idempotencyKey: $key}) {
    collectionSubscription { id status datastreamId collecting spans { startedAt } }
    userErrors { code field message } } }"""
CHANGE = """mutation($id: ID!) {
  pause: pauseCollectionSubscription(input: {id: $id}) {
    collectionSubscription { status } userErrors { code message } } }"""
RESUME = """mutation($id: ID!) { resumeCollectionSubscription(input: {id: $id}) {
  collectionSubscription { status } userErrors { code message } } }"""
DELETE = """mutation($id: ID!) { deleteCollectionSubscription(input: {id: $id}) {
  deletedId userErrors { code field message } } }"""
LIST = """query($status: CollectionStatus) { collectionSubscriptions(status: $status) {
  totalCount edges { node { id status } } } }"""


async def subscribe(api: ApiClient, ds: str, key: str | None = None, who: str = "alpha") -> Any:
    return (await api.execute(SUBSCRIBE, {"ds": ds, "key": key}, key=who))[
        "createCollectionSubscription"
    ]


async def test_bad_datastreams_are_typed_user_errors(idle_api: ApiClient) -> None:
    for ds, code in (
        ("424242", "NOT_FOUND"),
        ("²", "INVALID_ARGUMENT"),
        ("-5", "INVALID_ARGUMENT"),
    ):
        payload = await subscribe(idle_api, ds)
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            (code, ["input", "datastreamId"])
        ]


async def test_one_subscription_per_datastream_and_workspace(idle_api: ApiClient) -> None:
    first = await subscribe(idle_api, "601", key="k")
    sub = first["collectionSubscription"]
    assert sub["status"] == "ACTIVE"
    assert (await subscribe(idle_api, "601", key="k"))["collectionSubscription"]["id"] == sub["id"]
    again = await subscribe(idle_api, "601")
    assert (
        again["userErrors"][0]["code"] == "CONFLICT"
        and sub["id"] in again["userErrors"][0]["message"]
    )
    other_key = await subscribe(idle_api, "602", key="k")
    assert other_key["userErrors"][0]["field"] == ["input", "idempotencyKey"]
    # Another workspace subscribes to the same datastream on its own.
    theirs = await subscribe(idle_api, "601", who="beta")
    assert theirs["userErrors"] == []


async def test_pause_resume_delete_and_listing(idle_api: ApiClient) -> None:
    sub = (await subscribe(idle_api, "602"))["collectionSubscription"]["id"]
    paused = (await idle_api.execute(CHANGE, {"id": sub}))["pause"]
    assert paused["collectionSubscription"]["status"] == "PAUSED"
    listed = (await idle_api.execute(LIST, {"status": "PAUSED"}))["collectionSubscriptions"]
    assert [e["node"]["id"] for e in listed["edges"]] == [sub]
    resumed = (await idle_api.execute(RESUME, {"id": sub}))["resumeCollectionSubscription"]
    assert resumed["collectionSubscription"]["status"] == "ACTIVE"
    foreign = (await idle_api.execute(DELETE, {"id": sub}, key="beta"))[
        "deleteCollectionSubscription"
    ]
    assert foreign["userErrors"][0]["code"] == "NOT_FOUND"
    deleted = (await idle_api.execute(DELETE, {"id": sub}))["deleteCollectionSubscription"]
    assert deleted["deletedId"] == sub
    listed = (await idle_api.execute(LIST, {"status": None}))["collectionSubscriptions"]
    assert int(listed["totalCount"]) == 0
