"""Closing the loop: `partnermatch eval --feedback` against outcomes recorded via the API."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.config import Settings
from tests.factories import profile_id_of

World = dict[str, dict[str, Any]]


def _from_match(client: TestClient, world: World, company: str, rank: int) -> dict[str, Any]:
    body = {"profile_id": profile_id_of(world, company), "min_score": 0}
    run = client.post("/api/v1/matches", json=body)
    response = client.post(
        "/api/v1/opportunities", json={"match_run_id": run.json()["run_id"], "rank": rank}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _close(client: TestClient, opportunity: dict[str, Any], outcome: str) -> None:
    steps = ["contacted", "meeting", "agreement", "won"] if outcome == "won" else ["declined"]
    version = opportunity["version"]
    for step in steps:
        body: dict[str, Any] = {"status": step}
        if step == "declined":
            body["decline_reason"] = "not_a_fit"
        response = client.patch(
            f"/api/v1/opportunities/{opportunity['id']}",
            json=body,
            headers={"If-Match": f'"{version}"'},
        )
        assert response.status_code == 200, response.text
        version = response.json()["version"]


def test_eval_feedback_reports_precision_of_suggestions_against_outcomes(
    client: TestClient, world: World, cli_env: Settings
) -> None:
    del cli_env
    won_a = _from_match(client, world, "Ostrava Castings a.s.", 1)
    won_b = _from_match(client, world, "Mlékárna Vzor s.r.o.", 1)
    declined_top = _from_match(client, world, "Zlín Plastics s.r.o.", 1)
    declined_second = _from_match(client, world, "Ostrava Castings a.s.", 2)
    still_active = _from_match(client, world, "Mlékárna Vzor s.r.o.", 2)
    for opportunity, outcome in (
        (won_a, "won"),
        (won_b, "won"),
        (declined_top, "declined"),
        (declined_second, "declined"),
    ):
        _close(client, opportunity, outcome)
    hand_made = client.post(
        "/api/v1/opportunities",
        json={
            "profile_ids": [
                profile_id_of(world, "Zlín Plastics s.r.o."),
                profile_id_of(world, "Centre for Machine Vision"),
            ]
        },
    ).json()
    _close(client, hand_made, "won")  # not from a match: not a suggestion's outcome
    del still_active

    result = CliRunner().invoke(cli, ["eval", "--feedback", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    # 4 decided from matches: 2 won, 2 declined -> precision 2 / 4
    assert (report["decided"], report["won"], report["declined"]) == (4, 2, 2)
    assert report["precision"] == 0.5
    by_rank = {row["band"]: row for row in report["by_rank"]}
    # rank 1: won_a, won_b won, declined_top declined -> 2 / 3; rank 2: 0 / 1
    assert (by_rank["1"]["decided"], by_rank["1"]["won"]) == (3, 2)
    assert by_rank["1"]["precision"] == round(2 / 3, 4)
    assert (by_rank["2-3"]["decided"], by_rank["2-3"]["precision"]) == (1, 0.0)
    assert sum(row["decided"] for row in report["by_score"]) == 4
    need_offer = report["components"]["need_offer"]
    won_mean = (won_a["components"]["need_offer"] + won_b["components"]["need_offer"]) / 2
    assert need_offer["won"] == round(won_mean, 4)

    table = CliRunner().invoke(cli, ["eval", "--feedback"])
    assert table.exit_code == 0, table.output
    assert "precision 0.500" in table.output
    assert CliRunner().invoke(cli, ["eval"]).exit_code == 2
