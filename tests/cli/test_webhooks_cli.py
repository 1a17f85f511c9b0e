"""`rolegate webhooks deliver`: one round of delivery from the command line, to a real
receiver on loopback (a private address: allowed by `--allow-private`)."""

from __future__ import annotations

from pathlib import Path

from standardwebhooks import Webhook
from typer.testing import CliRunner

from rolegate.bootstrap import bootstrap
from rolegate.cli.main import app
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.webhooks import create_endpoint, endpoint_deliveries, retry_delivery
from rolegate.services.workspaces import create_organization, create_workspace
from rolegate.store.migrations import upgrade
from tests.webhooks_receiver import receiving


def test_deliver_sends_what_is_due_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hooks.db'}"
    upgrade(url)
    platform = Actor.system("test")
    with receiving() as receiver:
        rg = bootstrap(Settings(database_url=url, listen=False))
        try:
            org = create_organization(rg.uow(), actor=platform, name="Acme")
            made = create_endpoint(rg.uow(), actor=platform, organization_id=org, url=receiver.url, allow_private=True)
            create_workspace(rg.uow(), actor=platform, preset="natero", name="W", owner_email="o@acme.test", organization_id=org)
        finally:
            rg.close()
        runner = CliRunner()
        refused = runner.invoke(app, ["webhooks", "deliver", "--url", url])
        assert refused.exit_code == 1, refused.output  # loopback is private: refused, retried later
        assert "delivered 0 changes, 1 failed attempt" in refused.output
        assert receiver.received == []
        rg = bootstrap(Settings(database_url=url, listen=False))
        try:
            endpoint = made.view.endpoint.id
            failed = endpoint_deliveries(rg.reader(), actor=platform, organization_id=org, endpoint_id=endpoint)
            assert "not a public address" in (failed[0].error or "")
            retry_delivery(rg.uow(), actor=platform, organization_id=org, endpoint_id=endpoint, delivery_id=failed[0].id)  # now, not after the backoff
        finally:
            rg.close()
        result = runner.invoke(app, ["webhooks", "deliver", "--url", url, "--allow-private"])
        assert result.exit_code == 0, result.output
        taken = [Webhook(made.secret).verify(r.body, r.headers) for r in receiver.received]
        assert taken[0]["type"] == "workspace.create"
        assert len(taken) > 1, taken  # the workspace and its roles, members...
        assert f"delivered {len(taken)} changes, 0 failed attempts" in result.output
